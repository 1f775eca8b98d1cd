"""compact.onnx served with no code from this package: a table's raw Parquet columns, read
with pyarrow and converted only as the model card says, go into plain onnxruntime, and
what comes out is what `automl predict --model compact` and the Python student behind
the file give.

One compact model per table, fitted straight on the labels (a 20×3 xgboost student: no
search, no Ray), on a sample of rows, so the whole file stays short on 2 cores (10 s).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from automl.cli import main
from automl.data import prepare_features
from tests.compact_helpers import compact_run
from tests.conftest import SHARED_DATA, make_table

FIT_ROWS, SERVED_ROWS = 3000, 2000

# ---- the serving side: pyarrow, numpy and onnxruntime, as the card says -----------------


def serve(onnx_path: Path, parquet_path: Path) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    inputs = json.loads(session.get_modelmeta().custom_metadata_map["automl.inputs"])
    table = pq.read_table(parquet_path)
    feed = {spec["name"]: as_input(table[spec["name"]], spec["onnx_type"]).reshape(-1, 1)
            for spec in inputs}
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, feed)))


def as_input(column: pa.ChunkedArray, onnx_type: str) -> np.ndarray:
    if onnx_type == "float32":  # numbers, null as NaN (through float64: int64 to float32 is refused)
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float32)
    if onnx_type == "string":  # categories as their text, null as ""
        if pa.types.is_boolean(column.type):
            column = pc.if_else(column, "True", "False")
        return pc.fill_null(pc.cast(column, pa.string()), "").to_numpy(zero_copy_only=False)
    # dates: float64 seconds since the epoch of the wall-clock time, null as NaN
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):  # ISO 8601
        column = pc.cast(column, pa.timestamp("us"))
    if column.type.tz is not None:
        column = pc.local_timestamp(column)
    unit = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[column.type.unit]
    return pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64) / unit


# ---- what it is compared with ----------------------------------------------------------


def automl_predict(run_dir: Path, rows: Path, out: Path, proba: bool) -> pd.DataFrame:
    assert main(["predict", str(run_dir), str(rows), "--model", "compact", "--out", str(out)]
                + (["--proba"] if proba else [])) == 0
    return pd.read_csv(out)


def check_served(run, rows: Path, tmp_path: Path) -> None:
    served = serve(run.run_dir / "compact" / "compact.onnx", rows)
    schema = run.schema
    predicted = automl_predict(run.run_dir, rows, tmp_path / "predicted.csv",
                               proba=schema.task != "regression")
    python = run.python_output(pd.read_parquet(rows))
    if schema.task == "regression":
        values = served["variable"].reshape(-1).astype(np.float64)
        scale = max(1e-3, np.abs(python).max())  # float32 on both sides
        np.testing.assert_allclose(values, predicted["prediction"], rtol=1e-6, atol=scale * 1e-6)
        np.testing.assert_allclose(values / scale, python / scale, atol=1e-4)
        return
    probabilities = served["probabilities"]
    classes = [str(c) for c in schema.classes]
    np.testing.assert_allclose(probabilities, predicted[classes].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(probabilities, python, atol=1e-4)
    np.testing.assert_array_equal(served["label"], probabilities.argmax(axis=1))
    labels = np.asarray(schema.classes)[served["label"]]
    assert (predicted["prediction"].astype(str).to_numpy() == labels.astype(str)).all()


# ---- a synthetic table with everything `prepare_features` handles ---------------------


def awkward_table(task: str, n: int = 1500, seed: int = 0) -> pd.DataFrame:
    frame = make_table(n=n, task=task, seed=seed)
    rng = np.random.default_rng(seed)
    frame["count"] = pd.array(rng.integers(0, 50, n), dtype="Int64")
    frame.loc[frame.index[rng.random(n) < 0.1], "count"] = pd.NA
    frame["flag"] = frame["x2"] > 0
    frame["booked"] = pd.Series(pd.date_range("2023-03-20", periods=n, freq="37min",
                                              tz="Europe/Lisbon"))  # across a DST change
    frame["due"] = (frame["when"] + pd.to_timedelta(rng.integers(0, 90, n), unit="D")).dt.strftime(
        "%Y-%m-%d %H:%M:%S")
    frame.loc[frame.index[rng.random(n) < 0.1], "when"] = pd.NaT
    frame.loc[frame.index[rng.random(n) < 0.1], "due"] = None
    frame.loc[frame.index[rng.random(n) < 0.1], "colour"] = None
    frame.loc[frame.index[:8], "x2"] = [np.inf, -np.inf] * 4
    return frame


@pytest.mark.parametrize("memo", [False, True])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_a_synthetic_table_with_dates_and_missing_values(task, memo, tmp_path):
    run = compact_run(awkward_table(task), "y", tmp_path / "run", memo=memo)
    kinds = {c.name: c.kind for c in run.schema.columns}
    assert kinds == {"x1": "numeric", "x2": "numeric", "colour": "categorical", "when": "datetime",
                     "count": "numeric", "flag": "categorical", "booked": "datetime",
                     "due": "datetime"}
    rows = awkward_table(task, n=400, seed=1).drop(columns="y")
    rows.loc[rows.index[:5], "colour"] = "ultraviolet"  # never seen
    if memo:  # rows it learned from, dates and missing values among them, are looked up
        learned = awkward_table(task).drop(columns="y").head(200)
        rows = pd.concat([learned, rows], ignore_index=True)
        assert_memo_answers(run, learned)
    rows.to_parquet(tmp_path / "rows.parquet")
    check_served(run, tmp_path / "rows.parquet", tmp_path)


def assert_memo_answers(run, learned: pd.DataFrame) -> None:
    """The memo answers the rows it learned (with their labels), not the student."""
    answered = run.python_output(learned)
    student = run.model.base.predict_raw(run.branch.transform(prepare_features(learned, run.schema)))
    assert not np.allclose(answered, student)


def test_the_cards_own_example_serves_the_file(tmp_path):
    run = compact_run(awkward_table("multiclass"), "y", tmp_path / "run")
    awkward_table("multiclass", n=300, seed=2).drop(columns="y").to_parquet(tmp_path / "rows.parquet")
    from automl.onnx.card import SERVE_EXAMPLE

    code = SERVE_EXAMPLE.replace('"compact.onnx"', repr(str(run.run_dir / "compact" / "compact.onnx")))
    code = code.replace('"rows.parquet"', repr(str(tmp_path / "rows.parquet")))
    namespace = {}
    exec(code, namespace)  # noqa: S102 - the card's documented snippet, run as a user would
    expected = serve(run.run_dir / "compact" / "compact.onnx", tmp_path / "rows.parquet")
    np.testing.assert_array_equal(namespace["outputs"][1], expected["probabilities"])


# ---- the benchmark tables ------------------------------------------------------------


def _tables() -> list[str]:
    manifest = SHARED_DATA / "MANIFEST.csv"
    return list(pd.read_csv(manifest)["name"]) if manifest.is_file() else []


@pytest.mark.parametrize("memo", [False, True])
@pytest.mark.parametrize("name", _tables())  # about half a second each
def test_a_benchmark_table_served_with_no_automl_code(name, memo, shared_data, tmp_path):
    entry = pd.read_csv(shared_data / "MANIFEST.csv").set_index("name").loc[name]
    table = pq.read_table(shared_data / f"{name}.parquet")
    rng = np.random.default_rng(0)
    fit_rows = rng.choice(table.num_rows, size=min(FIT_ROWS, table.num_rows), replace=False)
    run = compact_run(table.take(fit_rows).to_pandas(), entry["target"], tmp_path / "run",
                      task=entry["task"], memo=memo)
    served_rows = rng.choice(table.num_rows, size=min(SERVED_ROWS, table.num_rows), replace=False)
    if memo:  # some of the rows it learned from among those served
        served_rows = np.unique(np.concatenate([served_rows, fit_rows[:200]]))
    pq.write_table(table.take(np.sort(served_rows)).drop_columns([entry["target"]]),
                   tmp_path / "rows.parquet")
    check_served(run, tmp_path / "rows.parquet", tmp_path)
