"""compact.onnx takes the table's own columns: the graph's front against `prepare_features`,
and the Python conversions of the input contract against each other."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
from skl2onnx import convert_sklearn

from automl.config import PreprocessParams
from automl.data import infer_schema, prepare_features
from automl.students.soft import student_output
from automl.errors import PredictError
from automl.onnx.parity import check_parity
from automl.onnx.raw_front import raw_model
from automl.onnx.trees_graph import OPSETS, export_trees_model, input_types
from automl.preprocess import build_branch
from automl.serving.inputs import feed_columns, frame_feeds, raw_rows, row_feed
from tests.compact_helpers import fit_gbdt_student
from tests.conftest import make_table

TASKS = ["binary", "multiclass", "regression"]


def _fitted(frame: pd.DataFrame):
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    y = schema.encode_target(frame["y"])
    branch, Z = build_branch(PreprocessParams(branch="trees"), schema, features, y)
    teacher = y.astype(float) if schema.task == "regression" else np.eye(len(schema.classes))[y]
    model = fit_gbdt_student(Z, teacher, schema.task, n_estimators=20, max_depth=3).model_
    return schema, branch, model, raw_model(export_trees_model(branch, model, features), schema)


def _awkward(task: str, seed: int = 0) -> pd.DataFrame:
    """The test table with what `prepare_features` has to deal with: missing dates,
    numbers and categories, inf, an unseen category, a boolean category."""
    frame = make_table(n=400, task=task, seed=seed)
    frame["flag"] = frame["x2"] > 0
    frame.loc[frame.index[:10], "when"] = pd.NaT
    frame.loc[frame.index[10:20], "colour"] = np.nan
    frame.loc[frame.index[20:25], "x2"] = np.inf
    frame.loc[frame.index[25:30], "x2"] = -np.inf
    return frame


@pytest.mark.parametrize("task", TASKS)
def test_raw_columns_in_give_what_python_gives(task):
    schema, branch, model, onnx_bytes = _fitted(_awkward(task))
    rows = _awkward(task, seed=1).drop(columns="y")
    rows.loc[rows.index[30:35], "colour"] = "ultraviolet"
    python = student_output(model, branch.transform(prepare_features(rows, schema)), task)
    assert check_parity(onnx_bytes, python, frame_feeds(rows, schema)) <= 1e-4


def test_the_inputs_are_the_raw_columns_and_say_how_to_feed_them():
    schema, _, _, onnx_bytes = _fitted(_awkward("binary"))
    model = onnx.load_from_string(onnx_bytes)
    types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert types == {"x1": onnx.TensorProto.FLOAT, "x2": onnx.TensorProto.FLOAT,
                     "colour": onnx.TensorProto.STRING, "when": onnx.TensorProto.DOUBLE,
                     "flag": onnx.TensorProto.STRING}
    docs = {i.name: i.doc_string for i in model.graph.input}
    assert "seconds since 1970-01-01T00:00:00" in docs["when"] and "NaN" in docs["when"]
    assert 'the empty string ""' in docs["colour"]
    metadata = {p.key: p.value for p in model.metadata_props}
    inputs = json.loads(metadata["automl.inputs"])
    assert [i["name"] for i in inputs] == [c.name for c in schema.columns]
    assert json.loads(metadata["automl.classes"]) == ["no", "yes"]
    assert "probabilities" in json.loads(metadata["automl.outputs"])


def _date_parts_graph(frame: pd.DataFrame):
    """The trees branch alone over one date column, its front added: the parts, raw in."""
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    branch, Z = build_branch(PreprocessParams(branch="trees"), schema, features, None)
    front = convert_sklearn(branch.transformer, initial_types=input_types(features),
                            target_opset=OPSETS)
    session = ort.InferenceSession(raw_model(front.SerializeToString(), schema),
                                   providers=["CPUExecutionProvider"])
    return schema, session, Z


def test_dates_split_into_the_parts_pandas_gives_from_1700_to_2300():
    rng = np.random.default_rng(0)
    seconds = rng.uniform(-8.5e9, 1.05e10, 5000).round()
    edges = [-1, 0, 86_399, 86_400, 951_782_399, 951_868_800,  # 2000-02-28 23:59:59, 02-29 end
             4_107_542_400, -2_208_988_800]  # 2100-03-01 (no leap day), 1900-01-01
    stamps = pd.to_datetime(np.concatenate([seconds, edges]), unit="s").astype("datetime64[us]")
    frame = pd.DataFrame({"d": stamps, "y": rng.integers(0, 2, len(stamps))})
    frame.loc[frame.index[:5], "d"] = pd.NaT
    schema, session, Z = _date_parts_graph(frame)
    got = session.run(None, frame_feeds(frame, schema))[0]
    np.testing.assert_array_equal(got, Z)  # NaN where the date is missing, like pandas
    assert np.isnan(got[:5]).all()


def test_a_date_with_a_time_zone_counts_as_its_local_time():
    # the night Lisbon's clocks went forward: the parts are the local ones
    stamps = pd.date_range("2024-03-31 00:30", periods=48, freq="h", tz="Europe/Lisbon")
    frame = pd.DataFrame({"d": stamps, "y": np.arange(48) % 2})
    schema, session, Z = _date_parts_graph(frame)
    np.testing.assert_array_equal(session.run(None, frame_feeds(frame, schema))[0], Z)
    assert Z[1, 4] == 2  # 01:30 UTC is 02:30 in Lisbon


def test_one_number_and_no_dates_need_no_split():
    frame = make_table(n=300)[["x1", "colour", "y"]]
    frame.loc[frame.index[:5], "x1"] = np.inf
    schema, branch, model, onnx_bytes = _fitted(frame)
    assert not any(n.op_type == "Split" for n in onnx.load_from_string(onnx_bytes).graph.node)
    rows = frame.drop(columns="y")
    python = student_output(model, branch.transform(prepare_features(rows, schema)), "binary")
    check_parity(onnx_bytes, python, frame_feeds(rows, schema))


def test_a_dense_student_takes_raw_columns_too():
    from automl.budget import Budget
    from automl.students.dense import DenseCode, Training, fit_dense_student
    from automl.onnx.dense_graph import export_dense_model

    frame = _awkward("multiclass")
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    branch, Z = build_branch(PreprocessParams(branch="trees"), schema, features, None)
    teacher = np.eye(len(schema.classes))[schema.encode_target(frame["y"])]
    data = Training.make(DenseCode.fit(Z, branch.categorical), Z, teacher, Z, teacher, "multiclass")
    net = fit_dense_student(data, [8], Budget(2), seed=0)
    onnx_bytes = raw_model(export_dense_model(branch, net, features), schema)
    check_parity(onnx_bytes, net.predict(Z), frame_feeds(frame, schema))


def test_model_ready_rows_turn_back_into_raw_columns():
    frame = _awkward("binary")
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    pd.testing.assert_frame_equal(prepare_features(raw_rows(features, schema), schema), features)


def test_one_row_from_a_dict_is_fed_as_the_frame_path_feeds_it():
    frame = _awkward("binary").drop(columns="y")
    frame["when"] = frame["when"].dt.tz_localize("Asia/Tokyo")
    schema = infer_schema(frame.assign(y=np.arange(len(frame)) % 2), "y")
    columns = feed_columns(schema)
    for i in [0, 12, 22, 27, 100]:  # a missing date, category, inf, -inf, a plain row
        whole = frame_feeds(frame.iloc[[i]], schema)
        one = row_feed(frame.iloc[i].to_dict(), columns)
        for name in whole:
            np.testing.assert_array_equal(one[name], whole[name], err_msg=f"row {i}, {name}")


@pytest.mark.parametrize("value, expected", [
    ("3.5", 3.5), (" 2 ", 2.0), ("NA", np.nan), ("", np.nan), (None, np.nan), (pd.NA, np.nan),
    (True, 1.0), (np.int64(7), 7.0), (float("inf"), np.nan)])
def test_a_number_in_one_row_reads_as_predict_reads_it(value, expected):
    got = row_feed({"x": value}, [("x", "numeric", None)])["x"][0, 0]
    frame = frame_feeds(pd.DataFrame({"x": pd.Series([value], dtype=object)}),
                        infer_schema(pd.DataFrame({"x": [1.0, 2.0] * 10, "y": [0, 1] * 10}), "y"))
    np.testing.assert_equal([got, frame["x"][0, 0]], [np.float32(expected)] * 2)


AFTERNOON = dt.datetime(2024, 2, 29, 13, 45)


@pytest.mark.parametrize("value, wall_clock", [
    ("2024-02-29T13:45:00", AFTERNOON), (AFTERNOON, AFTERNOON),
    (dt.date(2024, 2, 29), dt.datetime(2024, 2, 29)), (np.datetime64("2024-02-29T13:45"), AFTERNOON),
    (pd.Timestamp("2024-02-29 13:45", tz="America/New_York"), AFTERNOON),
    ("2024-02-29T13:45:00+05:30", AFTERNOON)])
def test_a_date_in_one_row_is_its_wall_clock_seconds(value, wall_clock):
    seconds = row_feed({"d": value}, [("d", "datetime", None)])["d"][0, 0]
    assert seconds == (wall_clock - dt.datetime(1970, 1, 1)).total_seconds()


def test_one_row_errors_name_the_column():
    with pytest.raises(PredictError, match="lacks 1 column.*colour"):
        row_feed({"x1": 1.0}, [("x1", "numeric", None), ("colour", "categorical", None)])
    with pytest.raises(PredictError, match="'x1' should be numeric but holds 'abc'"):
        row_feed({"x1": "abc"}, [("x1", "numeric", None)])
    with pytest.raises(PredictError, match="'d' should hold dates but holds a number"):
        row_feed({"d": 3}, [("d", "datetime", None)])
    with pytest.raises(PredictError, match="'d' should hold dates but 'soon' does not read"):
        row_feed({"d": "soon"}, [("d", "datetime", None)])
