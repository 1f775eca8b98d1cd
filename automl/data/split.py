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
from automl.data.weights import balanced_factors, row_weights
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
    # each part's sample weights (automl/data/weights.py); None: the table has none
    w_train: np.ndarray | None = None
    w_valid: np.ndarray | None = None
    w_test: np.ndarray | None = None
    # per class, the factor the families' fits weigh its rows by ("balanced"); None: 1
    class_factors: np.ndarray | None = None

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

    @property
    def w_scored(self) -> np.ndarray | None:
        return self.w_train if self.validation.method == KFOLD else self.w_valid


def split_dataset(X: pd.DataFrame, y: np.ndarray, schema: Schema, valid_fraction: float,
                  test_fraction: float, seed: int, method: str = HOLDOUT, n_folds: int = 5,
                  reason: str = "", weight: np.ndarray | None = None) -> Dataset:
    """Hold out a test part (may be empty); then a validation part, or folds, of the rest.
    `weight`: the rows' sample weights, split with them."""
    w = (lambda rows: None) if weight is None else (lambda rows: weight[rows])
    rest, test = np.arange(len(y)), None
    if test_fraction > 0:
        rest, test = _split(rest, y, schema.task, test_fraction, seed)
    X_test, y_test = (None, None) if test is None else (X.iloc[test], y[test])
    w_test = None if test is None else w(test)
    if method == KFOLD:
        folds = assign_folds(y[rest], schema.task, n_folds, seed)
        return Dataset(schema, X.iloc[rest], y[rest], None, None, Validation(KFOLD, folds, reason),
                       X_test, y_test, w(rest), None, w_test)
    train, valid = _split(rest, y[rest], schema.task, valid_fraction, seed)
    return Dataset(schema, X.iloc[train], y[train], X.iloc[valid], y[valid],
                   Validation(HOLDOUT, None, reason), X_test, y_test, w(train), w(valid), w_test)


def table_dataset(frame: pd.DataFrame, target: str, task: str | None = None,
                  schema: Schema | None = None, *, valid_fraction: float = 0.2,
                  test_fraction: float = 0.0, seed: int = 0, method: str = HOLDOUT,
                  n_folds: int = 5, reason: str = "", weight: str | None = None,
                  class_weight: str | None = None) -> Dataset:
    """A table with its `target` column as a run's ingest makes it: the schema inferred
    (unless given), rows without a target dropped, the features model-ready, the rows split;
    `weight` names its column of sample weights, `class_weight` "balanced" balances classes."""
    schema = schema or infer_schema(frame if weight is None else frame.drop(columns=[weight]),
                                    target, task)
    frame = frame.loc[frame[target].notna()]
    X = prepare_features(frame, schema)  # fails early on a column that cannot be read as inferred
    y = schema.encode_target(frame[target])
    w = None if weight is None else row_weights(frame, weight, target)
    data = split_dataset(X, y, schema, valid_fraction, test_fraction, seed, method, n_folds,
                         reason, w)
    if class_weight is not None:
        data.class_factors = balanced_factors(data.y_train, data.n_classes, data.w_train)
    return data


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


def _split(rows: np.ndarray, y: np.ndarray, task, fraction, seed) -> tuple[np.ndarray, np.ndarray]:
    """`rows` (positions, with their labels `y`) in two parts: the rest and `fraction` of them."""
    stratify = None
    if task != REGRESSION:
        counts = np.bincount(y)
        # stratify only where every present class can appear on both sides
        if counts[counts > 0].min() >= 2:
            stratify = y
    kept, held = train_test_split(rows, test_size=fraction, random_state=seed, stratify=stratify)
    return kept, held
