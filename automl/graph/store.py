"""The run folder: every write is atomic (temp file, then rename), so a crash never leaves
a half-written artifact that a resume would trust."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import joblib

from automl.errors import RunError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=str) + "\n")


def atomic_dump(path: Path, obj: Any) -> None:
    """joblib-pickle `obj` to `path` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        if final.exists():
            shutil.rmtree(final)
        atomic_dump(final / "output.joblib", output)
        atomic_write_json(final / "done.json", {**meta, "key": key, "finished": time.time()})

    def load(self, name: str, key: str) -> Any:
        return joblib.load(self._dir(name, key) / "output.joblib")

    def artifact_dir(self, name: str, key: str) -> Path:
        """A folder where a stage may write files next to its output."""
        path = self._dir(name, key)
        path.mkdir(parents=True, exist_ok=True)
        return path
