"""A finished run folder logged to MLflow (`automl fit --mlflow URI`, or `log_run`), as
teams that track their models there expect to find it:

- one run named after the run folder: the settings as params, the final model's
  validation (and test) scores as metrics, and its size and one-row latency;
- one child run per trial of every search: its family and hyperparameters as params, its
  score as a metric, its status (and error) as tags;
- the report, the leaderboard, metrics.json and schema.json as artifacts;
- model/ensemble.onnx and compact/compact.onnx as MLflow models of the ONNX flavour, each
  with a signature of the table's own columns, so `mlflow models serve` and the model
  registry take them. MLflow's ONNX flavour hands a model with several inputs each
  DataFrame column as an (n,) array, so the logged copy takes columns (`column_inputs`):
  numbers as float, categories as text, dates as double seconds since 1970-01-01; and it
  gives one column per class (`probability_<class>`) beside `label`, since the flavour
  flattens every output into one column.

It reads the run folder only, after the run: a tracking server that is down costs the
logging (one line), never the run. `mlflow` comes with the `mlflow` extra.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from automl.errors import ConfigError  # the standard library else, at import: the CLI checks early

ARTIFACTS = ("report.html", "leaderboard.csv", "metrics.json", "schema.json", "run.json")
MODELS = {"ensemble": Path("model") / "ensemble.onnx", "compact": Path("compact") / "compact.onnx"}
COLUMN_TYPES = {"numeric": "double", "categorical": "string", "datetime": "double"}


def check_mlflow(uri: str | None) -> None:
    """A ConfigError now, before the run, for an empty URI or where mlflow is not installed."""
    import importlib.util

    if uri is not None and not uri.strip():
        raise ConfigError("--mlflow is empty; give the tracking server's URI, e.g. "
                          "http://localhost:5000")
    if importlib.util.find_spec("mlflow") is None:
        raise ConfigError("--mlflow needs mlflow: pip install 'automl[mlflow]'")


def log_run(run_dir: str | Path, tracking_uri: str | None = None,
            experiment: str = "automl") -> str:
    """Log `run_dir` to the MLflow server at `tracking_uri` (default: MLFLOW_TRACKING_URI);
    the id of the MLflow run made."""
    import mlflow

    run_dir = Path(run_dir)
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    meta = json.loads((run_dir / "run.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    with mlflow.start_run(run_name=run_dir.name) as parent:
        mlflow.log_params({**_flat(meta["settings"]), "pipeline": meta.get("pipeline")})
        mlflow.log_metrics(_scores(metrics))
        mlflow.set_tags({"automl.status": meta.get("status"), "automl.run_dir": str(run_dir)})
        _log_trials(run_dir / "leaderboard.csv", parent)
        for name in ARTIFACTS:
            if (run_dir / name).is_file():
                mlflow.log_artifact(str(run_dir / name))
        for name, path in MODELS.items():
            if (run_dir / path).is_file():
                _log_model(run_dir / path, name)
    return parent.info.run_id


def _flat(settings: dict) -> dict:
    return {key: value for key, value in settings.items() if not isinstance(value, (dict, list))}


def _scores(metrics: dict) -> dict[str, float]:
    scores = {f"valid_{k}": v for k, v in (metrics.get("valid") or {}).items()}
    scores.update({f"test_{k}": v for k, v in (metrics.get("test") or {}).items()})
    served = metrics.get("model") or {}
    for key in ("size_bytes", "one_row_ms"):
        if isinstance(served.get(key), (int, float)):
            scores[f"model_{key}"] = served[key]
    scores["fit_seconds"] = metrics.get("fit_seconds")
    return {k: float(v) for k, v in scores.items() if isinstance(v, (int, float)) and math.isfinite(v)}


def _log_trials(leaderboard: Path, parent) -> None:
    """A child run per trial: its family and params, its score, its status; three requests
    each (a run, a batch, its end), without the console line MLflow prints per run."""
    import time

    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    if not leaderboard.is_file():
        return
    client, now = MlflowClient(), int(time.time() * 1000)
    board = pd.read_csv(leaderboard, keep_default_na=False, na_values=[""])
    for row in board[board["family"] != "ensemble"].itertuples(index=False):
        child = client.create_run(parent.info.experiment_id, run_name=str(row.trial),
                                  tags={"mlflow.parentRunId": parent.info.run_id})
        params = json.loads(row.params) if isinstance(row.params, str) and row.params else {}
        score = [Metric("score", float(row.score), now, 0)] \
            if isinstance(row.score, float) and math.isfinite(row.score) else []
        client.log_batch(child.info.run_id, metrics=score,
                         params=[Param(k, str(v)) for k, v in {"family": row.family, **params}.items()],
                         tags=[RunTag("status", str(row.status)),
                               RunTag("error", str(row.error or "")[:500])])
        client.set_terminated(child.info.run_id, "FINISHED" if row.status == "ok" else "FAILED")


def _log_model(path: Path, name: str) -> None:
    import mlflow.onnx
    import onnx
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from automl.data.schema import Schema as TableSchema
    from automl.serving.column_inputs import with_class_outputs, with_column_inputs

    model = onnx.load(str(path))
    metadata = {entry.key: entry.value for entry in model.metadata_props}
    schema = TableSchema.model_validate_json(metadata["automl.schema"])
    inputs = Schema([ColSpec(COLUMN_TYPES[c.kind], c.name) for c in schema.columns])
    classes = json.loads(metadata.get("automl.classes") or "null") or []
    mlflow.onnx.log_model(with_class_outputs(with_column_inputs(model), classes), name=name,
                          signature=ModelSignature(inputs=inputs),
                          metadata={"automl.classes": metadata.get("automl.classes"),
                                    "automl.task": schema.task, "automl.target": schema.target},
                          save_as_external_data=False)
