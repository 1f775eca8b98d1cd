"""xgboost (hist): boosting stops on its time limit and reports validation progress."""

from __future__ import annotations

import xgboost as xgb

from automl.budget import Budget
from automl.models.base import ReportFn, as_budget
from automl.models.boosting import BoostingFamily
from automl.models.reporting import ProgressReports
from automl.models import memory


class _Progress(xgb.callback.TrainingCallback):
    """Stops on the time limit; hands validation predictions to `report` now and then."""

    def __init__(self, budget: Budget, family: "XGBoostFamily", X_valid,
                 reports: ProgressReports):
        super().__init__()
        self.budget, self.family, self.X_valid = budget, family, X_valid
        self.reports = reports

    def after_iteration(self, model, epoch, evals_log) -> bool:
        def prediction():
            raw = model.inplace_predict(self.X_valid, iteration_range=(0, epoch + 1))
            return self.family._shape_output(raw)

        self.reports.send(epoch + 1, prediction)
        return self.budget.expired()


class XGBoostFamily(BoostingFamily):
    key = "xgboost"
    fit_memory = memory.XGBOOST
    allowed_params = (
        "n_estimators", "learning_rate", "max_depth", "min_child_weight", "subsample",
        "colsample_bytree", "reg_lambda", "reg_alpha", "gamma", "max_bin", "max_leaves",
        "grow_policy", "early_stopping_rounds", "native_categorical",
    )

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report: ReportFn | None = None,
            sample_weight=None, valid_weight=None):
        params = self._checked_params()
        native = params.pop("native_categorical", False)
        stop_after = params.pop("early_stopping_rounds", 50 if X_valid is not None else None)
        n_rounds = int(params.get("n_estimators", 100))
        y = self._label_codes(y)
        reports = ProgressReports(n_rounds, report if X_valid is not None else None)
        progress = _Progress(as_budget(budget), self, X_valid, reports)
        estimator_cls = xgb.XGBClassifier if self.is_classifier else xgb.XGBRegressor
        self.model_ = estimator_cls(
            **params, tree_method="hist", n_jobs=self.n_jobs, random_state=self.seed,
            callbacks=[progress], early_stopping_rounds=stop_after if X_valid is not None else None,
            enable_categorical=bool(native and self.categorical),
            feature_types=self._feature_types(X) if native and self.categorical else None,
        )
        eval_set, eval_weight = None, None
        if X_valid is not None:
            seen, y_seen = self._seen_class_rows(y_valid)
            eval_set = [(X_valid[seen], y_seen)]
            eval_weight = None if valid_weight is None else [valid_weight[seen]]
        self.model_.fit(X, y, sample_weight=sample_weight, eval_set=eval_set,
                        sample_weight_eval_set=eval_weight, verbose=False)
        self.model_.set_params(callbacks=None)  # the callback holds data; keep it out of pickles
        return self

    def _feature_types(self, X) -> list[str]:
        cats = set(self.categorical)
        return ["c" if i in cats else "q" for i in range(X.shape[1])]

    @property
    def n_rounds_(self) -> int:
        return self.model_.get_booster().num_boosted_rounds()

    def trained_length(self) -> dict:
        best = getattr(self.model_, "best_iteration", None)  # set when early stopping ran
        return {"n_estimators": self.n_rounds_ if best is None else int(best) + 1}

