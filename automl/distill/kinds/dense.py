"""Dense students (kinds linear, mlp): a network on the one-hot/standardised encoding of
the trees branch (`dense_student`); a rung is its hidden widths, none for a linear model.
A network trains until its budget (a fair slice of the ladder's) or its epochs end."""

from __future__ import annotations

from dataclasses import replace

from automl.budget import Budget
from automl.students.judged import Student, fit_recipe
from automl.provenance import here

MAX_WIDTH = 4096  # a student of several MB is no compact model
MAX_LAYERS = 4


def check_rung(kind, params: dict) -> None:
    if kind.family is None or not kind.dense:
        raise ValueError("a dense kind names its family, the cross-fit's (family: student_mlp), "
                         "and learns from the dense encoding (dense: true)")
    hidden = params.get("hidden")
    widths_ok = isinstance(hidden, list) and len(hidden) <= MAX_LAYERS \
        and all(isinstance(w, int) and 1 <= w <= MAX_WIDTH for w in hidden)
    if set(params) != {"hidden"} or not widths_ok \
            or len(set(hidden)) > 1:  # the family (a refit's recipe) has one width
        raise ValueError(f"a dense rung is {{hidden: [widths]}}, at most {MAX_LAYERS} layers "
                         f"of one width from 1 to {MAX_WIDTH} ([] for a linear model); got {params}")


def fit(classroom, rung, budget: Budget) -> Student:
    from automl.students.dense import fit_dense_student  # torch: only where one is fitted

    hidden = list(rung.params["hidden"])
    net = fit_dense_student(classroom.training, hidden, budget, seed=classroom.seed,
                            n_jobs=classroom.cpus)
    name = rung.kind if not hidden else f"{rung.kind}-" + "x".join(map(str, hidden))
    # the family's params: its hidden layers are `n_layers` of `width` units
    recipe = fit_recipe(rung.family, {"n_layers": len(hidden), "width": (hidden or [1])[0]})
    return replace(classroom.scoring.dense_student(net, name, rung.kind), recipe=recipe,
                   net=net, fitted_by=here())
