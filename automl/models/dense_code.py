"""The one dense encoding of the `trees` branch's output: for the `linear` and `mlp`
families, the distillation's dense students, and the augmentation's nearest neighbours.

The trees branch hands numbers as they are and categories as ordinal codes (NaN for a
missing or unseen value). A network wants every input on a common scale: numbers get
their median for a gap and are standardised, each column that had gaps in training gets
a 0/1 missing flag, and each category is one-hot over its most frequent codes. The
encoding is plain numpy (float32, as an ONNX graph computes it), so an exported student
writes the same steps as ONNX operators (automl/onnx/dense_graph.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_LEVELS = 32  # one-hot columns per category at most: the most frequent codes


@dataclass
class DenseCode:
    """Missing filled, numbers clipped to their training range and standardised, NaN
    indicators, categories one-hot.

    The clipping is for networks' sake: a tree's output stays within what it saw, but a
    network extrapolates, and one house of record size (a value far beyond the training
    rows') can put its prediction off by a multiple of the target's range."""

    fill: np.ndarray  # (d,) per input column: median for numbers, -1 for categories
    numeric: np.ndarray  # input column indices of the numbers
    low: np.ndarray  # the numbers' training range, per numeric column
    high: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    indicators: np.ndarray  # input columns that had missing values in training
    onehot_source: np.ndarray  # for each one-hot output, its input column
    onehot_code: np.ndarray  # ... and the ordinal code it matches

    @classmethod
    def fit(cls, Z: np.ndarray, categorical: tuple[int, ...]) -> "DenseCode":
        nan = np.isnan(Z)
        numeric = np.array([j for j in range(Z.shape[1]) if j not in set(categorical)], dtype=np.int64)
        fill = np.full(Z.shape[1], -1.0, dtype=np.float32)
        for j in numeric:
            observed = Z[~nan[:, j], j]
            fill[j] = np.median(observed) if observed.size else 0.0
        filled = np.where(nan, fill, Z).astype(np.float32)
        numbers = filled[:, numeric]
        low, high = (numbers.min(axis=0), numbers.max(axis=0)) if len(Z) else (fill[numeric],) * 2
        mean = numbers.mean(axis=0) if numeric.size else np.zeros(0)
        std = numbers.std(axis=0) if numeric.size else np.zeros(0)
        sources, codes = [], []
        for j in categorical:
            values, counts = np.unique(Z[~nan[:, j], j], return_counts=True)
            top = values[np.argsort(-counts, kind="stable")[:MAX_LEVELS]]
            sources += [j] * len(top)
            codes += sorted(top.tolist())
        return cls(fill, numeric, low.astype(np.float32), high.astype(np.float32),
                   mean.astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32),
                   np.flatnonzero(nan.any(axis=0)).astype(np.int64),
                   np.array(sources, dtype=np.int64), np.array(codes, dtype=np.float32))

    @property
    def width(self) -> int:
        return len(self.numeric) + len(self.indicators) + len(self.onehot_source)

    def encode(self, Z: np.ndarray) -> np.ndarray:
        """float32 throughout, as the ONNX graph computes it."""
        Z = np.asarray(Z, dtype=np.float32)
        nan = np.isnan(Z)
        filled = np.where(nan, self.fill, Z).astype(np.float32)
        numbers = np.minimum(np.maximum(filled[:, self.numeric], self.low), self.high)
        parts = [(numbers - self.mean) / self.std,
                 nan[:, self.indicators].astype(np.float32),
                 (filled[:, self.onehot_source] == self.onehot_code).astype(np.float32)]
        return np.concatenate(parts, axis=1).astype(np.float32)
