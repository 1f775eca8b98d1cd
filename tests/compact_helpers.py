"""A compact model in seconds: a small xgboost student fitted straight on a table's labels
(no search, no Ray), exported as the export stage exports one, into <run>/compact/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from automl.data import prepare_features
from automl.data.schema import Schema
from automl.data.split import KFOLD, table_dataset
from automl.students.families import StudentGBDT
from automl.students.memo import memoized
from automl.onnx.stage import write_compact_model
from automl.preprocess.branches import Branch
from automl.preprocess.stage import branch_data


@dataclass
class CompactRun:
    run_dir: Path
    schema: Schema
    branch: Branch
    model: object
    card: dict  # the figures write_compact_model returns

    def python_output(self, rows: pd.DataFrame) -> np.ndarray:
        """The Python student on raw rows: probabilities (n, k) or values (n,)."""
        Z = self.branch.transform(prepare_features(rows, self.schema))
        return self.model.predict_raw(Z)


def fit_gbdt_student(X, teacher, task: str, n_estimators: int, max_depth: int) -> StudentGBDT:
    """The distillation's GBDT student of one size, fitted to `teacher` (values, or
    probabilities per class)."""
    n_classes = 0 if task == "regression" else teacher.shape[1]
    params = {"n_estimators": n_estimators, "max_depth": max_depth}
    return StudentGBDT(task=task, n_classes=n_classes, params=params).fit(X, teacher)


def compact_run(frame: pd.DataFrame, target: str, run_dir: Path, task: str | None = None,
                n_estimators: int = 20, max_depth: int = 3, memo: bool = False) -> CompactRun:
    """`memo`: the student with a memo of the labels of every row it learned from
    (compress/memo.py), so that a served row repeating one of them is looked up."""
    dataset = table_dataset(frame, target, task, method=KFOLD)  # folds: every row trains
    data = branch_data(dataset)
    schema, branch, Z, y = data.schema, data.branch, data.X_train, data.y_train
    teacher = y if schema.task == "regression" else np.eye(len(schema.classes))[y]
    model = fit_gbdt_student(Z, teacher, schema.task, n_estimators, max_depth)
    if memo:
        model = memoized(model, Z, teacher, max_rows=len(Z))
    sample = dataset.X_train.head(200)
    card = write_compact_model(Path(run_dir) / "compact" / "compact.onnx",
                               model.onnx_bytes(branch, sample), schema, sample,
                               model.predict_raw(branch.transform(sample)), 1e-4)
    return CompactRun(Path(run_dir), schema, branch, model, card)
