"""Dense students (linear, MLP) and their compression: trained for real, exported to ONNX,
and run in onnxruntime against the numpy forward pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.budget import Budget
from automl.config import PreprocessParams
from automl.data import infer_schema, prepare_features
from automl.students.dense import Training, fit_dense_student, int8, low_rank, prune_units
from automl.models.dense_code import DenseCode
from automl.onnx.dense_graph import export_dense_model
from automl.onnx.parity import ParityError, check_parity, run_onnx
from automl.preprocess.branches import build_branch
from tests.conftest import make_table

TASKS = ["binary", "multiclass", "regression"]


def _setup(task: str, n: int = 600):
    frame = make_table(n=n, task=task)
    schema = infer_schema(frame, "y", task=task)
    X = prepare_features(frame.drop(columns="y"), schema)
    branch, Z = build_branch(PreprocessParams(branch="trees"), schema, X, None)
    y = frame["y"]
    if task == "regression":
        teacher = y.to_numpy(dtype=float)
    else:  # a soft teacher: the label's class at 0.8, the rest shared
        classes = sorted(y.unique())
        onehot = np.eye(len(classes))[[classes.index(v) for v in y]]
        teacher = 0.8 * onehot + 0.2 / len(classes)
    cut = int(0.8 * n)
    code = DenseCode.fit(Z[:cut], branch.categorical)
    data = Training.make(code, Z[:cut], teacher[:cut], Z[cut:], teacher[cut:], task)
    return branch, X.iloc[cut:], Z[cut:], teacher[cut:], data


def test_the_encoding_fills_scales_flags_and_one_hots():
    Z = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 3.0], [np.nan, 5.0]], dtype=np.float32)
    code = DenseCode.fit(Z, categorical=(0,))
    H = code.encode(Z)
    # number column 1: median fill 3, standardised; NaN flags for both columns; codes 0, 1, 2
    assert H.shape == (4, 1 + 2 + 3)
    np.testing.assert_allclose(H[:, 1:3], [[0, 0], [0, 1], [0, 0], [1, 0]])
    np.testing.assert_allclose(H[:, 3:], [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert abs(H[:, 0].mean()) < 1e-6
    # an unseen code and a missing one encode as "no level"
    unseen = code.encode(np.array([[7.0, 1.0]], dtype=np.float32))
    assert unseen[0, 3:].sum() == 0


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("hidden", [[], [16]])
def test_dense_students_export_with_parity(task, hidden):
    branch, X_valid, Z_valid, _, data = _setup(task)
    net = fit_dense_student(data, hidden, Budget(5), seed=0)
    onnx_bytes = export_dense_model(branch, net, X_valid)
    assert check_parity(onnx_bytes, net.predict(Z_valid), X_valid) <= 1e-4
    if task != "regression":
        np.testing.assert_allclose(run_onnx(onnx_bytes, X_valid).sum(axis=1), 1, atol=1e-5)


# the teacher here is the noisy label itself: 4 classes cut from a noisy signal are
# harder to agree on than 2
@pytest.mark.parametrize("task, agreement", [("binary", 0.85), ("multiclass", 0.7),
                                             ("regression", None)])
def test_an_mlp_student_learns_the_teacher(task, agreement):
    _, _, Z_valid, teacher_valid, data = _setup(task, n=1500)
    net = fit_dense_student(data, [32], Budget(10), seed=0)
    got = net.predict(Z_valid)
    if task == "regression":
        r2 = 1 - np.sum((got - teacher_valid) ** 2) / np.sum((teacher_valid - teacher_valid.mean()) ** 2)
        assert r2 > 0.8, r2
    else:
        assert (got.argmax(1) == teacher_valid.argmax(1)).mean() > agreement


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_each_compression_step_shrinks_the_file_and_keeps_parity(task):
    branch, X_valid, Z_valid, _, data = _setup(task)
    net = fit_dense_student(data, [64, 64], Budget(5), seed=0)
    size = len(export_dense_model(branch, net, X_valid))
    pruned = prune_units(net, data, Budget(3))
    assert pruned.hidden == [32, 32]
    quantized = int8(pruned)
    for student in (pruned, quantized):
        onnx_bytes = export_dense_model(branch, student, X_valid)
        assert len(onnx_bytes) < size
        check_parity(onnx_bytes, student.predict(Z_valid), X_valid)
    # int8 keeps the network's answers close (weights within half a step of their scale)
    drift = np.abs(quantized.predict(Z_valid) - pruned.predict(Z_valid)).max()
    scale = 1.0 if task != "regression" else np.abs(pruned.predict(Z_valid)).max()
    assert drift / scale < 0.05


def test_low_rank_replaces_a_matrix_only_when_that_is_smaller():
    branch, X_valid, Z_valid, _, data = _setup("binary")
    net = fit_dense_student(data, [64], Budget(2), seed=0)
    # a rank-1 first matrix: the SVD keeps one direction, two thin matrices replace it
    first = net.layers[0].matrices[0]
    net.layers[0].matrices[0] = np.outer(first[:, 0], np.ones(first.shape[1])).astype(np.float32)
    factored = low_rank(net)
    assert factored is not None and len(factored.layers[0].matrices) == 2
    assert factored.n_weights() < net.n_weights()
    np.testing.assert_allclose(factored.predict(Z_valid), net.predict(Z_valid), atol=1e-4)
    check_parity(export_dense_model(branch, factored, X_valid), factored.predict(Z_valid), X_valid)


def test_a_broken_export_fails_parity_loudly():
    branch, X_valid, Z_valid, _, data = _setup("binary")
    net = fit_dense_student(data, [], Budget(2), seed=0)
    onnx_bytes = export_dense_model(branch, net, X_valid)
    net.layers[-1].bias = net.layers[-1].bias + np.array([1.0, 0.0], dtype=np.float32)  # Python now disagrees
    with pytest.raises(ParityError, match="differ"):
        check_parity(onnx_bytes, net.predict(Z_valid), X_valid)


def test_columns_with_awkward_names_keep_their_names_in_the_graph():
    frame = make_table(n=300).rename(columns={"x1": "1st floor", "x2": "variable"})
    schema = infer_schema(frame, "y")
    X = prepare_features(frame.drop(columns="y"), schema)
    branch, Z = build_branch(PreprocessParams(branch="trees"), schema, X, None)
    teacher = np.column_stack([np.full(len(Z), 0.3), np.full(len(Z), 0.7)])
    data = Training.make(DenseCode.fit(Z, branch.categorical), Z, teacher, Z, teacher, "binary")
    net = fit_dense_student(data, [], Budget(1))
    onnx_bytes = export_dense_model(branch, net, X)
    import onnx

    assert [i.name for i in onnx.load_from_string(onnx_bytes).graph.input] == list(X.columns)
    check_parity(onnx_bytes, net.predict(Z), pd.DataFrame(X))


def test_the_shrink_chain_makes_a_student_per_step_and_builds_only_on_steps_that_hold():
    from automl.students.judged import DistillResult, Scoring
    from automl.distill.shrink import shrunk_students
    from automl.metrics import get_metric

    branch, X_valid, Z_valid, teacher_valid, data = _setup("binary", n=1000)
    y_valid = teacher_valid.argmax(axis=1)
    scoring = Scoring(branch, X_valid, y_valid, teacher_valid, get_metric("roc_auc", "binary"),
                      "binary", Z_valid)
    net = fit_dense_student(data, [64, 64], Budget(5), seed=0)
    base = scoring.dense_student(net, "mlp-64x64", "mlp")
    result = DistillResult(None, "roc_auc", base.score, [base], X_valid.head(5), scoring,
                           {"mlp-64x64": net}, data.sample(300))
    assert len(result.tuning.H) == 300 and len(result.tuning.H_valid) == 75
    tried = list(shrunk_students(result, {"prune": True, "lowrank": True, "int8": True},
                                 Budget(2.0)))
    names = [s.name for s in tried]
    assert names[0] == "mlp-64x64+prune" and names[-1].endswith("+int8")
    for student in tried:  # each is a real exported student, smaller than the base
        assert student.size_bytes < base.size_bytes and student.parity <= 1e-4
    # the names record the chain: a step is named after the student it built on, which
    # is the base or an earlier step, and the steps come in their fixed order
    for i, student in enumerate(tried):
        parent = student.name.rsplit("+", 1)[0]
        assert parent == "mlp-64x64" or parent in names[:i]
    steps = [name.rsplit("+", 1)[1] for name in names]
    assert steps == sorted(steps, key=["prune", "lowrank", "int8"].index)


def test_a_table_of_categories_only_exports():
    # skl2onnx writes such a branch at opset 11; the head needs 13
    frame = make_table(n=300)[["colour", "y"]].assign(size=lambda f: f["colour"].str.len().astype(str))
    schema = infer_schema(frame, "y")
    X = prepare_features(frame.drop(columns="y"), schema)
    branch, Z = build_branch(PreprocessParams(branch="trees"), schema, X, None)
    teacher = np.column_stack([np.full(len(Z), 0.3), np.full(len(Z), 0.7)])
    data = Training.make(DenseCode.fit(Z, branch.categorical), Z, teacher, Z, teacher, "binary")
    net = fit_dense_student(data, [8], Budget(1))
    check_parity(export_dense_model(branch, net, X), net.predict(Z), X)


def test_a_student_that_fails_its_export_is_left_out_not_the_stage():
    # a constant teacher: xgboost grows trees with no split, which the ONNX converter gets
    # wrong (the parity check catches it); the other students still come through
    from automl.distill.classroom import Classroom, Fits
    from automl.students.judged import Scoring
    from automl.distill.ladder import ladder_students
    from automl.distill.policy import student_policy
    from automl.distill.teaching import Lessons
    from automl.metrics import get_metric
    from automl.offload import InProcess

    branch, X_valid, Z_valid, _, _ = _setup("binary", n=400)
    frame = make_table(n=400)
    schema = infer_schema(frame, "y")
    real = prepare_features(frame.drop(columns="y"), schema)
    Z = branch.transform(real)
    constant = np.column_stack([np.full(len(Z), 0.3), np.full(len(Z), 0.7)])
    teacher_valid = constant[:len(Z_valid)]
    y_valid = np.array([0, 1] * (len(Z_valid) // 2))
    scoring = Scoring(branch, X_valid, y_valid, teacher_valid,
                      get_metric("roc_auc", "binary"), "binary", Z_valid)
    training = Training.make(DenseCode.fit(Z, branch.categorical), Z, constant, Z_valid,
                             teacher_valid, "binary")
    lesson = Lessons(real, Z, constant, X_valid, Z_valid, y_valid, teacher_valid, "a constant")
    fits = Fits(InProcess(), Classroom(lesson, scoring, schema, training, 0, None, 1))
    logged = []
    made = [s.name for s in ladder_students(student_policy(), ["gbdt", "linear"], fits,
                                            Budget.unlimited(), "distill", logged.append)]
    assert "linear" in made and "gbdt-20x3" not in made
    assert any("the gbdt student n_estimators=20 max_depth=3 learning_rate=0.3 failed and is "
               "left out" in line for line in logged)
