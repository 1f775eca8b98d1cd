"""The model bundle in a run folder's model/: all that `predict` needs, nothing else."""

from __future__ import annotations

import importlib.metadata
import platform
import warnings
from pathlib import Path

import joblib

from automl.version import __version__
from automl.errors import RunError
from automl.runfolder import atomic_dump, atomic_write_json, read_json

LIBRARIES = ("scikit-learn", "xgboost", "pandas", "numpy", "torch", "ray", "onnxruntime")
# Libraries whose objects are inside predictor.joblib.
PICKLED = ("scikit-learn", "xgboost", "numpy", "torch")


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
    return joblib.load(folder / "predictor.joblib")


def _warn_on_other_versions(saved: dict) -> None:
    """Pickled models may load wrongly, or not at all, under other library versions."""
    here = library_versions()
    changed = [f"{name} {saved[name]} -> {here.get(name, 'not installed')}"
               for name in ("automl", *PICKLED) if name in saved and saved[name] != here.get(name)]
    if changed:
        warnings.warn("the model was saved with other library versions (" + ", ".join(changed)
                      + "); its predictions may differ: refit it, or install the saved versions")
