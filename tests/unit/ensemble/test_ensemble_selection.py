"""Greedy ensemble selection and stacking on hand-made predictions whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from automl.budget import Budget
from automl.ensemble.cost import Cost, CostCap, total_cost
from automl.ensemble.selection import bagged_selection, greedy_selection
from automl.ensemble.stacking import LinearStacker, cross_validated_score
from automl.errors import AutoMLError
from automl.metrics import get_metric

RMSE = get_metric("rmse", "regression")
LOG_LOSS = get_metric("log_loss", "binary")
ROC_AUC = get_metric("roc_auc", "binary")


def test_two_members_with_opposite_errors_average_to_the_truth():
    rng = np.random.default_rng(0)
    y, error = rng.normal(size=200), rng.normal(size=200)
    far_off = y + 5.0
    selection = greedy_selection([y + error, y - error, far_off], y, RMSE, size=10)
    np.testing.assert_allclose(selection.weights, [0.5, 0.5, 0.0])
    assert selection.score == pytest.approx(0.0, abs=1e-12)  # the mean is exactly y
    assert selection.chosen == [0, 1]


def test_a_repeated_pick_is_a_larger_weight():
    # y = 0, A = +1, B = -2: only A, A, B averages to 0
    y = np.zeros(50)
    selection = greedy_selection([np.full(50, 1.0), np.full(50, -2.0)], y, RMSE, size=3)
    np.testing.assert_allclose(selection.weights, [2 / 3, 1 / 3])
    np.testing.assert_allclose(selection.trajectory, [-1.0, -0.5, 0.0], atol=1e-12)


def test_the_best_round_is_kept_when_later_rounds_are_worse():
    # (A + B) / 2 is perfect after round 2; round 3 must add one and moves away
    y = np.zeros(50)
    selection = greedy_selection([np.full(50, 1.0), np.full(50, -1.0)], y, RMSE, size=3)
    assert selection.trajectory[2] < selection.trajectory[1]
    np.testing.assert_allclose(selection.weights, [0.5, 0.5])
    assert selection.score == pytest.approx(0.0, abs=1e-12)


def test_members_wrong_on_different_rows_blend_into_a_better_classifier():
    y = np.tile([0, 1], 100)
    first_half = np.arange(200) < 100
    # A is sure and right on the first half, unsure and wrong-leaning on the second; B reversed
    p_right_a = np.where(first_half, 0.9, 0.4)
    p_right_b = np.where(first_half, 0.4, 0.9)
    as_proba = [np.column_stack([np.where(y == 1, 1 - p, p), np.where(y == 1, p, 1 - p)])
                for p in (p_right_a, p_right_b)]
    selection = greedy_selection(as_proba, y, LOG_LOSS, size=10)
    single_best = max(LOG_LOSS.score(y, p) for p in as_proba)
    np.testing.assert_allclose(selection.weights, [0.5, 0.5])
    assert selection.score == pytest.approx(np.log(0.65))  # -log_loss of p = 0.65 on every row
    assert selection.score > single_best


@pytest.mark.parametrize("seed", range(5))
def test_never_worse_than_the_best_member(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=150)
    positive = [np.clip(y * rng.uniform(0, 0.3) + rng.uniform(size=150), 0, 1) for _ in range(8)]
    predictions = [np.column_stack([1 - p, p]) for p in positive]
    scores = [ROC_AUC.score(y, p) for p in predictions]
    selection = greedy_selection(predictions, y, ROC_AUC, size=15)
    assert selection.trajectory[0] == pytest.approx(max(scores), rel=1e-12)  # the best member
    assert selection.score >= max(scores)
    assert selection.weights.sum() == pytest.approx(1.0)
    blended = sum(w * p for w, p in zip(selection.weights, predictions))
    assert ROC_AUC.score(y, blended) == pytest.approx(selection.score)


def test_a_candidate_with_nan_output_is_never_picked():
    y = np.linspace(0, 1, 30)
    broken = np.full(30, np.nan)
    selection = greedy_selection([broken, y + 0.1], y, RMSE, size=5)
    np.testing.assert_allclose(selection.weights, [0.0, 1.0])


def test_rounds_stop_at_the_time_limit_after_round_one():
    y = np.zeros(50)
    outputs = [np.full(50, 1.0), np.full(50, -1.0)]
    assert len(greedy_selection(outputs, y, RMSE, size=20, budget=Budget(end=0.0)).trajectory) == 1
    assert len(greedy_selection(outputs, y, RMSE, size=20, budget=None).trajectory) == 20


def test_no_candidates_is_an_error():
    with pytest.raises(AutoMLError, match="needs at least one candidate"):
        greedy_selection([], np.zeros(3), RMSE, size=3)


def test_stacking_learns_a_scale_that_averaging_cannot():
    rng = np.random.default_rng(1)
    signal = rng.normal(size=300)
    y = 2.0 * signal + 1.0
    outputs = [signal, rng.normal(size=300)]
    greedy = greedy_selection(outputs, y, RMSE, size=10)
    stacker = LinearStacker("regression", seed=0)
    honest = cross_validated_score(stacker, outputs, y, RMSE, n_folds=5)
    assert honest > greedy.score
    assert honest == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(stacker.fit(outputs, y).predict_raw(outputs), y, atol=1e-6)


def test_stacking_score_is_cross_validated_not_in_sample():
    # twenty members of pure noise: fitted on all rows the meta-model looks useful,
    # scored on rows it did not see it is a coin toss
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=200)
    noise = [rng.uniform(0.05, 0.95, size=200) for _ in range(20)]
    outputs = [np.column_stack([1 - p, p]) for p in noise]
    stacker = LinearStacker("binary", n_classes=2, seed=0)
    in_sample = ROC_AUC.score(y, stacker.fit(outputs, y).predict_raw(outputs))
    honest = cross_validated_score(stacker, outputs, y, ROC_AUC, n_folds=5)
    assert in_sample > 0.65
    assert honest < 0.6 and honest < in_sample


def test_stacker_gives_every_class_a_column():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=60)  # class 2 of 3 never appears in these rows
    outputs = [rng.dirichlet(np.ones(3), size=60) for _ in range(3)]
    proba = LinearStacker("multiclass", n_classes=3, seed=0).fit(outputs, y).predict_raw(outputs)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba[:, 2] == 0).all()


def test_bagged_selection_averages_resampled_weights_and_never_falls_below_the_best():
    from automl.ensemble.selection import bagged_selection

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    candidates = [np.clip(y + rng.normal(scale=s, size=300), 0, 1) for s in (0.6, 0.7, 0.8, 2.0)]
    candidates = [np.column_stack([1 - c, c]) for c in candidates]
    plain = greedy_selection(candidates, y, ROC_AUC, size=10)
    bagged = bagged_selection(candidates, y, ROC_AUC, size=10, bags=25, seed=0)
    assert bagged.weights.sum() == pytest.approx(1.0)
    singles = [ROC_AUC.score(y, c) for c in candidates]
    assert bagged.score >= max(singles)  # the guarantee plain greedy selection also gives
    assert np.count_nonzero(bagged.weights) >= np.count_nonzero(plain.weights)  # smoother
    # one bag or none: exactly plain greedy selection
    np.testing.assert_allclose(bagged_selection(candidates, y, ROC_AUC, 10, bags=1).weights,
                               plain.weights)


def test_bagged_selection_falls_back_to_plain_greedy_where_the_blend_scores_lower():
    from automl.ensemble.selection import bagged_selection

    # the resamples like B, the whole part likes A: the blend must not fall below A
    y = np.zeros(20)
    a, b = np.full(20, 0.1), np.where(np.arange(20) < 18, 0.0, 3.0)
    bagged = bagged_selection([a, b], y, RMSE, size=5, bags=30, seed=0)
    assert bagged.score >= max(RMSE.score(y, a), RMSE.score(y, b)) - 1e-12


# ---- under a cost cap (automl/ensemble/cost.py) -----------------------------------------


def _opposite_pairs():
    """Four candidates: A and B err in opposite ways (their mean is y), as do C and D, a
    little worse. Cheap C and D, costly A and B."""
    rng = np.random.default_rng(0)
    y, error = rng.normal(size=200), rng.normal(size=200)
    outputs = [y + error, y - error, y + 1.2 * error, y - 1.2 * error]
    costs = [Cost(8 * MB, 4.0), Cost(8 * MB, 4.0), Cost(2 * MB, 1.0), Cost(2 * MB, 1.0)]
    return y, outputs, costs


MB = 2**20


def test_without_a_cap_the_costly_pair_wins():
    y, outputs, costs = _opposite_pairs()
    selection = greedy_selection(outputs, y, RMSE, size=10, costs=costs, cap=CostCap())
    assert selection.chosen == [0, 1] and not selection.over_cap


@pytest.mark.parametrize("cap", [CostCap(max_size_bytes=10 * MB), CostCap(max_latency_ms=5.0)])
def test_a_cap_keeps_the_members_within_it(cap):
    y, outputs, costs = _opposite_pairs()
    selection = greedy_selection(outputs, y, RMSE, size=10, costs=costs, cap=cap)
    # A alone (8 MB, 4 ms) is best; adding B breaks the cap, so its cheap partner D joins
    assert selection.chosen == [0, 3]
    assert cap.allows(total_cost(costs, selection.weights))
    bagged = bagged_selection(outputs, y, RMSE, 10, bags=10, costs=costs, cap=cap)
    assert cap.allows(total_cost(costs, bagged.weights))


def test_a_cap_below_every_candidate_keeps_the_best_one():
    y, outputs, costs = _opposite_pairs()
    cap = CostCap(max_size_bytes=MB)
    selection = greedy_selection(outputs, y, RMSE, size=10, costs=costs, cap=cap)
    assert selection.over_cap and selection.chosen == [0]
    assert bagged_selection(outputs, y, RMSE, 10, bags=10, costs=costs, cap=cap).chosen == [0]
