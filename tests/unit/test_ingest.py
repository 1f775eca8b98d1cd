"""Each bad input gets one line naming the problem and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import infer_schema, read_table
from automl.errors import DataError


def test_reads_csv_and_parquet_alike(tmp_path, table):
    table.to_csv(tmp_path / "t.csv", index=False)
    table.to_parquet(tmp_path / "t.parquet")
    from_csv, from_parquet = read_table(tmp_path / "t.csv"), read_table(tmp_path / "t.parquet")
    assert from_csv.shape == from_parquet.shape == table.shape
    assert list(from_csv.columns) == list(table.columns)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"file not found: .*nope\.csv; check the path"):
        read_table(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match=r"e\.csv is empty \(0 bytes\)"):
        read_table(tmp_path / "e.csv")


def test_header_only_file_has_no_rows(tmp_path):
    (tmp_path / "h.csv").write_text("a,b,y\n")
    with pytest.raises(DataError, match="has no rows"):
        read_table(tmp_path / "h.csv")


def test_unreadable_parquet(tmp_path):
    (tmp_path / "bad.parquet").write_text("this is not parquet")
    with pytest.raises(DataError, match=r"could not read .*bad\.parquet as Parquet"):
        read_table(tmp_path / "bad.parquet")


def test_unsupported_type(tmp_path):
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(DataError, match=r"unsupported file type '\.xlsx'.*reads \.csv"):
        read_table(tmp_path / "t.xlsx")


def test_duplicate_columns_in_csv(tmp_path):
    (tmp_path / "d.csv").write_text("a,a,y\n1,2,3\n")
    with pytest.raises(DataError, match="duplicate column names: a; rename them"):
        read_table(tmp_path / "d.csv")


def test_duplicate_columns_in_frame():
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataError, match="duplicate column names: a"):
        read_table(frame)


def test_target_absent_suggests_a_name(table):
    with pytest.raises(DataError, match=r"target column 'colur' not found \(did you mean 'colour'\?\)"):
        infer_schema(table, "colur")


def test_target_all_missing(table):
    table["y"] = np.nan
    with pytest.raises(DataError, match=r"'y' has no values \(all 300 rows are missing\)"):
        infer_schema(table, "y")


def test_single_class_target(table):
    table["y"] = "same"
    with pytest.raises(DataError, match="single value .*nothing to predict"):
        infer_schema(table, "y")


def test_too_few_rows(table):
    table.loc[table.index[15:], "y"] = np.nan
    with pytest.raises(DataError, match="only 15 rows have a value in 'y'; automl needs at least 20"):
        infer_schema(table, "y")
