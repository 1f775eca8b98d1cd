"""Every fit the distill and compress stages make goes through the run's offload, asking
for the CPUs it uses and the memory it needs, and every student says which process
fitted it: with an offload that runs each call in another process, as a joined cluster's
nodes do, none says the driver's (the test's) process."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from types import SimpleNamespace

import pytest

from automl.budget import Budget
from automl.config import DistillParams
from automl.data.split import HOLDOUT, KFOLD
from automl.distill import stage
from automl.distill.classroom import fit_cpus
from automl.distill.shrink import shrunk_students
from automl.graph.context import StageInputs
from automl.offload import InProcess
from automl.provenance import fitted_by, here
from tests.unit.distill.test_teaching import _teacher

STUDENTS = ["gbdt", "rules", "mlp", "blend", "memo"]


class OtherProcess(InProcess):
    """The run's offload as on a joined cluster: each call in another process (one,
    spawned once), its result pickled back; each call's function, CPUs and memory kept."""

    remote = True

    def __init__(self):
        self.calls: list[tuple[str, float, float | None]] = []
        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def map(self, fn, calls, cpus=1, memory=None, **kwargs) -> list:
        self.calls += [(f"{fn.__module__}.{fn.__name__}", cpus, memory) for _ in calls]
        return [f.result() for f in [self.pool.submit(fn, *args, **kwargs) for args in calls]]


@pytest.fixture(scope="module")
def elsewhere():
    offload = OtherProcess()
    yield offload
    offload.pool.shutdown()


def distilled(students: list[str], offload: InProcess, method: str = KFOLD):
    """The distill stage run on a small table's one-trial teacher, without the student
    search, its fits through `offload`."""
    dataset, trees, search, _ = _teacher(method)
    node = SimpleNamespace(name="distill", params=DistillParams(
        students=students, search=False, multiplier=0.5))
    inputs = StageInputs({"teacher": search, "data": dataset, "trees": trees},
                         {"teacher": "search", "data": "ingest", "trees": "preprocess"})
    logged = []
    context = SimpleNamespace(settings=SimpleNamespace(seed=0), budget=Budget.unlimited(),
                              offload=offload, log=logged.append)
    return stage.run(node, inputs, context), logged


def test_every_student_of_a_distillation_is_fitted_where_the_offload_runs_it(elsewhere):
    elsewhere.calls.clear()
    result, logged = distilled(STUDENTS, elsewhere)
    driver = here()
    made_by = {s.name: s.fitted_by for s in result.students}
    assert any("finalists judged out of fold" in line for line in logged), logged
    assert any(s.kind == "blend" for s in result.students), logged
    assert all(by and by != driver for by in made_by.values()), made_by
    # the ladder's rungs, the reference, the blend, each fold's finalists and reference,
    # the refits: every one a call of the offload's
    called = {name for name, _, _ in elsewhere.calls}
    assert {"automl.distill.kinds.boosted.fit", "automl.distill.kinds.rules.fit",
            "automl.distill.kinds.dense.fit", "automl.distill.kinds.blend.fit",
            "automl.distill.classroom.reference_output", "automl.distill.refits.fold_output",
            "automl.students.families.default_xgboost_output",
            "automl.distill.refits.refitted_student"} <= called, called
    # on a cluster each task asks for one CPU (fit_cpus), and a fit for its memory
    assert {cpus for _, cpus, _ in elsewhere.calls} == {1}
    fitting = [(name, memory) for name, _, memory in elsewhere.calls if "blend" not in name]
    assert all(memory and memory > 0 for _, memory in fitting), fitting


def test_the_pruned_mlp_is_fine_tuned_where_the_offload_runs_it(elsewhere):
    result, _ = distilled(["mlp"], InProcess(), method=HOLDOUT)
    elsewhere.calls.clear()
    shrunk = list(shrunk_students(result, {"prune": True, "lowrank": True, "int8": True},
                                  Budget(2.0), 0, elsewhere))
    assert [name for name, _, _ in elsewhere.calls] == ["automl.distill.shrink.pruned"]
    assert elsewhere.calls[0][2] > 0  # the memory an MLP's fit on the tuning rows needs
    pruned = shrunk[0]
    assert pruned.name.endswith("+prune") and pruned.fitted_by not in (None, here())
    assert fitted_by(result.nets.get(pruned.name)) in (None, pruned.fitted_by)
    # low-rank and int8 rewrite the weights a student learned: its process is theirs
    parents = {s.name: s.fitted_by for s in [*result.students, *shrunk]}
    for student in shrunk[1:]:
        assert student.fitted_by == parents[student.name.rsplit("+", 1)[0]]


def test_memo_students_are_made_where_the_offload_runs_them(elsewhere):
    """Judged on rows the students learned from, so that every judged row recurs: a memo
    of the best gbdt students, built in the offload's process."""
    from dataclasses import replace

    from automl.distill.classroom import Classroom, Fits
    from automl.students.judged import Scoring
    from automl.distill.policy import student_policy
    from automl.distill.teaching import lessons
    from tests.unit.distill.test_teaching import AUC

    dataset, trees, search, _ = _teacher(HOLDOUT)
    lesson = lessons(dataset, trees, search, DistillParams(multiplier=0.0), seed=0)
    lesson = replace(lesson, valid=lesson.real.iloc[:100], Z_valid=lesson.Z[:100],
                     y_valid=lesson.y_real[:100], teacher_valid=lesson.targets[:100])
    scoring = Scoring(trees.branch, lesson.valid, lesson.y_valid, lesson.teacher_valid, AUC,
                      dataset.task, lesson.Z_valid)
    classroom = Classroom(lesson, scoring, dataset.schema, None, 0, None, 1)
    policy, fits = student_policy(), Fits(InProcess(), classroom)
    students = [fits.ladder(policy.ladder["gbdt"], rung, Budget.unlimited())
                for rung in policy.rounds(["gbdt"], synthetic=False)][:3]
    memo = policy.derived["memo"]
    specs = memo.code().candidates(students, classroom, None)
    elsewhere.calls.clear()
    made = [Fits(elsewhere, classroom).derived(memo, spec, Budget.unlimited()) for spec in specs]
    assert [s.name for s in made] == [base.name + "+memo" for base, _ in specs] and len(made) == 2
    assert all(s.kind == "memo" and s.fitted_by not in (None, here()) for s in made)
    assert {(name, cpus) for name, cpus, _ in elsewhere.calls} == {("automl.distill.kinds.memo.fit", 1)}


def test_a_local_run_fits_every_student_in_this_process_with_this_machines_cores():
    result, _ = distilled(["gbdt", "rules"], InProcess(), method=HOLDOUT)
    assert {s.fitted_by for s in result.students} == {here()}
    assert fit_cpus(InProcess()) == (os.cpu_count() or 1)
