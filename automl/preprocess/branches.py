"""Build a preprocessing branch from its params and the schema.

Each branch is one sklearn `ColumnTransformer` over the model-ready frame (see
`automl.data.prepare_features`), so the ONNX export can carry it (skl2onnx).
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
    """The branch named in `params` fitted on (X, y), and X transformed by it.

    The training rows come from `fit_transform`, not a later `transform`: a target
    encoder cross-fits them there, and a second pass would leak the target into them.
    """
    if params.branch == "trees":
        transformer, categorical = _trees(schema)
    else:
        from automl.preprocess.dense import dense_transformer

        transformer, categorical = dense_transformer(params, schema, X), ()
    X_out = np.asarray(transformer.fit_transform(X, y), dtype=np.float32)
    return Branch(params.branch, transformer, categorical), X_out


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
