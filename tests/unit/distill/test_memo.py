"""Memo students: a tree student (or a blend) that answers the training rows that recur
with the teacher's output, in one ONNX graph that onnxruntime runs as Python predicts."""

from __future__ import annotations

import numpy as np
import pytest

from automl.config import DistillParams
from automl.students.blend import Blend
from automl.students.families import StudentGBDT, StudentLGBM
from automl.students.memo import Memo, Memoized, build_memo, entry_bytes, memo_rows_within, memoized
from automl.onnx.memo_graph import export_memo
from automl.onnx.memo_key import row_keys
from automl.onnx.parity import check_parity
from tests.unit.distill.test_blend import TASKS, _fitted


def test_row_keys_are_equal_for_equal_rows_and_differ_otherwise():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(500, 6)) * [1, 10, 1e3, 1e-2, 1e6, 1]
    Z[::7, 2] = np.nan
    keys = row_keys(Z)
    assert len(np.unique(keys)) == len(Z)
    np.testing.assert_array_equal(row_keys(Z.copy()), keys)
    changed = Z.copy()
    changed[:, 3] += 1e-3  # a step well above the keys' resolution (2^-16)
    assert not np.isin(row_keys(changed), keys).any()
    missing = Z.copy()
    missing[:, 0] = np.nan  # a missing value is not a zero, nor any number
    assert not np.isin(row_keys(missing), keys).any()
    with pytest.raises(ValueError, match="fewer than 8,192 columns"):
        row_keys(np.zeros((2, 8192)))


def test_build_memo_keeps_the_rows_whose_teacher_output_the_student_misses_most():
    Z = np.array([[0.0], [1.0], [1.0], [2.0], [3.0]])
    teacher = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    student = np.array([1.0, 1.5, 1.5, 2.4, 4.0])  # misses row 1 twice (0.5), row 3 once (0.6)
    memo = build_memo(Z, teacher, student, max_rows=1)
    np.testing.assert_array_equal(memo.keys, row_keys(Z[1:2]))  # 2 x 0.25 beats 0.36
    np.testing.assert_allclose(memo.values, [2.0])
    assert len(build_memo(Z, teacher, student, max_rows=10).keys) == 2  # not the matched rows


def test_rows_within_the_aim_leave_room_for_the_base_and_the_lookup():
    rows = memo_rows_within(500_000, 1024 * 1024, 2, 10**6)
    assert rows * entry_bytes(2) + 1.05 * 500_000 <= 0.97 * 1024 * 1024  # 3% for the front
    assert rows > 30_000
    assert memo_rows_within(1024 * 1024, 1024 * 1024, 2, 10**6) == 0
    assert memo_rows_within(500_000, None, 2, 123) == 123


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("tree_family", [StudentLGBM, StudentGBDT])
def test_a_memo_answers_repeated_rows_with_the_teacher_in_python_and_onnx(task, tree_family):
    branch, valid, Z_valid, _, teacher, trees, _ = _fitted(task, tree_family)
    # the memo learns the first 100 judged rows: they recur, the other 100 do not
    memo_of = memoized(trees, Z_valid[:100], teacher[:100], max_rows=1000)
    output = memo_of.predict_raw(Z_valid)
    plain = trees.predict_raw(Z_valid)
    answered = ~np.isclose(plain[:100], teacher[:100], atol=1e-9).reshape(100, -1).all(axis=1)
    assert answered.sum() > 50
    np.testing.assert_allclose(output[:100], teacher[:100], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(output[100:], plain[100:])
    graph = memo_of.onnx_bytes(branch, valid)
    assert check_parity(graph, output, valid) < 1e-4  # the graph keys rows as Python does
    assert len(graph) - len(trees.onnx_bytes(branch, valid)) < 2048 + 100 * 40


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_a_blend_with_a_memo_is_one_graph_that_predicts_as_python(task):
    branch, valid, Z_valid, _, teacher, trees, mlp = _fitted(task)
    blend = Blend(trees, mlp, tree_weight=0.5)
    memo_of = Memoized(blend, build_memo(Z_valid[:50], teacher[:50],
                                         blend.predict_raw(Z_valid[:50]), 1000))
    assert check_parity(memo_of.onnx_bytes(branch, valid), memo_of.predict_raw(Z_valid), valid) < 1e-4


def test_an_empty_memo_changes_nothing():
    branch, valid, Z_valid, _, teacher, trees, _ = _fitted("binary")
    memo = Memo(np.zeros(0, dtype=np.int64), np.zeros((0, 2)))
    output = Memoized(trees, memo).predict_raw(Z_valid)
    np.testing.assert_array_equal(output, trees.predict_raw(Z_valid))
    assert check_parity(export_memo(trees.onnx_bytes(branch, valid), memo), output, valid) < 1e-4


def test_memo_needs_a_tree_student_to_build_on():
    with pytest.raises(ValueError, match="memo student is a gbdt, lgbm or blend student"):
        DistillParams(students=["mlp", "memo"])
    assert "memo" in DistillParams().students


def test_the_card_says_what_a_memo_holds_and_what_it_tells():
    from automl.onnx.card import _memo_lines

    memo = {"kind": "memo", "params": {"memo_rows": 45863}}
    text = " ".join(_memo_lines(memo))
    assert "45,863 training rows" in text and "whether a given row was among them" in text
    assert _memo_lines({"kind": "lgbm", "params": {}}) == []
