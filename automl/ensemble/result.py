"""What the ensemble stage leaves behind: the members, how they combine, how it scored."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from automl.data.schema import Schema
from automl.preprocess.branches import Branch
from automl.serving.ensemble import Member, Predictor


@dataclass(kw_only=True)  # nineteen fields: built by name, never by position
class EnsembleResult:
    name: str  # the ensemble node
    schema: Schema
    metric: str
    method: str  # "greedy" or "stacking": what the predictor does (stacking may fall back)
    branches: dict[str, Branch]
    members: list[Member]
    score: float  # validation score, higher is better (stacking: cross-validated)
    best_member_score: float
    n_candidates: int
    searches: list[str]  # the search nodes whose trials it chose from
    stacker: object | None = None
    refit: bool = False  # members refitted on train + validation after selection
    trajectory: list[float] = field(default_factory=list)  # greedy score per round
    fit_seconds: float = 0.0
    validation: str = "holdout"  # how its score (and its members') was measured
    # its predictions on the scored rows: the validation part, or out of fold (kfold)
    valid_prediction: np.ndarray | None = field(default=None, repr=False)
    temperature: float = 1.0  # of its class probabilities (automl/calibration.py)
    refitted: list[str] = field(default_factory=list)  # members refitted (refit, refit_full)
    cost: dict | None = None  # under a size or latency cap: the cap and the members' cost

    def predictor(self) -> Predictor:
        used = {m.branch for m in self.members}
        return Predictor(self.schema, {k: b for k, b in self.branches.items() if k in used},
                         list(self.members), self.stacker, self.temperature)

    def facts(self) -> dict:
        """What the ensemble is, as plain data (ensemble.json, read by the report)."""
        total = sum(m.weight for m in self.members) or 1.0
        return {"name": self.name, "metric": self.metric, "method": self.method,
                "score": self.score, "best_member_score": self.best_member_score,
                "n_candidates": self.n_candidates, "searches": self.searches,
                "refit": self.refit, "validation": self.validation,
                "temperature": self.temperature,
                "trajectory": self.trajectory, "fit_seconds": self.fit_seconds,
                "cost": self.cost,
                "members": [{"name": m.name, "family": m.family, "weight": m.weight / total,
                             "refitted": m.name in self.refitted, "params": m.params}
                            for m in self.members]}

    def leaderboard_row(self) -> dict:
        """A row next to the trials' (see TrialResult.row): its members go in params."""
        params = {"method": self.method, "refit": self.refit, "candidates": self.n_candidates,
                  "members": {m.name: round(m.weight, 4) for m in self.members},
                  "refitted": list(self.refitted)}
        return {"search_node": ", ".join(self.searches), "trial": self.name, "family": "ensemble",
                "score": self.score, "fit_seconds": round(self.fit_seconds, 3),
                "trial_seconds": None, "node": "", "status": "ok", "error": "",
                "params": json.dumps(params, sort_keys=True), "validation": self.validation}
