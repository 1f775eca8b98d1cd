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


# The dense branch learns its medians, scales and category levels from at most this many
# rows (a seeded sample), then encodes every row: on a 1M-row table counting the levels of
# every row took 9 of its 25 s. Levels it groups as rare (under 0.5% of the rows) are not
# missed by a sample this size; the trees branch's codes keep every level, so it fits on all.
DENSE_FIT_ROWS = 100_000


def build_branch(params: PreprocessParams, schema: Schema, X: pd.DataFrame,
                 y: np.ndarray) -> tuple[Branch, np.ndarray]:
    """The branch named in `params` fitted on (X, y), and X transformed by it.

    The training rows come from `fit_transform`, not a later `transform`: a target
    encoder cross-fits them there, and a second pass would leak the target into them.
    """
    if params.branch == "trees":
        transformer, categorical = _trees(schema)
        X_out = transformer.fit_transform(X, y)
        return Branch(params.branch, transformer, categorical), np.asarray(X_out, dtype=np.float32)
    from automl.preprocess.dense import dense_transformer

    rows = _dense_fit_rows(params, len(X))
    fit_X = X if rows is None else X.iloc[rows]
    transformer = dense_transformer(params, schema, fit_X)
    if rows is None:
        X_out = transformer.fit_transform(X, y)
    else:  # no target encoder here (see _dense_fit_rows): a second pass leaks nothing
        X_out = transformer.fit(fit_X, y[rows]).transform(X)
    return Branch(params.branch, transformer, ()), np.asarray(X_out, dtype=np.float32)


def _dense_fit_rows(params: PreprocessParams, n_rows: int) -> np.ndarray | None:
    """The rows the dense branch learns from, or None for all: all where the table is small,
    and where a target encoder must cross-fit every training row."""
    if n_rows <= DENSE_FIT_ROWS or params.high_cardinality == "target":
        return None
    return np.sort(np.random.default_rng(0).choice(n_rows, DENSE_FIT_ROWS, replace=False))


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
