"""What compact.onnx takes: the table's own columns, one (n, 1) input each, named as the
columns are. This module is that contract in Python; the model card, the graph's input
doc strings and its metadata say the same for any other language.

| kind | ONNX type | a missing value | what to feed |
|---|---|---|---|
| numeric | float32 | NaN | the number (inf and -inf count as missing) |
| categorical | string | "" | the category's text (True / False for booleans, 3 not 3.0) |
| datetime | float64 (double) | NaN | seconds since 1970-01-01T00:00:00 of the wall-clock time |

Why seconds for a date: every language's onnxruntime binding takes a double tensor and
every date library gives epoch seconds, while ONNX cannot parse text into dates. The
graph splits them into the parts the model reads (year, month, day, weekday, hour), as
`prepare_features` does in Python. A date with a time zone is fed as its local
wall-clock time (the seconds of the same time written without a zone), as its parts are
read; a float64 holds the seconds of any date to the microsecond.

`frame_feeds` converts a whole frame (checked and coerced as `predict` does), `row_feed`
one row given as a dict with no pandas on the way (the fast path), `rows_feed` a list
of them, and `raw_rows` turns
model-ready rows back into raw columns, for the parity check on stored rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.data.schema import (DATETIME_PARTS, MISSING_TEXT, Schema, as_categories, as_dates,
                                as_numbers, example_date, plain_label, wall_clock_seconds)
from automl.errors import PredictError


@dataclass(frozen=True)
class InputForm:
    onnx_type: str
    numpy_type: object
    missing: str
    feed: str


FORMS = {
    "numeric": InputForm("float32", np.float32, "NaN",
                         "the number as float32; inf and -inf count as missing"),
    "categorical": InputForm("string", object, 'the empty string ""',
                             "the category's text (booleans as True / False, whole numbers "
                             "as 3 not 3.0); a category not seen in training counts as missing"),
    "datetime": InputForm("float64", np.float64, "NaN",
                          "seconds since 1970-01-01T00:00:00 of the wall-clock date and time, "
                          "as float64 (a time-zone-aware value: its local time, written "
                          "without the zone); the graph reads year, month, day, weekday "
                          "(Monday 0) and hour from it"),
}


def input_contract(schema: Schema) -> list[dict]:
    """One entry per input of compact.onnx, for the card and the graph's metadata."""
    return [{"name": c.name, "kind": c.kind, "onnx_type": FORMS[c.kind].onnx_type,
             "shape": ["n", 1], "missing": FORMS[c.kind].missing, "feed": FORMS[c.kind].feed}
            for c in schema.columns]


def frame_feeds(frame: pd.DataFrame, schema: Schema) -> dict[str, np.ndarray]:
    """onnxruntime inputs for raw rows, each column checked and coerced as `predict`
    coerces it (numeric text, booleans as numbers, ISO dates as text)."""
    feed = {}
    for col in schema.columns:
        values = frame[col.name]
        if col.kind == "numeric":
            column = as_numbers(values, col.name).to_numpy(dtype=np.float32)
        elif col.kind == "categorical":
            column = as_categories(values).fillna("").to_numpy(dtype=object)
        else:
            column = wall_clock_seconds(as_dates(values, col.name, col.date_format)).to_numpy(
                dtype=np.float64)
        feed[col.name] = column.reshape(-1, 1)
    return feed


def row_feed(row: Mapping, columns: list[tuple[str, str, str | None]]) -> dict[str, np.ndarray]:
    """onnxruntime inputs for one row of (name, kind, date format) `columns`
    (`feed_columns`), read from a dict, value by value as `frame_feeds` reads a column: a
    few microseconds a column."""
    feed = {}
    for name, kind, date_format in columns:
        try:
            value = row[name]
        except KeyError:
            missing = [n for n, _, _ in columns if n not in row]
            raise PredictError(f"input lacks {len(missing)} column(s) the model was fitted on: "
                               + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
                               ) from None
        if kind == "numeric":
            feed[name] = np.array([[_number(value, name)]], dtype=np.float32)
        elif kind == "categorical":
            feed[name] = np.array([[_category(value)]], dtype=object)
        else:
            feed[name] = np.array([[_date_seconds(value, name, date_format)]], dtype=np.float64)
    return feed


def feed_columns(schema: Schema) -> list[tuple[str, str, str | None]]:
    """(name, kind, date format) of each input: what `row_feed` reads a row by."""
    return [(c.name, c.kind, c.date_format) for c in schema.columns]


def rows_feed(rows: list[Mapping], columns: list[tuple[str, str, str | None]]) -> dict[str, np.ndarray]:
    """onnxruntime inputs for a list of rows given as dicts (a JSON request's rows), each
    read as `row_feed` reads one; a bad value's error names its row (counted from 0)."""
    if not rows:
        return {name: np.empty((0, 1), dtype=FORMS[kind].numpy_type) for name, kind, _ in columns}
    feeds = []
    for number, row in enumerate(rows):
        try:
            feeds.append(row_feed(row, columns))
        except PredictError as err:
            raise PredictError(f"row {number}: {err}") from None
    return {name: np.concatenate([feed[name] for feed in feeds]) for name, _, _ in columns}


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _number(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return math.nan if math.isinf(number) else number
    if _is_missing(value) or (isinstance(value, str) and value.strip().lower() in MISSING_TEXT):
        return math.nan
    if isinstance(value, str) and "_" not in value:  # Python reads '1_000', pandas does not
        try:
            return _number(float(value), name)
        except ValueError:
            pass
    raise PredictError(f"column {name!r} should be numeric but holds {value!r}; "
                       "fix that value or leave it empty")


def _category(value) -> str:
    if isinstance(value, str):
        return value
    return "" if _is_missing(value) else str(plain_label(value))


EPOCH = dt.datetime(1970, 1, 1)


def _date_seconds(value, name: str, date_format: str | None = None) -> float:
    if _is_missing(value) or (isinstance(value, str) and value.strip().lower() in MISSING_TEXT):
        return math.nan
    if isinstance(value, (bool, int, float, np.number)):
        raise PredictError(f"column {name!r} should hold dates but holds a number ({value!r}); "
                           "give dates as datetimes or as text like 2024-01-31")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):  # text, np.datetime64: as pandas reads them
        stamp = pd.to_datetime(pd.Series([value]), errors="coerce",
                               format=date_format or "ISO8601").iloc[0]
        if stamp is pd.NaT:
            raise PredictError(f"column {name!r} should hold dates but {value!r} does not read "
                               "as one; give dates as datetimes or as text like "
                               f"{example_date(date_format)}")
        value = stamp
    return (value.replace(tzinfo=None) - EPOCH).total_seconds()


def raw_rows(features: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Raw columns whose model-ready form (`prepare_features`) is `features`: numbers and
    categories as they are, each date put together from its year, month, day and hour
    (the parts a model reads; the weekday follows from the date)."""
    columns = {}
    for col in schema.columns:
        if col.kind != "datetime":
            columns[col.name] = features[col.name]
            continue
        parts = {part: features[f"{col.name}__{part}"] for part in DATETIME_PARTS if part != "weekday"}
        columns[col.name] = pd.to_datetime(pd.DataFrame(parts), errors="coerce")
    return pd.DataFrame(columns, index=features.index)
