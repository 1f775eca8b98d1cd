"""The `dense` branch: every column as scaled floats, for linear models and nets.

Numbers: median imputation, clipping to the training range (a linear model or a net
would otherwise extrapolate past every row it saw, without bound), and scaling, plus a 0/1 missing-indicator column for each
number that had gaps in training (a separate MissingIndicator, not the imputer's
add_indicator: skl2onnx converts the imputer, and the indicator needs a small converter).
Categoricals with few levels: one-hot, rare levels grouped into one column; a level
unseen in training is all zeros (not the rare group: skl2onnx 1.20 converts only that).
Categoricals with many levels: one column by level frequency, or one (k for multiclass)
by target encoding, then scaled. Missing categories are a level of their own.

Stock sklearn pieces wherever possible, so skl2onnx can carry the branch into the ONNX
export; `FrequencyEncoder` is the one custom piece (it needs its own ONNX converter). The
"fill" steps read NaN in text columns, which skl2onnx cannot: the export drops them and
feeds MISSING_LEVEL for a missing category (checked by hand: parity within 1e-6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler, TargetEncoder
from sklearn.utils.validation import check_is_fitted

from automl.data.schema import Schema
from automl.config import PreprocessParams
from automl.metrics import BINARY, MULTICLASS

MISSING_LEVEL = "(missing)"  # a missing category is a level of its own, also at predict time
_TARGET_TYPE = {BINARY: "binary", MULTICLASS: "multiclass"}  # else "continuous"


def dense_transformer(params: PreprocessParams, schema: Schema,
                      X: pd.DataFrame) -> ColumnTransformer:
    """An unfitted transformer for the model-ready frame `X` (used to count levels only)."""
    categorical = set(schema.categorical)
    numeric = [n for n in schema.feature_names if n not in categorical]
    few, many = _split_by_levels(X, schema.categorical, params.max_onehot_levels)
    gappy = [name for name in numeric if X[name].isna().any()]
    parts = [
        ("num", _numeric(params.clip_numbers), numeric),
        ("gaps", MissingIndicator(features="all", error_on_new=False), gappy),
        ("cat", _onehot(params.rare_min_fraction), few),
        (params.high_cardinality, _high_cardinality(params.high_cardinality, schema.task), many),
    ]
    return ColumnTransformer(
        [part for part in parts if part[2]], remainder="drop",
        sparse_threshold=0.0, verbose_feature_names_out=True,
    )


def _split_by_levels(X: pd.DataFrame, columns: list[str], max_levels: int) -> tuple[list, list]:
    """Columns with at most `max_levels` levels (one-hot) and those with more."""
    levels = {name: X[name].nunique(dropna=False) for name in columns}
    few = [name for name in columns if levels[name] <= max_levels]
    return few, [name for name in columns if levels[name] > max_levels]


def _numeric(clip: bool) -> Pipeline:
    # keep_empty_features: a column empty in this training part still yields its column,
    # so the output width never depends on which rows the split drew.
    impute = SimpleImputer(strategy="median", keep_empty_features=True)
    steps = [("impute", impute), ("scale", StandardScaler())]
    if clip:  # MinMaxScaler(clip=True) clips to the range it was fitted on
        steps.insert(1, ("clip", MinMaxScaler(clip=True)))
    return Pipeline(steps)


def _fill_missing_level() -> SimpleImputer:
    return SimpleImputer(strategy="constant", fill_value=MISSING_LEVEL, missing_values=np.nan)


def _onehot(rare_min_fraction: float) -> Pipeline:
    encode = OneHotEncoder(
        handle_unknown="ignore", min_frequency=rare_min_fraction or None,
        sparse_output=False, dtype=np.float64,
    )
    return Pipeline([("fill", _fill_missing_level()), ("onehot", encode)])


def _high_cardinality(method: str, task: str) -> Pipeline:
    if method == "target":
        # Explicit target type: an integer-valued regression target (wine quality 3..9)
        # would otherwise be read as classes. A seeded splitter: the cross-fitting inside
        # fit_transform shuffles, and a branch must be reproducible.
        target_type = _TARGET_TYPE.get(task, "continuous")
        folds = (KFold if target_type == "continuous" else StratifiedKFold)(
            n_splits=5, shuffle=True, random_state=0)
        encode = TargetEncoder(target_type=target_type, cv=folds)
    else:
        encode = FrequencyEncoder()
    steps = [("fill", _fill_missing_level()), ("encode", encode), ("scale", StandardScaler())]
    return Pipeline(steps)


class FrequencyEncoder(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Each level as the share of training rows that hold it; an unseen level is 0."""

    def fit(self, X, y=None):
        frame = pd.DataFrame(np.asarray(X, dtype=object))
        self.n_features_in_ = frame.shape[1]
        self.frequencies_ = [frame[c].value_counts(normalize=True, dropna=False).to_dict()
                             for c in frame.columns]
        return self

    def transform(self, X):
        check_is_fitted(self, "frequencies_")
        frame = pd.DataFrame(np.asarray(X, dtype=object))
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(f"FrequencyEncoder was fitted on {self.n_features_in_} columns, "
                             f"got {frame.shape[1]}")
        columns = [frame[c].map(freq).astype("float64").fillna(0.0).to_numpy()
                   for c, freq in zip(frame.columns, self.frequencies_)]
        return np.column_stack(columns)
