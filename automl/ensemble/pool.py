"""The candidates an ensemble chooses from: finished trials, of one search or several,
whose fitted model was kept, with their validation predictions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.data.schema import Schema
from automl.errors import AutoMLError
from automl.preprocess.branches import Branch


@dataclass(eq=False)
class Candidate:
    name: str  # the trial id (prefixed by its search node where two searches share one)
    family: str
    branch: str  # key into Pool.branches
    params: dict
    score: float
    fit_seconds: float
    valid_prediction: np.ndarray
    model: object


@dataclass
class Pool:
    schema: Schema
    metric: str
    branches: dict[str, Branch]
    candidates: list[Candidate]  # best first
    y_scored: np.ndarray  # the labels the candidates were scored on
    w_scored: np.ndarray | None = None  # their sample weights (None: rows count alike)

    def best(self, max_candidates: int) -> list[Candidate]:
        """Each family's best first, so no family is crowded out; then the best of the rest."""
        chosen: list[Candidate] = []
        for candidate in self.candidates:
            if candidate.family not in {c.family for c in chosen}:
                chosen.append(candidate)
        chosen = chosen[:max_candidates]
        taken = {c.name for c in chosen}
        chosen += [c for c in self.candidates if c.name not in taken][:max_candidates - len(chosen)]
        return sorted(chosen, key=lambda c: -c.score)


def merge_searches(searches: dict) -> Pool:
    """One pool from search results by node name; they must share the validation rows."""
    first = next(iter(searches.values()))
    for name, result in searches.items():
        _check_same_rows(name, result, first)
    branch_keys, branches = _branch_keys(searches)
    seen_ids = [t.trial_id for result in searches.values() for t in result.trials]
    candidates = []
    for search_name, result in searches.items():
        for trial in result.finished():
            if trial.model is None or trial.valid_prediction is None:
                continue  # its model was not kept (keep_models): it cannot be a member
            unique = seen_ids.count(trial.trial_id) == 1
            name = trial.trial_id if unique else f"{search_name}/{trial.trial_id}"
            branch = branch_keys[search_name, result.family_branch[trial.family]]
            candidates.append(Candidate(name, trial.family, branch, trial.params, trial.score,
                                        trial.fit_seconds, trial.valid_prediction, trial.model))
    if not candidates:
        raise AutoMLError(
            f"no trial of {', '.join(searches)} finished with a kept model, so there is nothing "
            "to ensemble; give the search more time or trials (max_trials, the time budget)")
    candidates.sort(key=lambda c: -c.score)
    return Pool(first.schema, first.metric, branches, candidates, first.y_scored,
                getattr(first, "w_scored", None))


def _check_same_rows(name: str, result, first) -> None:
    if result.metric != first.metric or not np.array_equal(result.y_scored, first.y_scored):
        raise AutoMLError(
            f"search node {name!r} was scored on other validation rows or another metric "
            f"({result.metric} vs {first.metric}); the searches an ensemble reads must come "
            "from the same ingest node and run settings")


def _branch_keys(searches: dict) -> tuple[dict, dict[str, Branch]]:
    """A key per fitted branch: the preprocess node that fitted it, so two searches reading
    one node share its branch, and a refit finds that node's data among its inputs."""
    keys, branches = {}, {}
    for search_name, result in searches.items():
        for name, branch in result.branches.items():
            key = result.branch_nodes.get(name, name)
            keys[search_name, name] = key
            branches[key] = branch
    return keys, branches
