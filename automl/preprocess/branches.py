"""Build the preprocessing branch from its params and the schema.

The branch is one sklearn `ColumnTransformer` over the model-ready frame (see
`automl.data.prepare_features`), so the ONNX export can carry it (skl2onnx). There is one
branch, `trees`: categories as ordinal codes, numbers as they are. Families that want
every input on a common scale (linear, mlp) encode it themselves with the one dense
encoding, `automl.models.dense_code.DenseCode`, as the distillation's students do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OrdinalEncoder

from automl.data.schema import Schema
from automl.config import PreprocessParams


@dataclass
class Branch:
    """A fitted branch: its name, the transformer, and which output columns are categorical."""

    name: str
    transformer: ColumnTransformer
    categorical: tuple[int, ...]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.transformer.transform(frame), dtype=np.float32)

    @property
    def feature_names(self) -> list[str]:
        return [n.split("__", 1)[1] for n in self.transformer.get_feature_names_out()]


def build_branch(params: PreprocessParams, schema: Schema, X: pd.DataFrame,
                 y: np.ndarray) -> tuple[Branch, np.ndarray]:
    """The branch that `params` names fitted on (X, y), and X transformed by it."""
    transformer, categorical = _trees(schema)
    X_out = transformer.fit_transform(X, y)
    return Branch(params.fitted_branch, transformer, categorical), np.asarray(X_out, dtype=np.float32)


def _trees(schema: Schema) -> tuple[ColumnTransformer, tuple[int, ...]]:
    """Categoricals as ordinal codes (unseen and missing: NaN, left to the model); numbers as is."""
    categorical = schema.categorical
    numeric = [n for n in schema.feature_names if n not in set(categorical)]
    codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                           encoded_missing_value=np.nan, dtype=np.float32)
    transformer = ColumnTransformer(
        [("cat", codes, categorical), ("num", "passthrough", numeric)],
        remainder="drop", verbose_feature_names_out=True,
    )
    return transformer, tuple(range(len(categorical)))
