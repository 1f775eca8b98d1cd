"""Which served model a run folder gives: the one place that chooses (`AutoML.load`,
`automl predict --model`). Standard library only at import, for the CLI's early checks."""

from __future__ import annotations

from pathlib import Path

from automl.errors import ConfigError

MODELS = {"ensemble": "the run's final model (model/, a pickle)",
          "compact": "compact/compact.onnx in onnxruntime (no pickle)"}


def load_model(run_dir: str | Path, model: str = "ensemble"):
    """The `model` of `run_dir` as a `ServedModel`: "ensemble" unpickles
    model/predictor.joblib (load only run folders you trust), "compact" reads
    compact/compact.onnx (no pickle)."""
    if model not in MODELS:
        allowed = ", ".join(f"{name!r} ({what})" for name, what in MODELS.items())
        raise ConfigError(f"model must be one of {allowed}; got {model!r}")
    if model == "compact":
        from automl.serving.compact import CompactPredictor

        return CompactPredictor.from_run(run_dir)
    from automl.bundle import load_bundle

    return load_bundle(Path(run_dir))
