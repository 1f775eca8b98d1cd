"""The `distill` stage: small students trained on the teacher's soft predictions.

Teacher: the model of the node it reads (an ensemble, or a search's best trial).
Rows: the training rows plus synthetic rows (`augment`), all labelled by the teacher.
Students, on the `trees` branch so the export carries its preprocessing: small xgboost
models (a few sizes) and shallow decision trees (readable rules). Each is scored on the
validation part, compared with the teacher (fidelity), exported to ONNX, checked for
parity and timed there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl.compress.augment import augment
from automl.compress.onnx_export import check_parity, export_trees_model
from automl.compress.rules import RuleSet, tree_rules
from automl.compress.students import fit_gbdt_student, fit_tree_student, student_output
from automl.data.schema import Schema, prepare_features
from automl.data.split import Dataset
from automl.errors import GraphError
from automl.metrics import REGRESSION, get_metric
from automl.preprocess.branches import Branch
from automl.preprocess.stage import BranchData

# The sizes tried, smallest first: (trees, depth) for gbdt, depth for rules.
GBDT_SIZES = [(20, 3), (60, 4), (150, 5)]
RULE_DEPTHS = [3, 4, 5]
LATENCY_CALLS = 50


@dataclass
class Student:
    name: str
    kind: str  # "gbdt" or "rules"
    params: dict
    score: float  # the run's metric on the validation part, higher is better
    fidelity: float  # agreement with the teacher (classes) or R² to its output (regression)
    size_bytes: int  # of the ONNX file
    latency_ms: float  # one row in onnxruntime, median
    parity: float  # max |ONNX - Python| on the validation rows
    onnx: bytes = field(repr=False)
    rules: RuleSet | None = field(default=None, repr=False)


@dataclass
class DistillResult:
    schema: Schema
    metric: str
    teacher_score: float
    students: list[Student]
    sample: pd.DataFrame  # model-ready validation rows, for checks after export


def run(node, inputs, context) -> DistillResult:
    params, settings = node.params, context.settings
    teacher = inputs[0].predictor()
    dataset = _one(context.upstream_of_kind(Dataset), "an ingest node")
    branch = _trees_branch(context.upstream_of_kind(BranchData))
    schema = dataset.schema
    metric = get_metric(getattr(inputs[0], "metric", None) or _metric_name(settings, schema),
                        schema.task)
    train = prepare_features(dataset.X_train, schema)
    synthetic = augment(train, params.augment, params.multiplier, seed=settings.seed)
    rows = pd.concat([train, synthetic], ignore_index=True)
    context.log(f"{node.name}: {len(train)} training + {len(synthetic)} synthetic rows "
                f"({params.augment}), labelled by the teacher")
    X, target = branch.transform(rows), teacher.predict_features(rows)
    valid = prepare_features(dataset.X_valid, schema)
    teacher_valid = teacher.predict_features(valid)
    teacher_score = metric.score(dataset.y_valid, teacher_valid)
    budget, started = context.deadline.share(params.budget_share), time.monotonic()
    students = []
    for kind, size in _ladder(params.students):
        if students and budget is not None and time.monotonic() - started > budget:
            context.log(f"{node.name}: the stage's budget is spent; {len(students)} students tried")
            break
        student = _student(kind, size, X, target, branch, valid, dataset.y_valid,
                           teacher_valid, metric, schema, settings.seed)
        students.append(student)
        context.log(f"{node.name}: {student.name}: {metric.name} "
                    f"{metric.from_score(student.score):.4f} (teacher "
                    f"{metric.from_score(teacher_score):.4f}), fidelity {student.fidelity:.3f}, "
                    f"{student.size_bytes / 1024:.1f} KB, {student.latency_ms:.3f} ms/row")
    return DistillResult(schema, metric.name, teacher_score, students, valid.head(200))


def _ladder(kinds: list[str]):
    for kind in kinds:
        sizes = GBDT_SIZES if kind == "gbdt" else RULE_DEPTHS
        yield from ((kind, size) for size in sizes)


def _student(kind, size, X, target, branch: Branch, valid: pd.DataFrame, y_valid,
             teacher_valid, metric, schema: Schema, seed: int) -> Student:
    task = schema.task
    if kind == "gbdt":
        n_trees, depth = size
        model = fit_gbdt_student(X, target, task, n_estimators=n_trees, max_depth=depth, seed=seed)
        onnx_bytes = export_trees_model(branch, model, valid)
        name, params, rules = f"gbdt-{n_trees}x{depth}", {"n_estimators": n_trees, "max_depth": depth}, None
    else:
        model = fit_tree_student(X, target, task, max_depth=size, seed=seed)
        onnx_bytes = export_trees_model(branch, model, valid)
        rules = tree_rules(model, branch, schema.target, None if task == REGRESSION else schema.classes)
        name, params = f"rules-depth{size}", {"max_depth": size}
    output = student_output(model, branch.transform(valid), task)
    return Student(name, kind, params, metric.score(y_valid, output),
                   _fidelity(output, teacher_valid, task), len(onnx_bytes),
                   _latency_ms(onnx_bytes, valid), check_parity(onnx_bytes, output, valid),
                   onnx_bytes, rules)


def _fidelity(student: np.ndarray, teacher: np.ndarray, task: str) -> float:
    if task == REGRESSION:
        residual = np.sum((student - teacher) ** 2)
        return float(1 - residual / max(np.sum((teacher - teacher.mean()) ** 2), 1e-12))
    return float((student.argmax(axis=1) == teacher.argmax(axis=1)).mean())


def _latency_ms(onnx_bytes: bytes, rows: pd.DataFrame) -> float:
    import onnxruntime as ort

    from automl.compress.onnx_export import feeds

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    one = [feeds(rows.iloc[[i % len(rows)]]) for i in range(LATENCY_CALLS)]
    session.run(None, one[0])
    times = []
    for feed in one:
        started = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def _trees_branch(branches: list[BranchData]) -> Branch:
    trees = [b.branch for b in branches if b.branch.name == "trees"]
    if not trees:
        raise GraphError("distill needs a preprocess node with branch: trees upstream of it "
                         "(the students and their ONNX export read that branch)")
    return trees[0]


def _one(outputs: list, what: str):
    if not outputs:
        raise GraphError(f"distill needs {what} upstream of it")
    return outputs[0]


def _metric_name(settings, schema: Schema) -> str:
    from automl.metrics import default_metric

    return settings.metric or default_metric(schema.task)
