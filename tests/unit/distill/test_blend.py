"""Blend students: a tree student and an MLP student, fitted for real, averaged in one
ONNX graph that onnxruntime runs as the Python blend predicts."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from automl.config import PreprocessParams
from automl.data import infer_schema, prepare_features
from automl.students.blend import Blend, best_blend
from automl.students.families import StudentGBDT, StudentLGBM, StudentMLP
from automl.students.judged import Scoring
from automl.metrics import get_metric
from automl.onnx.parity import check_parity
from automl.preprocess import build_branch
from tests.conftest import make_table

TASKS = ["binary", "multiclass", "regression"]
METRICS = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def _fitted(task: str, tree_family=StudentLGBM, n: int = 800):
    frame = make_table(n=n, task=task)
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    y = schema.encode_target(frame["y"])
    branch, Z = build_branch(PreprocessParams(branch="trees"), schema, features, y)
    k = len(schema.classes or [])
    teacher = y + 0.0 if task == "regression" else 0.7 * np.eye(k)[y] + 0.3 / k
    cut = int(0.75 * n)
    trees = tree_family(task=task, n_classes=k, params={"n_estimators": 30}).fit(Z[:cut], teacher[:cut])
    mlp = StudentMLP(task=task, n_classes=k, params={"width": 16, "max_epochs": 30},
                     categorical=tuple(branch.categorical)).fit(Z[:cut], teacher[:cut])
    return branch, features.iloc[cut:], Z[cut:], y[cut:], teacher[cut:], trees, mlp


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("tree_family", [StudentLGBM, StudentGBDT])
def test_a_blend_exports_one_graph_that_predicts_as_the_python_blend(task, tree_family):
    branch, valid, Z_valid, _, _, trees, mlp = _fitted(task, tree_family)
    blend = Blend(trees, mlp, tree_weight=0.25)
    output = blend.predict_raw(Z_valid)
    np.testing.assert_allclose(output, 0.25 * trees.predict_raw(Z_valid) + 0.75 * mlp.predict_raw(Z_valid))
    graph = blend.onnx_bytes(branch, valid)
    assert check_parity(graph, output, valid) < 1e-4
    # the branch once: smaller than the two students' graphs side by side
    alone = len(trees.onnx_bytes(branch, valid)) + len(mlp.onnx_bytes(branch, valid))
    assert len(graph) < alone
    model = onnx.load_from_string(graph)
    assert [i.name for i in model.graph.input] == list(valid.columns)
    tree_reads = {n.input[0] for n in model.graph.node if n.op_type.startswith("TreeEnsemble")}
    assert len(tree_reads) == 1


def _judged(task: str):
    branch, valid, Z_valid, y_valid, teacher, trees, mlp = _fitted(task)
    metric = get_metric(METRICS[task], task)
    scoring = Scoring(branch, valid, y_valid, teacher, metric, task, Z_valid)
    students = [scoring.student("lgbm", "lgbm", {}, trees.predict_raw(Z_valid),
                                trees.onnx_bytes(branch, valid)),
                scoring.dense_student(mlp.net_, "mlp", "mlp")]
    for student, family in zip(students, ["student_lgbm", "student_mlp"]):
        student.recipe = {"family": family, "params": {}, "synthetic": True}
    return scoring, students, {"mlp": mlp.net_}


def test_the_best_blend_beats_both_its_parts_within_the_size_aim():
    """On this binary table the two students err apart: an even blend beats both."""
    scoring, students, nets = _judged("binary")
    blend = best_blend(students, nets, scoring, max_bytes=None)
    assert blend.kind == "blend" and blend.score > max(s.score for s in students)
    assert blend.params["tree_weight"] in (0.25, 0.5, 0.75)
    assert [p["family"] for p in blend.recipe["parts"]] == ["student_lgbm", "student_mlp"]
    assert check_parity(blend.onnx, blend.valid_output, scoring.valid) < 1e-4
    # a size aim the two do not fit under together: no blend
    too_small = sum(s.size_bytes for s in students) - 1
    assert best_blend(students, nets, scoring, max_bytes=too_small) is None


def test_no_blend_where_no_weight_beats_both_parts():
    """On this regression table the short-trained MLP is far behind the trees (RMSE 6.6
    against 4.3): no blend is claimed, and indeed no weight would beat the trees."""
    scoring, students, nets = _judged("regression")
    assert best_blend(students, nets, scoring, max_bytes=None) is None
    trees, mlp = (s.valid_output for s in students)
    best_part = max(s.score for s in students)
    for weight in (0.25, 0.5, 0.75):
        assert scoring.metric.score(scoring.y_valid, weight * trees + (1 - weight) * mlp) <= best_part
