"""Memo students (kind memo, derived): the best tree and blend students, each with the
teacher's output on the training rows that recur, looked up in the same graph
(`automl.students.memo`), where the judged rows repeat some training row. The task builds
the memo from the lesson's real rows (the base student's graph run over them)."""

from __future__ import annotations

from dataclasses import replace

from automl.budget import Budget
from automl.students.judged import Student
from automl.students.memo import MIN_REPEATS, memo_bases, memo_of, repeat_share
from automl.provenance import here


def candidates(students: list[Student], classroom, max_bytes: float | None) -> list[tuple]:
    """(base student, memo rows that fit beside it) for each base."""
    return memo_bases(students, classroom.lesson, classroom.scoring, max_bytes)


def fit(classroom, spec: tuple, budget: Budget) -> Student | None:
    base, max_rows = spec
    student = memo_of(base, max_rows, classroom.lesson, classroom.scoring)
    return None if student is None else replace(student, fitted_by=here())


def none_made(classroom, max_bytes: float | None) -> str:
    lesson = classroom.lesson
    return (f"no memo student ({repeat_share(lesson.Z_valid, lesson.Z[:lesson.n_real]):.1%} "
            f"of the judged rows repeat a training row, under {MIN_REPEATS:.0%}; "
            "or no tree student has room for one)")
