"""The score constraints of the compress stage, in the metric's units and relative."""

from __future__ import annotations

import pytest

from automl.compress.choose import allowed_drop
from automl.config import CompressParams


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
