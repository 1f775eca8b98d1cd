"""The distillation's lessons: the rows students learn from, labelled by the teacher, and
the rows they are judged on.

The judged rows must be new to every model the students learn from. Under kfold that
rules out the teacher's out-of-fold labels: a row's out-of-fold label comes from fold
models that learned from the other folds, judged rows included, and a student that
copies them copies those rows' labels (on cardiotocography students taught so scored log
loss 0.098 on the judged fold, where the teacher itself scored 0.117; taught as below,
0.117). So:
- kfold: the students are judged on one fold (JUDGE_FOLD), against the true labels and
  the teacher's out-of-fold output there; they learn from the other folds, labelled by
  the teacher's fold models that left the judged fold out (each member's model for that
  fold, with the ensemble's weights): a teacher that never saw it, as in a holdout run.
- holdout: the training rows get the teacher's output, and the students are judged on
  the validation part, which no model learned from.
Either way the learning rows' labels are the teacher's in-sample output, with
`hard_labels` of the true label mixed in. Synthetic rows (`augment`) are labelled by the
same teacher. A kfold teacher without fold models (refitted members, a stacker) keeps
the older scheme, out-of-fold labels on a random 20%, and the log says its judgement
flatters the students.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from automl.data.split import KFOLD, Dataset
from automl.distill.augment import augment
from automl.metrics import REGRESSION
from automl.preprocess.stage import BranchData
from automl.serving.ensemble import Predictor

JUDGE_FOLD = 0  # kfold: the fold the students are judged on
JUDGE_FRACTION = 0.2  # kfold without fold models: share of the training rows judged


@dataclass
class Lessons:
    real: pd.DataFrame  # model-ready real rows the students learn from
    Z: np.ndarray  # every row they learn from (real, then synthetic) through the trees branch
    targets: np.ndarray  # the teacher's output on those rows: probabilities or values
    valid: pd.DataFrame  # model-ready rows they are judged on
    Z_valid: np.ndarray
    y_valid: np.ndarray
    teacher_valid: np.ndarray  # the teacher's output on the judged rows
    labels: str  # where the real rows' labels came from, for the log and the card
    y_real: np.ndarray | None = None  # the true labels of the real rows (for the reference)
    judged_on: str = "validation part"  # the judged rows, in words
    fold: int | None = None  # kfold with fold models: the judged fold (see `crossfit`)
    # the judged rows' sample weights, which every score of a student is weighted by
    w_valid: np.ndarray | None = None

    @property
    def n_real(self) -> int:
        return len(self.real)


def lessons(dataset: Dataset, trees: BranchData, teacher_output, params, seed: int,
            fold: int = JUDGE_FOLD, synthetic: bool = True) -> Lessons:
    """The lessons judged on `fold` (kfold; holdout: the validation part), with synthetic
    rows unless `synthetic` is False."""
    teacher = teacher_output.predictor()
    kfold = dataset.validation.method == KFOLD
    fold_teacher = without_fold(teacher, fold) if kfold else None
    if kfold and fold_teacher is None:
        lesson = _out_of_fold(dataset, trees, scored_prediction(teacher_output), seed)
    else:
        teacher = fold_teacher or teacher
        lesson = _taught_in_sample(dataset, trees, teacher, params.hard_labels, fold)
    if synthetic:
        with_synthetic(lesson, teacher, trees.branch, params, seed)
    return lesson


def with_synthetic(lesson: Lessons, teacher: Predictor, branch, params, seed: int) -> None:
    """Add synthetic rows made from the lesson's real ones, labelled by `teacher`."""
    multiplier = synthetic_multiplier(params.multiplier, lesson.n_real, params.max_lesson_rows)
    synthetic = augment(lesson.real, params.augment, multiplier, seed=seed)
    if len(synthetic):
        lesson.Z = np.concatenate([lesson.Z, branch.transform(synthetic)])
        lesson.targets = np.concatenate([lesson.targets, teacher.predict_features(synthetic)])


def without_fold(teacher: Predictor, fold: int) -> Predictor | None:
    """The teacher as its members' fold models that left out `fold`, with the same
    weights; None where a member has no fold models (refitted) or a stacker combines them."""
    if teacher.stacker is not None or not all(hasattr(m.model, "models_") for m in teacher.members):
        return None
    members = [replace(m, model=m.model.models_[fold]) for m in teacher.members]
    return replace(teacher, members=members)  # its branches and temperature as they are


def _taught_in_sample(dataset: Dataset, trees: BranchData, teacher: Predictor,
                      hard_labels: float, fold: int) -> Lessons:
    """Learning rows labelled by `teacher`, which never saw the judged rows: under kfold
    the other folds and `fold`; under holdout the training and validation parts."""
    judged = None
    if dataset.validation.method == KFOLD:
        judged = fold
        learn, judge = dataset.validation.fold_rows(fold)
        real, valid = dataset.X_train.iloc[learn], dataset.X_train.iloc[judge]
        Z, Z_valid, y, y_valid = (trees.X_train[learn], trees.X_train[judge],
                                  dataset.y_train[learn], dataset.y_train[judge])
        w_valid = None if dataset.w_train is None else dataset.w_train[judge]
        which = f"fold {fold + 1} of {dataset.validation.n_folds}, {len(judge)} training rows"
        judged_on = f"judged fold ({which}; the teacher's score there is out of fold)"
        source = f"the teacher's fold models that left out the judged fold ({which})"
    else:
        real, valid, Z, Z_valid = dataset.X_train, dataset.X_valid, trees.X_train, trees.X_valid
        y, y_valid, w_valid = dataset.y_train, dataset.y_valid, dataset.w_valid
        judged_on, source = "validation part", "the teacher's in-sample output (holdout validation)"
    labels = mixed(teacher.predict_features(real), y, dataset.task, hard_labels)
    return Lessons(real, Z, labels, valid, Z_valid, y_valid, teacher.predict_features(valid),
                   source + (f", {hard_labels:.0%} true label" if hard_labels else ""), y,
                   judged_on, judged, w_valid)


def synthetic_multiplier(asked: float, n_real: int, max_rows: int) -> float:
    """`asked`, cut so that real and synthetic rows together stay within `max_rows`: on
    hotel_bookings (76,000 training rows) twice as many synthetic rows, labelled by a
    46 MB ensemble, took a 120 s run's distillation 68 s before its second student."""
    return max(0.0, min(asked, (max_rows - n_real) / max(n_real, 1)))


def mixed(teacher: np.ndarray, y: np.ndarray, task: str, share: float) -> np.ndarray:
    """The teacher's output with `share` of the true label mixed in (one-hot for classes)."""
    if not share:
        return teacher
    truth = y.astype(np.float64) if task == REGRESSION else np.eye(teacher.shape[1])[y]
    return (1 - share) * teacher + share * truth


def scored_prediction(teacher_output) -> np.ndarray:
    """The teacher's predictions on the rows it was scored on (out of fold, under kfold)."""
    blend = getattr(teacher_output, "valid_prediction", None)
    return teacher_output.best().valid_prediction if blend is None else blend


def _out_of_fold(dataset: Dataset, trees: BranchData, oof: np.ndarray, seed: int) -> Lessons:
    rows = np.arange(len(dataset.y_train))
    stratify = None if dataset.task == REGRESSION else dataset.y_train
    if stratify is not None and np.bincount(stratify).min() < 2:
        stratify = None
    learn, judge = train_test_split(rows, test_size=JUDGE_FRACTION, random_state=seed,
                                    stratify=stratify)
    X = dataset.X_train
    return Lessons(X.iloc[learn], trees.X_train[learn], oof[learn], X.iloc[judge],
                   trees.X_train[judge], dataset.y_train[judge], oof[judge],
                   "the teacher's out-of-fold output (kfold validation; the teacher has no "
                   "fold models, so the judged rows were seen by the labellers: a flattering judge)",
                   dataset.y_train[learn], "random 20% of the training rows",
                   w_valid=None if dataset.w_train is None else dataset.w_train[judge])


@dataclass
class Teaching:
    """What a lesson is made from: the rows, the teacher, the stage's params."""

    dataset: Dataset
    trees: BranchData
    teacher_output: object  # the ensemble's or the search's result
    params: object  # DistillParams
    seed: int
    lesson_seconds: float = 0.0  # what making one fold's lessons took (the teacher labelling)
