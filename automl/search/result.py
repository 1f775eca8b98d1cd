"""What a search leaves behind: every trial (with its validation predictions) and the branches."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl.data.schema import Schema
from automl.errors import AutoMLError
from automl.serving.ensemble import Member, Predictor
from automl.preprocess.branches import Branch
from automl.runfolder import loaded
from automl.search.trial import TrialResult


@dataclass
class SearchResult:
    schema: Schema
    metric: str
    branches: dict[str, Branch]
    family_branch: dict[str, str]
    trials: list[TrialResult]
    y_scored: np.ndarray  # the labels every trial's validation predictions are scored on
    validation: str = "holdout"  # how: "holdout" or "5-fold cross-validation", ...
    branch_nodes: dict[str, str] = field(default_factory=dict)  # branch -> preprocess node
    w_scored: np.ndarray | None = None  # their sample weights (None: rows count alike)

    def finished(self) -> list[TrialResult]:
        """Trials that produced a score, best first; among equal scores, those with a kept model."""
        done = (t for t in self.trials if t.status == "ok")
        return sorted(done, key=lambda t: (-t.score, t.model is None, t.trial_id))

    def best(self) -> TrialResult:
        done = self.finished()
        if not done:
            errors = "; ".join(sorted({t.error or "" for t in self.trials})[:3])
            raise AutoMLError(f"every trial of the search failed ({len(self.trials)}): {errors}")
        return done[0]

    def predictor(self) -> Predictor:
        """The best single trial as a deployable predictor."""
        best = self.best()
        branch = self.family_branch[best.family]
        member = Member(best.trial_id, best.family, branch, loaded(best.model), 1.0,
                        dict(best.params))
        return Predictor(self.schema, {branch: self.branches[branch]}, [member])

    def leaderboard(self) -> pd.DataFrame:
        rows = [{**t.row(), "validation": self.validation} for t in self.trials]
        frame = pd.DataFrame(rows)
        return frame.sort_values("score", ascending=False, na_position="last", ignore_index=True)
