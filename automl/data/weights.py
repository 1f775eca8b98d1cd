"""Row weights: a table's sample-weight column, and classes balanced by weight.

Two kinds of weight reach the models, kept apart on purpose:
- **sample weights** (`--weight COL`, `fit(..., sample_weight=...)`) say how much each row
  counts; the families fit with them and every metric scores with them (validation,
  out-of-fold, ensemble selection, the decision threshold, the test part, `score`);
- **balanced classes** (`--class-weight balanced`) re-weight the classes in the families'
  fits only, as sklearn's `class_weight="balanced"` does: each class then carries the same
  total weight. The run's metric still scores with the sample weights alone, so a balanced
  run is judged on the same footing as an unbalanced one and ensemble selection keeps
  what scores better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl.errors import ConfigError, DataError, did_you_mean

CLASS_WEIGHTS = ("balanced",)


def check_class_weight(class_weight: str | None, task: str | None) -> None:
    if class_weight is None:
        return
    if class_weight not in CLASS_WEIGHTS:
        raise ConfigError(f"class weight {class_weight!r} is not known; use "
                          f"{', '.join(CLASS_WEIGHTS)} (or leave it out)")
    if task == "regression":
        raise ConfigError("--class-weight balanced re-weights classes; this target is a "
                          "regression task, which has none (leave it out)")


def row_weights(frame: pd.DataFrame, column: str, target: str) -> np.ndarray:
    """The weight column of `frame` as float64, checked: present, numeric, finite, not
    negative, not all zero (one line naming the first bad row otherwise)."""
    if column not in frame.columns:
        raise DataError(f"weight column {column!r} not found{did_you_mean(column, map(str, frame.columns))}; "
                        "pass --weight the name of a column of non-negative numbers")
    if column == target:
        raise DataError(f"weight column {column!r} is the target; the weights must be another column")
    values = frame[column]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce")
        bad = values.notna() & numbers.isna()
        if bad.any():
            row = values.index[bad.to_numpy()][0]
            raise DataError(f"weight column {column!r} holds a value that is not a number "
                            f"({values.loc[row]!r} in row {row!r}); weights must be numbers >= 0")
        values = numbers
    weights = values.to_numpy(dtype=np.float64, na_value=np.nan)
    _refuse(weights, ~np.isfinite(weights) & ~np.isnan(weights), column, values.index,
            "is infinite", "weights must be finite")
    _refuse(weights, np.isnan(weights), column, values.index, "is missing",
            "give every row a weight (0 leaves a row out of the fit)")
    _refuse(weights, weights < 0, column, values.index, "is negative", "weights must be >= 0")
    if not (weights > 0).any():
        raise DataError(f"weight column {column!r} is zero on every row; at least one row "
                        "must weigh more than 0")
    return weights


def _refuse(weights: np.ndarray, bad: np.ndarray, column: str, index, what: str, fix: str) -> None:
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(f"weight column {column!r} {what} in {int(bad.sum())} row(s), the first "
                        f"row {index[first]!r} ({weights[first]}); {fix}")


def balanced_factors(y: np.ndarray, n_classes: int, weight: np.ndarray | None) -> np.ndarray:
    """Per class, the factor that gives every class present the same total weight (the
    rows' mean weight stays as it was): sklearn's "balanced", with sample weights counted."""
    weight = np.ones(len(y)) if weight is None else weight
    totals = np.bincount(np.asarray(y, dtype=np.int64), weights=weight, minlength=n_classes)
    present = totals > 0
    factors = np.ones(n_classes)
    factors[present] = totals.sum() / (present.sum() * totals[present])
    return factors


def fit_weights(y: np.ndarray, weight: np.ndarray | None,
                class_factors: np.ndarray | None) -> np.ndarray | None:
    """What the families fit with: the rows' sample weights times their class's factor;
    None where neither applies (the families' unweighted path, unchanged)."""
    if class_factors is None:
        return weight
    factors = class_factors[np.asarray(y, dtype=np.int64)]
    return factors if weight is None else weight * factors
