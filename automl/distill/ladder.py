"""The ladder: the student sizes of search/students.yaml, fitted smallest first, round by
round, in the distill stage's share of time, so that a budget cut short still leaves a
student of every kind (`policy.StudentPolicy.rounds`).

One fit at a time, each through the run's offload (`classroom.Fits`) with its slice of
the budget decided just before it starts, as the time the fits before it took allows:
submitting a round at once would fix every slice up front.
"""

from __future__ import annotations

from collections.abc import Iterator

from automl.budget import Budget
from automl.distill.classroom import Fits
from automl.students.judged import Student
from automl.distill.policy import LadderKind, StudentPolicy
from automl.errors import first_line

MIN_STUDENT_SECONDS = 1.0  # a dense student's training time, at least
UNBUDGETED_STUDENT_SECONDS = 30.0  # ... and at most, in a run with no time budget


def ladder_students(policy: StudentPolicy, students: list[str], fits: Fits, budget: Budget,
                    label: str, log) -> Iterator[Student]:
    """A student for each rung of the kinds in `students` the budget allows; one whose
    fit or export fails is logged and skipped, never the stage. Each rung of a real_twin
    kind also learns from the real rows alone (named '-real'), where there are synthetic
    ones: they helped on some tables' validation parts and hurt on others
    (docs/results/2026-11-30-student-ladder.md)."""
    lesson = fits.classroom.lesson
    jobs = list(policy.rounds(students, synthetic=len(lesson.Z) > lesson.n_real))
    for done, rung in enumerate(jobs):
        if done and budget.expired():
            log(f"{label}: the ladder's budget is spent; {done} students tried")
            return
        kind = policy.ladder[rung.kind]
        try:
            yield fits.ladder(kind, rung, _time(kind, budget, len(jobs) - done))
        except Exception as err:  # noqa: BLE001 - one student is optional, the stage is not
            log(f"{label}: the {rung.kind} student {rung.describe()} failed and is left out: "
                f"{first_line(err) or type(err).__name__}")


def _time(kind: LadderKind, budget: Budget, jobs_left: int) -> Budget:
    """The ladder's budget for a kind that stops where it runs out; for one that trains
    until its budget ends (time: slice), a fair slice of what is left, at least
    MIN_STUDENT_SECONDS (a run without a time budget still caps it)."""
    if kind.time == "rest":
        return budget
    left = budget.remaining()
    if left is None:
        return Budget(UNBUDGETED_STUDENT_SECONDS)
    return Budget(max(MIN_STUDENT_SECONDS, left / max(jobs_left, 1)))
