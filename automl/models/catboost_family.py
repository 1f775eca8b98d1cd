"""CatBoost: categoricals as its own categories (ordered target statistics); boosting stops
early on the validation loss or on its time limit, and reports validation progress.

CatBoost takes categories as integers or strings, not the trees branch's float codes: a
code becomes its integer, and NaN (missing, or unseen at fit time) becomes MISSING, a
category of its own, at fit and at predict alike.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, CatBoostRegressor, Pool
from scipy.special import expit, softmax

from automl.metrics import BINARY, MULTICLASS, REGRESSION
from automl.budget import Budget
from automl.models.base import ReportFn, as_budget
from automl.models.boosting import BoostingFamily
from automl.models.reporting import ProgressReports
from automl.models import memory

MISSING = -1  # the category of missing and unseen values
LOSSES = {BINARY: "Logloss", MULTICLASS: "MultiClass", REGRESSION: "RMSE"}
# Unless given, CatBoost picks these from `iterations` (below 200: cheaper settings), so a
# fit of fewer iterations is not the first trees of a longer one; trained_length keeps them.
CHOSEN_BY_LENGTH = ("leaf_estimation_iterations", "max_ctr_complexity")


def _category_codes(X, categorical) -> tuple[int, ...]:
    """Per categorical column, how many codes training held (its largest + 1): the ONNX
    converter tabulates CatBoost's categorical splits over these codes, missing and unseen."""
    X = np.asarray(X)
    return tuple(int(np.nanmax(X[:, i], initial=-1)) + 1 for i in categorical)


class _Progress:
    """CatBoost's hooks into one fit: a callback and an eval metric in one object.

    As callback (`after_iteration`, after each round) it stops the fit on the time limit
    and when the validation loss CatBoost computed has not improved for `patience` rounds,
    keeping the best round in `best_rounds`. As eval metric (`evaluate`) it reads the
    validation predictions ASHA's reports need: CatBoost shows its callbacks metric values
    only, never the model, but hands an eval metric the current raw predictions. They are
    copied only in a round whose report is due; the metric's value itself is unused.
    """

    def __init__(self, budget: Budget, reports: ProgressReports, family: "CatBoostFamily",
                 loss: str, patience: int, n_valid: int):
        self.budget, self.reports, self.family = budget, reports, family
        self.loss, self.patience, self.n_valid = loss, patience, n_valid
        self.rounds, self.best_rounds, self.best_loss = 0, 0, np.inf
        self.due_raw = None

    def after_iteration(self, info) -> bool:
        """False stops the fit."""
        self.rounds = info.iteration
        if self.due_raw is not None:
            raw, self.due_raw = self.due_raw, None
            self.reports.send(self.rounds, lambda: self.family._output_from_raw(raw))
        return not (self.budget.expired() or self._stalled(info.metrics.get("validation", {})))

    def _stalled(self, valid_metrics: dict) -> bool:
        losses = valid_metrics.get(self.loss)
        if not losses:
            return False
        if losses[-1] < self.best_loss:
            self.best_loss, self.best_rounds = losses[-1], self.rounds
        return self.rounds - self.best_rounds >= self.patience

    # ---- CatBoost's eval-metric protocol ------------------------------------------------

    def evaluate(self, approxes, target, weight) -> tuple[float, float]:
        # CatBoost evaluates the training rows first, then the validation rows: the last
        # validation-sized call of a round is the validation set.
        if len(target) == self.n_valid and self.reports.due(self.rounds + 1):
            self.due_raw = np.array(approxes, dtype=np.float64)  # a copy: CatBoost reuses its buffers
        return 0.0, 1.0

    def is_max_optimal(self) -> bool:
        return False

    def get_final_error(self, error: float, weight: float) -> float:
        return error

    def __deepcopy__(self, memo) -> "_Progress":
        return self  # CatBoost deep-copies its params; the fit's hooks must stay one object


def _set_eval_metric(model, name: str) -> None:
    """What set_params(eval_metric=name) does, which a fitted CatBoost refuses: otherwise its
    params keep the hooks, and through them the report function, in memory and in pickles."""
    model._init_params["eval_metric"] = name
    model._canonized_params = None  # a copy of the params, made again when next needed


class CatBoostFamily(BoostingFamily):
    key = "catboost"
    fit_memory = memory.CATBOOST
    allowed_params = (
        "iterations", "learning_rate", "depth", "l2_leaf_reg", "random_strength", "subsample",
        "one_hot_max_size", "border_count", "max_ctr_complexity", "leaf_estimation_iterations",
        "min_data_in_leaf", "early_stopping_rounds",
    )

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report: ReportFn | None = None,
            sample_weight=None, valid_weight=None):
        params = self._checked_params()
        patience = int(params.pop("early_stopping_rounds", 50))
        train = self._pool(X, self._label_codes(y), weight=sample_weight)
        self.category_codes_ = _category_codes(X, self.categorical)
        valid = None if X_valid is None else self._valid_pool(X_valid, y_valid, valid_weight)
        reports = ProgressReports(params.get("iterations", 1000), report if valid is not None else None)
        progress = _Progress(as_budget(budget), reports, self, self._loss(), patience,
                             0 if valid is None else valid.num_row())
        hooked = reports.report is not None
        self.model_ = self._estimator(params, progress if hooked else None)
        with warnings.catch_warnings():  # CatBoost would JIT a Python eval metric with numba
            warnings.filterwarnings("ignore", message=".*numba.*")
            self.model_.fit(train, eval_set=valid, callbacks=[progress])
        if valid is not None and progress.best_rounds:
            self.model_.shrink(ntree_end=progress.best_rounds)
        if hooked:
            _set_eval_metric(self.model_, self._loss())
        return self

    def _estimator(self, params: dict, eval_metric: _Progress | None):
        estimator_cls = CatBoostClassifier if self.is_classifier else CatBoostRegressor
        return estimator_cls(
            **params, loss_function=self._loss(), eval_metric=eval_metric or self._loss(),
            thread_count=self.n_jobs, random_seed=self.seed, verbose=False,
            # CatBoost's default on CPU, but Bayesian (which takes no `subsample`) for MultiClass
            bootstrap_type="MVS",
            allow_writing_files=False,  # no catboost_info/ folder in the working directory
            use_best_model=False,  # _Progress keeps the best round (the time limit may end the fit)
        )

    def _loss(self) -> str:
        if self.is_classifier and len(self.classes_seen_) <= 2:
            return LOSSES[BINARY]
        return LOSSES[self.task]

    def _valid_pool(self, X_valid, y_valid, valid_weight=None) -> Pool:
        """Every validation row, so that reported predictions cover each; a row of a class
        training never saw weighs 0 (its loss cannot be computed) under a stand-in label."""
        seen, y_seen = self._seen_class_rows(y_valid)
        labels = np.zeros(len(seen), dtype=y_seen.dtype)
        labels[seen] = y_seen
        weight = None if valid_weight is None else np.where(seen, valid_weight, 0.0)
        if weight is None and not seen.all():
            weight = seen.astype(float)
        return self._pool(X_valid, labels, weight=weight)

    def _pool(self, X, y=None, weight=None) -> Pool:
        columns = pd.DataFrame(X)
        for i in self.categorical:
            codes = X[:, i]
            columns[i] = np.where(np.isnan(codes), MISSING, codes).astype(np.int64)
        return Pool(columns, y, cat_features=list(self.categorical), weight=weight)

    def predict_raw(self, X) -> np.ndarray:
        pool = self._pool(np.asarray(X))
        raw = self.model_.predict_proba(pool) if self.is_classifier else self.model_.predict(pool)
        return self._shape_output(raw)

    def _output_from_raw(self, raw: np.ndarray) -> np.ndarray:
        """predict_raw's output from CatBoost's raw predictions (k, n) (log-odds, scores)."""
        if not self.is_classifier:
            return raw[0]
        if self._loss() == LOSSES[BINARY]:
            return self._shape_output(expit(raw[0]))
        return self._shape_output(softmax(raw, axis=0).T)

    @property
    def n_rounds_(self) -> int:
        return self.model_.tree_count_

    def trained_length(self) -> dict:
        chosen = self.model_.get_all_params()
        return {"iterations": self.n_rounds_, **{k: chosen[k] for k in CHOSEN_BY_LENGTH if k in chosen}}
