"""Pruning, low-rank and int8 on the best MLP student: each step a new student.

In a cross-fitted distillation (`crossfit`) that is the best MLP judged on fold 1 only,
and its shrunk students are judged there too: they show on the Pareto front what each
step costs, and the choice, among students judged on every fold, passes over them.

The steps run in that order, each on the result of the last step that held: a step
holds when its validation score stays within STEP_HOLDS of the metric's value of the
network it started from (0.2%: ROC AUC 0.93 -> 0.0019, RMSE 532 -> 1.1). Every step
tried, held or not, becomes a student of its own, so the Pareto front shows what each
one cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from automl.budget import Budget
from automl.distill.classroom import fit_cpus
from automl.students.judged import DistillResult, Student
from automl.models.dense_net import DenseNet
from automl.models.registry import family_class
from automl.offload import InProcess
from automl.provenance import fitted_by, stamp

if TYPE_CHECKING:  # torch's import (3 s) only where an MLP is shrunk
    from automl.students.dense import Training

STEP_HOLDS = 0.002
STEPS = ("prune", "lowrank", "int8")


def shrunk_students(result: DistillResult, steps: dict[str, bool], budget: Budget,
                    seed: int = 0, offload: InProcess = InProcess()) -> Iterator[Student]:
    """The compressed versions of the best-scoring MLP student, one per step tried; the
    pruned net's fine-tuning runs through `offload` (the run's: a cluster's node, or here)."""
    mlps = [s for s in result.students if s.kind == "mlp" and s.name in result.nets]
    if not mlps or result.scoring is None:
        return
    student = max(mlps, key=lambda s: s.score)
    net, metric = result.nets[student.name], result.scoring.metric
    from automl.students.dense import int8, low_rank  # torch: only where an MLP is shrunk

    makers = {"prune": lambda n: _pruned_there(n, result.tuning, budget, seed, offload)
              if result.tuning is not None else None,
              "lowrank": low_rank, "int8": int8}
    for step in STEPS:
        candidate = makers[step](net) if steps.get(step) else None
        if candidate is None:
            continue
        tried = replace(result.scoring.dense_student(candidate, f"{student.name}+{step}", "mlp",
                                                     {"steps": student.name.split("+")[1:] + [step]}),
                        judged_on=student.judged_on,  # on its parent's rows
                        # low-rank and int8 only rewrite the weights their parent learned
                        fitted_by=fitted_by(candidate) or student.fitted_by)
        yield tried
        tolerance = STEP_HOLDS * max(abs(metric.from_score(student.score)), 1e-12)
        if tried.score >= student.score - tolerance:
            net, student = candidate, tried
            result.nets[tried.name] = candidate


def _pruned_there(net: DenseNet, tuning: Training, budget: Budget, seed: int,
                  offload: InProcess) -> DenseNet:
    """`pruned`, as a task of `offload` asking for the CPUs its fine-tuning uses and the
    memory an MLP's fit on the tuning rows needs."""
    cpus = fit_cpus(offload)
    memory = family_class("mlp").fit_memory.need(len(tuning.Z), net.code.width)
    return offload.call(pruned, net, tuning, budget, seed, cpus, cpus=cpus, memory=memory)


def pruned(net: DenseNet, tuning: Training, budget: Budget, seed: int, n_jobs: int) -> DenseNet:
    """`prune_units` on `n_jobs` threads, stamped with the process that fine-tuned it."""
    from automl.students.dense import prune_units

    return stamp(prune_units(net, tuning, budget, seed, n_jobs=n_jobs))
