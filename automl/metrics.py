"""Metrics by task, all expressed as a score to maximise.

Search, ensembling, distillation and the bench all rank by `score()`: higher is better
for every metric (losses are negated). `value()` gives the metric as people quote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn import metrics as skm

from automl.errors import ConfigError, DataError, listing

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
TASKS = (BINARY, MULTICLASS, REGRESSION)


@dataclass(frozen=True)
class Metric:
    name: str
    tasks: tuple[str, ...]
    greater_is_better: bool
    needs_proba: bool
    # (labels, prediction, sample_weight=None) -> value; every metric takes row weights
    fn: Callable[..., float]
    # the metric of each of a stack of predictions at once (first axis), where numpy can
    # do it without sklearn's per-call checks: ensemble selection scores thousands of blends.
    # Unweighted only: a weighted stack is scored one prediction at a time.
    many: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    @property
    def decides(self) -> bool:
        """A classification metric that scores labels, so that how labels follow from the
        probabilities matters (`automl.decisions`)."""
        return not self.needs_proba and REGRESSION not in self.tasks

    def value(self, y_true: np.ndarray, prediction: np.ndarray,
              weight: np.ndarray | None = None) -> float:
        """The metric itself. `prediction` is class probabilities (n, k) or values (n,);
        `weight`, each row's sample weight (None: rows count alike)."""
        if weight is None:
            return float(self.fn(np.asarray(y_true), _as_input(self, prediction)))
        return float(self.fn(np.asarray(y_true), _as_input(self, prediction),
                             sample_weight=np.asarray(weight, dtype=np.float64)))

    def from_score(self, score: float) -> float:
        """The metric value behind a `score` (undoes the sign flip of losses)."""
        return score if self.greater_is_better else -score

    def score(self, y_true: np.ndarray, prediction: np.ndarray,
              weight: np.ndarray | None = None) -> float:
        """The metric oriented so that higher is better."""
        value = self.value(y_true, prediction, weight)
        return value if self.greater_is_better else -value

    def scores(self, y_true: np.ndarray, predictions: np.ndarray,
               weight: np.ndarray | None = None) -> np.ndarray:
        """`score()` of each prediction in a stack of them (first axis), equal to calling it
        on each in turn."""
        y_true, predictions = np.asarray(y_true), np.asarray(predictions)
        if self.many is not None and weight is None:
            values = np.asarray(self.many(y_true, predictions), dtype=np.float64)
        else:
            values = np.array([self.value(y_true, p, weight) for p in predictions],
                              dtype=np.float64)
        return values if self.greater_is_better else -values


def _as_input(metric: Metric, prediction: np.ndarray) -> np.ndarray:
    prediction = np.asarray(prediction)
    if prediction.ndim == 2 and not metric.needs_proba:
        return prediction.argmax(axis=1)
    if prediction.ndim == 2 and metric.name in ("roc_auc", "average_precision") \
            and prediction.shape[1] == 2:
        return prediction[:, 1]
    return prediction


LOG_LOSS_FLOOR = 1e-15  # probabilities are clipped here before their log


def _log_loss(y, proba, sample_weight=None):
    proba = np.clip(proba, LOG_LOSS_FLOOR, 1.0)
    return skm.log_loss(y, proba / proba.sum(axis=1, keepdims=True), labels=np.arange(proba.shape[1]),
                        sample_weight=sample_weight)


def _rmse(y, pred, sample_weight=None):
    return float(np.sqrt(skm.mean_squared_error(y, pred, sample_weight=sample_weight)))


def _roc_auc(y, proba, sample_weight=None):
    if proba.ndim == 2:
        return skm.roc_auc_score(y, proba, multi_class="ovr", labels=np.arange(proba.shape[1]),
                                 sample_weight=sample_weight)
    return skm.roc_auc_score(y, proba, sample_weight=sample_weight)


def _f1_macro(y, labels, sample_weight=None):
    return skm.f1_score(y, labels, average="macro", sample_weight=sample_weight)


def _log_loss_many(y, probas):
    proba = np.clip(probas, LOG_LOSS_FLOOR, 1.0)
    proba = proba / proba.sum(axis=2, keepdims=True)
    return -np.log(proba[:, np.arange(len(y)), y]).mean(axis=1)


def _rmse_many(y, preds):
    return np.sqrt(((preds - y) ** 2).mean(axis=1))


def _roc_auc_many(y, probas):
    """Binary: the rank-sum (Mann-Whitney) form of the area, ties at their mean rank, as
    sklearn computes it; multiclass: the mean of each class against the rest (ovr, macro)."""
    if probas.ndim == 2:
        return _binary_auc_many(y == 1, probas)
    if probas.shape[2] == 2:
        return _binary_auc_many(y == 1, probas[:, :, 1])
    return np.mean([_binary_auc_many(y == k, probas[:, :, k]) for k in range(probas.shape[2])],
                   axis=0)


def _binary_auc_many(positive: np.ndarray, scores: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        raise DataError("ROC AUC needs both classes among the rows scored; these hold "
                        f"{'no positive' if n_pos == 0 else 'no negative'} row")
    ranks = rankdata(scores, axis=1)
    return (ranks[:, positive].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("roc_auc", (BINARY, MULTICLASS), True, True, _roc_auc, _roc_auc_many),
        Metric("log_loss", (BINARY, MULTICLASS), False, True, _log_loss, _log_loss_many),
        Metric("accuracy", (BINARY, MULTICLASS), True, False, skm.accuracy_score),
        Metric("balanced_accuracy", (BINARY, MULTICLASS), True, False, skm.balanced_accuracy_score),
        Metric("f1", (BINARY,), True, False, skm.f1_score),
        Metric("f1_macro", (MULTICLASS,), True, False, _f1_macro),
        Metric("mcc", (BINARY,), True, False, skm.matthews_corrcoef),
        Metric("average_precision", (BINARY,), True, True, skm.average_precision_score),
        Metric("rmse", (REGRESSION,), False, False, _rmse, _rmse_many),
        Metric("mae", (REGRESSION,), False, False, skm.mean_absolute_error),
        Metric("r2", (REGRESSION,), True, False, skm.r2_score),
    ]
}

# The benchmark protocol's metrics: the first is the one searched on by default.
PROTOCOL = {
    BINARY: ("roc_auc", "accuracy"),
    MULTICLASS: ("log_loss", "accuracy"),
    REGRESSION: ("rmse", "r2"),
}


def default_metric(task: str) -> str:
    return PROTOCOL[task][0]


def get_metric(name: str, task: str) -> Metric:
    """The metric called `name`, checked to fit `task`."""
    if name not in METRICS:
        raise ConfigError(f"unknown metric {name!r}; choose one of {listing(METRICS)}")
    metric = METRICS[name]
    if task not in metric.tasks:
        fitting = [m.name for m in METRICS.values() if task in m.tasks]
        raise ConfigError(
            f"metric {name!r} does not apply to a {task} task; use one of {listing(fitting)}"
        )
    return metric


def evaluate(task: str, y_true: np.ndarray, prediction: np.ndarray,
             weight: np.ndarray | None = None) -> dict[str, float]:
    """The protocol metrics for `task`, as a name -> value dict (weighted by `weight`)."""
    return {name: get_metric(name, task).value(y_true, prediction, weight)
            for name in PROTOCOL[task]}
