"""Stacking: a linear meta-model over the members' validation predictions.

The meta-model learns on the same validation rows that scored the members, so its
score there would flatter it; `cross_validated_score` scores each row by a meta-model
that did not see it. Classification: logistic regression on the members' log
probabilities. Regression: least squares with non-negative weights and an intercept.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold

from automl.metrics import REGRESSION, Metric

MIN_PROBA = 1e-6  # log probabilities stay finite for a member that is sure and wrong


class LinearStacker(BaseEstimator):
    """sklearn-style: `fit(outputs, y)`, `predict_raw(outputs)`; `outputs` is one array
    per member, probabilities (n, k) or values (n,)."""

    min_proba = MIN_PROBA  # read by the ONNX export, which may not import this module

    def __init__(self, task: str = REGRESSION, n_classes: int = 0, seed: int = 0):
        self.task = task
        self.n_classes = n_classes
        self.seed = seed

    def fit(self, outputs: list[np.ndarray], y: np.ndarray) -> "LinearStacker":
        if self.task == REGRESSION:
            self.model_ = LinearRegression(positive=True)
        else:
            # strong regularisation: few validation rows per meta-feature (members x classes)
            self.model_ = LogisticRegression(C=0.1, max_iter=2000, random_state=self.seed)
        self.model_.fit(self._features(outputs), np.asarray(y))
        return self

    def predict_raw(self, outputs: list[np.ndarray]) -> np.ndarray:
        features = self._features(outputs)
        if self.task == REGRESSION:
            return self.model_.predict(features).astype(np.float64)
        proba = self.model_.predict_proba(features)
        # classes absent from the rows it learned on get probability 0
        full = np.zeros((len(features), self.n_classes))
        full[:, self.model_.classes_.astype(int)] = proba
        return full

    def _features(self, outputs: list[np.ndarray]) -> np.ndarray:
        if self.task == REGRESSION:
            return np.column_stack([np.asarray(o, dtype=np.float64) for o in outputs])
        return np.hstack([np.log(np.clip(np.asarray(o, dtype=np.float64), self.min_proba, 1.0))
                          for o in outputs])


def cross_validated_score(stacker: LinearStacker, outputs: list[np.ndarray], y: np.ndarray,
                          metric: Metric, n_folds: int, weight: np.ndarray | None = None) -> float:
    """The metric on out-of-fold meta-predictions: each row scored by a meta-model fitted
    without it, so the score is as honest as the members' own validation scores."""
    y = np.asarray(y)
    shape = (len(y),) if stacker.task == REGRESSION else (len(y), stacker.n_classes)
    out_of_fold = np.zeros(shape)
    for fit_rows, held_rows in _folds(stacker.task, y, n_folds, stacker.seed):
        part = clone(stacker).fit([o[fit_rows] for o in outputs], y[fit_rows])
        out_of_fold[held_rows] = part.predict_raw([o[held_rows] for o in outputs])
    score = metric.score(y, out_of_fold, weight)
    return score if np.isfinite(score) else -np.inf


def _folds(task: str, y: np.ndarray, n_folds: int, seed: int):
    if task != REGRESSION:
        counts = np.bincount(y.astype(int))
        if counts[counts > 0].min() >= n_folds:  # stratify where every class fits every fold
            return StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(y, y)
    return KFold(n_folds, shuffle=True, random_state=seed).split(y)
