from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import infer_schema, prepare_features
from automl.data.schema import Schema, infinite_counts
from automl.errors import DataError, PredictError
from tests.conftest import make_table


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_task_inferred(task):
    assert infer_schema(make_table(task=task), "y").task == task


def test_task_override_checked(table):
    with pytest.raises(DataError, match="not numeric, so it cannot be a regression target"):
        infer_schema(table, "y", task="regression")
    frame = make_table(task="multiclass")
    assert infer_schema(frame, "y", task="regression").task == "regression"


def test_column_kinds_and_drops(table):
    table["row_id"] = np.arange(len(table))
    table["code"] = [f"c{i}" for i in range(len(table))]
    table["flat"] = 7
    table["empty"] = np.nan
    table["flag"] = table["x1"] > 0
    schema = infer_schema(table, "y")
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {"x1": "numeric", "x2": "numeric", "colour": "categorical",
                     "when": "datetime", "flag": "categorical"}
    assert set(schema.dropped) == {"row_id", "code", "flat", "empty"}
    assert "ID-like" in schema.dropped["row_id"] and schema.dropped["flat"] == "constant"


def test_missing_target_rows_counted(table):
    table.loc[table.index[:7], "y"] = None
    schema = infer_schema(table, "y")
    assert schema.n_missing_target == 7 and schema.n_rows == len(table) - 7


def test_dates_expand_into_parts(table):
    schema = infer_schema(table, "y")
    features = prepare_features(table, schema)
    assert {"when__year", "when__month", "when__day", "when__weekday", "when__hour"} <= set(features)
    assert features["when__hour"].iloc[5] == 5.0


def test_date_strings_detected(table):
    table["when"] = table["when"].astype(str)
    assert {c.name: c.kind for c in infer_schema(table, "y").columns}["when"] == "datetime"


def test_labels_round_trip_and_json(table):
    schema = infer_schema(table, "y")
    codes = schema.encode_target(table["y"])
    assert list(schema.decode_target(codes)) == list(table["y"])
    assert Schema.model_validate_json(schema.model_dump_json()) == schema


def test_prepare_features_names_missing_columns(table):
    schema = infer_schema(table, "y")
    with pytest.raises(PredictError, match="lacks 1 column.*: colour"):
        prepare_features(table.drop(columns=["colour"]), schema)


def test_prepare_features_rejects_text_in_numbers(table):
    schema = infer_schema(table, "y")
    bad = table.astype({"x1": object})
    bad.loc[bad.index[0], "x1"] = "oops"
    with pytest.raises(PredictError, match="column 'x1' should be numeric but holds 'oops'"):
        prepare_features(bad, schema)


def test_integer_label_target_is_multiclass():
    y = pd.Series([1, 2, 3, 5, 7] * 10)
    frame = pd.DataFrame({"a": np.arange(50) % 7, "y": y})
    schema = infer_schema(frame, "y")
    assert schema.task == "multiclass" and schema.classes == [1, 2, 3, 5, 7]


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_an_infinite_target_is_refused(value):
    frame = make_table(task="regression")
    frame.loc[frame.index[[4, 9]], "y"] = value
    with pytest.raises(DataError, match=r"target column 'y' holds 2 infinite value\(s\) \(inf or "
                                        r"-inf\), the first in row 4; a target must be finite: fix "
                                        r"those rows, or leave their target empty"):
        infer_schema(frame, "y")


def test_infinite_features_are_missing(table):
    table.loc[table.index[:3], "x1"] = np.inf
    table.loc[table.index[3], "x2"] = -np.inf
    table["all_inf"] = np.inf
    schema = infer_schema(table, "y")
    assert {c.name: c.kind for c in schema.columns}["x1"] == "numeric"
    assert schema.dropped["all_inf"] == "all values missing"
    assert infinite_counts(table, schema) == {"x1": 3, "x2": 1}
    features = prepare_features(table, schema)
    assert features.loc[features.index[:3], "x1"].isna().all()
    assert np.isfinite(features[["x1", "x2"]].dropna()).all().all()


def test_infinite_text_in_a_numeric_column_is_missing_at_predict_time(table):
    schema = infer_schema(table, "y")
    given = table.astype({"x1": object})
    given.loc[given.index[0], "x1"] = "-inf"
    assert infinite_counts(given, schema) == {"x1": 1}
    assert np.isnan(prepare_features(given, schema)["x1"].iloc[0])
