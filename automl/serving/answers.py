"""What both served models do alike (`interface.ServedModel`): their output as labels and
as a frame of class probabilities, and the checks on what they are handed."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from functools import cached_property

import numpy as np
import pandas as pd

from automl.data.schema import IgnoredColumnsWarning, Schema
from automl.errors import PredictError
from automl.metrics import REGRESSION


class Answers:
    """`predict`, `predict_proba`, `labels`, `proba_frame` and `check_classifier` over a
    class's own `schema` and `predict_raw`."""

    schema: Schema

    def predict(self, X: pd.DataFrame | Mapping) -> np.ndarray:
        return self.labels(self.predict_raw(X))

    def predict_proba(self, X: pd.DataFrame | Mapping) -> pd.DataFrame:
        self.check_classifier()
        return self.proba_frame(self.predict_raw(X), X.index if isinstance(X, pd.DataFrame) else None)

    def labels(self, raw: np.ndarray) -> np.ndarray:
        """Predicted values or class labels from `predict_raw`'s output."""
        if self.schema.task == REGRESSION:
            return raw
        return self._class_labels[self.schema.label_codes(raw)]

    def proba_frame(self, raw: np.ndarray, index=None) -> pd.DataFrame:
        """`predict_raw`'s probabilities with one column per class, named by the class."""
        self.check_classifier()
        return pd.DataFrame(raw, columns=[str(c) for c in self.schema.classes], index=index)

    def check_classifier(self) -> None:
        if self.schema.task == REGRESSION:
            raise PredictError("predict_proba is for classification; this model does regression "
                               f"(target {self.schema.target!r}): use predict")

    @cached_property
    def _class_labels(self) -> np.ndarray:
        # made once: a one-row prediction should not pay for it on every call
        return self.schema.class_array()


def check_table(X) -> None:
    """A PredictError unless X is a DataFrame, or one row as a dict."""
    if not isinstance(X, (pd.DataFrame, Mapping)):
        raise PredictError(f"predict takes a pandas DataFrame with the model's columns, or one "
                           f"row as a dict, got {type(X).__name__}")


def warn_unused(ignored: list, stacklevel: int = 2) -> None:
    """An IgnoredColumnsWarning naming the input columns the model does not read (the first
    ten); `stacklevel` counts from the caller, as `warnings.warn` does."""
    if ignored:
        warnings.warn(f"ignoring {len(ignored)} input column(s) the model does not use: "
                      + ", ".join(map(str, ignored[:10])) + (" ..." if len(ignored) > 10 else ""),
                      IgnoredColumnsWarning, stacklevel=stacklevel + 1)
