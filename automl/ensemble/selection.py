"""Greedy ensemble selection with replacement (Caruana et al., 2004).

Each round adds the candidate whose inclusion gives the best validation score; a
candidate may be added again, so repeat picks become larger weights. The ensemble kept
is the best one seen over the rounds, never a later, worse one. Round one picks the
best single candidate, so the result never scores below the best member.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.errors import AutoMLError
from automl.metrics import Metric
from automl.budget import Budget


@dataclass
class Selection:
    weights: np.ndarray  # one per candidate, summing to 1; 0 for those never picked
    score: float  # validation score of the weighted mean (higher is better)
    trajectory: list[float]  # the score after each round

    @property
    def chosen(self) -> list[int]:
        return [i for i, w in enumerate(self.weights) if w > 0]


def greedy_selection(predictions: list[np.ndarray], y: np.ndarray, metric: Metric,
                     size: int, budget: Budget | None = None) -> Selection:
    """Weights over `predictions` (best candidate first: ties go to the earlier one).

    With a `budget`, rounds stop once it is spent (after round one at least): on a
    large validation part each round scores every candidate's blend, and the run's
    budget matters more than the last rounds, which mostly fine-tune weights.
    """
    budget = budget or Budget.unlimited()
    if not predictions:
        raise AutoMLError("greedy ensemble selection needs at least one candidate prediction")
    outputs = np.stack([np.asarray(p, dtype=np.float64) for p in predictions])
    # a blend that cannot be scored (a member's output holds NaN) must never be picked
    finite = np.isfinite(outputs.reshape(len(outputs), -1)).all(axis=1)
    counts = np.zeros(len(outputs))
    running_sum = np.zeros_like(outputs[0])
    best_counts, best_score, trajectory = counts, -np.inf, []
    for round_number in range(1, size + 1):
        scores = _scores(metric, y, (running_sum + outputs) / round_number, finite)
        pick = int(np.argmax(scores))
        counts = counts.copy()
        counts[pick] += 1
        running_sum += outputs[pick]
        trajectory.append(scores[pick])
        # strict: among equal scores the smaller ensemble stays
        if round_number == 1 or scores[pick] > best_score:
            best_counts, best_score = counts, scores[pick]
        if budget.expired():
            break
    weights = best_counts / best_counts.sum()
    # scored as every trial is (the metric's own function, not the batch one, which may
    # differ in the last bit), so a one-member ensemble scores exactly as that member
    return Selection(weights, _score(metric, y, _weighted(weights, outputs)), trajectory)


def _weighted(weights: np.ndarray, outputs) -> np.ndarray:
    return sum(w * o for w, o in zip(weights, outputs) if w > 0)


def _scores(metric: Metric, y: np.ndarray, blends: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """Each blend's score, all at once where the metric allows; -inf where not finite."""
    scores = np.full(len(blends), -np.inf)
    if finite.any():
        values = metric.scores(y, blends[finite])
        scores[finite] = np.where(np.isfinite(values), values, -np.inf)
    return scores


def _score(metric: Metric, y: np.ndarray, prediction: np.ndarray) -> float:
    if not np.isfinite(prediction).all():
        return -np.inf
    score = metric.score(y, prediction)
    return score if np.isfinite(score) else -np.inf


def bagged_selection(predictions: list[np.ndarray], y: np.ndarray, metric: Metric, size: int,
                     bags: int, seed: int = 0, budget: Budget | None = None) -> Selection:
    """Greedy selection on `bags` bootstrap samples of the validation rows, the weights
    averaged (Caruana et al., 2006, "Getting the most out of ensemble selection").

    On a small validation part plain greedy selection fits that part's noise; averaging
    over resamples smooths the weights. The blend is then scored on all the rows, and
    where it falls below the best single candidate (which plain selection never does),
    plain greedy selection on all the rows is used instead.
    """
    if bags <= 1:
        return greedy_selection(predictions, y, metric, size, budget)
    budget, rng = budget or Budget.unlimited(), np.random.default_rng(seed)
    outputs = [np.asarray(p, dtype=np.float64) for p in predictions]
    y, n, weights = np.asarray(y), len(y), np.zeros(len(outputs))
    for _ in range(bags):
        rows = rng.integers(0, n, n)
        if len(np.unique(y[rows])) < len(np.unique(y)) and metric.name == "roc_auc":
            continue  # a resample without both classes cannot be scored by ROC AUC
        weights += greedy_selection([o[rows] for o in outputs], y[rows], metric, size).weights
        if budget.expired():
            break
    single = [_score(metric, y, o) for o in outputs]
    if not weights.any():
        return greedy_selection(predictions, y, metric, size, budget)
    weights /= weights.sum()
    score = _score(metric, y, _weighted(weights, outputs))
    if score < max(single):
        return greedy_selection(predictions, y, metric, size, budget)
    # no rounds to show: the weights are a mean over resamples, scored once on all rows
    return Selection(weights, float(score), [float(score)])
