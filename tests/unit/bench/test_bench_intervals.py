"""The gain kept's interval over resamples of the test part, on outputs made by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.bench.intervals import gain_kept_interval, gain_kept_intervals, save_predictions
from automl.bench.scores import DISTILLED

RNG = np.random.default_rng(0)
Y = RNG.normal(size=400)
TEACHER = Y + RNG.normal(scale=0.5, size=400)  # RMSE about 0.5
BASELINE = Y + RNG.normal(scale=1.0, size=400)  # about 1.0


def test_a_student_equal_to_the_teacher_keeps_all_the_gain_in_every_resample():
    assert gain_kept_interval("regression", Y, TEACHER, TEACHER.copy(), BASELINE,
                              resamples=200) == (1.0, 1.0, 0.0)


def test_a_student_equal_to_the_baseline_keeps_none():
    assert gain_kept_interval("regression", Y, TEACHER, BASELINE.copy(), BASELINE,
                              resamples=200) == (0.0, 0.0, 0.0)


def test_the_interval_holds_the_point_figure_and_widens_on_fewer_rows():
    student = np.where(np.arange(400) % 2 == 0, TEACHER, BASELINE)  # the teacher on half the rows
    point = ((np.sqrt(np.mean((student - Y) ** 2)) - np.sqrt(np.mean((BASELINE - Y) ** 2)))
             / (np.sqrt(np.mean((TEACHER - Y) ** 2)) - np.sqrt(np.mean((BASELINE - Y) ** 2))))
    low, high, no_gain = gain_kept_interval("regression", Y, TEACHER, student, BASELINE,
                                            resamples=300)
    assert low < point < high and no_gain == 0.0
    few = slice(0, 40)
    low_few, high_few, _ = gain_kept_interval("regression", Y[few], TEACHER[few], student[few],
                                              BASELINE[few], resamples=300)
    assert high_few - low_few > high - low


def test_a_teacher_level_with_the_baseline_shows_resamples_without_gain():
    twin = Y + RNG.normal(scale=0.5, size=400)  # as good as the teacher, other errors
    _, _, no_gain = gain_kept_interval("regression", Y, TEACHER, TEACHER, twin, resamples=300)
    assert 0.1 < no_gain < 0.9


def test_classification_resamples_score_probabilities():
    y = (Y > 0).astype(np.int64)
    proba = lambda score: np.column_stack([1 - score, score])  # noqa: E731
    teacher = proba(1 / (1 + np.exp(-3 * TEACHER)))
    baseline = proba(1 / (1 + np.exp(-3 * BASELINE)))
    low, high, _ = gain_kept_interval("binary", y, teacher, teacher, baseline, resamples=100)
    assert low == high == 1.0


def test_the_intervals_read_what_the_workers_left(tmp_path):
    work = tmp_path / "work"
    save_predictions(work / "d1" / "automl", "ensemble", TEACHER, Y)
    save_predictions(work / "d1" / "automl", "compact", TEACHER, Y)
    save_predictions(work / "d1" / "xgb_default", "default", BASELINE, Y)
    save_predictions(work / "d2" / "automl", "ensemble", TEACHER, Y)  # no compact model there
    results = pd.DataFrame({"dataset": ["d1", "d2"], "task": ["regression"] * 2})
    table = gain_kept_intervals(results, work, DISTILLED)
    assert table.to_dict("records") == [{"dataset": "d1", "system": "automl", "low": 1.0,
                                         "high": 1.0, "no_gain": 0.0}]


def test_multiclass_resamples_score_log_loss():
    y = RNG.integers(0, 3, 400)
    uniform = np.full((400, 3), 1 / 3)
    teacher = 0.5 * uniform + 0.5 * np.eye(3)[y]  # sure of the right class, not certain
    halfway = 0.5 * (teacher + uniform)
    low, high, no_gain = gain_kept_interval("multiclass", y, teacher, halfway, uniform,
                                            resamples=100)
    # log loss: -log(2/3) for the teacher, -log(1/2) halfway, -log(1/3) the baseline
    expected = (np.log(1 / 2) - np.log(1 / 3)) / (np.log(2 / 3) - np.log(1 / 3))
    assert low == pytest.approx(expected) and high == pytest.approx(expected) and no_gain == 0
