"""The Python facade: sklearn-style fit/predict, save and load."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from automl import AutoML
from automl.data.notices import DataNotice
from automl.errors import ConfigError, DataError
from tests.conftest import make_table


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_fit_predict_save_load(tmp_path, task, capsys):
    frame = make_table(n=400, task=task)
    model = AutoML(pipeline="fast", time_budget="2m", max_trials=4, out=tmp_path)
    model.fit(frame.drop(columns="y"), frame["y"])
    assert "search:" not in capsys.readouterr().err  # quiet by default
    frame = frame.drop(columns="y")  # predict on the features alone, as a user would
    predictions = model.predict(frame)
    assert predictions.shape == (len(frame),)
    if task != "regression":
        proba = model.predict_proba(frame)
        assert proba.shape == (len(frame), len(model.classes_))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        assert set(predictions) <= set(model.classes_)
        assert (predictions == make_table(n=400, task=task)["y"]).mean() > 0.7  # learned something real
    loaded = AutoML.load(model.save(tmp_path / "saved"))  # model/ensemble.onnx: float32
    if task == "regression":
        scale = np.abs(predictions).max()
        np.testing.assert_allclose(loaded.predict(frame), predictions, rtol=0, atol=1e-5 * scale)
    else:
        np.testing.assert_array_equal(loaded.predict(frame), predictions)


def test_fit_with_target_name(tmp_path, capsys):
    frame = make_table(n=300)
    # no time limit: the fast preset's 10 trials a family, as on any machine
    model = AutoML(pipeline="fast", time_budget="none", out=tmp_path, verbosity=1).fit(frame, target="y")
    log = capsys.readouterr().err
    assert "time budget: none (no limit)" in log.splitlines()[0]
    assert "] search: " in log  # progress lines, as the CLI prints them
    assert set(model.classes_) == {"no", "yes"}
    assert model.metrics_["valid"]["roc_auc"] > 0.8


def test_sklearn_contract():
    model = AutoML(time_budget="1m", seed=3)
    assert clone(model).get_params() == model.get_params()


def test_target_must_be_given():
    with pytest.raises(ConfigError, match=r"AutoML requires y to be passed, but the target y is "
                                          r"None: give fit\(X, y\)"):
        AutoML().fit(make_table())


def test_verbosity_is_checked():
    with pytest.raises(ConfigError, match=r"verbosity must be one of 0 \(quiet\), 1 \(progress "
                                          r"lines, as the CLI prints them\); got 3"):
        AutoML(verbosity=3).fit(make_table(), target="y")


def test_holdout_is_checked():
    with pytest.raises(ConfigError, match=r"holdout 1.5 is out of range; allowed: a number in "
                                          r"\[0, 0.9\) .*; give e.g. 0.2, or 0 for none"):
        AutoML(pipeline="fast", holdout=1.5).fit(make_table(), target="y")


@pytest.mark.parametrize("options, message", [
    ({"max_model_size": "huge"}, "max_model_size 'huge' is not understood; allowed: 1KB to 64GB"),
    ({"max_latency": 0}, "max_latency 0 is out of range; allowed: 1us to 60s"),
    ({"refit_full": "yes"}, "refit_full 'yes' is not true or false"),
    ({"refit_full": True, "compact": True}, "refit_full and compact do not go together"),
])
def test_the_lean_ensemble_options_are_checked(options, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        AutoML(out=tmp_path, **options).fit(make_table(), target="y")


def test_encoding_applies_where_a_file_is_read(tmp_path):
    frame = make_table()
    frame["colour"] = frame["colour"].replace({"red": "rötlich"})
    frame.to_csv(tmp_path / "t.csv", index=False, encoding="cp1252")
    with pytest.raises(DataError, match=r"t\.csv is not utf-8 \(byte 0xf6 in line \d+ is not\)"):
        AutoML(pipeline="fast", encoding="utf-8", out=tmp_path / "runs").fit(str(tmp_path / "t.csv"),
                                                                             target="y")
    with pytest.raises(ConfigError, match="unknown encoding 'utf9'"):
        AutoML(encoding="utf9").fit(frame, target="y")
    assert not (tmp_path / "runs").exists()


def test_y_and_target_are_one_or_the_other():
    frame = make_table()
    with pytest.raises(ConfigError, match="give either y or target=, not both"):
        AutoML().fit(frame.drop(columns="y"), frame["y"], target="y")
    with pytest.raises(ConfigError, match="y is named 'x1', which is also a column of X; rename one"):
        AutoML().fit(frame.drop(columns="y"), frame["y"].rename("x1"))


def test_a_quiet_fit_tells_how_it_read_the_file_as_warnings(tmp_path):
    make_table().to_csv(tmp_path / "t.csv", index=False, sep=";")
    with pytest.warns(DataNotice, match=r"ingest: .*t\.csv: fields are separated by ';', not ','"), \
            pytest.raises(DataError, match="target column 'nope' not found"):
        AutoML(pipeline="fast", out=tmp_path / "runs").fit(str(tmp_path / "t.csv"), target="nope")
