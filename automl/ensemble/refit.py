"""Refit the chosen members on train + validation before they are saved.

A member is fitted again with its trial's hyperparameters on the concatenated train and
validation parts of its branch. Early stopping found how long it should train; with the
validation rows now part of its training data, stopping on them again would be stopping
on rows it learns from, so the refit trains for the rounds / epochs / trees its trial
settled on instead.

refit_full (AutoGluon's term) does the same for a kfold trial's bagged model: one model
on all training rows, for the median of its folds' lengths, in place of its k fold
models; k times smaller and faster to call. Its folds' out-of-fold predictions chose the
ensemble's weights and scored it; the refit has no rows left to be scored on.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from automl.budget import Budget
from automl.models.bagging import BaggedModel
from automl.models.registry import family_class
from automl.offload import InProcess
from automl.preprocess.stage import BranchData
from automl.provenance import stamp
from automl.serving.ensemble import Member

# A refit with more rows takes longer than its trial: refit only where time allows for it.
TIME_FACTOR = 2.0


def refit_member(member: Member, data: BranchData, seed: int,
                 budget: Budget | None = None) -> Member:
    schema, old = data.schema, member.model
    params = {**member.params, **old.trained_length()}
    model = family_class(member.family)(
        task=schema.task, n_classes=len(schema.classes or []), params=params,
        categorical=data.branch.categorical, seed=seed, n_jobs=getattr(old, "n_jobs", 1))
    X, y = _all_rows(data)
    model.fit(X, y, budget=budget, **_all_rows_weight(data))  # no validation part: no early stopping
    return replace(member, model=stamp(model), params=params)


def refit_members(members: list[Member], branch_inputs: dict[str, BranchData],
                  fit_seconds: dict[str, float], seed: int, budget: Budget,
                  log, offload: InProcess = InProcess(), holdout: bool = True,
                  bagged: bool = False) -> tuple[list[Member], int]:
    """Members refitted where their branch's data is an input (by preprocess node name),
    their kind is asked for (`holdout`: validated on a holdout part, refitted on train +
    validation; `bagged`: k fold models, refitted once on all training rows) and time
    allows; the count refitted. Each refit runs where `offload` (the run's) puts heavy
    fits: a cluster's node, or here."""
    refitted, count = [], 0
    for member in members:
        data = branch_inputs.get(member.branch)
        why = _not_refitted(member, data, budget.remaining(),
                            _seconds_needed(member, fit_seconds), holdout, bagged)
        if why:
            log(f"refit: kept {member.name} ({member.family}) as validated: {why}")
            refitted.append(member)
            continue
        cpus = getattr(member.model, "n_jobs", 1)
        memory = family_class(member.family).fit_memory.need(len(_all_rows(data)[1]),
                                                             data.X_train.shape[1])
        refitted.append(offload.call(refit_member, member, offload.put(data), seed, budget,
                                     cpus=cpus, memory=memory))
        count += 1
    return refitted, count


def _seconds_needed(member: Member, fit_seconds: dict[str, float]) -> float:
    """A refit's time, with room: a bagged trial's seconds fitted k models on (k-1)/k of
    the rows each, so one model on all of them takes about 1/(k-1) of that."""
    seconds = fit_seconds.get(member.name, 0.0)
    if isinstance(member.model, BaggedModel) and len(member.model) > 1:
        seconds /= len(member.model) - 1
    return TIME_FACTOR * seconds


def _all_rows(data: BranchData) -> tuple[np.ndarray, np.ndarray]:
    if data.X_valid is None:  # kfold: the training rows are all the rows
        return data.X_train, data.y_train
    return np.concatenate([data.X_train, data.X_valid]), np.concatenate([data.y_train, data.y_valid])


def _all_rows_weight(data: BranchData) -> dict:
    """The fit weights of `_all_rows`, as fit's keyword ({} where rows count alike)."""
    parts = [data.fit_weight("train")]
    if data.X_valid is not None:
        parts.append(data.fit_weight("valid"))
    if parts[0] is None:
        return {}
    return {"sample_weight": np.concatenate(parts)}


def _not_refitted(member: Member, data: BranchData | None, left: float | None,
                  needed: float, holdout: bool, bagged: bool) -> str:
    if data is None:
        return f"its branch {member.branch!r} is not an input of the ensemble node"
    if isinstance(member.model, BaggedModel) and not bagged:
        return "a bagged model of k folds already learned from every training row"
    if not isinstance(member.model, BaggedModel):
        if data.X_valid is None:
            return "it already learned from every training row"
        if not holdout:
            return "refit_full refits bagged models; this one was validated on a holdout part"
    if left is not None and left < needed:
        return "not enough time left"
    return ""
