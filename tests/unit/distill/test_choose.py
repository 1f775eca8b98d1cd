"""The score constraints of the compress stage, in the metric's units and relative."""

from __future__ import annotations

import pytest

from automl.config import CompressParams
from automl.distill.compress import allowed_drop


@pytest.mark.parametrize("params, teacher_value, expected", [
    ({}, 0.93, 0.005 * 0.93),  # the default: 0.5% of the teacher's value
    ({"max_relative_drop": 0.01}, -532.0, 5.32),  # RMSE is scored negated; the share is of |value|
    ({"max_score_drop": 0.001}, 0.93, 0.001),  # both set: the stricter one
    ({"max_score_drop": 0.01, "max_relative_drop": None}, 0.93, 0.01),
    ({"max_relative_drop": None}, 0.93, None),  # no score constraint at all
])
def test_the_allowed_drop(params, teacher_value, expected):
    got = allowed_drop(CompressParams(**params), teacher_value)
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize("gain, expected", [
    (0.002, 0.03 * 0.002),  # adult-like: the ensemble gains 0.002 AUC, 3% of it may go
    (0.2, 0.001 * 0.93),  # a large gain: the relative drop is the stricter one
    (0.0, 0.001 * 0.93),  # no gain over the reference: only the relative drop applies
    (-0.01, 0.001 * 0.93),
    (None, 0.001 * 0.93),  # no reference model
])
def test_the_allowed_drop_keeps_a_share_of_the_gain_over_the_reference(gain, expected):
    params = CompressParams(max_relative_drop=0.001, min_gain_kept=0.97)
    assert allowed_drop(params, 0.93, gain) == pytest.approx(expected)


def _student(name: str, score: float, size_kb: float, latency_ms: float = 0.05):
    from automl.students.judged import Student

    return Student(name, "gbdt", {}, score, 0.9, int(size_kb * 1024), latency_ms, 0.0, b"")


TEACHER = 0.93
STUDENTS = [_student("small", 0.90, 10), _student("middle", 0.925, 50), _student("big", 0.928, 200)]


def _choose(teacher_bytes: int | None = None, **params):
    from automl.distill.compress import allowed_drop, choose
    from automl.metrics import get_metric

    params = CompressParams(**params)
    return choose(STUDENTS, TEACHER, allowed_drop(params, TEACHER), params,
                  get_metric("roc_auc", "binary"), teacher_bytes)


def test_the_smallest_student_within_every_constraint_is_chosen():
    choice = _choose(max_score_drop=0.01, max_relative_drop=None)
    assert (choice.chosen.name, choice.meets_score, choice.shortfall) == ("middle", True, 0.0)


def test_with_none_close_enough_the_best_within_the_caps_is_chosen_and_marked():
    choice = _choose(max_score_drop=0.001, max_relative_drop=None, max_size_kb=100)
    assert choice.chosen.name == "middle" and not choice.meets_score
    assert choice.shortfall == pytest.approx(0.93 - 0.925 - 0.001)
    assert "misses the score constraint by 0.004 roc_auc" in choice.reason
    assert "exported anyway" in choice.reason and "--model compact" in choice.reason


def test_when_the_caps_rule_out_every_student_none_is_chosen():
    choice = _choose(max_size_kb=1)
    assert choice.chosen is None
    assert "no student meets the constraints (closest, big:" in choice.reason
    assert "200.0 KB over the 1 KB allowed" in choice.reason


@pytest.mark.parametrize("teacher_kb, max_size_kb, chosen", [
    (1000, None, "middle"),  # a tenth of 1,000 KB: "big" (200 KB) is out
    (4000, None, "big"),  # a tenth of 4,000 KB lets it in
    (4000, 150, "middle"),  # both set: the tighter applies
    (None, None, "big"),  # the teacher's size unknown: no share to apply
])
def test_a_share_of_the_teachers_size_caps_the_student(teacher_kb, max_size_kb, chosen):
    teacher_bytes = None if teacher_kb is None else teacher_kb * 1024
    # only "big" is close enough to the teacher; where it is capped, "middle" is the best left
    choice = _choose(teacher_bytes, max_score_drop=0.003, max_relative_drop=None,
                     max_size_share=0.1, max_size_kb=max_size_kb)
    assert choice.chosen.name == chosen and choice.meets_score == (chosen == "big")


def test_the_teachers_size_is_its_pickle_counted_up_to_a_stop():
    import pickle

    import numpy as np

    from automl.bundle import pickled_bytes

    teacher = {"weights": np.arange(50_000, dtype=np.float64), "name": "ensemble"}
    assert pickled_bytes(teacher) == len(pickle.dumps(teacher, protocol=pickle.HIGHEST_PROTOCOL))
    assert pickled_bytes(teacher, stop_at=100_000) == 100_000  # 400 KB of weights: stopped
