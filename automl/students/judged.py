"""What a distillation's students are measured against (`Scoring`), what a measured
student is (`Student`, with the `fit_recipe` that fits it again), and what the distill
stage hands on (`DistillResult`): shared by the stage, its ladder, its cross-fit, and the
compress stage (the export stage reads them by their fields)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from automl.data.schema import Schema
from automl.metrics import REGRESSION
from automl.models.dense_net import DenseNet
from automl.onnx.dense_graph import export_dense_model
from automl.onnx.parity import check_parity
from automl.onnx.rules import RuleSet
from automl.preprocess.branches import Branch
from automl.serving.session import OnnxModel, feeds

if TYPE_CHECKING:  # torch's import (3 s) only where a dense student is fitted
    from automl.students.dense import Training

LATENCY_CALLS = 50
SAMPLE_ROWS = 200  # validation rows kept with the result for the export's checks


@dataclass
class Student:
    name: str
    kind: str  # a kind of search/students.yaml: "gbdt", "rules", "mlp", "blend", ...
    params: dict
    score: float  # the run's metric on the validation part, higher is better
    fidelity: float  # agreement with the teacher (classes) or R² to its output (regression)
    size_bytes: int  # of the ONNX file
    latency_ms: float  # one row in onnxruntime, median
    parity: float  # max |ONNX - Python| on the validation rows (see check_parity)
    onnx: bytes = field(repr=False)
    rules: RuleSet | None = field(default=None, repr=False)
    # the Python student's output on DistillResult.sample: the export stage checks the
    # written file against it, at its own tolerance
    sample_output: np.ndarray | None = field(default=None, repr=False)
    # how to fit it again (`crossfit`): {"family", "params", "synthetic"}; None: it cannot be
    recipe: dict | None = field(default=None, repr=False)
    valid_output: np.ndarray | None = field(default=None, repr=False)  # on all judged rows
    # None: judged on the result's rows (DistillResult.judged_on); else the rows it was
    # judged on, which the choice then passes over (a cross-fit's non-finalists)
    judged_on: str | None = None
    base: Student | None = field(default=None, repr=False)  # a memo student's (`memo`)
    net: DenseNet | None = field(default=None, repr=False)  # a dense student's, to shrink
    # 'host:pid' of the process that fitted it (automl.provenance): on a joined cluster a
    # node's, never the driver's; a compressed net's, the process that fitted its weights
    fitted_by: str | None = None


@dataclass
class DistillResult:
    schema: Schema
    metric: str
    teacher_score: float
    students: list[Student]
    sample: pd.DataFrame  # model-ready validation rows, for checks after export
    scoring: "Scoring | None" = None  # for the students the compress stage derives
    nets: dict[str, DenseNet] = field(default_factory=dict)  # dense students by name
    tuning: Training | None = None  # rows to fine-tune a pruned net on (a capped sample)
    # xgboost's defaults on the true labels of the rows the students learn from, scored on
    # the judged rows: what a student keeps the teacher's gain over (None: not fitted)
    reference_score: float | None = None
    judged_on: str | None = None  # which rows the students were scored on, for the card
    teacher_bytes: int | None = None  # its pickled predictor (automl.bundle.pickled_bytes)


@dataclass
class Scoring:
    """What every student is measured against: the validation rows, labels and teacher."""

    branch: Branch
    valid: pd.DataFrame  # model-ready rows, the ONNX graph's input
    y_valid: np.ndarray
    teacher_valid: np.ndarray
    metric: object
    task: str
    Z_valid: np.ndarray  # the validation rows through the trees branch
    w_valid: np.ndarray | None = None  # their sample weights (None: rows count alike)

    def dense_student(self, net: DenseNet, name: str, kind: str, params: dict | None = None) -> Student:
        params = {**(params or {}), "hidden": net.hidden, "weights": net.n_weights()}
        return self.student(name, kind, params, net.predict(self.Z_valid),
                            export_dense_model(self.branch, net, self.valid))

    def student(self, name: str, kind: str, params: dict, output: np.ndarray, onnx_bytes: bytes,
                rules: RuleSet | None = None) -> Student:
        return Student(name, kind, params, self.metric.score(self.y_valid, output, self.w_valid),
                       fidelity(output, self.teacher_valid, self.task), len(onnx_bytes),
                       _latency_ms(onnx_bytes, self.valid),
                       check_parity(onnx_bytes, output, self.valid), onnx_bytes, rules,
                       output[:SAMPLE_ROWS], valid_output=output)


def fit_recipe(family: str, params: dict, synthetic: bool = True) -> dict:
    """How `crossfit` fits a student again: its family, params, and whether it learns
    from the synthetic rows too."""
    return {"family": family, "params": dict(params), "synthetic": synthetic}


def describe(student: Student, metric, teacher_score: float) -> str:
    return (f"{student.name}: {metric.name} {metric.from_score(student.score):.4f} (teacher "
            f"{metric.from_score(teacher_score):.4f}), fidelity {student.fidelity:.3f}, "
            f"{student.size_bytes / 1024:.1f} KB, {student.latency_ms:.3f} ms/row")


def fidelity(student: np.ndarray, teacher: np.ndarray, task: str) -> float:
    if task == REGRESSION:
        residual = np.sum((student - teacher) ** 2)
        return float(1 - residual / max(np.sum((teacher - teacher.mean()) ** 2), 1e-12))
    return float((student.argmax(axis=1) == teacher.argmax(axis=1)).mean())


def _latency_ms(onnx_bytes: bytes, rows: pd.DataFrame) -> float:
    """Median seconds of one-row calls in one onnxruntime session (one thread), in ms."""
    model = OnnxModel(onnx_bytes)
    one = [feeds(rows.iloc[[i % len(rows)]]) for i in range(LATENCY_CALLS)]
    model.run(one[0])
    times = []
    for feed in one:
        started = time.perf_counter()
        model.run(feed)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)
