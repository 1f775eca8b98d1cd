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
# AutoGluon's strongest preset (bagged models, a stacking layer, its zero-shot portfolio):
# the reference that AMLB and TabArena use at minutes to hours of budget
AUTOGLUON_BEST_PRESETS = "best_quality"


def fit_flaml(job: FitJob) -> list[Fitted]:
    from flaml import AutoML as FLAML

    train = job.train
    model = FLAML()
    model.fit(train.X, train.y, task="regression" if train.classes is None else "classification",
              metric=FLAML_METRIC[train.task], time_budget=job.budget, n_jobs=job.n_jobs,
              seed=0, verbose=0, log_file_name="",
              **({} if train.weight is None else {"sample_weight": train.weight}))

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
    return [_autogluon_best_model(_autogluon(job, job.budget), job.train)]


def fit_autogluon_best(job: FitJob) -> list[Fitted]:
    return [_autogluon_best_model(_autogluon(job, job.budget, AUTOGLUON_BEST_PRESETS), job.train)]


def _autogluon_best_model(predictor, train) -> Fitted:
    return Fitted("best", _autogluon_predict(predictor, train, None),
                  lambda _folder: Path(predictor.path))  # AutoGluon writes its models there


# AutoGluon's own distillation beside ours (bench --pipeline compact): its fit gets the
# share of the budget our compact preset gives its search and ensemble, distill() the rest.
AUTOGLUON_DISTILL_SHARE = 0.3


def fit_autogluon_distill(job: FitJob) -> list[Fitted]:
    """AutoGluon's best model, and the best of the students its distill() makes from it."""
    predictor = _autogluon(job, job.budget * (1 - AUTOGLUON_DISTILL_SHARE))
    students = predictor.distill(time_limit=job.budget * AUTOGLUON_DISTILL_SHARE,
                                 teacher_preds="soft")
    board = predictor.leaderboard(silent=True).set_index("model")
    best = board.loc[students, "score_val"].idxmax()  # chosen on its validation score
    model_dir = Path(predictor.path) / "models" / best
    return [_autogluon_best_model(predictor, job.train),
            Fitted("distill", _autogluon_predict(predictor, job.train, best),
                   lambda _folder: model_dir)]


def _autogluon(job: FitJob, seconds: float, presets: str = AUTOGLUON_PRESETS):
    from autogluon.tabular import TabularPredictor

    train = job.train
    # weights: AutoGluon fits with the column and weighs its validation scores by it
    weighted = {} if train.weight is None else {"sample_weight": train.dataset.weight,
                                                "weight_evaluation": True}
    predictor = TabularPredictor(label=train.dataset.target, problem_type=train.task,
                                 eval_metric=AUTOGLUON_METRIC[train.task],
                                 path=str(job.work_dir / "autogluon"), verbosity=0, **weighted)
    predictor.fit(train.frame(with_weight=True), time_limit=seconds, presets=presets,
                  num_cpus=job.n_jobs)
    return predictor


def _autogluon_predict(predictor, train, model: str | None):
    def predict(X: pd.DataFrame) -> np.ndarray:
        if train.classes is None:
            return np.asarray(predictor.predict(X, model=model), dtype=np.float64)
        proba = predictor.predict_proba(X, as_multiclass=True, model=model)
        return align_proba(proba.to_numpy(), list(proba.columns), train.classes)

    return predict
