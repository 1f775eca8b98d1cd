"""The prepared dataset, its split, and how models are validated on it.

Two ways to judge a model (DESIGN.md, "Validation"):
- holdout: a validation part is set aside; models learn on the rest and are scored there;
- kfold: every training row is in one of k folds; a trial fits k models, each scoring the
  fold it did not see, so its out-of-fold (OOF) predictions cover every training row once.
Small and medium tables get kfold (a 20% part of 1,000 rows is a noisy judge), large ones
the holdout (k fits cost k times as much, and the part is large enough to trust).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from automl.data.schema import Schema, infer_schema, prepare_features
from automl.metrics import REGRESSION

HOLDOUT, KFOLD = "holdout", "kfold"


@dataclass
class Validation:
    """How models are scored: on a validation part, or out of fold over the training rows."""

    method: str  # HOLDOUT or KFOLD
    folds: np.ndarray | None = None  # kfold: the fold (0..k-1) of each training row
    reason: str = ""  # why `validation: auto` chose this, for the log and the run record

    @property
    def n_folds(self) -> int:
        return 0 if self.folds is None else int(self.folds.max()) + 1

    def fold_rows(self, fold: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the rows a fold's model learns from, and of those it is scored on."""
        held = self.folds == fold
        return np.flatnonzero(~held), np.flatnonzero(held)

    def describe(self) -> str:
        return f"{self.n_folds}-fold cross-validation" if self.method == KFOLD else "holdout"


@dataclass
class Dataset:
    """Model-ready features (`prepare_features`) and encoded targets, split once per run.

    Holdout: X_valid/y_valid hold the validation part. Kfold: they are None, and
    `validation.folds` assigns the training rows to folds.
    """

    schema: Schema
    X_train: pd.DataFrame
    y_train: np.ndarray
    X_valid: pd.DataFrame | None
    y_valid: np.ndarray | None
    validation: Validation
    X_test: pd.DataFrame | None = None
    y_test: np.ndarray | None = None

    @property
    def task(self) -> str:
        return self.schema.task

    @property
    def n_classes(self) -> int:
        return len(self.schema.classes or [])

    @property
    def X_scored(self) -> pd.DataFrame:
        """The rows every trial is scored on: the validation part, or (kfold) the training rows."""
        return self.X_train if self.validation.method == KFOLD else self.X_valid

    @property
    def y_scored(self) -> np.ndarray:
        return self.y_train if self.validation.method == KFOLD else self.y_valid


def split_dataset(X: pd.DataFrame, y: np.ndarray, schema: Schema, valid_fraction: float,
                  test_fraction: float, seed: int, method: str = HOLDOUT, n_folds: int = 5,
                  reason: str = "") -> Dataset:
    """Hold out a test part (may be empty); then a validation part, or folds, of the rest."""
    X_rest, y_rest, X_test, y_test = X, y, None, None
    if test_fraction > 0:
        X_rest, X_test, y_rest, y_test = _split(X, y, schema.task, test_fraction, seed)
    if method == KFOLD:
        folds = assign_folds(y_rest, schema.task, n_folds, seed)
        return Dataset(schema, X_rest, y_rest, None, None, Validation(KFOLD, folds, reason),
                       X_test, y_test)
    X_train, X_valid, y_train, y_valid = _split(X_rest, y_rest, schema.task, valid_fraction, seed)
    return Dataset(schema, X_train, y_train, X_valid, y_valid, Validation(HOLDOUT, None, reason),
                   X_test, y_test)


def table_dataset(frame: pd.DataFrame, target: str, task: str | None = None,
                  schema: Schema | None = None, *, valid_fraction: float = 0.2,
                  test_fraction: float = 0.0, seed: int = 0, method: str = HOLDOUT,
                  n_folds: int = 5, reason: str = "") -> Dataset:
    """A table with its `target` column as a run's ingest makes it: the schema inferred
    (unless given), rows without a target dropped, the features model-ready, the rows split."""
    schema = schema or infer_schema(frame, target, task)
    frame = frame.loc[frame[target].notna()]
    X = prepare_features(frame, schema)  # fails early on a column that cannot be read as inferred
    y = schema.encode_target(frame[target])
    return split_dataset(X, y, schema, valid_fraction, test_fraction, seed, method, n_folds, reason)


def assign_folds(y: np.ndarray, task: str, n_folds: int, seed: int) -> np.ndarray:
    """The fold of each row: stratified by class where every class fills every fold."""
    splitter = KFold(n_folds, shuffle=True, random_state=seed)
    if task != REGRESSION:
        counts = np.bincount(np.asarray(y, dtype=np.int64))
        if counts[counts > 0].min() >= n_folds:
            splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    folds = np.empty(len(y), dtype=np.int64)
    for fold, (_, held) in enumerate(splitter.split(np.zeros(len(y)), y)):
        folds[held] = fold
    return folds


def _split(X, y, task, fraction, seed):
    stratify = None
    if task != REGRESSION:
        counts = np.bincount(y)
        # stratify only where every present class can appear on both sides
        if counts[counts > 0].min() >= 2:
            stratify = y
    return train_test_split(X, y, test_size=fraction, random_state=seed, stratify=stratify)
