"""Boosted students (kinds gbdt: xgboost, lgbm: LightGBM): a rung is (n_estimators, the
family's shape param: depth or leaves, learning_rate[, the family's other params]).

A fit stops adding trees when its budget (the ladder's) runs out, or its trees reach the
size aim, and is kept with the trees it has (1,200 LightGBM trees took 23 s on
hotel_bookings' 190,000 soft rows in the stage, past the ladder's end).
"""

from __future__ import annotations

from dataclasses import replace

from automl.budget import Budget
from automl.students import families  # noqa: F401 - registers the student families
from automl.students.judged import Student, fit_recipe
from automl.models.registry import family_class
from automl.provenance import here

SIZE_PARAMS = ("n_estimators", "learning_rate")  # with the family's shape_param
SHORT_NAMES = {"min_child_samples": "leaf"}  # a rung's other params, in its student's name
MIN_SHAPE = {"num_leaves": 2}  # a tree of one leaf learns nothing; a depth of 1 is a stump


def check_rung(kind, params: dict) -> None:
    if kind.family is None:
        raise ValueError("a boosted kind names its family (family: student_gbdt, ...)")
    family = family_class(kind.family)
    needed = (*SIZE_PARAMS, family.shape_param)
    missing = [key for key in needed if key not in params]
    allowed = [p for p in family.allowed_params if p != "max_nodes"]  # the size aim's
    unknown = sorted(set(params) - set(allowed))
    if missing:
        raise ValueError(f"a {family.key} rung needs {', '.join(needed)}; "
                         f"missing {', '.join(missing)}")
    if unknown:
        raise ValueError(f"{family.key} has no param {', '.join(map(repr, unknown))} a rung "
                         f"may set; its params are {', '.join(allowed)}")
    shape = family.shape_param
    for key, low in (("n_estimators", 1), (shape, MIN_SHAPE.get(shape, 1))):
        if not (isinstance(params[key], int) and params[key] >= low):
            raise ValueError(f"{key} must be a whole number >= {low}, got {params[key]!r}")
    rate = params["learning_rate"]
    if not (isinstance(rate, (int, float)) and 0 < rate <= 1):
        raise ValueError(f"learning_rate must be in (0, 1], got {rate!r}")


def fit(classroom, rung, budget: Budget) -> Student:
    """The rung's student on the lesson rows it learns from (with the synthetic ones, or
    a -real twin's real rows alone)."""
    family, scoring, schema = family_class(rung.family), classroom.scoring, classroom.schema
    n_trees, shape = rung.params["n_estimators"], rung.params[family.shape_param]
    rate = rung.params["learning_rate"]
    extra = {k: v for k, v in rung.params.items() if k not in (*SIZE_PARAMS, family.shape_param)}
    params = {"n_estimators": n_trees, family.shape_param: shape, "learning_rate": rate, **extra}
    aim = {"max_nodes": classroom.max_nodes} if classroom.max_nodes else {}
    model = family(task=schema.task, n_classes=classroom.n_classes, params={**params, **aim},
                   seed=classroom.seed, n_jobs=classroom.cpus)
    rows = classroom.rows(rung.synthetic)
    model.fit(classroom.lesson.Z[rows], classroom.lesson.targets[rows], budget=budget)
    kept = model.size_params()["n_estimators"]  # fewer, where max_nodes or time cut them
    params["n_estimators"] = kept
    student = scoring.student(_name(rung.kind, n_trees, kept, shape, rate, extra), rung.kind,
                              params, model.predict_raw(scoring.Z_valid),
                              model.onnx_bytes(scoring.branch, scoring.valid))
    return replace(student, name=student.name + ("" if rung.synthetic else "-real"),
                   recipe=fit_recipe(family.key, params, synthetic=rung.synthetic),
                   fitted_by=here())


def _name(kind: str, n_trees: int, kept: int, shape, rate: float, extra: dict) -> str:
    # two rungs cut to the same size differ by their rate, which the name then says
    name = f"{kind}-{n_trees}x{shape}" if kept == n_trees else f"{kind}-{kept}x{shape}-lr{rate:g}"
    return name + "".join(f"-{SHORT_NAMES.get(key, key)}{value:g}" for key, value in extra.items())
