"""Metrics by task, all expressed as a score to maximise.

Search, ensembling, distillation and the bench all rank by `score()`: higher is better
for every metric (losses are negated). `value()` gives the metric as people quote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn import metrics as skm

from automl.errors import ConfigError, listing

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
TASKS = (BINARY, MULTICLASS, REGRESSION)


@dataclass(frozen=True)
class Metric:
    name: str
    tasks: tuple[str, ...]
    greater_is_better: bool
    needs_proba: bool
    fn: Callable[[np.ndarray, np.ndarray], float]

    def value(self, y_true: np.ndarray, prediction: np.ndarray) -> float:
        """The metric itself. `prediction` is class probabilities (n, k) or values (n,)."""
        return float(self.fn(np.asarray(y_true), _as_input(self, prediction)))

    def from_score(self, score: float) -> float:
        """The metric value behind a `score` (undoes the sign flip of losses)."""
        return score if self.greater_is_better else -score

    def score(self, y_true: np.ndarray, prediction: np.ndarray) -> float:
        """The metric oriented so that higher is better."""
        value = self.value(y_true, prediction)
        return value if self.greater_is_better else -value


def _as_input(metric: Metric, prediction: np.ndarray) -> np.ndarray:
    prediction = np.asarray(prediction)
    if prediction.ndim == 2 and not metric.needs_proba:
        return prediction.argmax(axis=1)
    if prediction.ndim == 2 and metric.name == "roc_auc" and prediction.shape[1] == 2:
        return prediction[:, 1]
    return prediction


def _log_loss(y, proba):
    proba = np.clip(proba, 1e-15, 1.0)
    return skm.log_loss(y, proba / proba.sum(axis=1, keepdims=True), labels=np.arange(proba.shape[1]))


def _rmse(y, pred):
    return float(np.sqrt(skm.mean_squared_error(y, pred)))


def _roc_auc(y, proba):
    if proba.ndim == 2:
        return skm.roc_auc_score(y, proba, multi_class="ovr", labels=np.arange(proba.shape[1]))
    return skm.roc_auc_score(y, proba)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("roc_auc", (BINARY, MULTICLASS), True, True, _roc_auc),
        Metric("log_loss", (BINARY, MULTICLASS), False, True, _log_loss),
        Metric("accuracy", (BINARY, MULTICLASS), True, False, skm.accuracy_score),
        Metric("balanced_accuracy", (BINARY, MULTICLASS), True, False, skm.balanced_accuracy_score),
        Metric("f1", (BINARY,), True, False, skm.f1_score),
        Metric("rmse", (REGRESSION,), False, False, _rmse),
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


def evaluate(task: str, y_true: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """The protocol metrics for `task`, as a name -> value dict."""
    return {name: get_metric(name, task).value(y_true, prediction) for name in PROTOCOL[task]}
