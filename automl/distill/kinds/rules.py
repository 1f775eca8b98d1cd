"""Rules students (kind rules): a shallow decision tree fitted to the teacher's output, also
written as readable if-then rules (and SQL); a rung is its depth. A tree grows on one CPU
and in well under a second, so the budget does not bound it."""

from __future__ import annotations

from dataclasses import replace

from automl.budget import Budget
from automl.students.judged import Student
from automl.students.soft import fit_tree_student, student_output
from automl.metrics import REGRESSION
from automl.onnx.rules import tree_rules
from automl.onnx.trees_graph import export_trees_model
from automl.provenance import here

MAX_DEPTH = 12  # past this a tree's rules are no longer read by a person


def check_rung(kind, params: dict) -> None:
    depth = params.get("max_depth")
    if set(params) != {"max_depth"} or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"a rules rung is {{max_depth: N}}, N a whole number from 1 to "
                         f"{MAX_DEPTH}; got {params}")


def fit(classroom, rung, budget: Budget) -> Student:
    depth, schema, scoring = rung.params["max_depth"], classroom.schema, classroom.scoring
    rows = classroom.rows(rung.synthetic)
    model = fit_tree_student(classroom.lesson.Z[rows], classroom.lesson.targets[rows],
                             schema.task, max_depth=depth, seed=classroom.seed)
    classes = None if schema.task == REGRESSION else schema.classes
    rules = tree_rules(model, scoring.branch, schema.target, classes)
    output = student_output(model, scoring.Z_valid, schema.task)
    student = scoring.student(f"{rung.kind}-depth{depth}", rung.kind, {"max_depth": depth},
                              output, export_trees_model(scoring.branch, model, scoring.valid),
                              rules)
    return replace(student, fitted_by=here())
