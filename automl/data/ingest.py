"""Read a table (CSV, TSV, Parquet or a DataFrame) into pandas, with one-line errors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from automl.errors import DataError, first_line

_READERS = {".csv": ",", ".tsv": "\t", ".txt": ",", ".parquet": None, ".pq": None}


def read_table(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The table at `source` (or the DataFrame itself) with unique column names and rows."""
    if isinstance(source, pd.DataFrame):
        _check_columns(list(source.columns), "the DataFrame")
        frame = source
        where = "the DataFrame"
    else:
        path = _check_path(Path(source))
        frame = _to_pandas(_read_arrow(path), path)
        where = str(path)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError(f"{where} has no rows; give a table with a header and at least 20 rows")
    return frame


def _check_path(path: Path) -> Path:
    if not path.exists():
        raise DataError(f"file not found: {path}; check the path (relative to {Path.cwd()})")
    if path.is_dir():
        raise DataError(f"{path} is a folder; give the path of one .csv or .parquet file")
    if _suffix(path) not in _READERS:
        raise DataError(
            f"unsupported file type {path.suffix or '(none)'!r} for {path}; "
            "automl reads .csv, .tsv (optionally .gz) and .parquet files"
        )
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes); give a table with a header and rows")
    return path


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2"):
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _read_arrow(path: Path) -> pa.Table:
    delimiter = _READERS[_suffix(path)]
    try:
        if delimiter is None:
            return pq.read_table(path)
        return pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=delimiter),
                              convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as err:
        kind = "Parquet" if delimiter is None else "CSV"
        reason = first_line(err)
        raise DataError(f"could not read {path} as {kind}: {reason}; check the file's format") from None


def _to_pandas(table: pa.Table, path: Path) -> pd.DataFrame:
    _check_columns(table.column_names, str(path))
    return table.to_pandas()


def _check_columns(names: list, where: str) -> None:
    repeated = sorted(str(n) for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise DataError(
            f"{where} has duplicate column names: {', '.join(repeated)}; rename them so each is unique"
        )
