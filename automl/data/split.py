"""The prepared dataset and its train / valid / test split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from automl.data.schema import Schema
from automl.metrics import REGRESSION


@dataclass
class Dataset:
    """Raw feature columns and encoded targets, split once for the whole run."""

    schema: Schema
    X_train: pd.DataFrame
    y_train: np.ndarray
    X_valid: pd.DataFrame
    y_valid: np.ndarray
    X_test: pd.DataFrame | None = None
    y_test: np.ndarray | None = None

    @property
    def task(self) -> str:
        return self.schema.task

    @property
    def n_classes(self) -> int:
        return len(self.schema.classes or [])


def split_dataset(
    X: pd.DataFrame, y: np.ndarray, schema: Schema,
    valid_fraction: float, test_fraction: float, seed: int,
) -> Dataset:
    """Hold out a test part (may be empty), then a validation part of what remains."""
    X_rest, y_rest, X_test, y_test = X, y, None, None
    if test_fraction > 0:
        X_rest, X_test, y_rest, y_test = _split(X, y, schema.task, test_fraction, seed)
    X_train, X_valid, y_train, y_valid = _split(X_rest, y_rest, schema.task, valid_fraction, seed)
    return Dataset(schema, X_train, y_train, X_valid, y_valid, X_test, y_test)


def _split(X, y, task, fraction, seed):
    stratify = None
    if task != REGRESSION:
        counts = np.bincount(y)
        # stratify only where every present class can appear on both sides
        if counts[counts > 0].min() >= 2:
            stratify = y
    return train_test_split(X, y, test_size=fraction, random_state=seed, stratify=stratify)
