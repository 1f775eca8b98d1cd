"""Blend students (kind blend, derived): the best tree student and MLP student averaged in
one graph, where that beats both its parts on the judged rows (`automl.students.blend`).
The pair and its weight are chosen from their outputs, which is no fit; the task makes
and measures the graph."""

from __future__ import annotations

from dataclasses import replace

from automl.budget import Budget
from automl.students.blend import best_pair, blend_student
from automl.students.judged import Student
from automl.provenance import here


def candidates(students: list[Student], classroom, max_bytes: float | None) -> list[tuple]:
    """The best pair, (tree student, MLP student, tree weight), or none."""
    nets = {s.name: s.net for s in students if s.net is not None}
    best = best_pair(students, nets, classroom.scoring, max_bytes)
    return [] if best is None else [best]


def fit(classroom, spec: tuple, budget: Budget) -> Student:
    tree, mlp, weight = spec
    return replace(blend_student(tree, mlp, mlp.net, weight, classroom.scoring), fitted_by=here())


def none_made(classroom, max_bytes: float | None) -> str:
    return ("no blend of a tree and an MLP student beat both its parts"
            + ("" if max_bytes is None else f" within {max_bytes / 1024:.0f} KB"))
