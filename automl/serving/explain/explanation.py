"""The result (`Explanation`): contributions per model-ready column to every output, summed
per raw column as the user knows it, and the one output explained per row as a frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl.data.schema import DATETIME_PARTS, Schema
from automl.errors import PredictError, did_you_mean
from automl.metrics import REGRESSION


@dataclass
class Explanation:
    """Contributions of the model-ready columns (`features`) to each output: the value
    (regression, one output) or every class's probability. base[k] + contributions[i, :,
    k].sum() == output[i, k]."""

    schema: Schema
    features: list[str]
    base: np.ndarray  # (k,)
    contributions: np.ndarray  # (n, features, k)
    output: np.ndarray  # (n, k)
    index: pd.Index
    # the largest part of a row's change the quadrature of a softmax left over, shared out
    remainder: float = 0.0
    columns: list[str] = field(init=False)  # the raw columns, in the schema's order

    def __post_init__(self):
        self.columns = [c.name for c in self.schema.columns]

    def by_column(self) -> np.ndarray:
        """Contributions summed per raw column (n, columns, k)."""
        owner = _raw_owners(self.schema)
        position = {name: i for i, name in enumerate(self.columns)}
        summed = np.zeros((self.contributions.shape[0], len(self.columns), self.contributions.shape[2]))
        for j, feature in enumerate(self.features):
            summed[:, position[owner[feature]], :] += self.contributions[:, j, :]
        return summed

    def explained_codes(self, target_class=None) -> np.ndarray:
        """Per row, the output explained: 0 for regression; the class asked for; else the
        positive class (binary) or the predicted class (multiclass)."""
        n = len(self.output)
        if self.schema.task == REGRESSION:
            if target_class is not None:
                raise PredictError(f"target_class is for classification; this model does "
                                   f"regression (target {self.schema.target!r})")
            return np.zeros(n, dtype=np.int64)
        if target_class is not None:
            return np.full(n, class_code(self.schema, target_class), dtype=np.int64)
        if len(self.schema.classes) == 2:
            return np.ones(n, dtype=np.int64)
        return self.schema.label_codes(self.output) if n else np.zeros(0, dtype=np.int64)

    def explained(self, target_class=None, by_column: bool = True) -> np.ndarray:
        """(n, columns) contributions to each row's explained output."""
        codes = self.explained_codes(target_class)
        values = self.by_column() if by_column else self.contributions
        return np.take_along_axis(values, codes[:, None, None], axis=2)[:, :, 0]

    def frame(self, target_class=None) -> pd.DataFrame:
        """One row per input row: `explained_class` (classification: whose probability is
        explained), `base`, then one column per raw column; base + the columns' sum is the
        model's output (a value, or that class's probability). Where a raw column is named
        `base` or `explained_class`, that name gets a leading underscore."""
        codes = self.explained_codes(target_class)
        names = _meta_names(self.columns)
        parts = {}
        if self.schema.task != REGRESSION:
            parts[names["explained_class"]] = self.schema.class_array()[codes]
        parts[names["base"]] = self.base[codes]
        contributions = self.explained(target_class)
        parts.update({name: contributions[:, i] for i, name in enumerate(self.columns)})
        return pd.DataFrame(parts, index=self.index)

    def explained_output(self, target_class=None) -> np.ndarray:
        """The model's output each row's explanation adds up to."""
        codes = self.explained_codes(target_class)
        return np.take_along_axis(self.output, codes[:, None], axis=1)[:, 0]


def class_code(schema: Schema, target_class) -> int:
    """The index of `target_class` among the schema's classes; a label given as text
    (from the command line) matches a class written the same way."""
    classes = list(schema.classes)
    for i, label in enumerate(classes):
        if label == target_class or str(label) == str(target_class):
            return i
    names = [str(c) for c in classes]
    raise PredictError(f"{target_class!r} is not a class of this model"
                       f"{did_you_mean(str(target_class), names)}; its classes are: {', '.join(names)}")


def _meta_names(columns: list[str]) -> dict[str, str]:
    taken = set(columns)
    names = {}
    for name in ("explained_class", "base"):
        chosen = name
        while chosen in taken:
            chosen = "_" + chosen
        names[name] = chosen
    return names


def _raw_owners(schema: Schema) -> dict[str, str]:
    """Each model-ready column's raw column: a date's parts belong to the date."""
    owners = {}
    for column in schema.columns:
        if column.kind == "datetime":
            owners.update({f"{column.name}__{part}": column.name for part in DATETIME_PARTS})
        else:
            owners[column.name] = column.name
    return owners
