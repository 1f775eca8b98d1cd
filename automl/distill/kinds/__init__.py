"""The student-kind registry: a kind's name maps to the module search/students.yaml names
for it, imported on first use (Ray Tune's registries' pattern); an unknown kind is
refused naming the kinds there are.

A ladder kind's module has, at module level (a Ray worker imports it by name):
    check_rung(kind, params)        raises ValueError for a rung it cannot fit
    fit(classroom, rung, budget)    -> Student: fitted, measured (`Scoring`), with its
                                    recipe where the cross-fit can fit it again, and
                                    `fitted_by` = `automl.provenance.here()`
A derived kind's (made from the students before it):
    candidates(students, classroom, max_bytes) -> specs of what to make
    fit(classroom, spec, budget)    -> Student, or None where there is nothing to make
    none_made(classroom, max_bytes) -> the log line when none was made

A new student kind is one such module and one entry in search/students.yaml (its rungs,
its place in the round order); the `students:` param of a distill node may then list it.
"""

from __future__ import annotations

from types import ModuleType

from automl.distill.policy import FILE, StudentPolicy, student_policy
from automl.errors import ConfigError


def kind_module(kind: str, policy: StudentPolicy | None = None) -> ModuleType:
    """The module of student kind `kind` in `policy` (the shipped one by default)."""
    policy = policy or student_policy()
    if kind not in policy.kinds():
        check_students([kind], policy)
    return policy.kind(kind).code()


def kind_names() -> list[str]:
    return student_policy().kinds()


def check_students(students: list[str], policy: StudentPolicy | None = None) -> None:
    """A distill node's `students`, or one ConfigError saying each thing wrong with it."""
    problems = (policy or student_policy()).problems(students)
    if problems:
        raise ConfigError(f"param 'students' {students}: " + "; ".join(problems)
                          + f" (the kinds are those of search/{FILE})")
