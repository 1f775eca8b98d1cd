"""Which served model a run folder gives: the one place that chooses (`AutoML.load`,
`automl predict --model`). Standard library only at import, for the CLI's early checks.

Nothing is unpickled by default: the ensemble is served from model/ensemble.onnx. Only a
run folder written before that file existed falls back to model/predictor.joblib, with a
warning; `model="python"` asks for the pickle on purpose (the Python predictor that
resume, refit and the report use).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from automl.errors import ConfigError

ENSEMBLE_FILE = Path("model") / "ensemble.onnx"
PICKLE_FILE = Path("model") / "predictor.joblib"
MODELS = {"ensemble": "the run's final model, model/ensemble.onnx in onnxruntime (no pickle)",
          "compact": "compact/compact.onnx in onnxruntime (no pickle)",
          "python": "the run's final model unpickled from model/predictor.joblib (load only "
                    "run folders you trust)"}


def load_model(run_dir: str | Path, model: str = "ensemble"):
    """The `model` of `run_dir` as a `ServedModel`: "ensemble" reads model/ensemble.onnx,
    "compact" compact/compact.onnx (neither unpickles anything), "python" unpickles
    model/predictor.joblib."""
    if model not in MODELS:
        allowed = ", ".join(f"{name!r} ({what})" for name, what in MODELS.items())
        raise ConfigError(f"model must be one of {allowed}; got {model!r}")
    run_dir = Path(run_dir)
    if model == "compact":
        from automl.serving.compact import CompactPredictor

        return CompactPredictor.from_run(run_dir)
    if model == "ensemble" and (run_dir / ENSEMBLE_FILE).is_file():
        from automl.serving.onnx_predictor import OnnxPredictor

        return OnnxPredictor(run_dir / ENSEMBLE_FILE, _description(run_dir))
    if model == "ensemble" and (run_dir / PICKLE_FILE).is_file():
        warnings.warn(f"{run_dir} holds no {ENSEMBLE_FILE} (written by an automl that did not "
                      f"export the ensemble to ONNX, or its export failed); serving the pickled "
                      f"{PICKLE_FILE} instead: load only run folders you trust", stacklevel=2)
    from automl.bundle import load_bundle

    return load_bundle(run_dir)


def _description(run_dir: Path) -> dict:
    """What the ensemble is made of (model/model.json, written with it), and which file
    serves it."""
    path = run_dir / "model" / "model.json"
    described = json.loads(path.read_text()) if path.is_file() else {}
    return {**described, "model": str(run_dir / ENSEMBLE_FILE)}
