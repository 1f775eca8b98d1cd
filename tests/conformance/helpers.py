"""What the conformance suite shares: the families under test, the tables, output checks.

Tables: a small synthetic one per task, and the shared real ones (../shared/data).

Everything goes through the real path a run takes: schema inference, `prepare_features`,
the split, and the real preprocess branch (`table_dataset`, then `branch_data`, as the
ingest and preprocess stages call them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from automl.config import PreprocessParams
from automl.data import prepare_features
from automl.data.schema import Schema
from automl.data.split import table_dataset
from automl.students import families as _students  # noqa: F401 - registers the student families
from automl.metrics import BINARY, MULTICLASS, REGRESSION
from automl.models.registry import family_keys
from automl.preprocess import Branch
from automl.preprocess.stage import branch_data

# Read once, at collection: a plugin family that another test registers later is not ours.
FAMILIES = family_keys()

N_SYNTHETIC = 600


@dataclass(frozen=True)
class Prepared:
    """One table through one branch: raw validation rows kept to build odd inputs from."""

    schema: Schema
    branch: Branch
    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    raw_valid: pd.DataFrame

    @property
    def n_classes(self) -> int:
        return len(self.schema.classes or [])

    def encode(self, raw: pd.DataFrame) -> np.ndarray:
        """Raw columns to the family's input, the way a predictor does it."""
        return self.branch.transform(prepare_features(raw, self.schema))


def synthetic_frame(task: str, n: int = N_SYNTHETIC, seed: int = 0) -> pd.DataFrame:
    """Numbers and categories with gaps, a high-cardinality column, and a learnable target."""
    rng = np.random.default_rng(seed)
    size = rng.normal(size=n)
    weight = rng.uniform(0, 10, size=n)
    color = rng.choice(["red", "green", "blue", "violet"], size=n, p=[0.4, 0.35, 0.24, 0.01])
    city = rng.choice([f"city{i}" for i in range(60)], size=n)
    signal = size + 0.3 * weight + 1.5 * (color == "red") + rng.normal(scale=0.5, size=n)
    frame = pd.DataFrame({"size": size, "weight": weight, "color": color.astype(object),
                          "city": city.astype(object)})
    frame.loc[rng.random(n) < 0.1, "size"] = np.nan
    frame.loc[rng.random(n) < 0.05, "color"] = np.nan
    frame["y"] = _target(task, signal)
    return frame


def _target(task: str, signal: np.ndarray):
    if task == BINARY:
        return np.where(signal > np.median(signal), "yes", "no")
    if task == MULTICLASS:
        return pd.qcut(signal, 3, labels=["low", "mid", "high"]).astype(str)
    return 10.0 * signal


@lru_cache(maxsize=None)
def synthetic(task: str, branch: str) -> Prepared:
    return prepare(synthetic_frame(task), "y", task, branch)


@lru_cache(maxsize=None)
def shared_table(folder: Path, name: str, branch: str, rows: int) -> Prepared:
    """Table `name` of the shared folder, as MANIFEST.csv describes it, sampled to `rows`."""
    manifest = pd.read_csv(folder / "MANIFEST.csv").set_index("name")
    target, task = manifest.loc[name, "target"], manifest.loc[name, "task"]
    frame = pd.read_parquet(folder / f"{name}.parquet")
    frame = frame.loc[frame[target].notna()]
    frame = frame.sample(min(rows, len(frame)), random_state=0)
    return prepare(frame, target, task, branch)


def prepare(frame: pd.DataFrame, target: str, task: str, branch: str) -> Prepared:
    dataset = table_dataset(frame, target, task, valid_fraction=0.25, seed=0)
    data = branch_data(dataset, PreprocessParams(branch=branch))
    return Prepared(data.schema, data.branch, data.X_train, data.y_train, data.X_valid,
                    data.y_valid, frame.loc[dataset.X_valid.index, data.schema.feature_names])


def check_output(prediction: np.ndarray, n_rows: int, task: str, n_classes: int) -> None:
    """Values (n,) for regression; probabilities (n, k) summing to 1 for classification."""
    assert np.all(np.isfinite(prediction))
    if task == REGRESSION:
        assert prediction.shape == (n_rows,)
    else:
        assert prediction.shape == (n_rows, n_classes)
        assert np.all(prediction >= 0)
        np.testing.assert_allclose(prediction.sum(axis=1), 1.0, atol=1e-6)
