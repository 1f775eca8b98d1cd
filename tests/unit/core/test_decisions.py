"""The label rule a run chooses where its metric scores labels (automl/decisions.py), on
synthetic probabilities with a 2% positive class and three uneven classes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.decisions import choose_decision
from automl.metrics import get_metric


def rare_positives(n: int = 5000, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.02).astype(np.int64)
    p1 = 1 / (1 + np.exp(-(rng.normal(size=n) + 2.5 * y - 4)))
    return y, np.c_[1 - p1, p1]


@pytest.mark.parametrize("name", ["f1", "mcc", "balanced_accuracy"])
def test_a_threshold_beats_the_most_probable_class_on_rare_positives(name):
    y, proba = rare_positives()
    metric = get_metric(name, "binary")
    decision = choose_decision(metric, y, proba, "rows")
    assert decision is not None and decision.threshold < 0.5
    labels = decision.labels(proba)
    assert metric.value(y, labels) == pytest.approx(decision.score)
    assert decision.score > decision.score_at_most_probable == pytest.approx(
        metric.value(y, proba.argmax(axis=1)))
    assert np.float32(decision.threshold) == decision.threshold  # compared in float32, as ONNX does


def test_the_rule_carries_to_other_rows_and_keeps_the_probabilities():
    y, proba = rare_positives(seed=1)
    decision = choose_decision(get_metric("f1", "binary"), y, proba, "rows")
    y_new, proba_new = rare_positives(seed=2)
    before = proba_new.copy()
    tuned = skm.f1_score(y_new, decision.labels(proba_new))
    assert tuned > skm.f1_score(y_new, proba_new.argmax(axis=1))  # not only where it was chosen
    np.testing.assert_array_equal(proba_new, before)


def test_class_weights_for_a_multiclass_metric():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 3000)
    proba = rng.dirichlet([1, 1, 1], 3000)
    proba[np.arange(3000), y] += 0.3
    proba[:, 0] += 0.5  # a model that over-predicts class 0
    proba /= proba.sum(axis=1, keepdims=True)
    decision = choose_decision(get_metric("f1_macro", "multiclass"), y, proba, "rows")
    assert decision is not None and decision.class_weights[0] < 1
    assert skm.f1_score(y, decision.labels(proba), average="macro") == pytest.approx(decision.score)


def test_no_rule_for_a_metric_of_probabilities_or_where_argmax_is_best():
    y, proba = rare_positives()
    for name in ("roc_auc", "log_loss", "average_precision"):
        assert choose_decision(get_metric(name, "binary"), y, proba, "rows") is None
    certain = np.eye(2)[y] * 0.98 + 0.01  # every row right at 0.5
    assert choose_decision(get_metric("f1", "binary"), y, certain, "rows") is None


def test_the_new_metrics_are_sklearns():
    y, proba = rare_positives()
    assert get_metric("average_precision", "binary").value(y, proba) == \
        pytest.approx(skm.average_precision_score(y, proba[:, 1]))
    assert get_metric("mcc", "binary").value(y, proba) == \
        pytest.approx(skm.matthews_corrcoef(y, proba.argmax(axis=1)))
    y3 = np.arange(300) % 3
    proba3 = np.eye(3)[(y3 + (np.arange(300) % 7 == 0)) % 3]
    assert get_metric("f1_macro", "multiclass").value(y3, proba3) == \
        pytest.approx(skm.f1_score(y3, proba3.argmax(axis=1), average="macro"))
