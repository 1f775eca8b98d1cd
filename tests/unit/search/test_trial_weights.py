"""A trial on a weighted table is scored with the weights, out of fold and on a holdout,
and its families fit with them (a real fit; no Ray: the trial's own function)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from automl.data.split import HOLDOUT, KFOLD
from automl.metrics import get_metric
from automl.preprocess.stage import table_branch_data
from automl.search.trial import fit_trial
from tests.conftest import make_table


@pytest.mark.parametrize("method", [HOLDOUT, KFOLD])
def test_a_trial_scores_with_the_rows_weights(method):
    frame = make_table(400, seed=2)
    frame["w"] = np.random.default_rng(0).uniform(0, 2, len(frame))
    data = table_branch_data(frame, "y", weight="w", method=method, n_folds=3)
    result = fit_trial("t", "lightgbm", {"n_estimators": 30}, data, get_metric("roc_auc", "binary"))
    assert result.status == "ok", result.error
    proba = result.valid_prediction[:, 1]
    assert result.score == pytest.approx(roc_auc_score(data.y_scored, proba,
                                                       sample_weight=data.w_scored))
    assert result.score != pytest.approx(roc_auc_score(data.y_scored, proba))


def test_balanced_classes_raise_the_rare_class_probability():
    frame = make_table(600, seed=3)
    frame = frame[(frame["y"] == "yes") | (np.arange(len(frame)) % 8 == 0)]  # few "no"
    metric = get_metric("roc_auc", "binary")
    plain = table_branch_data(frame, "y")
    balanced = table_branch_data(frame, "y", class_weight="balanced")
    assert balanced.fit_weight("train") is not None and plain.fit_weight("train") is None
    rare = plain.schema.classes.index("no")
    outputs = [fit_trial("t", "lightgbm", {"n_estimators": 30}, data, metric).valid_prediction
               for data in (plain, balanced)]
    assert outputs[1][:, rare].mean() > outputs[0][:, rare].mean() + 0.05
