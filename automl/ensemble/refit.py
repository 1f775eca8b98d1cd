"""Refit the chosen members on train + validation before they are saved.

A member is fitted again with its trial's hyperparameters on the concatenated train and
validation parts of its branch. Early stopping found how long it should train; with the
validation rows now part of its training data, stopping on them again would be stopping
on rows it learns from, so the refit trains for the rounds / epochs / trees its trial
settled on instead.
"""

from __future__ import annotations

from dataclasses import replace

import joblib
import numpy as np

from automl.ensemble.predictor import Member
from automl.models.registry import family_class
from automl.preprocess.stage import BranchData

# A refit with more rows takes longer than its trial: refit only where time allows for it.
TIME_FACTOR = 2.0


def refit_member(member: Member, data: BranchData, seed: int,
                 time_limit: float | None = None) -> Member:
    schema, old = data.schema, member.model
    params = {**member.params, **old.trained_length()}
    model = family_class(member.family)(
        task=schema.task, n_classes=len(schema.classes or []), params=params,
        categorical=data.branch.categorical, seed=seed, n_jobs=getattr(old, "n_jobs", 1))
    X = np.concatenate([data.X_train, data.X_valid])
    y = np.concatenate([data.y_train, data.y_valid])
    model.fit(X, y, time_limit=time_limit)  # no validation part: no early stopping
    return replace(member, model=model, params=params)


def refit_members(members: list[Member], branches: dict, upstream: list[BranchData],
                  fit_seconds: dict[str, float], seed: int, deadline, log) -> tuple[list[Member], int]:
    """Members refitted where their branch's data is found and time allows; the count refitted."""
    data_by_key = _data_by_branch_key(branches, upstream)
    refitted, count = [], 0
    for member in members:
        data = data_by_key.get(member.branch)
        time_left = _time_left(deadline)
        needed = TIME_FACTOR * fit_seconds.get(member.name, 0.0)
        if data is None or (time_left is not None and time_left < needed):
            why = "no training data of its branch upstream" if data is None else "not enough time left"
            log(f"refit: kept {member.name} ({member.family}) as validated: {why}")
            refitted.append(member)
            continue
        refitted.append(refit_member(member, data, seed, time_limit=time_left))
        count += 1
    return refitted, count


def _data_by_branch_key(branches: dict, upstream: list[BranchData]) -> dict[str, BranchData]:
    """Match each branch the members read to the preprocess output that fitted it."""
    by_hash = {joblib.hash(data.branch): data for data in upstream}
    return {key: by_hash[joblib.hash(branch)] for key, branch in branches.items()
            if joblib.hash(branch) in by_hash}


def _time_left(deadline) -> float | None:
    remaining = deadline.remaining()
    return None if remaining is None else max(0.0, remaining - deadline.reserve())
