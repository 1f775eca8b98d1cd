"""The ladder: a fixed set of student sizes, fitted smallest first, round by round, in the
distill stage's share of time, so that a budget cut short still leaves a student of
every kind.

Rungs: (trees, depth or leaves, learning rate[, the family's other params]) for the
boosted students (`gbdt`: xgboost, `lgbm`: LightGBM), a depth for `rules` (a shallow
tree, also written as readable rules), hidden widths for the dense students (`linear`
has none, `mlp`). The tuned gbdt and MLP of the student search cover the larger end.
"""

from __future__ import annotations

import os
from dataclasses import replace

from automl.budget import Budget
from automl.data.schema import Schema
from automl.distill.dense_student import fit_dense_student
from automl.distill.families import StudentGBDT, StudentLGBM
from automl.distill.judged import Scoring, Student, fit_recipe
from automl.distill.students import fit_tree_student, student_output
from automl.errors import first_line
from automl.metrics import REGRESSION
from automl.onnx.rules import tree_rules
from automl.onnx.trees_graph import export_trees_model

# Smallest first. The largest gbdt, at a rate a full-size GBDT would use, stays near 1 MB
# in ONNX; the size aim cuts the LightGBM students' trees (see StudentLGBM). Each rung
# won its place in A/B runs: docs/results/2026-11-30-student-ladder.md.
LADDER = {"gbdt": [(20, 3, 0.3), (60, 4, 0.3), (150, 5, 0.3), (600, 6, 0.3)],
          "lgbm": [(600, 31, 0.2), (1200, 31, 0.1, {"min_child_samples": 5})],
          "rules": [3, 4, 5], "linear": [()], "mlp": [(32,), (128, 128)]}
SHORT_NAMES = {"min_child_samples": "leaf"}  # a rung's extra params, in its student's name
DENSE = ("linear", "mlp")
BOOSTED = {"gbdt": StudentGBDT, "lgbm": StudentLGBM}  # (trees, shape, rate) rungs; shape: depth / leaves
# Within a round, the LightGBM student last: it is the slowest, and first it left the
# others no time; it has no `-real` twin, which never beat it
# (docs/results/2026-11-30-student-ladder.md)
KIND_ORDER = ("gbdt", "rules", "linear", "mlp", "lgbm")
MIN_STUDENT_SECONDS = 1.0  # a dense student's training time, at least
UNBUDGETED_STUDENT_SECONDS = 30.0  # ... and at most, in a run with no time budget


def ladder_students(node, kinds, X, target, n_real: int, training, scoring: Scoring,
                    schema: Schema, max_nodes: int | None, budget: Budget, context):
    """(student, its DenseNet or None) for each size of LADDER the budget allows; a
    student whose fit or export fails is logged and skipped, never the stage. Each gbdt
    rung also learns from the real rows alone (named '-real'), where there are synthetic
    ones: they helped on some tables' validation parts and hurt on others (README)."""
    jobs = list(rungs(kinds, synthetic=len(X) > n_real))
    for done, (kind, size, real_only) in enumerate(jobs):
        if done and budget.expired():
            context.log(f"{node.name}: the ladder's budget is spent; {done} students tried")
            return
        try:
            if kind in DENSE:
                net = fit_dense_student(training, list(size), _slice(budget, len(jobs) - done),
                                        seed=context.settings.seed)
                name = "linear" if kind == "linear" else "mlp-" + "x".join(map(str, size))
                recipe = fit_recipe("student_mlp", {"n_layers": len(size), "width": (size or (1,))[0]})
                yield replace(scoring.dense_student(net, name, kind), recipe=recipe), net
            else:
                rows = slice(n_real) if real_only else slice(None)
                student = tree_student(kind, size, X[rows], target[rows], scoring, schema,
                                       context.settings.seed, max_nodes, budget)
                if real_only:
                    student = replace(student, name=student.name + "-real",
                                      recipe={**student.recipe, "synthetic": False})
                yield student, None
        except Exception as err:  # noqa: BLE001 - one student is optional, the stage is not
            context.log(f"{node.name}: the {kind} student {size} failed and is left out: "
                        f"{first_line(err) or type(err).__name__}")


def _slice(budget: Budget, jobs_left: int) -> Budget:
    """The next trainable student's time: a fair slice of what is left, at least
    MIN_STUDENT_SECONDS (a run without a time budget still caps it)."""
    left = budget.remaining()
    if left is None:
        return Budget(UNBUDGETED_STUDENT_SECONDS)
    return Budget(max(MIN_STUDENT_SECONDS, left / max(jobs_left, 1)))


def rungs(kinds: list[str], synthetic: bool = False):
    """(kind, size, real rows only) round by round, the smallest size of each kind first:
    a budget that runs out mid-ladder still leaves one student of every kind, the
    LightGBM one last in its round (KIND_ORDER). With `synthetic` rows in the lessons,
    each gbdt rung comes twice: with them, and without."""
    kinds = sorted((k for k in kinds if k in LADDER), key=KIND_ORDER.index)  # not "blend": made of these
    for rank in range(max(len(LADDER[kind]) for kind in kinds)):
        for kind in (kind for kind in kinds if rank < len(LADDER[kind])):
            yield kind, LADDER[kind][rank], False
            if kind == "gbdt" and synthetic:
                yield kind, LADDER[kind][rank], True


def tree_student(kind, size, X, target, scoring: Scoring, schema: Schema, seed: int,
                 max_nodes: int | None = None, budget: Budget | None = None) -> Student:
    """A rung of the ladder. A boosted one stops adding trees when `budget` (the ladder's)
    runs out, and is kept with the trees it has (1,200 LightGBM trees took 23 s on
    hotel_bookings' 190,000 soft rows in the stage, past the ladder's end)."""
    task, branch, valid = schema.task, scoring.branch, scoring.valid
    if kind in BOOSTED:
        n_trees, shape, rate, *rest = size
        extra = rest[0] if rest else {}  # the family's other params, where a rung sets some
        family = BOOSTED[kind]
        params = {"n_estimators": n_trees, family.shape_param: shape, "learning_rate": rate,
                  **extra}
        student = family(task=task, n_classes=len(schema.classes or []),
                         params={**params, **({"max_nodes": max_nodes} if max_nodes else {})},
                         seed=seed, n_jobs=os.cpu_count() or 1)  # the stage has the machine
        student.fit(X, target, budget=budget)
        kept = student.size_params()["n_estimators"]  # fewer, where max_nodes or time cut them
        # two rungs cut to the same size differ by their rate, which the name then says
        name = f"{kind}-{n_trees}x{shape}" if kept == n_trees else f"{kind}-{kept}x{shape}-lr{rate:g}"
        name += "".join(f"-{SHORT_NAMES[key]}{value:g}" for key, value in extra.items())
        params["n_estimators"] = kept
        return replace(scoring.student(name, kind, params, student.predict_raw(scoring.Z_valid),
                                       student.onnx_bytes(branch, valid)),
                       recipe=fit_recipe(family.key, params))
    model = fit_tree_student(X, target, task, max_depth=size, seed=seed)
    rules = tree_rules(model, branch, schema.target, None if task == REGRESSION else schema.classes)
    output = student_output(model, scoring.Z_valid, task)
    return scoring.student(f"rules-depth{size}", kind, {"max_depth": size}, output,
                           export_trees_model(branch, model, valid), rules)
