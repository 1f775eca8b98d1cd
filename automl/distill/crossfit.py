"""Cross-fitted judging (kfold runs): the distillation's finalists scored on every fold.

One judged fold is few rows on a small table (cardiotocography: 340, credit_g: 160),
and the best of some fifteen students there is partly luck: at commit b06e051
cardiotocography's chosen 60x4 gbdt matched the teacher on its judged fold (log loss
0.1189 against 0.1192) and fell 0.02 behind it on the test part. So after the ladder
and the student search (judged on fold 1), the FINALISTS best students that can be
fitted again (their `recipe`) are, fold by fold: each fold's students learn from the
other folds, labelled by the teacher's fold models that left it out (with synthetic rows
labelled by the same, for a recipe that uses them), and predict that fold. Their
out-of-fold output over the training rows is scored against the teacher's out-of-fold
output there, and so is the reference, xgboost's defaults fitted fold by fold on the
true labels. Folds that the budget does not reach are left out of all three alike.

Then each finalist is fitted once more on all the training rows, labelled as the judged
students' rows were, by a teacher that learned from them (the whole teacher; synthetic
rows too), and that model is the one exported; where time runs out first, a finalist
keeps its fold-1 model. The other students stay on the Pareto
front with their fold-1 scores, marked, and the choice passes over them; so do the
pruned and int8 MLPs the compress stage makes from the best of them (see `shrink`).

Every fit here (the finalists' on each fold, the reference's, the refits, the memos made
again) runs through the run's offload, one at a time (`refits.Refits`); the teacher's
labelling of each fold's rows stays with the driver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from automl.budget import Budget
from automl.students.judged import DistillResult, Student, describe, fidelity
from automl.distill.refits import Refits
from automl.distill.teaching import (Lessons, Teaching, lessons, mixed, scored_prediction,
                                     synthetic_multiplier, with_synthetic)
from automl.errors import first_line
from automl.metrics import get_metric

FINALISTS = 3
REFIT_GROWTH = 1.3  # the finalists' fits on all rows take about this times one fold's


@dataclass
class Judged:
    """Out-of-fold outputs over the training rows, filled fold by fold."""

    rows: np.ndarray  # bool: the rows of the folds done
    students: dict[str, np.ndarray]  # finalist name -> its output
    reference: np.ndarray | None  # xgboost's defaults (None: it failed on some fold)


def cross_fit(result: DistillResult, teaching: Teaching, budget: Budget, label: str,
              context) -> DistillResult:
    """`result` with its finalists judged on every fold the budget reaches (see above);
    `result` as it was when no fold beyond the first is reached."""
    finalists = sorted((s for s in result.students if s.recipe is not None),
                       key=lambda s: -s.score)[:FINALISTS]
    dataset = teaching.dataset
    if not finalists or dataset.validation.n_folds < 2:
        return result
    started, left = time.time(), budget.remaining()
    context.log(f"{label}: judging {', '.join(s.name for s in finalists)} on every fold"
                + ("" if left is None else f" ({left:.1f}s left)"))
    # a memo finalist's memo made again from every row (see `_memos_remade`) comes before
    # more folds: on wine_quality it kept 0.72 of the gain where the fold's memo kept 0.33
    keep = _memo_seconds(finalists, teaching, teaching.lesson_seconds)
    judging = budget.until(1.0, keep=keep) if keep else budget
    judged, costs = _judge_folds(finalists, teaching, judging, label, context)
    folds_done = int(np.unique(dataset.validation.folds[judged.rows]).size)
    if folds_done < 2:
        context.log(f"{label}: no time to judge the finalists on a second fold; "
                    "the choice stays on fold 1")
        return result
    metric = get_metric(result.metric, dataset.task)
    rows, y = judged.rows, dataset.y_train[judged.rows]
    w = None if dataset.w_train is None else dataset.w_train[rows]
    oof = scored_prediction(teaching.teacher_output)[rows]
    teacher_score = metric.score(y, oof, w)
    judged_on = (f"out of fold over {rows.sum():,} training rows ({folds_done} of "
                 f"{dataset.validation.n_folds} folds; on each, students taught by the "
                 "teacher's fold models that left it out, against the teacher's out-of-fold output)")
    students = [replace(s, score=metric.score(y, judged.students[s.name][rows], w),
                        fidelity=fidelity(judged.students[s.name][rows], oof, dataset.task),
                        judged_on=None) for s in finalists]
    students = _refitted(students, result, teaching, budget, costs, label, context)
    for student in students:
        context.log(f"{label}: {describe(student, metric, teacher_score)}, out of fold")
    chosen_ids = {id(s) for s in finalists}
    others = [replace(s, judged_on="fold 1 only (not a finalist)")
              for s in result.students if id(s) not in chosen_ids]
    reference = None if judged.reference is None else metric.score(y, judged.reference[rows], w)
    context.log(f"{label}: the {len(finalists)} finalists judged {judged_on}, in "
                f"{time.time() - started:.1f}s: teacher {metric.name} "
                f"{metric.from_score(teacher_score):.4f}"
                + (", no reference (xgboost's defaults failed on a fold)" if reference is None
                   else f", reference {metric.from_score(reference):.4f}"))
    # the shrinking in the compress stage works on a net judged where its students will be
    nets = {name: net for name, net in result.nets.items() if name not in judged.students}
    return replace(result, teacher_score=teacher_score, students=students + others,
                   nets=nets, reference_score=reference, judged_on=judged_on)


@dataclass
class Costs:
    """Seconds one fold takes: making its lessons (the fold teacher labelling its rows,
    most of it on a large table) and fitting the finalists; the screening's lesson time
    stands in until a fold is measured."""

    lesson: float
    fits: float

    def fold(self) -> float:
        return self.lesson + self.fits

    def refit(self, n_folds: int) -> float:
        """The whole teacher labels every row (all its fold models: n_folds lessons' worth),
        then the finalists learn from a quarter more rows than a fold's."""
        return n_folds * self.lesson + REFIT_GROWTH * self.fits


def _judge_folds(finalists: list[Student], teaching: Teaching, budget: Budget, label: str,
                 context) -> tuple[Judged, Costs]:
    """The finalists' and the reference's out-of-fold outputs, fold 1 from the screening,
    then each further fold while the budget leaves time for it (judging every fold comes
    before the refits)."""
    dataset = teaching.dataset
    folds, n = dataset.validation.folds, len(dataset.y_train)
    first = folds == 0
    outputs = {s.name: _empty(s.valid_output, n) for s in finalists}
    for s in finalists:
        outputs[s.name][first] = s.valid_output
    judged = Judged(first.copy(), outputs, None)
    refits = Refits(teaching, context.offload)
    judged.reference = _reference_fold(refits, teaching, 0, None, n, budget)
    synthetic = any(s.recipe["synthetic"] for s in finalists)
    costs = Costs(teaching.lesson_seconds, teaching.lesson_seconds)
    for fold in range(1, dataset.validation.n_folds):
        left = budget.remaining()
        if left is not None and left < costs.fold():
            break
        started = time.time()
        lesson = lessons(dataset, teaching.trees, teaching.teacher_output, teaching.params,
                         teaching.seed, fold=fold, synthetic=synthetic)
        taught = time.time()
        held = folds == fold
        try:
            fold_outputs = refits.fold_outputs(finalists, lesson, budget)
            for student, output in zip(finalists, fold_outputs):
                outputs[student.name][held] = output
        except Exception as err:  # noqa: BLE001 - a finalist that cannot be refitted ends the cross-fit
            context.log(f"{label}: cross-fit stopped on fold {fold + 1}: "
                        f"{first_line(err) or type(err).__name__}")
            break
        reference = _reference_fold(refits, teaching, fold, judged.reference, n, budget)
        if budget.expired():  # the fold's fits were cut short: not judged on it
            break
        judged.reference = reference
        judged.rows |= held
        costs = Costs(taught - started, time.time() - taught)
    return judged, costs


def _refitted(students: list[Student], result: DistillResult, teaching: Teaching,
              budget: Budget, costs: Costs, label: str, context) -> list[Student]:
    """Each finalist fitted on all the training rows, best first, where the time left
    covers it; otherwise they keep their fold-1 models (logged)."""
    dataset, scoring = teaching.dataset, result.scoring
    left, needed = budget.remaining(), costs.refit(dataset.validation.n_folds)
    if left is not None and left < needed:
        context.log(f"{label}: no time to refit the finalists on all rows ({left:.1f}s left, "
                    f"about {needed:.1f}s needed); they keep their models of the other folds")
        return _memos_remade(students, teaching, scoring, budget, costs, label, context)
    everything = _all_rows(teaching, any(s.recipe["synthetic"] for s in students))
    refits, refitted = Refits(teaching, context.offload), []
    for student in sorted(students, key=lambda s: -s.score):
        if budget.expired():
            context.log(f"{label}: no time to refit {student.name} on all rows; "
                        "it keeps its model of the other folds")
            refitted.append(student)
            continue
        refitted.append(refits.refit(student, everything, scoring, Budget(budget.remaining())))
    return refitted


def _memos_remade(students: list[Student], teaching: Teaching, scoring, budget: Budget,
                  costs: Costs, label: str, context) -> list[Student]:
    """Memo finalists that keep their fold models still get their memo made from every
    training row by the whole teacher, where the time left covers its labelling of the
    real rows: a fold's memo misses the rows of its judged fold, and its teacher is one
    fold's models where the exported ensemble averages all of them (`memo`)."""
    memos = [s for s in students if s.kind == "memo" and s.base is not None]
    if not memos:
        return students
    dataset = teaching.dataset
    left, needed = budget.remaining(), _memo_seconds(students, teaching, costs.lesson)
    if left is not None and left < needed:
        context.log(f"{label}: no time to make the memos again from all rows either "
                    f"({left:.1f}s left, about {needed:.1f}s needed)")
        return students
    labels = _whole_teacher_labels(teaching)
    made = Refits(teaching, context.offload).remade_memos(memos, dataset.X_train,
                                                         teaching.trees.X_train, labels, scoring)
    remade = {id(s): memo for s, memo in zip(memos, made)}
    context.log(f"{label}: the memos of {', '.join(s.name for s in memos)} made again from "
                f"all {len(dataset.y_train):,} training rows by the whole teacher")
    return [remade.get(id(s), s) for s in students]


def _memo_seconds(students: list[Student], teaching: Teaching, lesson_seconds: float) -> float:
    """About how long the whole teacher takes to label every real row (n_folds lessons'
    worth, less their synthetic rows), where some student is a memo; else 0."""
    if not any(s.kind == "memo" for s in students):
        return 0.0
    dataset, params = teaching.dataset, teaching.params
    synthetic = any(s.recipe["synthetic"] for s in students)
    multiplier = synthetic_multiplier(params.multiplier, len(dataset.y_train), params.max_lesson_rows)
    return dataset.validation.n_folds * lesson_seconds / (1 + multiplier if synthetic else 1)


def _whole_teacher_labels(teaching: Teaching) -> np.ndarray:
    """The whole teacher's output on every training row, hard labels mixed in as the
    params say."""
    dataset = teaching.dataset
    teacher = teaching.teacher_output.predictor()
    return mixed(teacher.predict_features(dataset.X_train), dataset.y_train, dataset.task,
                 teaching.params.hard_labels)


def _all_rows(teaching: Teaching, synthetic: bool) -> Lessons:
    """Every training row, labelled as the judged students' rows were: by a teacher that
    learned from them, here the whole one (hard labels mixed in as the params say), and
    synthetic rows by the same. Not its out-of-fold output: a wine_quality student
    taught that way scored RMSE 0.662 on the test part, where the students it was judged
    by (taught the fold models' in-sample output) scored 0.642 on two folds."""
    dataset, trees, params = teaching.dataset, teaching.trees, teaching.params
    labels = _whole_teacher_labels(teaching)
    lesson = Lessons(dataset.X_train, trees.X_train, labels, dataset.X_train[:0],
                     trees.X_train[:0], dataset.y_train[:0], labels[:0], "the whole teacher",
                     dataset.y_train)
    if synthetic:
        with_synthetic(lesson, teaching.teacher_output.predictor(), trees.branch, params,
                       teaching.seed)
    return lesson


def _reference_fold(refits: Refits, teaching: Teaching, fold: int,
                    reference: np.ndarray | None, n: int, budget: Budget) -> np.ndarray | None:
    """`reference` with xgboost's defaults' output on `fold`, fitted on the other folds'
    true labels; None once any fold failed (a class missing from the learning rows)."""
    if fold and reference is None:
        return None
    dataset, trees = teaching.dataset, teaching.trees
    learn, held = dataset.validation.fold_rows(fold)
    try:
        output = refits.reference(trees.X_train[learn], dataset.y_train[learn],
                                  trees.X_train[held], budget)
    except Exception:  # noqa: BLE001 - the reference informs a constraint, no more
        return None
    if reference is None:
        reference = _empty(output, n)
    reference[held] = output
    return reference


def _empty(like: np.ndarray, n: int) -> np.ndarray:
    return np.full((n,) + like.shape[1:], np.nan)
