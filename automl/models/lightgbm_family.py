"""LightGBM: categoricals split natively; boosting stops early on the validation loss or on
its time limit, and reports validation progress.

The trees branch hands categoricals as ordinal codes (NaN: missing or unseen); LightGBM
takes those columns as `categorical_feature`: a split on one picks a set of levels, and
NaN goes with the levels it did not pick. A column with many levels may be re-encoded
first (`many_levels`, a searched choice: automl/models/many_levels.py); the booster then
reads `booster_input(X)`, which the ONNX export writes as a lookup in front of the trees.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from automl.budget import Budget
from automl.models.base import ReportFn, as_budget
from automl.models.boosting import BoostingFamily
from automl.models.reporting import ProgressReports
from automl.models import memory
from automl.models.many_levels import LevelCoding, fit_coding

# LightGBM runs its callbacks by `order`; its early stopping has order 30.
AFTER_EARLY_STOPPING = 40


class _Progress:
    """A LightGBM callback: reports validation predictions now and then; stops on the time limit.

    It runs after LightGBM's early stopping, so a fit cut by time keeps the best iteration
    found so far, as a fit that early stopping ends does.
    """

    order = AFTER_EARLY_STOPPING
    before_iteration = False

    def __init__(self, budget: Budget, reports: ProgressReports, family: "LightGBMFamily",
                 X_valid, early_stopping):
        self.budget, self.reports, self.family = budget, reports, family
        self.X_valid, self.early_stopping = X_valid, early_stopping

    def __call__(self, env) -> None:
        rounds = env.iteration + 1

        def prediction():
            return self.family._shape_output(env.model.predict(self.X_valid, num_iteration=rounds))

        self.reports.send(rounds, prediction)
        if self.budget.expired():
            raise lgb.callback.EarlyStopException(*self._best_so_far(env))

    def _best_so_far(self, env) -> tuple[int, list]:
        """(0-based iteration, its validation scores) to keep: early stopping's best if it runs."""
        early = self.early_stopping
        if early is not None and early.best_score_list:
            return early.best_iter[0], early.best_score_list[0]
        return env.iteration, env.evaluation_result_list or []


class LightGBMFamily(BoostingFamily):
    key = "lightgbm"
    fit_memory = memory.LIGHTGBM
    # sklearn-API names (LightGBM's aliases), as the xgboost family spells them
    allowed_params = (
        "n_estimators", "learning_rate", "num_leaves", "max_depth", "min_child_samples",
        "colsample_bytree", "subsample", "subsample_freq", "reg_alpha", "reg_lambda",
        "min_split_gain", "max_bin", "min_data_per_group", "cat_smooth", "cat_l2",
        "max_cat_to_onehot", "max_cat_threshold", "early_stopping_rounds",
        "many_levels", "many_levels_from",
    )

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report: ReportFn | None = None,
            sample_weight=None, valid_weight=None):
        params = self._checked_params()
        n_rounds = int(params.pop("n_estimators", 100))
        stop_after = int(params.pop("early_stopping_rounds", 50))
        y_codes = self._label_codes(y)
        self.level_coding_, X = self._level_coding(params, X, y_codes)
        X_valid = self.level_coding_.transform(X_valid)
        train = lgb.Dataset(X, y_codes, weight=sample_weight,
                            categorical_feature=self.level_coding_.native(tuple(self.categorical)))
        valid_sets, early_stopping = [], None
        if X_valid is not None:
            seen, y_seen = self._seen_class_rows(y_valid)
            valid_sets = [lgb.Dataset(X_valid[seen], y_seen, reference=train,
                                      weight=None if valid_weight is None else valid_weight[seen])]
            early_stopping = lgb.early_stopping(stop_after, verbose=False)
        reports = ProgressReports(n_rounds, report if X_valid is not None else None)
        progress = _Progress(as_budget(budget), reports, self, X_valid, early_stopping)
        callbacks = [c for c in (early_stopping, progress) if c is not None]
        # Datasets and callbacks stay local: the booster lgb.train returns holds neither
        self.booster_ = lgb.train({**params, **self._fixed_params()}, train, num_boost_round=n_rounds,
                                  valid_sets=valid_sets, callbacks=callbacks)
        return self

    def _level_coding(self, params: dict, X, y_codes) -> tuple[LevelCoding, object]:
        """The many-level columns' coding (its mode and threshold popped from `params`; their
        defaults live in search/lightgbm.yaml) and X as the booster trains on it."""
        mode, min_levels = (params.pop(name) if name in params else self._space_default_of(name)
                            for name in ("many_levels", "many_levels_from"))
        return fit_coding(X, y_codes, tuple(self.categorical), mode, int(min_levels), self.task,
                          self.seed)

    def booster_input(self, X):
        """X as the booster reads it: the many-level columns re-encoded as in training."""
        return getattr(self, "level_coding_", LevelCoding()).transform(X)

    def _fixed_params(self) -> dict:
        """What the task and the trial decide; the objective's own loss is the validation metric."""
        fixed = {"num_threads": self.n_jobs, "seed": self.seed, "verbose": -1}
        if not self.is_classifier:
            return {**fixed, "objective": "regression"}
        if len(self.classes_seen_) <= 2:
            return {**fixed, "objective": "binary"}
        return {**fixed, "objective": "multiclass", "num_class": len(self.classes_seen_)}

    def predict_raw(self, X) -> np.ndarray:
        return self._shape_output(self.booster_.predict(self.booster_input(X),
                                                        num_iteration=self.n_rounds_))

    @property
    def n_rounds_(self) -> int:
        """Boosting rounds the model predicts with: the best one when training was stopped."""
        return self.booster_.best_iteration or self.booster_.current_iteration()

    def trained_length(self) -> dict:
        return {"n_estimators": self.n_rounds_}

