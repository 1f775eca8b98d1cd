"""A student fitted again from its recipe (`judged.fit_recipe`): what the cross-fit
(`crossfit`) runs through the run's offload (`Refits`), on each fold and on all the
training rows, one fit at a time as before the offload.

The functions here are the offload's tasks, so module-level: a Ray worker imports them
by name. They are handed a lesson (put in the object store once), the few settings of
the run a fit needs (`RefitSettings`, never the teacher or the table), and a wall-clock
budget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from automl.budget import Budget
from automl.students.blend import Blend
from automl.distill.classroom import fit_cpus
from automl.students.families import default_xgboost_output
from automl.students.judged import Scoring, Student
from automl.students.memo import memoized, remade_memo
from automl.distill.teaching import Lessons, Teaching
from automl.metrics import REGRESSION
from automl.models.registry import family_class
from automl.offload import InProcess
from automl.provenance import here


@dataclass(frozen=True)
class RefitSettings:
    task: str
    n_classes: int
    categorical: tuple[int, ...]  # the trees branch's categorical columns
    seed: int
    cpus: int  # threads each fit uses, the CPUs its task asks for (`classroom.fit_cpus`)


class Refits:
    """The cross-fit's fits through the run's `offload`: the finalists' on a fold, the
    reference's, the refits on all rows, the memos made again."""

    def __init__(self, teaching: Teaching, offload: InProcess):
        schema = teaching.dataset.schema
        self.offload = offload
        self.settings = RefitSettings(schema.task, len(schema.classes or []),
                                      tuple(teaching.trees.branch.categorical), teaching.seed,
                                      fit_cpus(offload))

    def fold_outputs(self, finalists: list[Student], lesson: Lessons,
                     budget: Budget) -> list[np.ndarray]:
        """Each finalist fitted on a fold's lesson, predicting its judged rows, in turn."""
        handle = self.offload.put(lesson)
        return [self.offload.call(fold_output, s.recipe, handle, self.settings, budget,
                                  cpus=self.settings.cpus, memory=self._memory(s.recipe, lesson))
                for s in finalists]

    def reference(self, X: np.ndarray, y: np.ndarray, X_held: np.ndarray,
                  budget: Budget) -> np.ndarray:
        """xgboost's defaults learning (X, y), predicting X_held."""
        memory = family_class("xgboost").fit_memory.need(len(X), X.shape[1])
        return self.offload.call(default_xgboost_output, X, y, X_held, self.settings.task,
                                 budget, self.settings.seed, n_jobs=self.settings.cpus,
                                 cpus=self.settings.cpus, memory=memory)

    def refit(self, student: Student, lesson: Lessons, scoring: Scoring,
              budget: Budget) -> Student:
        """`student` fitted again on `lesson` (`refitted_student`)."""
        return self.offload.call(refitted_student, student, self.offload.put(lesson),
                                 self.settings, self.offload.put(scoring), budget,
                                 cpus=self.settings.cpus,
                                 memory=self._memory(student.recipe, lesson))

    def remade_memos(self, memos: list[Student], real, Z: np.ndarray, teacher: np.ndarray,
                     scoring: Scoring) -> list[Student]:
        """Each memo student's memo made again from these rows (`memo.remade_memo`); no
        model is trained, so each task asks for one CPU."""
        shared = [self.offload.put(value) for value in (real, Z, teacher, scoring)]
        return self.offload.map(remade_memo, [(memo, *shared) for memo in memos], cpus=1)

    def _memory(self, recipe: dict, lesson: Lessons) -> int:
        rows = len(lesson.Z) if recipe["synthetic"] else lesson.n_real
        return recipe_memory(recipe, rows, lesson.Z.shape[1], self.settings)


def fitted(recipe: dict, lesson: Lessons, settings: RefitSettings, budget: Budget):
    """The recipe's family fitted on the lesson (its real rows only, where it says so);
    a blend's two parts each by their own recipe; a memo's base, then its memo of the
    lesson's real rows."""
    if recipe["family"] == "memo":
        base = fitted(recipe["base"], lesson, settings, budget)
        return memoized(base, lesson.Z[:lesson.n_real], lesson.targets[:lesson.n_real],
                        recipe["max_rows"])
    if recipe["family"] == "blend":
        trees, mlp = (fitted(part, lesson, settings, budget) for part in recipe["parts"])
        return Blend(trees, mlp, recipe["tree_weight"])
    family = family_class(recipe["family"])
    params = {k: v for k, v in recipe["params"].items() if k in family.allowed_params}
    model = family(task=settings.task, n_classes=settings.n_classes, params=params,
                   categorical=settings.categorical, seed=settings.seed, n_jobs=settings.cpus)
    rows = slice(None) if recipe["synthetic"] else slice(lesson.n_real)
    valid = (lesson.Z_valid, lesson.teacher_valid) if len(lesson.Z_valid) else (None, None)
    return model.fit(lesson.Z[rows], lesson.targets[rows], *valid, budget=budget)


def fold_output(recipe: dict, lesson: Lessons, settings: RefitSettings,
                budget: Budget) -> np.ndarray:
    """The recipe fitted on a fold's lesson, predicting the fold's judged rows."""
    return fitted(recipe, lesson, settings, budget).predict_raw(lesson.Z_valid)


def refitted_student(student: Student, lesson: Lessons, settings: RefitSettings,
                     scoring: Scoring, budget: Budget) -> Student:
    """`student` fitted again on `lesson` (every training row), measured as a student
    (its file is this model's), keeping the scores it was judged by out of fold."""
    model = fitted(student.recipe, lesson, settings, budget)
    made = scoring.student(student.name, student.kind, student.params,
                           model.predict_raw(scoring.Z_valid),
                           model.onnx_bytes(scoring.branch, scoring.valid))
    return replace(made, score=student.score, fidelity=student.fidelity,
                   params={**student.params, "refit": "all training rows"},
                   recipe=student.recipe, fitted_by=here())


def recipe_memory(recipe: dict, rows: int, columns: int, settings: RefitSettings) -> int:
    """Bytes a recipe's fit asks its node for: its family's measured need on the rows it
    holds (a classifier learning soft rows repeats each row once per class), both parts'
    for a blend, the base's for a memo."""
    if recipe["family"] == "memo":
        return recipe_memory(recipe["base"], rows, columns, settings)
    if recipe["family"] == "blend":
        return sum(recipe_memory(part, rows, columns, settings) for part in recipe["parts"])
    held = rows if settings.task == REGRESSION else rows * max(settings.n_classes, 1)
    return family_class(recipe["family"]).fit_memory.need(held, columns)
