"""The benchmark protocol of DESIGN.md: which tables, which rows, one fixed split.

Every system sees the same 80% (`TrainData`) and is scored on the same 20%; nothing a
system does can reach the test part, because runners are only ever handed `TrainData`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from automl.data.ingest import read_table
from automl.data.schema import plain_label, sorted_labels
from automl.data.weights import row_weights
from automl.errors import ConfigError, DataError, did_you_mean, listing
from automl.metrics import REGRESSION, TASKS

MANIFEST = "MANIFEST.csv"
MANIFEST_COLUMNS = ("name", "task", "target")
MAX_ROWS = 500_000
SAMPLE_SEED = 0
TEST_SIZE = 0.2
SPLIT_SEED = 0


@dataclass(frozen=True)
class BenchDataset:
    name: str
    task: str
    target: str
    path: str
    weight: str | None = None  # the column of sample weights (automl bench --weight)

    def as_dict(self) -> dict:
        return {"name": self.name, "task": self.task, "target": self.target, "path": self.path,
                "weight": self.weight}


def read_manifest(data_dir: str | Path) -> dict[str, BenchDataset]:
    """The datasets MANIFEST.csv lists, by name, in the manifest's order."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"benchmark data folder {data_dir} not found; pass --data DIR, a "
                        f"folder with {MANIFEST} (columns name, task, target) and one "
                        "NAME.parquet per row")
    path = data_dir / MANIFEST
    if not path.is_file():
        raise DataError(f"{data_dir} has no {MANIFEST}; add one with the columns "
                        f"{', '.join(MANIFEST_COLUMNS)} and one row per NAME.parquet")
    manifest = pd.read_csv(path, dtype=str)
    missing = [c for c in MANIFEST_COLUMNS if c not in manifest.columns]
    if missing:
        raise DataError(f"{path} lacks the column(s) {', '.join(missing)}; "
                        f"it needs {', '.join(MANIFEST_COLUMNS)}")
    datasets = {}
    for row in manifest.itertuples(index=False):
        if row.task not in TASKS:
            raise DataError(f"{path}: dataset {row.name!r} has task {row.task!r}; "
                            f"the task must be one of {listing(TASKS)}")
        datasets[row.name] = BenchDataset(row.name, row.task, row.target,
                                          str(data_dir / f"{row.name}.parquet"))
    if not datasets:
        raise DataError(f"{path} lists no datasets; add one row per NAME.parquet")
    return datasets


def select_datasets(manifest: dict[str, BenchDataset],
                    names: list[str] | None) -> list[BenchDataset]:
    """The named datasets (all when `names` is empty), each once, files checked up front."""
    chosen = []
    for name in dict.fromkeys(names or manifest):
        if name not in manifest:
            raise ConfigError(f"unknown dataset {name!r}{did_you_mean(name, manifest)}; "
                              f"{MANIFEST} lists {listing(manifest)}")
        if not Path(manifest[name].path).is_file():
            raise DataError(f"dataset {name!r} is in {MANIFEST} but {manifest[name].path} "
                            "does not exist; add the file or leave the dataset out")
        chosen.append(manifest[name])
    return chosen


def load_table(dataset: BenchDataset, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """The rows with a target; over `max_rows` rows, a fixed sample of `max_rows`."""
    frame = read_table(dataset.path)
    if dataset.target not in frame.columns:
        raise DataError(f"{dataset.path} has no target column {dataset.target!r}"
                        f"{did_you_mean(dataset.target, map(str, frame.columns))}; "
                        f"fix the target of {dataset.name!r} in {MANIFEST}")
    if dataset.weight is not None:  # one line naming the fault, as `automl fit --weight`
        row_weights(frame.loc[frame[dataset.target].notna()], dataset.weight, dataset.target)
    frame = frame.loc[frame[dataset.target].notna()]
    if len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=SAMPLE_SEED)
    return frame.reset_index(drop=True)


def align_proba(proba, model_classes, classes: list) -> np.ndarray:
    """Reorder a model's probability columns (in `model_classes` order) to `classes` order.

    A class the model never saw gets probability 0. Systems order classes their own way
    (as labels, as codes, as text): this is where every one is brought to the protocol's.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:  # some libraries give P(positive class) alone for binary tasks
        proba = np.column_stack([1.0 - proba, proba])
    where = {_text(c): i for i, c in enumerate(model_classes)}
    aligned = np.zeros((proba.shape[0], len(classes)))
    for j, label in enumerate(classes):
        if _text(label) in where:
            aligned[:, j] = proba[:, where[_text(label)]]
    return aligned


def _text(label) -> str:
    return str(plain_label(label))


@dataclass
class TrainData:
    """The 80% a system learns from: raw feature columns and raw labels."""

    dataset: BenchDataset
    X: pd.DataFrame
    y: pd.Series
    classes: list | None  # sorted labels; the column order every system's proba must follow
    weight: np.ndarray | None = None  # the rows' sample weights (never in X)

    @property
    def task(self) -> str:
        return self.dataset.task

    def codes(self, y: pd.Series | None = None) -> np.ndarray:
        """Labels as 0..k-1 in sorted-label order (regression: the values as floats)."""
        y = self.y if y is None else y
        if self.classes is None:
            return y.to_numpy(dtype=np.float64)
        index = {label: i for i, label in enumerate(self.classes)}
        return np.array([index[plain_label(v)] for v in y], dtype=np.int64)

    def frame(self, with_weight: bool = False) -> pd.DataFrame:
        """Features and target in one frame, for systems that take a table and a column
        name; `with_weight`: the weight column too, for systems that take its name."""
        columns = {self.dataset.target: self.y.to_numpy()}
        if with_weight and self.weight is not None:
            columns[self.dataset.weight] = self.weight
        return self.X.assign(**columns)


@dataclass
class BenchSplit:
    train: TrainData
    X_test: pd.DataFrame
    y_test: pd.Series
    w_test: np.ndarray | None = None  # the test rows' sample weights: every score uses them

    @property
    def y_test_true(self) -> np.ndarray:
        """What the metric code expects: class codes, or regression values."""
        return self.train.codes(self.y_test)


def split_table(frame: pd.DataFrame, dataset: BenchDataset) -> BenchSplit:
    """The protocol's one split: 80/20, random_state 0, stratified for classification."""
    y = frame[dataset.target]
    classification = dataset.task != REGRESSION
    train, test = train_test_split(frame, test_size=TEST_SIZE, random_state=SPLIT_SEED,
                                   stratify=y if classification else None)
    X_cols = [c for c in frame.columns if c not in (dataset.target, dataset.weight)]
    classes = sorted_labels(y) if classification else None

    def weights(part: pd.DataFrame) -> np.ndarray | None:
        if dataset.weight is None:
            return None
        return row_weights(part, dataset.weight, dataset.target)

    return BenchSplit(TrainData(dataset, train[X_cols], train[dataset.target], classes,
                                weights(train)),
                      test[X_cols], test[dataset.target], weights(test))
