"""What the ingest stage writes about the data for people and the run report: plain files
(JSON, CSV, Parquet) in its node folder, readable without unpickling anything (their
names: automl/runfolder.py). scored.parquet holds model-ready features and the encoded
target of a sample of the rows models are scored on, for permutation importance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from automl.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from automl.data.split import KFOLD, Dataset
from automl.runfolder import COLUMNS_CSV, DATA_JSON, SCORED_FILE, TARGET_FILE

TARGET_ROWS = 20_000
SCORED_ROWS = 2_000
SCORED_TARGET = "__automl_target__"  # the encoded target's column in scored.parquet


def write_facts(dataset: Dataset, folder: Path, seed: int = 0) -> None:
    folder = Path(folder)
    parts = {"train": dataset.X_train, "valid": dataset.X_valid, "test": dataset.X_test}
    validation = dataset.validation
    atomic_write_json(folder / DATA_JSON, {
        "rows": {name: 0 if X is None else len(X) for name, X in parts.items()},
        "validation": validation.method, "validation_described": validation.describe(),
        "folds": validation.n_folds, "validation_reason": validation.reason,
        # kfold: the scored rows are the training rows, which the bagged models learned from
        "scored_rows": "validation part" if validation.method != KFOLD else "training rows"})
    every = pd.concat([X for X in parts.values() if X is not None])
    atomic_write_text(folder / COLUMNS_CSV, _columns(dataset, every).to_csv(index=False))
    targets = np.concatenate([y for y in (dataset.y_train, dataset.y_valid, dataset.y_test)
                              if y is not None])
    name = dataset.schema.target
    labels = pd.DataFrame({name: dataset.schema.decode_target(_sample(targets, TARGET_ROWS, seed))})
    _write_parquet(folder / TARGET_FILE, labels.astype({name: _label_type(dataset)}))
    scored = _sample_rows(dataset.X_scored, dataset.y_scored, SCORED_ROWS, seed)
    _write_parquet(folder / SCORED_FILE, scored)


def _columns(dataset: Dataset, X: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name in X.columns:
        values = X[name]
        missing = int(values.isna().sum())
        rows.append({"column": name, "kind": _kind(dataset, name), "type": str(values.dtype),
                     "missing": missing, "missing_share": missing / max(len(X), 1),
                     "distinct": int(values.nunique())})
    return pd.DataFrame(rows, columns=["column", "kind", "type", "missing", "missing_share",
                                       "distinct"])


def _kind(dataset: Dataset, feature: str) -> str:
    for column in dataset.schema.columns:
        if feature == column.name or feature.startswith(f"{column.name}__"):
            return column.kind
    return "?"


def _label_type(dataset: Dataset) -> str:
    return "float64" if dataset.schema.classes is None else "str"


def _sample(values: np.ndarray, rows: int, seed: int) -> np.ndarray:
    if len(values) <= rows:
        return values
    return values[np.sort(np.random.default_rng(seed).choice(len(values), rows, replace=False))]


def _sample_rows(X: pd.DataFrame, y: np.ndarray, rows: int, seed: int) -> pd.DataFrame:
    picked = np.arange(len(X))
    if len(X) > rows:
        picked = np.sort(np.random.default_rng(seed).choice(len(X), rows, replace=False))
    frame = X.iloc[picked].reset_index(drop=True).copy()
    frame[SCORED_TARGET] = np.asarray(y)[picked]
    return frame


def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_bytes(path, frame.to_parquet(index=False))
