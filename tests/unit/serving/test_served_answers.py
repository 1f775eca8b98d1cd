"""Both served models answer alike (serving/answers.py), the one timer of one-row calls,
and the one place that picks the served model of a run folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import automl
from automl.data.schema import IgnoredColumnsWarning
from automl.errors import ConfigError, PredictError, RunError
from automl.bundle import save_bundle
from automl.data import prepare_features
from automl.onnx.ensemble_export import write_ensemble_model
from automl.serving.compact import CompactPredictor
from automl.serving.load import load_model
from automl.serving.onnx_predictor import OnnxPredictor
from automl.serving.timing import median_call_ms
from tests.compact_helpers import compact_run
from tests.unit.serving.test_predict_checks import fitted_predictor, table_with_codes

SERVING = str(Path(automl.__file__).parent / "serving")


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The Python predictor, the same predictor as model/ensemble.onnx (as a run writes
    it), and a compact model: each served model the package has."""
    frame = table_with_codes()
    run = compact_run(frame, "y", tmp_path_factory.mktemp("run"))
    python = fitted_predictor(frame)
    ensemble_dir = tmp_path_factory.mktemp("ensemble")
    save_bundle(ensemble_dir, python)
    written = write_ensemble_model(ensemble_dir, python, prepare_features(frame, python.schema))
    return {"python": python, "compact": CompactPredictor.from_run(run.run_dir),
            "ensemble": load_model(ensemble_dir), "ensemble_dir": ensemble_dir,
            "written": written}


KINDS = ["python", "ensemble", "compact"]


@pytest.mark.parametrize("kind", KINDS)
def test_labels_probabilities_and_bad_input_are_answered_alike(both, kind):
    model = both[kind]
    rows = table_with_codes().drop(columns="y").head(5)
    raw = model.predict_raw(rows)
    np.testing.assert_array_equal(model.predict(rows), model.labels(raw))
    assert model.labels(raw).tolist() == [["no", "yes"][i] for i in raw.argmax(axis=1)]
    proba = model.predict_proba(rows)
    assert list(proba.columns) == ["no", "yes"] and proba.index.equals(rows.index)
    with pytest.raises(PredictError, match=r"^predict takes a pandas DataFrame with the model's "
                                           r"columns, or one row as a dict, got list$"):
        model.predict([1, 2])


@pytest.mark.parametrize("kind", KINDS)
def test_an_unused_column_is_one_warning_from_the_serving_code(both, kind):
    """`automl predict` tells its own warnings from other libraries' by where they come from."""
    rows = table_with_codes().drop(columns="y").head(3).assign(note="x")
    with pytest.warns(IgnoredColumnsWarning) as caught:
        both[kind].predict(rows)
    assert len(caught) == 1 and caught[0].filename.startswith(SERVING)
    assert str(caught[0].message) == "ignoring 1 input column(s) the model does not use: note"


def test_the_ensemble_is_served_from_its_onnx_file_as_python_predicts(both):
    served, python = both["ensemble"], both["python"]
    assert isinstance(served, OnnxPredictor) and served.path.name == "ensemble.onnx"
    rows = table_with_codes().drop(columns="y").head(60)
    np.testing.assert_allclose(served.predict_raw(rows), python.predict_raw(rows), atol=1e-5)
    for i in (0, 7):  # one row as a dict and as a one-row frame: no pandas on the way
        expected = python.predict_raw(rows.iloc[[i]])
        np.testing.assert_allclose(served.predict_raw(rows.iloc[i].to_dict()), expected, atol=1e-5)
        np.testing.assert_allclose(served.predict_raw(rows.iloc[[i]]), expected, atol=1e-5)
    described = served.describe()  # model/model.json: what the pickle describes
    assert [m["family"] for m in described["members"]] == ["xgboost", "linear"]
    assert described["model"].endswith("ensemble.onnx")
    written = both["written"]
    assert written["format"] == "onnx" and written["parity_max_diff"] <= 1e-4
    assert written["size_bytes"] == served.path.stat().st_size and written["one_row_ms"] > 0


def test_the_pickle_is_served_only_when_asked_or_from_an_older_folder(both, tmp_path):
    assert type(load_model(both["ensemble_dir"], "python")) is type(both["python"])
    older = tmp_path / "older"
    save_bundle(older, both["python"])  # no ensemble.onnx: a run folder from before it
    with pytest.warns(UserWarning, match=r"holds no model/ensemble.onnx .*; serving the "
                                         r"pickled model/predictor.joblib instead"):
        model = load_model(older)
    assert type(model) is type(both["python"])


def test_the_timer_warms_up_then_takes_the_median():
    seen = []
    assert median_call_ms(seen.append, calls=5, warmup=2) >= 0
    assert seen == [0, 1, 0, 1, 2, 3, 4]


def test_the_served_model_is_chosen_in_one_place(tmp_path):
    with pytest.raises(ConfigError, match=r"model must be one of 'ensemble' \(.*\), 'compact' "
                                          r"\(.*\), 'python' \(.*\); got 'tiny'"):
        load_model(tmp_path, "tiny")
    with pytest.raises(RunError, match="holds no finished model"):
        load_model(tmp_path)
    with pytest.raises(RunError, match="holds no compact model"):
        load_model(tmp_path, "compact")
