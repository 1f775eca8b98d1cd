"""Tracking: a finished run folder logged to the tools teams already run (`mlflow_run`:
MLflow). It reads the run folder only, after the run."""

from automl.tracking.mlflow_run import check_mlflow, log_run

__all__ = ["check_mlflow", "log_run"]
