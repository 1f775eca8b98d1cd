"""Read a table (CSV, TSV, Parquet; plain, .gz, .bz2 or in a .zip; or a DataFrame) into
pandas, with one-line errors.

Text is read as analysts have it: the encoding (UTF-8, else Windows-1252, else Latin-1),
the separator (, ; tab |) and decimal commas come from the file's first 64 KiB, and each
choice that departs from the default is told through `notify` (see notices.py).
"""

from __future__ import annotations

import zipfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from automl.data import notices, sniff
from automl.data.tidy import without_written_index
from automl.data.files import ENCODING_HINT, DataFile, locate
from automl.options import check_encoding
from automl.errors import DataError, first_line

# The error values Excel and LibreOffice write into a cell whose formula failed: missing
# values, not text, or one #DIV/0! would make a column of numbers a column of categories.
SPREADSHEET_ERRORS = ("#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                      "#CALC!", "#N/A", "#NA", "Err:502", "Err:504")
NULL_TEXT = [*pacsv.ConvertOptions().null_values, *SPREADSHEET_ERRORS]

# What pyarrow and the decompressors raise on a malformed file.
_READ_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OSError, EOFError, zipfile.BadZipFile)


@dataclass(frozen=True)
class _TextLayout:
    separator: str
    decimal_point: str
    decimal_columns: list[str]  # columns seen with decimal commas in the sample


def read_table(source: str | Path | pd.DataFrame, *, encoding: str | None = None,
               notify: notices.Notify | None = None, allow_no_rows: bool = False) -> pd.DataFrame:
    """The table at `source` (or the DataFrame itself) with unique column names and rows.

    `encoding` forces the text's encoding (default: detected); `notify` receives each
    notice (default: a `DataNotice` warning).
    """
    notify = notify or notices.warn
    if isinstance(source, pd.DataFrame):
        frame, where = with_text_column_names(source), "the DataFrame"
        _check_columns(list(frame.columns), where)
    else:
        data_file = locate(source)
        table = _read_arrow(data_file, check_encoding(encoding), notify)
        _check_columns(table.column_names, data_file.label)
        frame, where = table.to_pandas(), data_file.label
    if frame.shape[1] == 0 or (frame.shape[0] == 0 and not allow_no_rows):
        raise DataError(f"{where} has no rows; give a table with a header and at least 20 rows")
    return without_written_index(frame, where, notify)


def with_text_column_names(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its column names as text (0 as '0'), as the schema names them;
    `pd.DataFrame(array)` numbers its columns."""
    if all(isinstance(name, str) for name in frame.columns):
        return frame
    return frame.rename(columns=str)


def _read_arrow(data_file: DataFile, encoding: str | None, notify: notices.Notify) -> pa.Table:
    kind = "Parquet" if data_file.delimiter is None else "CSV"
    try:
        if data_file.delimiter is None:
            if encoding is not None:
                notify(f"{data_file.label}: the encoding {encoding!r} is not used: Parquet "
                       "stores its text as UTF-8")
            return _read_parquet(data_file)
        return _read_text(data_file, encoding, notify)
    except _READ_ERRORS as err:
        raise DataError(f"could not read {data_file.label} as {kind}: {first_line(err)}; "
                        "check the file's format") from None


@contextmanager
def _opened(data_file: DataFile):
    """The file's decompressed bytes as a stream."""
    if data_file.compression == ".zip":
        with zipfile.ZipFile(data_file.path) as archive, archive.open(data_file.member) as stream:
            yield stream
    else:  # pyarrow decompresses .gz and .bz2, told by the name
        with pa.input_stream(str(data_file.path), compression="detect") as stream:
            yield stream


def _read_parquet(data_file: DataFile) -> pa.Table:
    if data_file.compression is None:
        return pq.read_table(data_file.path)
    with _opened(data_file) as stream:  # Parquet needs to seek: read it whole
        return pq.read_table(pa.BufferReader(stream.read()))


def _read_text(data_file: DataFile, forced: str | None, notify: notices.Notify) -> pa.Table:
    with _opened(data_file) as stream:
        sample = stream.read(sniff.SAMPLE_BYTES)
    candidates = [forced] if forced else sniff.encodings_to_try(sample)
    if forced and (where := sniff.undecodable(sample, forced)):
        raise DataError(f"{data_file.label} is not {forced} ({where} is not); {ENCODING_HINT}, "
                        "e.g. utf-8, cp1252 or latin-1, or leave it out to detect it")
    text = sniff.decode(sample, candidates[0])
    layout = _layout(text, data_file, notify)
    _tell_spreadsheet_errors(text, data_file, notify)
    table, encoding = _read_in_first_fitting(data_file, candidates, layout)
    if not forced and encoding != "utf-8":
        _tell_encoding(encoding, sample, data_file, notify)
    _tell_decimal_commas(table, layout, data_file, notify)
    return table


def _read_in_first_fitting(data_file: DataFile, candidates: list[str],
                           layout: _TextLayout) -> tuple[pa.Table, str]:
    for encoding in candidates:
        table = _read_csv(data_file, encoding, layout)
        if table is not None:
            return table, encoding
    raise DataError(f"{data_file.label} is not {' nor '.join(candidates)} throughout (a byte "
                    f"after its first 64 KiB is not); {ENCODING_HINT}, e.g. cp1252 or latin-1")


def _layout(text: str, data_file: DataFile, notify: notices.Notify) -> _TextLayout:
    default = data_file.delimiter
    # a .tsv says its separator; .csv and .txt come with any of , ; tab |
    separator = default if data_file.format == ".tsv" else sniff.sniff_separator(text, default)
    if separator != default:
        notify(f"{data_file.label}: fields are separated by {separator!r}, not {default!r}")
    decimal_columns = sniff.decimal_comma_columns(text, separator)
    return _TextLayout(separator, "," if decimal_columns else ".", decimal_columns)


def _read_csv(data_file: DataFile, encoding: str, layout: _TextLayout) -> pa.Table | None:
    """The table, or None where the file proves not to be in `encoding` past the sample."""
    # pyarrow decodes other encodings than UTF-8 by Python's codecs
    read = pacsv.ReadOptions(encoding=encoding)
    parse = pacsv.ParseOptions(delimiter=layout.separator)
    convert = pacsv.ConvertOptions(strings_can_be_null=True, decimal_point=layout.decimal_point,
                                   null_values=NULL_TEXT)
    try:
        with _opened(data_file) as stream:
            table = pacsv.read_csv(stream, read_options=read, parse_options=parse,
                                   convert_options=convert)
    except UnicodeDecodeError:
        return None
    except pa.ArrowInvalid as err:
        raise DataError(f"could not read {data_file.label} as CSV with fields separated by "
                        f"{layout.separator!r}: {first_line(err)}; check the file's format") from None
    # pyarrow reads text that is not UTF-8 as bytes, column by column, without an error
    if any(pa.types.is_binary(field.type) for field in table.schema):
        return None
    return table


def _tell_spreadsheet_errors(text: str, data_file: DataFile, notify: notices.Notify) -> None:
    seen = [error for error in SPREADSHEET_ERRORS if error in text]
    if seen:
        notify(f"{data_file.label}: read spreadsheet error values ({', '.join(seen)}) as missing "
               "values, so that their columns stay numbers")


def _tell_encoding(encoding: str, sample: bytes, data_file: DataFile,
                   notify: notices.Notify) -> None:
    if encoding == "utf-16":
        why = "it starts with a UTF-16 byte-order mark"
    else:
        why = f"not UTF-8: {sniff.undecodable(sample, 'utf-8') or 'a byte after its first 64 KiB'} is not"
    notify(f"{data_file.label}: read as {encoding} ({why}); if its text looks wrong, {ENCODING_HINT}")


def _tell_decimal_commas(table: pa.Table, layout: _TextLayout, data_file: DataFile,
                         notify: notices.Notify) -> None:
    numeric = [field.name for field in table.schema
               if field.name in layout.decimal_columns and pa.types.is_floating(field.type)]
    if numeric:
        notify(f"{data_file.label}: read decimal commas (1,5 as 1.5) in {', '.join(map(repr, numeric))}, "
               f"as fields are separated by {layout.separator!r}")


def _check_columns(names: list, where: str) -> None:
    repeated = sorted(str(n) for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise DataError(
            f"{where} has duplicate column names: {', '.join(repeated)}; rename them so each is unique"
        )
