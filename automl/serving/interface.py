"""The one interface every served model answers: `OnnxPredictor` over the run's final
model (model/ensemble.onnx) or its compact model (compact/compact.onnx, as
`CompactPredictor`), and the Python `Predictor` (model/predictor.joblib).

`X` is a DataFrame of the table's own columns, or one row as a dict (column -> value).
`predict_raw` gives probabilities (n, k), one column per class in `schema.classes`' order,
or values (n,); `labels` and `proba_frame` turn that into what `predict` and
`predict_proba` return, so a caller that wants both computes it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np
import pandas as pd

from automl.data.schema import Schema


class ServedModel(Protocol):
    schema: Schema

    def predict_raw(self, X: pd.DataFrame | Mapping) -> np.ndarray: ...

    def predict(self, X: pd.DataFrame | Mapping) -> np.ndarray: ...

    def predict_proba(self, X: pd.DataFrame | Mapping) -> pd.DataFrame: ...

    def predict_features(self, features: pd.DataFrame) -> np.ndarray:
        """From model-ready rows (`prepare_features`' output), as the report's
        permutation importance and the distillation hand them."""
        ...

    def labels(self, raw: np.ndarray) -> np.ndarray: ...

    def proba_frame(self, raw: np.ndarray, index=None) -> pd.DataFrame: ...

    def check_classifier(self) -> None:
        """PredictError for a regression model, whose `predict_proba` has no meaning."""
        ...

    def describe(self) -> dict: ...
