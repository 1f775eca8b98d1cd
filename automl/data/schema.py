"""Schema inference: which columns are features of which kind, what the task is.

The schema is saved with every model; `prepare_features` turns raw columns (at fit or at
predict time) into the frame the preprocessing branches read.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from automl.decisions import Decision
from automl.errors import DataError, PredictError, did_you_mean
from automl.metrics import BINARY, MULTICLASS, REGRESSION, TASKS

MIN_ROWS = 20
# An integer target with at most this many distinct values is taken as classes.
MAX_CLASSES_FOR_INT_TARGET = 20
DATETIME_PARTS = ("year", "month", "day", "weekday", "hour")
# Dates written as text, as spreadsheets export them: ISO 8601 first, then day first
# (31/12/2020, 31.12.2020, 31-12-2020), then month first (12/31/2020). Where every day of a
# column is 12 or less, day first and month first both read it and day first is taken.
_DAYS = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m/%d/%Y")
DATE_FORMATS = ("ISO8601", *(f"{day}{time}" for time in ("", " %H:%M", " %H:%M:%S") for day in _DAYS))

ColumnKind = Literal["numeric", "categorical", "datetime"]


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    kind: ColumnKind
    # how a datetime column's text reads (`DATE_FORMATS`); None: ISO 8601 (2020-12-31)
    date_format: str | None = None


class Schema(BaseModel):
    """What was learned about the table; JSON round-trips."""

    model_config = ConfigDict(extra="forbid")
    target: str
    task: Literal["binary", "multiclass", "regression"]
    classes: list | None = None
    columns: list[Column]
    dropped: dict[str, str] = {}
    n_rows: int
    n_missing_target: int = 0
    # how labels follow from the probabilities, where the metric scores labels; None: the
    # most probable class (`automl.decisions`, chosen by the run on out-of-fold predictions)
    decision: Decision | None = None
    # the column of sample weights the model was fitted and scored with; never a feature
    weight: str | None = None

    @property
    def feature_names(self) -> list[str]:
        """Names of the model-ready columns, datetimes expanded into parts."""
        names: list[str] = []
        for col in self.columns:
            if col.kind == "datetime":
                names += [f"{col.name}__{part}" for part in DATETIME_PARTS]
            else:
                names.append(col.name)
        return names

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "categorical"]

    def encode_target(self, y: pd.Series) -> np.ndarray:
        """Class labels to 0..k-1 codes; regression targets to float."""
        if self.task == REGRESSION:
            return pd.to_numeric(y, errors="coerce").to_numpy(dtype=np.float64)
        codes = {plain_label(label): i for i, label in enumerate(self.classes)}
        values = [plain_label(v) for v in y]
        unknown = sorted({str(v) for v in values if v not in codes})
        if unknown:
            raise DataError(f"target has labels not seen at fit time: {', '.join(unknown[:5])}")
        return np.array([codes[v] for v in values], dtype=np.int64)

    def decode_target(self, codes: np.ndarray) -> np.ndarray:
        if self.task == REGRESSION:
            return np.asarray(codes, dtype=np.float64)
        return self.class_array()[np.asarray(codes, dtype=np.int64)]

    def label_codes(self, proba: np.ndarray) -> np.ndarray:
        """The class index of each row of probabilities (n, k), by `decision`."""
        return proba.argmax(axis=1) if self.decision is None else self.decision.labels(proba)

    def class_array(self) -> np.ndarray:
        """The classes in an array of their own type (int, str, bool), as sklearn's
        classifiers keep `classes_` and return predictions; object where types mix."""
        if len({type(label) for label in self.classes}) == 1:
            return np.asarray(self.classes)
        return np.asarray(self.classes, dtype=object)


def infer_schema(frame: pd.DataFrame, target: str, task: str | None = None) -> Schema:
    """The schema of `frame` for predicting `target`; notices go in `Schema.dropped`."""
    if target not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:12])) + (", ..." if frame.shape[1] > 12 else "")
        raise DataError(
            f"target column {target!r} not found{did_you_mean(target, map(str, frame.columns))}; "
            f"columns are: {shown}"
        )
    y = frame[target]
    _check_finite_target(y, target)
    n_missing = int(y.isna().sum())
    if n_missing == len(y):
        raise DataError(f"target column {target!r} has no values (all {len(y)} rows are missing)")
    present = frame.loc[y.notna()]
    if len(present) < MIN_ROWS:
        raise DataError(
            f"only {len(present)} rows have a value in {target!r}; automl needs at least {MIN_ROWS}"
        )
    task = _check_task(present[target], target, task)
    classes = None if task == REGRESSION else sorted_labels(present[target])
    columns, dropped = _infer_columns(_without_infinities(present.drop(columns=[target])))
    if not columns:
        raise DataError(
            "no usable feature columns remain after dropping: "
            + "; ".join(f"{k} ({v})" for k, v in dropped.items())
        )
    return Schema(
        target=target, task=task, classes=classes, columns=columns, dropped=dropped,
        n_rows=len(present), n_missing_target=n_missing,
    )


def _check_finite_target(y: pd.Series, target: str) -> None:
    """Refuse an infinite target rather than drop its rows as missing: inf in a target is
    a fault upstream (a division by zero, a log of 0) that the user should see and fix;
    dropping it would hide it and bias the model towards the rows that came out finite."""
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return
    infinite = np.isinf(y.to_numpy(dtype=np.float64, na_value=np.nan))
    if infinite.any():
        first = y.index[infinite][0]
        raise DataError(
            f"target column {target!r} holds {int(infinite.sum())} infinite value(s) (inf or -inf), "
            f"the first in row {first!r}; a target must be finite: fix those rows, or leave "
            "their target empty to have them dropped"
        )


def infinite_counts(frame: pd.DataFrame, schema: Schema) -> dict[str, int]:
    """Rows with inf or -inf, per numeric feature; `prepare_features` makes them missing."""
    counts = {}
    for col in schema.columns:
        if col.kind == "numeric" and col.name in frame.columns:
            values = _text_missing(frame[col.name])
            n_infinite = int(np.isinf(pd.to_numeric(values, errors="coerce").astype("float64")).sum())
            if n_infinite:
                counts[col.name] = n_infinite
    return counts


def _without_infinities(features: pd.DataFrame) -> pd.DataFrame:
    """The features with inf and -inf as missing, as the models will see them."""
    infinite = [name for name in features.columns
                if pd.api.types.is_float_dtype(features[name]) and np.isinf(features[name]).any()]
    if not infinite:
        return features
    features = features.copy()
    for name in infinite:
        features[name] = features[name].mask(np.isinf(features[name]))
    return features


def _check_task(y: pd.Series, target: str, task: str | None) -> str:
    n_distinct = y.nunique()
    if n_distinct < 2:
        raise DataError(
            f"target column {target!r} has a single value ({plain_label(y.iloc[0])!r}) in every row; "
            "there is nothing to predict: choose another target"
        )
    if task is None:
        return infer_task(y)
    if task not in TASKS:
        raise DataError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task == REGRESSION and not pd.api.types.is_numeric_dtype(y):
        raise DataError(f"target column {target!r} is not numeric, so it cannot be a regression target")
    if task == BINARY and n_distinct != 2:
        raise DataError(f"task 'binary' needs 2 classes but {target!r} has {n_distinct}; use 'multiclass'")
    return task


def infer_task(y: pd.Series) -> str:
    """binary for 2 distinct values, multiclass for labels or few integers, else regression."""
    n_distinct = y.nunique()
    if n_distinct == 2:
        return BINARY
    if pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
        return MULTICLASS
    values = y.to_numpy(dtype=np.float64)
    if np.all(np.mod(values, 1) == 0) and n_distinct <= MAX_CLASSES_FOR_INT_TARGET:
        return MULTICLASS
    return REGRESSION


def sorted_labels(y: pd.Series) -> list:
    labels = [plain_label(v) for v in y.dropna().unique()]
    try:
        return sorted(labels)
    except TypeError:  # mixed label types: compare as text
        return sorted(labels, key=str)


def plain_label(value):
    """A label as a plain Python value, so 1, np.int8(1) and 1.0 are the same class
    (and JSON can hold it)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _infer_columns(features: pd.DataFrame) -> tuple[list[Column], dict[str, str]]:
    columns, dropped = [], {}
    for name in features.columns:
        kind, reason = _column_kind(features[name])
        if reason:
            dropped[str(name)] = reason
            continue
        text_dates = kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(features[name])
        date_format = text_date_format(features[name]) if text_dates else None
        columns.append(Column(name=str(name), kind=kind,
                              date_format=None if date_format == "ISO8601" else date_format))
    return columns, dropped


def _column_kind(col: pd.Series) -> tuple[ColumnKind | None, str | None]:
    if _holds_nested(col):
        return None, ("holds lists or other nested values, which no model reads (spread "
                      "them into columns of their own to use them)")
    n_rows, n_distinct = len(col), col.nunique(dropna=False)
    if col.isna().all():
        return None, "all values missing"
    if n_distinct <= 1:
        return None, "constant"
    if pd.api.types.is_datetime64_any_dtype(col):
        return "datetime", None
    if pd.api.types.is_bool_dtype(col):
        return "categorical", None
    if pd.api.types.is_numeric_dtype(col):
        if n_distinct == n_rows and _is_counter(col):
            return None, "ID-like (a distinct consecutive integer on every row)"
        return "numeric", None
    if text_date_format(col) is not None:
        return "datetime", None
    if n_distinct == n_rows:
        return None, "ID-like (a distinct value on every row)"
    return "categorical", None


def _holds_nested(col: pd.Series) -> bool:
    """Lists, arrays, dicts or sets among the values (a Parquet list or struct column)."""
    if not pd.api.types.is_object_dtype(col):
        return False
    return any(isinstance(value, (list, tuple, dict, set, np.ndarray))
               for value in col.dropna().head(1000))


def _is_counter(col: pd.Series) -> bool:
    values = col.to_numpy(dtype=np.float64)
    if not np.all(np.mod(values, 1) == 0):
        return False
    return values.max() - values.min() + 1 == len(values)


def text_date_format(col: pd.Series) -> str | None:
    """The first of `DATE_FORMATS` that reads 95% of a text column's first 200 values as
    dates; None where none does."""
    sample = col.dropna().astype(str).head(200)
    if sample.empty or sample.str.len().min() < 6:  # too short for a date; avoids "1", "12"
        return None
    for date_format in DATE_FORMATS:
        if pd.to_datetime(sample, errors="coerce", format=date_format).notna().mean() >= 0.95:
            return date_format
    return None


class IgnoredColumnsWarning(UserWarning):
    """Input columns that `predict` leaves aside: they are not features of the model."""


# Text that read_csv takes for a missing value; given as text at predict time, it is one too.
# Spreadsheets' error values (#DIV/0!, ...) are missing too, as read_table reads them.
MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "null", "none", "<na>", "#div/0!", "#value!",
                          "#ref!", "#name?", "#num!", "#null!", "#spill!", "#calc!", "#n/a", "#na",
                          "err:502", "err:504"})


def unused_columns(frame: pd.DataFrame, schema: Schema) -> list:
    """Columns of `frame` that are not features of the model (the target, dropped ones,
    extras); the weight column it was fitted with is expected there, not counted."""
    used = {c.name for c in schema.columns} | {schema.weight}
    return [name for name in frame.columns if name not in used]


def prepare_features(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Model-ready columns: numbers as float64, categories as str objects, dates in parts.

    Values of another type are coerced where nothing is lost (numeric text or ints for a
    number, numbers for a category); anything else is a PredictError naming the column.
    """
    check_columns(frame, schema)
    parts: dict[str, pd.Series] = {}
    for col in schema.columns:
        values = frame[col.name]
        if col.kind == "numeric":
            parts[col.name] = as_numbers(values, col.name)
        elif col.kind == "categorical":
            parts[col.name] = as_categories(values)
        else:
            parts.update(_date_parts(as_dates(values, col.name, col.date_format), col.name))
    return pd.DataFrame(parts, index=frame.index)


def check_columns(frame: pd.DataFrame, schema: Schema) -> None:
    """A PredictError for a feature missing from `frame`, or one named twice."""
    missing = [c.name for c in schema.columns if c.name not in frame.columns]
    if missing:
        raise PredictError(
            f"input lacks {len(missing)} column(s) the model was fitted on: {', '.join(missing[:10])}"
            + (" ..." if len(missing) > 10 else "")
        )
    used = {c.name for c in schema.columns}
    doubled = sorted({str(n) for n in frame.columns[frame.columns.duplicated()] if n in used})
    if doubled:
        raise PredictError(f"input has more than one column named {', '.join(map(repr, doubled))}; "
                           "keep one of each")


def _text_missing(values: pd.Series) -> pd.Series:
    """Numeric dtypes as they are; elsewhere missing-value text ('', 'NA') becomes NaN."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values
    as_objects = values.astype(object)
    blank = as_objects.map(lambda v: isinstance(v, str) and v.strip().lower() in MISSING_TEXT)
    return as_objects.mask(blank.astype(bool))


def as_numbers(values: pd.Series, name: str) -> pd.Series:
    """A numeric feature as float64: numeric text and booleans read as numbers, missing-value
    text and inf as NaN; anything else is a PredictError naming the column."""
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
        raise PredictError(f"column {name!r} should be numeric but holds {values.dtype} values; "
                           "give numbers")
    if pd.api.types.is_bool_dtype(values):
        values = values.astype("float64")
    values = _text_missing(values)
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = numbers.isna() & values.notna()
    numbers = numbers.mask(np.isinf(numbers))  # a model reads inf as missing (ingest says so)
    if bad.any():
        example = values[bad].iloc[0]
        raise PredictError(
            f"column {name!r} should be numeric but holds {example!r} ({int(bad.sum())} such rows); "
            "fix those values or leave them empty"
        )
    return numbers


def as_categories(values: pd.Series) -> pd.Series:
    """A categorical feature as text objects (True as 'True', 3.0 as '3'), NaN where missing."""
    objects = values.astype(object)
    present = values.notna()
    # one text per distinct value, then a vectorised lookup: per-row Python is slow on large tables
    texts = {v: v if isinstance(v, str) else str(plain_label(v)) for v in pd.unique(objects[present])}
    return objects.map(texts).where(present, np.nan).astype(object)


def as_dates(values: pd.Series, name: str, date_format: str | None = None) -> pd.Series:
    """A datetime feature as datetime64 (text read as `date_format`, default ISO 8601), NaT
    where missing; numbers, or text of which nothing reads as a date, are a PredictError
    naming the column."""
    present = values.notna()
    if (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            and present.any()):
        raise PredictError(f"column {name!r} should hold dates but holds numbers ({values.dtype}); "
                           "give dates as datetimes or as text like 2024-01-31")
    stamps = pd.to_datetime(_text_missing(values), errors="coerce", format=date_format or "ISO8601")
    if present.any() and stamps.isna().all():
        example = values[present].iloc[0]
        raise PredictError(f"column {name!r} should hold dates but none of its values reads as one "
                           f"(e.g. {example!r}); give dates as datetimes or as text like "
                           f"{example_date(date_format)}")
    return stamps


def example_date(date_format: str | None) -> str:
    """2024-01-31 written as a column's dates are (`Column.date_format`)."""
    if date_format is None or date_format == "ISO8601":
        return "2024-01-31"
    return pd.Timestamp("2024-01-31 13:45:00").strftime(date_format)


def wall_clock_seconds(stamps: pd.Series) -> pd.Series:
    """Seconds since 1970-01-01T00:00:00 of each stamp's wall-clock time, NaN where missing.

    A time-zone-aware stamp counts as its local time, as its parts (`.dt.hour`, ...) are
    read: the parts are what a model sees, so the seconds must give the same parts back.
    """
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    epoch = pd.Timestamp(0).as_unit("s")  # in seconds, so that stamps past 2262 keep their unit
    return (stamps - epoch).dt.total_seconds().astype("float64")


def _date_parts(stamps: pd.Series, name: str) -> dict[str, pd.Series]:
    return {f"{name}__{part}": getattr(stamps.dt, _DT_ATTRIBUTE.get(part, part)).astype("float64")
            for part in DATETIME_PARTS}


# pandas 3 deprecates .dt.weekday; the part keeps its name in the model's features
_DT_ATTRIBUTE = {"weekday": "day_of_week"}
