"""Explainers of a run's model: from its run folder (`load_explainer`), or of a model
served from one (`explainer_for`), with the run's scored rows as background."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from automl.errors import ConfigError
from automl.serving.ensemble import Predictor
from automl.serving.explain.explainer import Explainer

BACKGROUND_ROWS = 500  # background rows read for the linear and MLP members' reference


def load_explainer(run_dir: str | Path, model: str = "ensemble") -> Explainer:
    """The explainer of a run folder's final model, unpickled from model/predictor.joblib
    (the Python form of model/ensemble.onnx: load only run folders you trust), with the
    run's scored rows as background. `model`: "ensemble" or "python" (the same model);
    "compact" is refused: compact.onnx has no contributions to read."""
    from automl.bundle import load_bundle
    from automl.serving.load import MODELS

    if model not in MODELS:
        raise ConfigError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    if model == "compact":
        raise ConfigError("explanations are of the run's final model (the ensemble): the "
                          "compact model is an ONNX graph with no Python form to explain; "
                          "use --model ensemble")
    run_dir = Path(run_dir)
    return Explainer(load_bundle(run_dir), background_rows(run_dir))


def explainer_for(predictor, run_dir: str | Path | None) -> Explainer:
    """The explainer of a served model: a Python `Predictor` as it is; model/ensemble.onnx
    through its run folder's predictor.joblib; the compact model is refused."""
    from automl.serving.compact import CompactPredictor

    if isinstance(predictor, CompactPredictor):
        raise ConfigError("explain covers the run's final model (the ensemble), not the compact "
                          "model; load it with AutoML.load(run) or AutoML.load(run, "
                          "model='python')")
    background = None if run_dir is None else background_rows(Path(run_dir))
    if isinstance(predictor, Predictor):
        return Explainer(predictor, background)
    if run_dir is None:
        raise ConfigError("this model has no run folder to read its Python predictor from")
    return load_explainer(run_dir)


def background_rows(run_dir: Path, rows: int = BACKGROUND_ROWS) -> pd.DataFrame | None:
    """Up to `rows` of the run's scored rows (model-ready, the ingest node's
    scored.parquet), or None where the folder has none (a bare model/ folder)."""
    from automl.runfolder import SCORED_FILE

    found = sorted(Path(run_dir).glob(f"nodes/*/*/{SCORED_FILE}"), key=lambda p: p.stat().st_mtime)
    if not found:
        return None
    scored = pd.read_parquet(found[-1])
    if len(scored) > rows:
        scored = scored.sample(rows, random_state=0)
    return scored
