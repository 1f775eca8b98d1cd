"""Synthetic rows for distillation: more rows near the real ones, for the teacher to label.

A student that sees only the training rows learns the teacher where the data is dense
and guesses between; rows made near the real ones show it the teacher's function there.

- `munge` (Bucilă, Caruana & Niculescu-Mizil, 2006): each synthetic row starts from a
  real row and, feature by feature with probability `swap`, moves towards its nearest
  neighbour: a number is drawn around the neighbour's value (spread: their distance
  over `spread`), a category takes the neighbour's.
- `gibbs`: each feature, with probability `swap`, takes the value of that feature in
  another random real row: a resample from the feature's marginal, cheap on any size.

Rows are in the model-ready form of `automl.data.prepare_features` (numbers as floats,
categories as text, missing as NaN), so either branch can encode them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from automl.errors import ConfigError
from automl.models.dense_code import DenseCode

# Neighbour search cost grows with rows; past this many, neighbours come from a sample.
MAX_NEIGHBOUR_POOL = 20_000


def augment(features: pd.DataFrame, method: str, multiplier: float, seed: int = 0,
            swap: float = 0.5, spread: float = 1.0) -> pd.DataFrame:
    """`round(multiplier * len(features))` synthetic rows (none for multiplier 0)."""
    n_new = int(round(multiplier * len(features)))
    if n_new == 0 or method == "none":
        return features.iloc[:0].copy()
    rng = np.random.default_rng(seed)
    base = features.iloc[rng.integers(0, len(features), n_new)].reset_index(drop=True)
    if method == "munge":
        donors = _nearest_neighbours(features, base, rng)
    elif method == "gibbs":
        donors = None
    else:
        raise ConfigError(f"unknown augmentation {method!r}; choose munge, gibbs or none")
    out = {}
    for name in features.columns:
        change = rng.random(n_new) < swap
        if donors is None:  # gibbs: the value from another random row
            other = features[name].to_numpy()[rng.integers(0, len(features), n_new)]
            out[name] = np.where(change, other, base[name].to_numpy())
        else:
            out[name] = _munge_column(base[name], donors[name], change, rng, spread)
    return pd.DataFrame(out).astype(features.dtypes.to_dict())


def _munge_column(base: pd.Series, donor: pd.Series, change: np.ndarray, rng, spread: float):
    if not pd.api.types.is_numeric_dtype(base):
        return np.where(change, donor.to_numpy(), base.to_numpy())
    a, b = base.to_numpy(dtype=np.float64), donor.to_numpy(dtype=np.float64)
    scale = np.abs(a - b) / spread
    drawn = rng.normal(np.nan_to_num(b), np.nan_to_num(scale))
    drawn = np.where(np.isnan(b), np.nan, drawn)  # a missing neighbour value stays missing
    return np.where(change, drawn, a)


def _nearest_neighbours(features: pd.DataFrame, base: pd.DataFrame, rng) -> pd.DataFrame:
    """For each row of `base`, its nearest other real row (numbers scaled, categories 0/1)."""
    pool = features
    if len(pool) > MAX_NEIGHBOUR_POOL:
        pool = pool.iloc[rng.choice(len(pool), MAX_NEIGHBOUR_POOL, replace=False)]
    encode = _dense_encoding(pool)
    search = NearestNeighbors(n_neighbors=min(2, len(pool))).fit(encode(pool))
    _, index = search.kneighbors(encode(base))
    # the nearest is usually the row itself: take the second unless it is the only one
    pick = index[:, -1]
    return pool.iloc[pick].reset_index(drop=True)


def _dense_encoding(pool: pd.DataFrame):
    """Rows to the one dense encoding (`DenseCode`, fitted on the pool): numbers filled,
    flagged and standardised, categories one-hot over the pool's levels, coded first as
    the trees branch codes them (a level the pool lacks: missing)."""
    levels = {c: pd.Index(pool[c].dropna().unique()) for c in pool.columns
              if not pd.api.types.is_numeric_dtype(pool[c])}

    def codes(frame: pd.DataFrame) -> np.ndarray:
        columns = [_level_codes(levels[c], frame[c]) if c in levels
                   else frame[c].to_numpy(dtype=np.float64) for c in pool.columns]
        return np.column_stack(columns) if columns else np.zeros((len(frame), 0))

    categorical = tuple(i for i, c in enumerate(pool.columns) if c in levels)
    code = DenseCode.fit(codes(pool), categorical)
    return lambda frame: code.encode(codes(frame))


def _level_codes(levels: pd.Index, values: pd.Series) -> np.ndarray:
    found = levels.get_indexer(values).astype(np.float64)
    return np.where(found < 0, np.nan, found)
