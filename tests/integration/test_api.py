"""The Python facade: sklearn-style fit/predict, save and load."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from automl import AutoML
from automl.errors import ConfigError
from tests.conftest import make_table


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_fit_predict_save_load(tmp_path, task):
    frame = make_table(n=400, task=task)
    model = AutoML(pipeline="fast", time_budget="20s", out=tmp_path, verbose=False)
    model.fit(frame.drop(columns="y"), frame["y"])
    frame = frame.drop(columns="y")  # predict on the features alone, as a user would
    predictions = model.predict(frame)
    assert predictions.shape == (len(frame),)
    if task != "regression":
        proba = model.predict_proba(frame)
        assert proba.shape == (len(frame), len(model.classes_))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        assert set(predictions) <= set(model.classes_)
        assert (predictions == make_table(n=400, task=task)["y"]).mean() > 0.7  # learned something real
    loaded = AutoML.load(model.save(tmp_path / "saved"))
    np.testing.assert_array_equal(loaded.predict(frame), predictions)


def test_fit_with_target_name(tmp_path):
    frame = make_table(n=300)
    model = AutoML(pipeline="fast", out=tmp_path, verbose=False).fit(frame, target="y")
    assert set(model.classes_) == {"no", "yes"}
    assert model.metrics_["valid"]["roc_auc"] > 0.8


def test_sklearn_contract():
    model = AutoML(time_budget="1m", seed=3)
    assert clone(model).get_params() == model.get_params()


def test_target_must_be_given():
    with pytest.raises(ConfigError, match="give the target"):
        AutoML().fit(make_table())
