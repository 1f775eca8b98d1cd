"""Metrics scored many predictions at once equal the same metric called on each in turn."""

from __future__ import annotations

import numpy as np
import pytest

from automl.metrics import get_metric


def _stack(task: str, n_classes: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Eight predictions of 300 rows, with what trips a hand-written metric: tied scores,
    probabilities of exactly 0 and 1."""
    if task == "regression":
        y = rng.normal(size=300)
        return y, y + rng.normal(size=(8, 300))
    y = rng.integers(0, n_classes, size=300)
    proba = rng.dirichlet(np.ones(n_classes), size=(8, 300))
    proba[1] = np.round(proba[1], 1)
    proba[1] /= proba[1].sum(axis=1, keepdims=True)  # many ties
    proba[2, :20] = np.eye(n_classes)[(y[:20] + 1) % n_classes]  # sure and wrong
    proba[3, :20] = np.eye(n_classes)[y[:20]]  # sure and right
    return y, proba


@pytest.mark.parametrize("name, task, n_classes", [
    ("roc_auc", "binary", 2), ("roc_auc", "multiclass", 4), ("log_loss", "binary", 2),
    ("log_loss", "multiclass", 3), ("rmse", "regression", 0), ("accuracy", "multiclass", 3),
    ("r2", "regression", 0),
])
def test_scores_of_a_stack_equal_the_score_of_each(name, task, n_classes):
    y, predictions = _stack(task, n_classes, np.random.default_rng(0))
    metric = get_metric(name, task)
    one_by_one = [metric.score(y, p) for p in predictions]
    np.testing.assert_allclose(metric.scores(y, predictions), one_by_one, rtol=1e-12, atol=1e-12)


def test_binary_roc_auc_takes_one_column_or_two():
    y, proba = _stack("binary", 2, np.random.default_rng(1))
    metric = get_metric("roc_auc", "binary")
    np.testing.assert_allclose(metric.scores(y, proba[:, :, 1]), metric.scores(y, proba))



def test_roc_auc_of_rows_of_one_class_is_a_data_error():
    """The bench's resampled intervals skip such a resample (they catch the ValueError)."""
    from automl.errors import DataError

    metric = get_metric("roc_auc", "binary")
    with pytest.raises(DataError, match="ROC AUC needs both classes among the rows scored; "
                                        "these hold no positive row"):
        metric.scores(np.zeros(5, dtype=int), np.random.default_rng(0).random((3, 5)))


@pytest.mark.parametrize("name, task, n_classes", [
    ("roc_auc", "binary", 2), ("roc_auc", "multiclass", 3), ("log_loss", "multiclass", 3),
    ("accuracy", "binary", 2), ("balanced_accuracy", "multiclass", 3), ("f1", "binary", 2),
    ("mcc", "binary", 2), ("average_precision", "binary", 2), ("f1_macro", "multiclass", 3),
    ("rmse", "regression", 0), ("mae", "regression", 0), ("r2", "regression", 0),
])
def test_integer_weights_score_as_repeated_rows(name, task, n_classes):
    """The oracle for a weighted metric: a row of weight 3 counts as three copies of it."""
    rng = np.random.default_rng(1)
    y, stack = _stack(task, n_classes, rng)
    weight = rng.integers(0, 4, size=len(y))
    weight[0] = 1
    metric = get_metric(name, task)
    repeated = np.repeat(np.arange(len(y)), weight)
    for prediction in stack[:3]:
        assert metric.value(y, prediction, weight) == pytest.approx(
            metric.value(y[repeated], prediction[repeated]), rel=1e-9)
    np.testing.assert_allclose(metric.scores(y, stack, weight),
                               [metric.score(y, p, weight) for p in stack])
