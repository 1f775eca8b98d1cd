"""Temperature scaling: a known temperature is found again, and classes never move."""

from __future__ import annotations

import numpy as np
import pytest

from automl.calibration import fit_temperature, temper


def _calibrated(rows: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and labels drawn from them: calibrated by construction."""
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.full(classes, 0.5), size=rows)
    labels = np.array([rng.choice(classes, p=p) for p in proba])
    return labels, proba


@pytest.mark.parametrize("softened_by", [0.5, 2.0])
def test_a_known_temperature_is_found_again(softened_by):
    y, proba = _calibrated(20_000, 3, seed=0)
    blurred = temper(proba, softened_by)
    assert fit_temperature(y, blurred) == pytest.approx(1 / softened_by, rel=0.05)


def test_calibrated_probabilities_are_left_near_one():
    y, proba = _calibrated(20_000, 4, seed=1)
    assert fit_temperature(y, proba) == pytest.approx(1.0, abs=0.05)


def test_tempered_rows_keep_their_class_and_sum_to_one():
    _, proba = _calibrated(500, 5, seed=2)
    for temperature in (0.3, 1.0, 4.0):
        tempered = temper(proba, temperature)
        np.testing.assert_array_equal(tempered.argmax(axis=1), proba.argmax(axis=1))
        np.testing.assert_allclose(tempered.sum(axis=1), 1.0)
    assert temper(proba, 1.0) is proba


def test_sure_and_wrong_rows_do_not_break_the_fit():
    y, proba = _calibrated(2_000, 2, seed=3)
    proba[:10] = np.eye(2)[1 - y[:10]]  # probability 0 on the true class
    temperature = fit_temperature(y, proba)
    assert np.isfinite(temperature) and temperature > 1.0  # softened: sure mistakes cost
