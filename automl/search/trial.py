"""Fit one configuration of one family and score it as the data's validation says.

Used as is by the in-process baseline and inside Ray Tune's trainable, so a trial
behaves the same wherever it runs. A trial that raises is recorded, not propagated.
"""

from __future__ import annotations

import json
import socket
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from automl.budget import Budget
from automl.data.split import KFOLD
from automl.errors import first_line
from automl.metrics import Metric
from automl.models.bagging import BaggedModel
from automl.models.registry import family_class
from automl.preprocess.stage import BranchData, weight_keywords
from automl.provenance import here, stamp


@dataclass
class TrialResult:
    trial_id: str
    family: str
    params: dict
    status: str  # "ok" or "error"
    score: float | None = None
    fit_seconds: float = 0.0
    node: str = field(default_factory=socket.gethostname)
    error: str | None = None
    valid_prediction: np.ndarray | None = None  # on the scored rows: validation part or OOF
    model: object | None = None
    trial_seconds: float | None = None  # start to end as the driver saw it (Ray overhead included)
    finished: float | None = None  # time.time() when the fit ended: the report's time axis
    rows: int | None = None  # training rows it learned from (a sample, on large tables)
    fitted_by: str = field(default_factory=here)  # 'host:pid' of the process that fitted it

    def row(self) -> dict:
        """A leaderboard row (no arrays, no model)."""
        return {"trial": self.trial_id, "family": self.family, "score": self.score,
                "fit_seconds": round(self.fit_seconds, 3),
                "trial_seconds": None if self.trial_seconds is None else round(self.trial_seconds, 3),
                "node": self.node,
                "status": self.status, "error": self.error or "", "finished": self.finished,
                "rows": self.rows,
                "params": json.dumps(self.params, sort_keys=True, default=str)}


ScoreFn = Callable[[float], None]  # an interim validation score, for the scheduler


def fit_trial(trial_id: str, family: str, params: dict, data: BranchData, metric: Metric,
              seed: int = 0, n_jobs: int = 1, budget: Budget | None = None,
              report: ScoreFn | None = None) -> TrialResult:
    """One config fitted and scored as the data's validation says: on the validation part
    (holdout), or as k fold models scored out of fold (kfold, a bagged model)."""
    started = time.monotonic()
    budget = budget or Budget.unlimited()
    try:
        make = _maker(family, params, data, seed, n_jobs)
        if data.validation.method == KFOLD:
            model, prediction = _fit_folds(make, data, metric, budget, report)
        else:
            model, prediction = _fit_holdout(make, data, metric, budget, report)
        score = metric.score(data.y_scored, prediction, data.w_scored)
        if not np.isfinite(score):
            raise ValueError(f"validation {metric.name} is not finite ({score})")
    except Exception as err:  # a crashed trial is recorded and the search goes on
        return TrialResult(trial_id, family, params, "error",
                           fit_seconds=time.monotonic() - started, error=_one_line(err),
                           finished=time.time())
    return TrialResult(trial_id, family, params, "ok", score=score,
                       fit_seconds=time.monotonic() - started, finished=time.time(),
                       valid_prediction=prediction, model=stamp(model), rows=len(data.y_train))


def _maker(family: str, params: dict, data: BranchData, seed: int, n_jobs: int):
    def make():
        return family_class(family)(
            task=data.schema.task, n_classes=len(data.schema.classes or []), params=params,
            categorical=data.branch.categorical, seed=seed, n_jobs=n_jobs)
    return make


def _fit_holdout(make, data: BranchData, metric: Metric, budget: Budget, report):
    family_report = None
    if report is not None:
        def family_report(_round: int, prediction: np.ndarray) -> None:
            report(metric.score(data.y_valid, prediction, data.w_valid))
    model = make().fit(data.X_train, data.y_train, data.X_valid, data.y_valid,
                       budget=budget, report=family_report,
                       **weight_keywords(data.fit_weight("train"), data.fit_weight("valid")))
    return model, model.predict_raw(data.X_valid)


def _fit_folds(make, data: BranchData, metric: Metric, budget: Budget, report):
    """k fold models, each early-stopped on the fold it leaves out; their out-of-fold
    predictions cover every training row once. The score after each fold (on the rows
    predicted so far) goes to the scheduler, which may stop the trial there."""
    validation, n_folds = data.validation, data.validation.n_folds
    models, oof, seen = [], None, np.zeros(len(data.y_train), dtype=bool)
    for fold in range(n_folds):
        learn, held = validation.fold_rows(fold)
        weights = weight_keywords(data.fit_weight("train", learn), data.fit_weight("train", held))
        model = make().fit(data.X_train[learn], data.y_train[learn], data.X_train[held],
                           data.y_train[held], budget=budget.split(n_folds - fold), **weights)
        part = model.predict_raw(data.X_train[held])
        if oof is None:
            oof = np.zeros((len(data.y_train),) + part.shape[1:])
        oof[held], seen[held] = part, True
        models.append(model)
        if report is not None and fold < n_folds - 1:
            w = None if data.w_train is None else data.w_train[seen]
            report(metric.score(data.y_train[seen], oof[seen], w))
    return BaggedModel(models), oof


def _one_line(err: Exception) -> str:
    where = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
    at = f" (at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
    return f"{type(err).__name__}: {first_line(err, limit=300)}{at}"
