"""The function Ray Tune runs for each trial: one family, one config, one fit."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from ray import tune

from automl.budget import Budget
from automl.errors import DiskFullError
from automl.metrics import get_metric
from automl.models.registry import family_class, register
from automl.preprocess.stage import BranchData
from automl.search.offload import resolved
from automl.search.portfolio import entry_for
from automl.search.sink import send
from automl.search.trial import fit_trial
from automl.search.tune_space import family_params
from automl.space import Space

# A trial starts only with at least this many seconds left, and aims to end this early,
# so that it reports before Tune's own budget runs out.
MIN_TRIAL_SECONDS = 1.0
SAFETY_SECONDS = 0.5
DISK_FULL = "disk_full"  # a trial's report: the run folder's disk is full (the message)


class TrialFailed(RuntimeError):
    """Raised so Tune marks the trial errored; its error is already in the sink."""


@dataclass
class TrialInputs:
    """Everything a trial reads; goes into the object store once (tune.with_parameters)."""

    data: dict[str, BranchData]  # by branch name; on a cluster, object-store refs to them
    family_branch: dict[str, str]
    family_paths: dict[str, str]  # key -> "module:Class", so workers know plugin families too
    spaces: dict[str, Space]  # resolved for the table: defaults and portfolios
    task: str
    metric: str
    seed: int
    n_jobs: int
    budget: Budget  # the search's share of the run's budget: every trial ends by its end
    sink: object  # the TrialSink actor handle
    sink_where: tuple = ("", None)  # the sink's node and models folder (TrialSink.where)
    max_trial_seconds: float | None = None  # a trial's fit stops here at the latest


def trial_budget(budget: Budget, most: float | None = None) -> Budget | None:
    """What is left of the search's budget for a trial starting now, less a safety margin,
    and at most `most` seconds; None when too little is left to start one."""
    left = budget.remaining()
    if left is None:
        return budget.cap(most)
    if left - SAFETY_SECONDS < MIN_TRIAL_SECONDS:
        return None
    return budget.cap(left - SAFETY_SECONDS if most is None else min(most, left - SAFETY_SECONDS))


def prepare_worker(family: str, inputs: TrialInputs) -> None:
    """Make a Ray worker ready to fit `family`: registered (plugins too), imported now (a
    fresh worker's first import of torch must not eat a fit's time), threads limited."""
    register(family, inputs.family_paths[family])
    family_class(family)
    _limit_threads(inputs.n_jobs)


def run_trial(config: dict, inputs: TrialInputs) -> None:
    family = config["family"]
    budget = trial_budget(inputs.budget, inputs.max_trial_seconds)
    if budget is None:
        return  # the budget is spent: end without a result rather than overrun
    import ray

    trial_id, node = tune.get_context().get_trial_id(), ray.get_runtime_context().get_node_id()[:12]
    # waited for (a millisecond): a worker killed right after could die with the message
    # unsent, and its trial would be recorded on no node (seen once in CI-like runs)
    ray.get(inputs.sink.started.remote(trial_id, node))
    prepare_worker(family, inputs)
    metric = get_metric(inputs.metric, inputs.task)
    data = resolved(inputs.data[inputs.family_branch[family]])

    def report(score: float) -> None:
        tune.report({"score": score, "final": 0})

    result = fit_trial(trial_id, family, trial_params(config, inputs.spaces), data, metric,
                       seed=inputs.seed, n_jobs=inputs.n_jobs, budget=budget, report=report)
    result.node = node
    try:
        send(inputs.sink, inputs.sink_where, result)
    except DiskFullError as err:  # no trial can be kept now: the search ends (StopOnFullDisk)
        tune.report({DISK_FULL: str(getattr(err, "cause", err))})
        return
    if result.status != "ok":
        raise TrialFailed(result.error)
    tune.report({"score": result.score, "fit_seconds": result.fit_seconds, "final": 1})


def trial_params(config: dict, spaces: dict[str, Space]) -> dict:
    """A trial's params: its family's default updated by its portfolio entry, whole, or by
    the values its searcher sampled."""
    family = config["family"]
    default = spaces[family].default
    entry = entry_for(config, spaces)
    return {**default, **entry} if entry is not None else family_params(config, family, default)


def _limit_threads(n_jobs: int) -> None:
    """A trial's model uses exactly the CPUs the trial was given."""
    os.environ["OMP_NUM_THREADS"] = str(n_jobs)
    if "torch" in sys.modules:  # the mlp family sets it too; don't import torch for others
        sys.modules["torch"].set_num_threads(n_jobs)
