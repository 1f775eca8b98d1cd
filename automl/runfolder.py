"""The run folder: every write is atomic (temp file, then rename), so a crash never leaves
a half-written artifact that a resume would trust."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from automl.atomic import atomic_dump, atomic_write_json
from automl.errors import RunError

# Files the stages write beside their stored outputs, in nodes/<name>/<key>/: plain data
# for people and the run report, which reads these and never unpickles an output.
DATA_JSON = "data.json"  # ingest: rows per part, how models are validated
COLUMNS_CSV = "columns.csv"  # ingest: each feature column's kind, type, missing values
TARGET_FILE = "target.parquet"  # ingest: the target's labels (a sample on large tables)
SCORED_FILE = "scored.parquet"  # ingest: a sample of the scored rows, for importance
TRIALS_CSV = "trials.csv"  # search: every trial
ENSEMBLE_JSON = "ensemble.json"  # ensemble: method, members, weights, scores


@dataclass(frozen=True)
class StoredModel:
    """A fitted model written to the run folder: searches keep these references, and only
    the stage that needs a model (the ensemble's members) loads it."""

    path: Path

    def load(self):
        return joblib.load(self.path)


def loaded(model):
    """The model itself, from a StoredModel reference or as it is."""
    return model.load() if isinstance(model, StoredModel) else model


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise RunError(f"{path} not found; is this a run folder made by 'automl fit'?") from None


class RunStore:
    """Node outputs under nodes/<name>/<key>/: a node whose key is there is not run again."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _dir(self, name: str, key: str) -> Path:
        return self.root / "nodes" / name / key

    def has(self, name: str, key: str) -> bool:
        return (self._dir(name, key) / "done.json").is_file()

    def save(self, name: str, key: str, output: Any, meta: dict) -> None:
        """Write the output and then, last, done.json: its presence marks a complete node."""
        final = self._dir(name, key)
        atomic_dump(final / "output.joblib", output)
        atomic_write_json(final / "done.json", {**meta, "key": key, "finished": time.time()})

    def load(self, name: str, key: str) -> Any:
        return joblib.load(self._dir(name, key) / "output.joblib")

    def latest(self, name: str):
        """The most recently finished output of node `name` (any key), or None."""
        folder = self.latest_dir(name)
        return None if folder is None else self.load(name, folder.name)

    def latest_dir(self, name: str) -> Path | None:
        """The folder of node `name`'s most recently finished output (any key), or None:
        where its stage wrote the files that describe it."""
        finished = sorted((self.root / "nodes" / name).glob("*/done.json"),
                          key=lambda done: read_json(done)["finished"])
        return finished[-1].parent if finished else None

    def artifact_dir(self, name: str, key: str) -> Path:
        """A folder where a stage may write files next to its output."""
        path = self._dir(name, key)
        path.mkdir(parents=True, exist_ok=True)
        return path
