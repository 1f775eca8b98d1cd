"""The distillation's lessons: the rows students learn from, labelled by the teacher, and
the rows they are judged on.

Labels on the real training rows must come from a teacher that did not learn from them,
or students learn an over-confident teacher (near-pure forests memorise their rows):
- kfold: the teacher's out-of-fold predictions (each row predicted by fold models that
  never saw it). A stratified part of the training rows is set aside to judge the
  students, against the true labels and against the teacher's out-of-fold output there.
- holdout: the search had no folds, so the training rows get the teacher's in-sample
  output (with `hard_labels` of the true label mixed in), and the students are judged on
  the validation part.
Synthetic rows (`augment`) are new to every model, so the whole teacher labels them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from automl.compress.augment import augment
from automl.data.split import KFOLD, Dataset
from automl.metrics import REGRESSION
from automl.preprocess.stage import BranchData

JUDGE_FRACTION = 0.2  # kfold: share of the training rows set aside to judge the students


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

    @property
    def n_real(self) -> int:
        return len(self.real)


def lessons(dataset: Dataset, trees: BranchData, teacher_output, params, seed: int) -> Lessons:
    teacher = teacher_output.predictor()
    if dataset.validation.method == KFOLD:
        lesson = _out_of_fold(dataset, trees, _scored_prediction(teacher_output), seed)
    else:
        in_sample = teacher.predict_features(dataset.X_train)
        labels = _mixed(in_sample, dataset.y_train, dataset.task, params.hard_labels)
        lesson = Lessons(dataset.X_train, trees.X_train, labels, dataset.X_valid, trees.X_valid,
                         dataset.y_valid, teacher.predict_features(dataset.X_valid),
                         "the teacher's in-sample output (holdout validation)"
                         + (f", {params.hard_labels:.0%} true label" if params.hard_labels else ""))
    multiplier = synthetic_multiplier(params.multiplier, lesson.n_real, params.max_lesson_rows)
    synthetic = augment(lesson.real, params.augment, multiplier, seed=seed)
    if len(synthetic):
        lesson.Z = np.concatenate([lesson.Z, trees.branch.transform(synthetic)])
        lesson.targets = np.concatenate([lesson.targets, teacher.predict_features(synthetic)])
    return lesson


def synthetic_multiplier(asked: float, n_real: int, max_rows: int) -> float:
    """`asked`, cut so that real and synthetic rows together stay within `max_rows`: on
    hotel_bookings (76,000 training rows) twice as many synthetic rows, labelled by a
    46 MB ensemble, took a 120 s run's distillation 68 s before its second student."""
    return max(0.0, min(asked, (max_rows - n_real) / max(n_real, 1)))


def _mixed(teacher: np.ndarray, y: np.ndarray, task: str, share: float) -> np.ndarray:
    """The teacher's output with `share` of the true label mixed in (one-hot for classes)."""
    if not share:
        return teacher
    truth = y.astype(np.float64) if task == REGRESSION else np.eye(teacher.shape[1])[y]
    return (1 - share) * teacher + share * truth


def _scored_prediction(teacher_output) -> np.ndarray:
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
                   "the teacher's out-of-fold output (kfold validation)")
