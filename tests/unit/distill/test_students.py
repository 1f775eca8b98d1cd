"""Students learn the teacher's probabilities, not just its labels."""

from __future__ import annotations

import numpy as np
import pytest
from xgboost import XGBClassifier, XGBRegressor

from automl.students.families import StudentGBDT
from automl.students.soft import fit_tree_student, soft_rows, student_output
from tests.compact_helpers import fit_gbdt_student


def test_soft_rows_carry_the_teachers_distribution():
    X = np.arange(6, dtype=float).reshape(3, 2)
    proba = np.array([[0.7, 0.3, 0.0], [0.1, 0.1, 0.8], [1.0, 0.0, 0.0]])
    X_soft, labels, weights = soft_rows(X, proba)
    # zero-probability classes are dropped, except that every class stays present
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1, 2]
    for row in range(3):
        mine = (X_soft == X[row]).all(axis=1)
        np.testing.assert_allclose(weights[mine].sum(), proba[row][proba[row] > 0].sum())


def test_a_tree_student_reproduces_soft_probabilities():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(2000, 1))
    p_yes = np.where(X[:, 0] < 0.5, 0.7, 0.2)  # the teacher is unsure: never 0 or 1
    teacher = np.column_stack([1 - p_yes, p_yes])
    tree = fit_tree_student(X, teacher, "binary", max_depth=1)
    got = student_output(tree, np.array([[0.25], [0.75]]), "binary")[:, 1]
    np.testing.assert_allclose(got, [0.7, 0.2], atol=1e-9)  # hard labels would give 1 and 0


# The teacher overfits 2,000 rows; a 40-tree student follows its broad shape, not its noise.
@pytest.mark.parametrize("task, agreement", [("binary", 0.9), ("multiclass", 0.8)])
def test_a_small_gbdt_student_agrees_with_a_big_teacher(task, agreement):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 5))
    signal = X[:, 0] + np.sin(2 * X[:, 1]) + 0.5 * X[:, 2] * X[:, 3]
    y = (signal > 0).astype(int) if task == "binary" else np.digitize(signal, [-1, 0.5])
    teacher = XGBClassifier(n_estimators=300, max_depth=6, n_jobs=1).fit(X[:2000], y[:2000])
    soft = teacher.predict_proba(X[:2000])
    student = fit_gbdt_student(X[:2000], soft, task, n_estimators=40, max_depth=3)
    held_out = X[2000:]
    agree = (student.predict_raw(held_out).argmax(1)
             == teacher.predict_proba(held_out).argmax(1)).mean()
    assert agree > agreement, agree


def test_a_regression_student_fits_the_teachers_values():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(2000, 3))
    teacher = XGBRegressor(n_estimators=200, n_jobs=1).fit(X, X[:, 0] ** 2 + X[:, 1])
    values = teacher.predict(X)
    student = fit_gbdt_student(X, values, "regression", n_estimators=50, max_depth=3)
    residual = student.predict_raw(X) - values
    assert np.sqrt(np.mean(residual ** 2)) < 0.25 * values.std()


@pytest.mark.parametrize("task, n_classes", [("binary", 2), ("multiclass", 4)])
def test_a_gbdt_student_aimed_at_a_size_stays_under_it(task, n_classes):
    """max_nodes stops the boosting before the trees (one per class and round for
    multiclass) hold more nodes than that, counting the nodes they have, and the exported
    file is under the size the nodes were counted for."""
    from automl.config import PreprocessParams
    from automl.data import infer_schema, prepare_features
    from automl.students.families import student_max_nodes
    from automl.preprocess import build_branch
    from tests.conftest import make_table

    frame = make_table(n=3000, task=task)
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    y = schema.encode_target(frame["y"])
    branch, Z = build_branch(PreprocessParams(branch="trees"), schema, features, y)
    teacher = np.eye(len(schema.classes))[y]
    aim_kb, max_nodes = 64, student_max_nodes(64)
    student = StudentGBDT(task=task, n_classes=len(schema.classes), params={
        "n_estimators": 400, "max_depth": 6, "max_nodes": max_nodes}).fit(Z, teacher)
    booster = student.model_.get_booster()
    rounds = booster.num_boosted_rounds()
    nodes = [sum(tree.count("\n") for tree in booster[r:r + 1].get_dump()) for r in range(rounds)]
    # it stops at the first round after which one more as large would pass the cap
    assert rounds < 400 and sum(nodes) - nodes[-1] <= max_nodes < sum(nodes) + nodes[-1]
    assert len(student.onnx_bytes(branch, features.head(50))) <= aim_kb * 1024


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_a_lightgbm_student_learns_soft_output_within_its_size_aim(task):
    """Trees of `num_leaves` leaves, cut to the rounds the aim holds, learning the
    teacher's probabilities (not its labels) or values; the ONNX file under the aim."""
    from automl.config import PreprocessParams
    from automl.data import infer_schema, prepare_features
    from automl.students.families import StudentLGBM, student_max_nodes
    from automl.preprocess import build_branch
    from tests.conftest import make_table

    frame = make_table(n=3000, task=task)
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    y = schema.encode_target(frame["y"])
    branch, Z = build_branch(PreprocessParams(branch="trees"), schema, features, y)
    k = len(schema.classes or [])
    if task == "regression":
        teacher = y + 0.0
    else:  # an unsure teacher: never 0 or 1, so hard labels would show
        teacher = 0.6 * np.eye(k)[y] + 0.4 / k
    aim_kb = 64
    student = StudentLGBM(task=task, n_classes=k, params={
        "num_leaves": 15, "max_nodes": student_max_nodes(aim_kb)}).fit(Z, teacher)
    trees_per_round = k if k > 2 else 1
    assert student.size_params()["n_estimators"] == student_max_nodes(aim_kb) // (29 * trees_per_round)
    output = student.predict_raw(Z)
    if task != "regression":
        assert output.max() < 0.9  # it learned probabilities of at most 0.6 + 0.4 / k
    assert np.corrcoef(output.reshape(len(Z), -1)[:, -1], teacher.reshape(len(Z), -1)[:, -1])[0, 1] > 0.9
    assert len(student.onnx_bytes(branch, features.head(50))) <= aim_kb * 1024


def test_the_ladder_tries_each_gbdt_rung_with_and_without_the_synthetic_rows():
    from automl.distill.policy import student_policy

    policy = student_policy()
    gbdt_rungs = policy.ladder["gbdt"].rungs
    jobs = [(r.kind, r.params, r.synthetic) for r in policy.rounds(["gbdt", "rules"], synthetic=True)]
    gbdt = [(size, synthetic) for kind, size, synthetic in jobs if kind == "gbdt"]
    assert gbdt == [(size, synthetic) for size in gbdt_rungs for synthetic in (True, False)]
    assert all(synthetic for kind, _, synthetic in jobs if kind == "rules")
    assert all(r.synthetic for r in policy.rounds(["gbdt"], synthetic=False))
    assert jobs[:3] == [("gbdt", gbdt_rungs[0], True), ("gbdt", gbdt_rungs[0], False),
                        ("rules", policy.ladder["rules"].rungs[0], True)]  # smallest of each kind first


def test_the_ladder_fits_the_lightgbm_student_last_in_its_round_and_once():
    from automl.distill.policy import student_policy

    policy = student_policy()
    jobs = list(policy.rounds(["lgbm", "gbdt", "mlp", "rules", "linear"], synthetic=True))
    first_round = [r.kind for r in jobs if r.params == policy.ladder[r.kind].rungs[0]]
    assert first_round[-1] == "lgbm" and first_round.count("lgbm") == 1
    assert first_round.index("gbdt") < first_round.index("rules")


def _adjacent_float32_table():
    """One feature whose float32 values are neighbours (1, 1 + 2**-23, ...): LightGBM's
    float64 midpoints between them round to either neighbour in float32, the nearest."""
    import pandas as pd

    steps = np.arange(400) % 8
    x = (1.0 + steps * 2.0 ** -23).astype(np.float64)
    frame = pd.DataFrame({"x": x, "y": np.where(steps % 2 == 1, 10.0, 0.0)})
    return frame


@pytest.mark.parametrize("lowered", [True, False])
def test_a_lightgbm_students_onnx_decides_as_it_does_at_float32_neighbours(lowered, monkeypatch):
    """Its thresholds are lowered to float32 (`float32_thresholds`), so the exported graph
    sends every row where the student does; left at LightGBM's own, it would not."""
    from automl.config import PreprocessParams
    from automl.data import infer_schema, prepare_features
    from automl.students import families
    from automl.onnx.parity import ParityError, check_parity
    from automl.preprocess import build_branch

    if not lowered:
        monkeypatch.setattr(families, "float32_thresholds", lambda booster: booster)
    frame = _adjacent_float32_table()
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    branch, Z = build_branch(PreprocessParams(branch="trees"), schema, features, frame["y"].to_numpy())
    student = families.StudentLGBM(task="regression", n_classes=0, params={
        "n_estimators": 5, "num_leaves": 8, "min_child_samples": 5, "learning_rate": 1.0}).fit(
        Z, frame["y"].to_numpy())
    onnx_bytes = student.onnx_bytes(branch, features)
    if lowered:
        assert check_parity(onnx_bytes, student.predict_raw(Z), features, 1e-6) < 1e-6
    else:
        with pytest.raises(ParityError):
            check_parity(onnx_bytes, student.predict_raw(Z), features, 1e-6)
