"""Peers: FLAML and AutoGluon, each with the same time budget and the protocol's metric.

Each is imported only here, inside the worker, and only when chosen. Each orders its
classes its own way; `align_proba` maps their columns to the sorted labels by label.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from automl.bench.protocol import align_proba
from automl.bench.systems import FitJob, Fitted
from automl.metrics import BINARY, MULTICLASS, REGRESSION

# each peer optimises the protocol's first metric, as automl does by default
FLAML_METRIC = {BINARY: "roc_auc", MULTICLASS: "log_loss", REGRESSION: "rmse"}
AUTOGLUON_METRIC = {BINARY: "roc_auc", MULTICLASS: "log_loss",
                    REGRESSION: "root_mean_squared_error"}
AUTOGLUON_PRESETS = "medium_quality"


def fit_flaml(job: FitJob) -> list[Fitted]:
    from flaml import AutoML as FLAML

    train = job.train
    model = FLAML()
    model.fit(train.X, train.y, task="regression" if train.classes is None else "classification",
              metric=FLAML_METRIC[train.task], time_budget=job.budget, n_jobs=job.n_jobs,
              seed=0, verbose=0, log_file_name="")

    def predict(X: pd.DataFrame) -> np.ndarray:
        if train.classes is None:
            return np.asarray(model.predict(X), dtype=np.float64)
        return align_proba(model.predict_proba(X), model.classes_, train.classes)

    def save(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "flaml.pkl", "wb") as handle:  # FLAML's documented way to keep a model
            pickle.dump(model, handle, pickle.HIGHEST_PROTOCOL)
        return folder / "flaml.pkl"

    return [Fitted("best", predict, save)]


def fit_autogluon(job: FitJob) -> list[Fitted]:
    from autogluon.tabular import TabularPredictor

    train = job.train
    path = job.work_dir / "autogluon"
    predictor = TabularPredictor(label=train.dataset.target, problem_type=train.task,
                                 eval_metric=AUTOGLUON_METRIC[train.task], path=str(path),
                                 verbosity=0)
    predictor.fit(train.frame(), time_limit=job.budget, presets=AUTOGLUON_PRESETS,
                  num_cpus=job.n_jobs)

    def predict(X: pd.DataFrame) -> np.ndarray:
        if train.classes is None:
            return np.asarray(predictor.predict(X), dtype=np.float64)
        proba = predictor.predict_proba(X, as_multiclass=True)
        return align_proba(proba.to_numpy(), list(proba.columns), train.classes)

    def save(_folder: Path) -> Path:
        return path  # AutoGluon writes its models there as it trains

    return [Fitted("best", predict, save)]
