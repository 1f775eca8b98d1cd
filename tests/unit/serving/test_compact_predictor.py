"""The compact model as a predictor: compact.onnx in onnxruntime, raw rows in (a dict, a
one-row frame, a table), no pickle; and `AutoML.load(run, model="compact")` over it."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import pandas as pd
import pytest

from automl import AutoML
from automl.data.schema import IgnoredColumnsWarning
from automl.errors import ConfigError, PredictError, RunError
from automl.serving.compact import CompactPredictor
from tests.compact_helpers import compact_run
from tests.conftest import make_table


def _table(task: str) -> pd.DataFrame:
    frame = make_table(n=400, task=task)
    frame.loc[frame.index[:10], "when"] = pd.NaT
    frame.loc[frame.index[10:20], "colour"] = np.nan
    return frame


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    return compact_run(_table("binary"), "y", tmp_path_factory.mktemp("run"))


def test_the_export_writes_a_checked_and_timed_file(binary):
    card = binary.card
    path = binary.run_dir / "compact" / "compact.onnx"
    assert card["size_bytes"] == path.stat().st_size
    assert card["parity_max_diff"] <= 1e-4 and card["parity_rows"] == 200
    # both are measured and written; which is faster is the benchmark's to say, not a test's
    assert card["latency_ms_one_row"] > 0 and card["python_ms_one_row"] > 0
    assert card["timing"]["calls"] >= 1000 and card["inputs"] == ["x1", "x2", "colour", "when"]


def test_a_dict_a_one_row_frame_and_a_table_get_the_python_students_answer(binary):
    predictor = CompactPredictor.from_run(binary.run_dir)
    rows = _table("binary").drop(columns="y").iloc[:40]
    expected = binary.python_output(rows)
    np.testing.assert_allclose(predictor.predict_raw(rows), expected, atol=1e-5)
    for i in (0, 15, 30):  # a missing date, a missing category, a full row
        as_dict = rows.iloc[i].to_dict()
        np.testing.assert_allclose(predictor.predict_raw(as_dict), expected[[i]], atol=1e-5)
        np.testing.assert_allclose(predictor.predict_raw(rows.iloc[[i]]), expected[[i]], atol=1e-5)
    labels = predictor.predict(rows)
    assert set(labels) <= {"yes", "no"}
    assert list(predictor.predict_proba(rows).columns) == ["no", "yes"]


def test_automl_load_compact_needs_no_pickle(binary):
    assert not (binary.run_dir / "model").exists()
    model = AutoML.load(binary.run_dir, model="compact")
    row = _table("binary").drop(columns="y").iloc[30].to_dict()
    assert model.predict(row).tolist() in (["yes"], ["no"])
    proba = model.predict_proba(row)
    assert proba.shape == (1, 2) and proba.sum() == pytest.approx(1, abs=1e-5)
    assert model.metric_ == "roc_auc" and list(model.classes_) == ["no", "yes"]


def test_an_extra_column_is_ignored_with_a_warning_and_a_missing_one_is_an_error(binary):
    predictor = CompactPredictor.from_run(binary.run_dir)
    row = _table("binary").drop(columns="y").iloc[30].to_dict()
    with pytest.warns(IgnoredColumnsWarning, match="ignoring 1 input column.*: note"):
        predictor.predict({**row, "note": "hello"})
    one = pd.DataFrame([row])
    with pytest.warns(IgnoredColumnsWarning, match="ignoring 1 input column.*: note"):
        predictor.predict(one.assign(note="hello"))
    with pytest.raises(PredictError, match="more than one column named 'x1'"):
        predictor.predict(pd.concat([one, one[["x1"]]], axis=1))
    with pytest.raises(PredictError, match="lacks 1 column.*colour"):
        predictor.predict(one.drop(columns="colour"))
    del row["colour"]
    with pytest.raises(PredictError, match="lacks 1 column.*colour"):
        predictor.predict(row)
    with pytest.raises(PredictError, match="got list"):
        predictor.predict([1, 2])


def test_regression_has_no_probabilities(tmp_path):
    run = compact_run(_table("regression"), "y", tmp_path)
    model = AutoML.load(tmp_path, model="compact")
    rows = _table("regression").drop(columns="y").head(20)
    np.testing.assert_allclose(model.predict(rows), run.python_output(rows), rtol=1e-5, atol=1e-4)
    with pytest.raises(PredictError, match="predict_proba is for classification"):
        model.predict_proba(rows)


def test_asking_for_what_a_run_lacks_says_what_to_do(tmp_path, binary):
    with pytest.raises(ConfigError, match="model must be one of 'ensemble'.*got 'tiny'"):
        AutoML.load(binary.run_dir, model="tiny")
    with pytest.raises(RunError, match="holds no compact model.*--compact"):
        AutoML.load(tmp_path, model="compact")
    # a file from before compact models took raw columns carries no metadata
    old = onnx.load(binary.run_dir / "compact" / "compact.onnx")
    del old.metadata_props[:]
    (tmp_path / "compact").mkdir()
    onnx.save(old, tmp_path / "compact" / "compact.onnx")
    with pytest.raises(RunError, match="takes model-ready columns"):
        CompactPredictor.from_run(tmp_path)


def test_the_cli_predicts_with_the_compact_model(binary, tmp_path, capsys):
    from automl.cli import main

    rows = _table("binary").drop(columns="y").head(30)
    rows.to_parquet(tmp_path / "rows.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["predict", str(binary.run_dir), str(tmp_path / "rows.parquet"),
                     "--model", "compact", "--proba", "--out", str(tmp_path / "out.csv")]) == 0
    out = pd.read_csv(tmp_path / "out.csv")
    np.testing.assert_allclose(out[["no", "yes"]].to_numpy(), binary.python_output(rows), atol=1e-5)
    assert main(["predict", str(tmp_path), str(tmp_path / "rows.parquet"), "--model", "compact"]) == 2
    assert "holds no compact model" in capsys.readouterr().err
