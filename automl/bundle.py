"""The model bundle in a run folder's model/: all that `predict` needs, nothing else."""

from __future__ import annotations

import importlib.metadata
import pickle
import platform
import warnings
from pathlib import Path

import joblib

from automl.version import __version__
from automl.atomic import atomic_dump, atomic_write_json
from automl.errors import RunError, first_line
from automl.runfolder import read_json

LIBRARIES = ("scikit-learn", "xgboost", "pandas", "numpy", "torch", "ray", "onnxruntime")
# Libraries whose objects are inside predictor.joblib.
PICKLED = ("scikit-learn", "xgboost", "numpy", "torch")
# A predictor's pickled size is counted up to this: an ensemble of forests can pickle to
# hundreds of MB, and past this size a share of it no longer binds any student worth
# exporting (the distill stage aims its students at a share of the teacher's size).
PICKLE_COUNT_CAP = 256 * 1024 * 1024


def library_versions() -> dict[str, str]:
    versions = {"automl": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def save_bundle(run_dir: Path, predictor) -> Path:
    """model/: predictor.joblib (fitted preprocessing, members, weights, schema) is what
    `load_bundle` reads; the JSON files say the same for people and other tools."""
    folder = Path(run_dir) / "model"
    atomic_dump(folder / "predictor.joblib", predictor)
    atomic_write_json(folder / "schema.json", predictor.schema.model_dump(mode="json"))
    atomic_write_json(folder / "model.json", predictor.describe())
    atomic_write_json(folder / "versions.json", library_versions())
    return folder


def load_bundle(run_dir: Path):
    folder = Path(run_dir) / "model"
    if not (folder / "predictor.joblib").is_file():
        raise RunError(
            f"{run_dir} holds no finished model ({folder / 'predictor.joblib'} is missing); "
            "give a run folder of a completed 'automl fit', or finish it with --resume"
        )
    _warn_on_other_versions(read_json(folder / "versions.json"))
    try:
        return joblib.load(folder / "predictor.joblib")
    except (ModuleNotFoundError, AttributeError) as err:  # a class this version lacks
        raise RunError(f"{folder / 'predictor.joblib'} holds a class this version of automl does "
                       f"not have ({first_line(err)}); refit the run with this version, or load "
                       "it with the version that saved it (model/versions.json)") from None


def _warn_on_other_versions(saved: dict) -> None:
    """Pickled models may load wrongly, or not at all, under other library versions."""
    here = library_versions()
    changed = [f"{name} {saved[name]} -> {here.get(name, 'not installed')}"
               for name in ("automl", *PICKLED) if name in saved and saved[name] != here.get(name)]
    if changed:
        # stacklevel 3: past this helper and load_bundle, at the code that loads the model
        warnings.warn("the model was saved with other library versions (" + ", ".join(changed)
                      + "); its predictions may differ: refit it, or install the saved versions",
                      stacklevel=3)


def pickled_bytes(obj, stop_at: int = PICKLE_COUNT_CAP) -> int:
    """Bytes `obj` pickles to (a predictor: what predictor.joblib holds), counted as it is
    written into a sink that keeps no bytes; `stop_at` where it takes at least that many."""
    sink = _CountingSink(stop_at)
    try:
        pickle.dump(obj, sink, protocol=pickle.HIGHEST_PROTOCOL)
    except _Full:
        return stop_at
    return sink.count


def pickled_size_text(n_bytes: int) -> str:
    """A pickled size for a log line or the card; a count stopped at the cap is a floor."""
    floor = "at least " if n_bytes >= PICKLE_COUNT_CAP else ""
    return f"{floor}{n_bytes / 1024:,.0f} KB pickled"


class _Full(Exception):
    pass


class _CountingSink:
    """A file that counts what is written to it, and stops the writer at `stop_at` bytes."""

    def __init__(self, stop_at: int):
        self.count, self.stop_at = 0, stop_at

    def write(self, data) -> int:
        size = memoryview(data).nbytes
        self.count += size
        if self.count >= self.stop_at:
            raise _Full
        return size
