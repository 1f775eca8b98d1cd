"""Fit one configuration of one family and score it on the validation part.

Used as is by the in-process baseline and inside Ray Tune's trainable, so a trial
behaves the same wherever it runs. A trial that raises is recorded, not propagated.
"""

from __future__ import annotations

import json
import socket
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from automl.errors import first_line
from automl.metrics import Metric
from automl.models.base import ReportFn
from automl.models.registry import family_class
from automl.preprocess.stage import BranchData


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
    valid_prediction: np.ndarray | None = None
    model: object | None = None
    trial_seconds: float | None = None  # start to end as the driver saw it (Ray overhead included)
    finished: float | None = None  # time.time() when the fit ended: the report's time axis

    def row(self) -> dict:
        """A leaderboard row (no arrays, no model)."""
        return {"trial": self.trial_id, "family": self.family, "score": self.score,
                "fit_seconds": round(self.fit_seconds, 3),
                "trial_seconds": None if self.trial_seconds is None else round(self.trial_seconds, 3),
                "node": self.node,
                "status": self.status, "error": self.error or "",
                "params": json.dumps(self.params, sort_keys=True, default=str)}


def fit_trial(trial_id: str, family: str, params: dict, data: BranchData, metric: Metric,
              seed: int = 0, n_jobs: int = 1, time_limit: float | None = None,
              report: ReportFn | None = None) -> TrialResult:
    started = time.monotonic()
    try:
        model = family_class(family)(
            task=data.schema.task, n_classes=len(data.schema.classes or []), params=params,
            categorical=data.branch.categorical, seed=seed, n_jobs=n_jobs,
        )
        model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid,
                  time_limit=time_limit, report=report)
        prediction = model.predict_raw(data.X_valid)
        score = metric.score(data.y_valid, prediction)
        if not np.isfinite(score):
            raise ValueError(f"validation {metric.name} is not finite ({score})")
    except Exception as err:  # a crashed trial is recorded and the search goes on
        return TrialResult(trial_id, family, params, "error",
                           fit_seconds=time.monotonic() - started, error=_one_line(err),
                           finished=time.time())
    return TrialResult(trial_id, family, params, "ok", score=score,
                       fit_seconds=time.monotonic() - started, finished=time.time(),
                       valid_prediction=prediction, model=model)


def _one_line(err: Exception) -> str:
    where = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
    at = f" (at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
    return f"{type(err).__name__}: {first_line(err, limit=300)}{at}"
