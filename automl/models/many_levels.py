"""Categories with many levels, as a family that splits on categories natively sees them.

The trees branch hands every category as float ordinal codes (NaN: missing, or a level the
branch never saw). A native split on a column of thousands of levels picks a set of them
from a few rows each and overfits (flights' tail numbers: issue 12's note, 0.741 native
against 0.765 as codes). So, per column whose level count in the training rows reaches
`min_levels`, the encoding is a searched choice (`MODES`):

  native     the library splits on sets of levels (nothing re-encoded)
  codes      the codes read as numbers: thresholds over the codes' order
  frequency  each level's share of the training rows (a level these rows never had: 0)
  target     binary and regression: each level's smoothed mean target; the training rows
             get it out of fold (computed without the row's own fold), every other row
             from all the training rows, so no row's label reaches its own input. A
             multiclass task gets frequency instead (the coding's `mode` says so): one
             mean per level cannot hold k classes

Columns with fewer levels stay native. A re-encoding is a table per column, code -> value
(its last entry: any code past the table, i.e. a level these rows never had), and a
missing code stays missing: the ONNX export writes the same table as a Gather in front
of the member's trees (`automl.onnx.level_lookup`), so the file decides as Python does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.errors import ConfigError
from automl.metrics import MULTICLASS

NATIVE, CODES, FREQUENCY, TARGET = "native", "codes", "frequency", "target"
MODES = (NATIVE, CODES, FREQUENCY, TARGET)
# Out-of-fold target encoding of the training rows: folds, and the prior's weight in rows
# (a level seen m times is half its own mean, half the prior): the usual m-estimate.
TARGET_FOLDS = 5
TARGET_SMOOTHING = 20.0


@dataclass(frozen=True)
class LevelCoding:
    """What a fitted family does to its input: `columns` (indices) leave the native
    categoricals; where `tables` is not empty, column `columns[i]` is read through
    `tables[i]` (float32, one value per code, then the unseen levels' value)."""

    mode: str = NATIVE
    columns: tuple[int, ...] = ()
    tables: tuple[np.ndarray, ...] = ()

    def native(self, categorical: tuple[int, ...]) -> list[int]:
        """The categorical columns the library still splits natively."""
        return [c for c in categorical if c not in set(self.columns)]

    def transform(self, X):
        """X as the library reads it: each table's column looked up (X itself if none)."""
        if X is None or not self.tables:
            return X
        out = np.array(X, dtype=np.float32, copy=True)
        for column, table in zip(self.columns, self.tables):
            out[:, column] = lookup(out[:, column], table)
        return out


def lookup(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """table[code], a code past the table reading its last entry; NaN stays NaN. The ONNX
    lookup (`automl.onnx.level_lookup`) does exactly these steps."""
    missing = np.isnan(codes)
    index = np.minimum(np.where(missing, 0, codes), len(table) - 1).astype(np.int64)
    return np.where(missing, np.float32(np.nan), table[index]).astype(np.float32)


def fit_coding(X, y, categorical: tuple[int, ...], mode: str, min_levels: int, task: str,
               seed: int = 0) -> tuple[LevelCoding, np.ndarray]:
    """The coding learned from the training rows (X, y), and X as the library trains on it
    (for `target`: each row's value from the other folds)."""
    if mode not in MODES:
        raise ConfigError(f"many_levels must be one of {', '.join(MODES)}; got {mode!r}")
    if mode == TARGET and task == MULTICLASS:
        mode = FREQUENCY  # one mean per level cannot hold k classes; the coding records it
    many = tuple(c for c in categorical if _n_levels(X[:, c]) >= min_levels)
    if mode == NATIVE or not many:
        return LevelCoding(), X
    if mode == CODES:
        return LevelCoding(CODES, many), X
    if mode == FREQUENCY:
        coding = LevelCoding(FREQUENCY, many, tuple(_frequency_table(X[:, c]) for c in many))
        return coding, coding.transform(X)
    y = np.asarray(y, dtype=np.float64)
    coding = LevelCoding(TARGET, many, tuple(_target_table(X[:, c], y) for c in many))
    return coding, _out_of_fold(X, y, many, seed)


def _n_levels(codes: np.ndarray) -> int:
    return len(np.unique(codes[~np.isnan(codes)]))


def _size(codes: np.ndarray) -> int:
    """Entries a table needs: one per code up to the largest seen."""
    seen = codes[~np.isnan(codes)]
    return int(seen.max()) + 1 if len(seen) else 0


def _frequency_table(codes: np.ndarray, size: int | None = None) -> np.ndarray:
    size = _size(codes) if size is None else size
    seen = codes[~np.isnan(codes)].astype(np.int64)
    counts = np.bincount(seen, minlength=size)[:size]
    return np.append(counts / max(len(codes), 1), 0.0).astype(np.float32)


def _target_table(codes: np.ndarray, y: np.ndarray, size: int | None = None,
                  prior: float | None = None) -> np.ndarray:
    """Each level's m-estimate of the mean target; past the table (unseen): the prior."""
    size = _size(codes) if size is None else size
    prior = float(y.mean()) if prior is None else prior
    known = ~np.isnan(codes)
    seen = codes[known].astype(np.int64)
    sums = np.bincount(seen, weights=y[known], minlength=size)[:size]
    counts = np.bincount(seen, minlength=size)[:size]
    means = (sums + TARGET_SMOOTHING * prior) / (counts + TARGET_SMOOTHING)
    return np.append(means, prior).astype(np.float32)


def _out_of_fold(X, y: np.ndarray, columns: tuple[int, ...], seed: int) -> np.ndarray:
    """X with each column's target means for every row from the folds it is not in."""
    out = np.array(X, dtype=np.float32, copy=True)
    fold = np.random.default_rng(seed).permutation(len(y)) % TARGET_FOLDS
    for k in range(TARGET_FOLDS):
        held, learn = fold == k, fold != k
        prior = float(y[learn].mean()) if learn.any() else 0.0
        for column in columns:
            table = _target_table(X[learn, column], y[learn], _size(X[:, column]), prior)
            out[held, column] = lookup(X[held, column], table)
    return out
