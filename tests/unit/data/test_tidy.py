"""Tables as analysts export them, in the data layer: the written index column, labels that
differ only in case or spaces, day-first dates, a column of lists (the end-to-end run of
all of them is tests/integration/test_exported_tables.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data.ingest import read_table
from automl.data.schema import infer_schema, prepare_features, text_date_format
from automl.data.tidy import tidy_labels
from automl.errors import PredictError
from automl.serving.inputs import feed_columns, frame_feeds, row_feed
from tests.conftest import make_table


def test_the_index_to_csv_writes_is_left_out_with_a_notice(tmp_path):
    frame = make_table(n=100).sample(frac=1, random_state=0)  # shuffled: no counter
    frame.to_csv(tmp_path / "indexed.csv")
    told = []
    read = read_table(tmp_path / "indexed.csv", notify=told.append)
    assert list(read.columns) == list(frame.columns)
    assert "the row index DataFrame.to_csv writes" in told[0]
    # pandas' own name for it, in a frame read with pandas
    assert list(read_table(pd.read_csv(tmp_path / "indexed.csv"), notify=told.append).columns) \
        == list(frame.columns)


def test_an_unnamed_column_that_is_no_index_stays(tmp_path):
    frame = make_table(n=100)
    frame.insert(0, "", np.arange(100) % 7)  # repeats: not an index
    frame.to_csv(tmp_path / "t.csv", index=False)
    told = []
    assert "" in read_table(tmp_path / "t.csv", notify=told.append).columns and not told


def test_labels_differing_in_case_or_spaces_are_one_class():
    frame = pd.DataFrame({"x": range(9), "y": ["yes", "yes", "Yes", " yes", "no", "no", "NO ",
                                                "maybe", None]})
    told = []
    tidy = tidy_labels(frame, "y", told.append)
    assert tidy["y"].tolist()[:8] == ["yes"] * 4 + ["no"] * 3 + ["maybe"]
    assert tidy["y"].isna().iloc[8]
    assert "'Yes' as 'yes'" in told[0] and "'NO ' as 'no'" in told[0]


def test_labels_alone_in_their_spelling_are_kept_as_they_are():
    frame = pd.DataFrame({"x": range(4), "y": [" >50K", " >50K", " <=50K", " <=50K"]})
    told = []
    assert tidy_labels(frame, "y", told.append)["y"].tolist() == frame["y"].tolist() and not told
    numbers = pd.DataFrame({"x": range(4), "y": [1, 2, 1, 2]})
    assert tidy_labels(numbers, "y", told.append) is numbers


@pytest.mark.parametrize("written, expected", [
    ("%d/%m/%Y", "%d/%m/%Y"), ("%m/%d/%Y", "%m/%d/%Y"), ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M"),
    ("%Y-%m-%d", "ISO8601")])
def test_the_date_format_a_column_is_written_in(written, expected):
    stamps = pd.date_range("2020-01-01", periods=200, freq="31h")
    assert text_date_format(pd.Series(stamps.strftime(written))) == expected


def test_day_first_dates_are_dates_at_fit_and_at_predict():
    frame = make_table(n=200)
    frame["when"] = frame["when"].dt.strftime("%d/%m/%Y %H:%M")
    schema = infer_schema(frame, "y")
    when = next(c for c in schema.columns if c.name == "when")
    assert when.kind == "datetime" and when.date_format == "%d/%m/%Y %H:%M"
    parts = prepare_features(frame.tail(1), schema)
    assert parts[["when__year", "when__month", "when__day", "when__hour"]].iloc[0].tolist() == \
        [2024.0, 1.0, 9.0, 7.0]  # 2024-01-01 plus 199 hours
    row = frame.drop(columns="y").iloc[-1].to_dict()
    columns = feed_columns(schema)
    assert row_feed(row, columns)["when"][0, 0] == frame_feeds(frame.tail(1), schema)["when"][0, 0]
    with pytest.raises(PredictError, match=r"should hold dates .* like 31/01/2024 13:45"):
        row_feed({**row, "when": "2024-13-45"}, columns)


def test_a_column_of_lists_is_dropped_with_its_reason():
    frame = make_table(n=100)
    frame["tags"] = [[1, 2]] * 50 + [None] * 50
    frame["nested"] = [{"a": 1}] * 100
    schema = infer_schema(frame, "y")
    assert "holds lists or other nested values" in schema.dropped["tags"]
    assert "nested" in schema.dropped


def test_spreadsheet_error_values_are_missing_numbers_at_fit_and_at_predict(tmp_path):
    frame = make_table(n=100)
    frame["ratio"] = (frame["x1"] * 3).round(2).astype(object)
    frame.loc[frame.index[::9], "ratio"] = "#DIV/0!"
    frame.loc[frame.index[1], "ratio"] = "#VALUE!"
    frame.to_csv(tmp_path / "export.csv", index=False)
    told = []
    read = read_table(tmp_path / "export.csv", notify=told.append)
    assert read["ratio"].dtype == np.float64 and read["ratio"].isna().sum() >= 12
    assert "read spreadsheet error values (#DIV/0!, #VALUE!) as missing" in told[0]
    schema = infer_schema(read, "y")
    assert next(c for c in schema.columns if c.name == "ratio").kind == "numeric"
    row = {**read.drop(columns="y").iloc[3].to_dict(), "ratio": "#REF!"}
    assert np.isnan(row_feed(row, feed_columns(schema))["ratio"][0, 0])
