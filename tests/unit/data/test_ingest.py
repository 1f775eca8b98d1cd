"""Each bad input gets one line naming the problem and the fix."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.data import infer_schema, read_table
from automl.data.notices import DataNotice
from automl.errors import ConfigError, DataError


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


# ---- files as analysts have them -------------------------------------------------------


def _read(path, **kwargs) -> tuple[pd.DataFrame, list[str]]:
    """The table and the notices told while reading it."""
    told: list[str] = []
    return read_table(path, notify=told.append, **kwargs), told


def _accented(n: int = 30) -> pd.DataFrame:
    names = ["Müller", "José", "Renée", "Ångström", "Œuvre €"]
    return pd.DataFrame({"name": [names[i % 5] for i in range(n)], "x": np.arange(n) * 1.5,
                         "y": np.arange(n) % 2})


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_text_that_is_not_utf8_is_read_with_a_notice(tmp_path, encoding):
    frame = _accented()[lambda f: ~f["name"].str.contains("€|Œ")]  # Latin-1 lacks them
    frame.to_csv(tmp_path / "t.csv", index=False, encoding=encoding)
    read, told = _read(tmp_path / "t.csv")
    assert list(read["name"]) == list(frame["name"])
    assert told == [f"{tmp_path / 't.csv'}: read as cp1252 (not UTF-8: byte 0xfc in line 2 is not); "
                    "if its text looks wrong, give the file's encoding with --encoding "
                    "(encoding= in Python)"]


def test_windows_1252_only_characters(tmp_path):
    _accented().to_csv(tmp_path / "t.csv", index=False, encoding="cp1252")
    read, _ = _read(tmp_path / "t.csv")
    assert set(read["name"]) == set(_accented()["name"])  # € and Œ are not Latin-1


def test_a_byte_past_the_sample_that_is_not_utf8(tmp_path):
    rows = b"plain,1\n" * 20_000  # 160 KB of ASCII before the first accent
    (tmp_path / "t.csv").write_bytes(b"name,y\n" + rows + "Müller,0\n".encode("cp1252"))
    read, told = _read(tmp_path / "t.csv")
    assert read["name"].iloc[-1] == "Müller"
    assert "read as cp1252 (not UTF-8: a byte after its first 64 KiB is not)" in told[0]


def test_a_byte_cp1252_lacks_falls_back_to_latin1(tmp_path):
    (tmp_path / "t.csv").write_bytes(b"name,y\n" + b"a\x81b,1\nc,0\n")  # 0x81: no cp1252 character
    read, told = _read(tmp_path / "t.csv")
    assert read["name"].iloc[0] == "a\x81b" and "read as latin-1" in told[0]


def test_utf16_with_a_byte_order_mark(tmp_path):
    _accented().to_csv(tmp_path / "t.txt", index=False, sep="\t", encoding="utf-16")
    read, told = _read(tmp_path / "t.txt")
    assert list(read["name"]) == list(_accented()["name"])
    assert told == [f"{tmp_path / 't.txt'}: fields are separated by '\\t', not ','",
                    f"{tmp_path / 't.txt'}: read as utf-16 (it starts with a UTF-16 byte-order "
                    "mark); if its text looks wrong, give the file's encoding with --encoding "
                    "(encoding= in Python)"]


def test_utf8_with_excels_byte_order_mark_is_plain_utf8(tmp_path):
    _accented().to_csv(tmp_path / "t.csv", index=False, encoding="utf-8-sig")
    read, told = _read(tmp_path / "t.csv")
    assert list(read.columns) == ["name", "x", "y"] and told == []


def test_a_forced_encoding_is_used_as_given(tmp_path):
    _accented().to_csv(tmp_path / "t.csv", index=False, encoding="cp1252")
    read, told = _read(tmp_path / "t.csv", encoding="latin-1")
    assert read["name"].iloc[4] == "\x8cuvre \x80" and told == []  # Latin-1's reading of Œ €


def test_a_forced_encoding_that_does_not_fit(tmp_path):
    _accented().to_csv(tmp_path / "t.csv", index=False, encoding="cp1252")
    with pytest.raises(DataError, match=r"t\.csv is not utf-8 \(byte 0xfc in line 2 is not\); "
                                        r"give the file's encoding with --encoding"):
        read_table(tmp_path / "t.csv", encoding="utf-8")


def test_a_forced_encoding_that_fails_past_the_sample(tmp_path):
    (tmp_path / "t.csv").write_bytes(b"name,y\n" + b"plain,1\n" * 20_000 + "Müller,0\n".encode("cp1252"))
    with pytest.raises(DataError, match=r"t\.csv is not utf-8 throughout \(a byte after its first "
                                        r"64 KiB is not\); give the file's encoding"):
        read_table(tmp_path / "t.csv", encoding="utf8")


def test_an_unknown_encoding(tmp_path):
    _accented().to_csv(tmp_path / "t.csv", index=False)
    for name in ("utf9", "base64"):  # base64 is a codec, but not of text
        with pytest.raises(ConfigError, match=f"unknown encoding '{name}'; give a text encoding "
                                              "Python knows, such as utf-8, cp1252"):
            read_table(tmp_path / "t.csv", encoding=name)


def test_an_encoding_for_parquet_is_told_unused(tmp_path):
    _accented().to_parquet(tmp_path / "t.parquet")
    read, told = _read(tmp_path / "t.parquet", encoding="cp1252")
    assert list(read["name"]) == list(_accented()["name"])
    assert told == [f"{tmp_path / 't.parquet'}: the encoding 'cp1252' is not used: Parquet "
                    "stores its text as UTF-8"]


@pytest.mark.parametrize("separator", [";", "\t", "|"])
def test_the_separator_is_sniffed(tmp_path, table, separator):
    table.to_csv(tmp_path / "t.csv", index=False, sep=separator)
    read, told = _read(tmp_path / "t.csv")
    assert list(read.columns) == list(table.columns)
    np.testing.assert_allclose(read["x1"], table["x1"])
    assert told == [f"{tmp_path / 't.csv'}: fields are separated by {separator!r}, not ','"]


def test_commas_inside_text_do_not_fool_the_sniffer(tmp_path):
    frame = pd.DataFrame({"note": ["a; b", "c; d; e"] * 15, "y": [0, 1] * 15})
    frame.to_csv(tmp_path / "t.csv", index=False)
    read, told = _read(tmp_path / "t.csv")
    assert list(read.columns) == ["note", "y"] and told == []


def test_a_tsv_keeps_its_tab(tmp_path):
    (tmp_path / "t.tsv").write_text("a;b\tc\n" + "1;2\t3\n" * 25)
    read, told = _read(tmp_path / "t.tsv")
    assert list(read.columns) == ["a;b", "c"] and told == []


def test_decimal_commas_are_read_as_numbers(tmp_path):
    text = "price;city;y\n" + "".join(f"{i},5;Köln;{i % 2}\n" for i in range(30))
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    read, told = _read(tmp_path / "t.csv")
    assert read["price"].dtype == np.float64 and read["price"].iloc[3] == 3.5
    assert told[-1] == (f"{tmp_path / 't.csv'}: read decimal commas (1,5 as 1.5) in 'price', "
                        "as fields are separated by ';'")


def test_decimal_points_stay_numbers_in_a_semicolon_file(tmp_path):
    (tmp_path / "t.csv").write_text("a;y\n" + "".join(f"{i}.25;{i % 2}\n" for i in range(30)))
    read, told = _read(tmp_path / "t.csv")
    assert read["a"].iloc[1] == 1.25 and len(told) == 1  # the separator's notice alone


@pytest.mark.parametrize("name", ["t.csv.gz", "t.csv.bz2", "t.tsv.gz"])
def test_compressed_text(tmp_path, table, name):
    table.to_csv(tmp_path / name, index=False, sep="\t" if ".tsv" in name else ",")
    read, told = _read(tmp_path / name)
    assert read.shape == table.shape and told == []


def test_a_semicolon_file_in_a_gzip(tmp_path, table):
    table.to_csv(tmp_path / "t.csv.gz", index=False, sep=";")
    read, told = _read(tmp_path / "t.csv.gz")
    assert read.shape == table.shape and "separated by ';'" in told[0]


@pytest.mark.parametrize("inner", ["t.csv", "folder/t.tsv", "t.parquet"])
def test_a_table_in_a_zip(tmp_path, table, inner):
    inside = tmp_path / Path(inner).name
    if inner.endswith(".parquet"):
        table.to_parquet(inside)
    else:
        table.to_csv(inside, index=False, sep="\t" if inner.endswith(".tsv") else ",")
    with zipfile.ZipFile(tmp_path / "t.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(inside, inner)
        archive.writestr("__MACOSX/._t.csv", "Finder's metadata")
    read, told = _read(tmp_path / "t.zip")
    assert read.shape == table.shape and told == []


def test_a_zip_of_no_table(tmp_path):
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as archive:
        archive.writestr("notes.xlsx", "x")
    with pytest.raises(DataError, match=r"t\.zip holds no table \(it holds: notes\.xlsx\); "
                                        r"automl reads \.csv"):
        read_table(tmp_path / "t.zip")


def test_a_zip_of_two_tables(tmp_path):
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as archive:
        archive.writestr("a.csv", "a,y\n1,2\n")
        archive.writestr("b.csv", "a,y\n1,2\n")
    with pytest.raises(DataError, match=r"t\.zip holds 2 tables \(a\.csv, b\.csv\); automl reads "
                                        r"one table per \.zip: unzip it"):
        read_table(tmp_path / "t.zip")


@pytest.mark.parametrize("name, content, message", [
    ("t.zip", b"a,y\n1,2\n",
     r"could not open .*t\.zip as a \.zip archive: File is not a zip file; check the file"),
    ("t.csv.gz", b"\x1f\x8b\x08\x00not really gzip", r"could not read .*t\.csv\.gz as CSV: "),
    ("t.csv", b"a,b,y\n1,2,3\n4,5\n", r"could not read .*t\.csv as CSV with fields separated by "
                                      r"',': CSV parse error: Expected 3 columns, got 2"),
])
def test_malformed_files(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_table(tmp_path / name)


def test_notices_are_warnings_without_a_callback(tmp_path, table):
    table.to_csv(tmp_path / "t.csv", index=False, sep=";")
    with pytest.warns(DataNotice, match="fields are separated by ';'"):
        read_table(tmp_path / "t.csv")


def _ingest(frame: pd.DataFrame, tmp_path, verbose: bool):
    from automl.data.stage import run
    from automl.graph.context import RunContext, Settings
    from automl.graph.spec import IngestNode

    context = RunContext(source=frame, settings=Settings(target="y"), run_dir=tmp_path,
                         verbose=verbose, node_dir=tmp_path / "node")
    return run(IngestNode(name="data", kind="ingest"), None, context)


def test_the_ingest_stage_tells_of_infinite_values(tmp_path, table, capsys):
    table.loc[table.index[:3], "x1"] = np.inf
    table.loc[table.index[3], "x2"] = -np.inf
    told = r"ingest: infinite values \(inf, -inf\) are taken as missing in 'x1' \(3 rows\), 'x2' \(1 row\)"
    with pytest.warns(DataNotice, match=told):  # quiet: a warning
        _ingest(table, tmp_path, verbose=False)
    _ingest(table, tmp_path, verbose=True)  # else a progress line
    assert re.search(told, capsys.readouterr().err)


def test_numbered_columns_are_named_by_text():
    frame = read_table(pd.DataFrame(np.zeros((3, 2))))
    assert list(frame.columns) == ["0", "1"]
    with pytest.raises(DataError, match="the DataFrame has duplicate column names: 0; rename them"):
        read_table(pd.DataFrame([[1, 2]], columns=[0, "0"]))
