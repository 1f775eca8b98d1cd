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
from automl.models.base import Stopwatch


@dataclass
class Selection:
    weights: np.ndarray  # one per candidate, summing to 1; 0 for those never picked
    score: float  # validation score of the weighted mean (higher is better)
    trajectory: list[float]  # the score after each round

    @property
    def chosen(self) -> list[int]:
        return [i for i, w in enumerate(self.weights) if w > 0]


def greedy_selection(predictions: list[np.ndarray], y: np.ndarray, metric: Metric,
                     size: int, time_limit: float | None = None) -> Selection:
    """Weights over `predictions` (best candidate first: ties go to the earlier one).

    With a `time_limit`, rounds stop once it is reached (after round one at least): on a
    large validation part each round scores every candidate's blend, and the run's
    budget matters more than the last rounds, which mostly fine-tune weights.
    """
    stopwatch = Stopwatch(time_limit)
    if not predictions:
        raise AutoMLError("greedy ensemble selection needs at least one candidate prediction")
    outputs = [np.asarray(p, dtype=np.float64) for p in predictions]
    counts = np.zeros(len(outputs))
    running_sum = np.zeros_like(outputs[0])
    best_counts, best_score, trajectory = counts, -np.inf, []
    for round_number in range(1, size + 1):
        scores = [_score(metric, y, (running_sum + out) / round_number) for out in outputs]
        pick = int(np.argmax(scores))
        counts = counts.copy()
        counts[pick] += 1
        running_sum += outputs[pick]
        trajectory.append(scores[pick])
        # strict: among equal scores the smaller ensemble stays
        if round_number == 1 or scores[pick] > best_score:
            best_counts, best_score = counts, scores[pick]
        if stopwatch.expired():
            break
    return Selection(best_counts / best_counts.sum(), float(best_score), trajectory)


def _score(metric: Metric, y: np.ndarray, prediction: np.ndarray) -> float:
    # a blend that cannot be scored (a member's output holds NaN) must never be picked
    if not np.isfinite(prediction).all():
        return -np.inf
    score = metric.score(y, prediction)
    return score if np.isfinite(score) else -np.inf
