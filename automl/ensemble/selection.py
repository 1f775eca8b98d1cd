"""Greedy ensemble selection with replacement (Caruana et al., 2004).

Each round adds the candidate whose inclusion gives the best validation score; a
candidate may be added again, so repeat picks become larger weights. The ensemble kept
is the best one seen over the rounds, never a later, worse one. Round one picks the
best single candidate, so the result never scores below the best member.

Under a cost cap (a size, a latency: automl/ensemble/cost.py) a round only considers
the candidates the ensemble can take on within it: those already in it cost nothing more.
Where no candidate fits the cap alone, round one takes the best one anyway (a run always
has a model) and `Selection.over_cap` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.budget import Budget
from automl.ensemble.cost import Cost, CostCap, total_cost
from automl.errors import AutoMLError
from automl.metrics import Metric


@dataclass
class Selection:
    weights: np.ndarray  # one per candidate, summing to 1; 0 for those never picked
    score: float  # validation score of the weighted mean (higher is better)
    trajectory: list[float]  # the score after each round
    over_cap: bool = False  # no candidate fitted the cost cap: the best one was taken anyway

    @property
    def chosen(self) -> list[int]:
        return [i for i, w in enumerate(self.weights) if w > 0]


def greedy_selection(predictions: list[np.ndarray], y: np.ndarray, metric: Metric,
                     size: int, budget: Budget | None = None, costs: list[Cost] | None = None,
                     cap: CostCap | None = None, weight: np.ndarray | None = None) -> Selection:
    """Weights over `predictions` (best candidate first: ties go to the earlier one).

    With a `budget`, rounds stop once it is spent (after round one at least): on a
    large validation part each round scores every candidate's blend, and the run's
    budget matters more than the last rounds, which mostly fine-tune weights. With a
    `cap`, each round picks among the candidates whose `costs` keep the ensemble within it.
    `weight`: the rows' sample weights, which the metric scores with.
    """
    budget = budget or Budget.unlimited()
    if not predictions:
        raise AutoMLError("greedy ensemble selection needs at least one candidate prediction")
    outputs = np.stack([np.asarray(p, dtype=np.float64) for p in predictions])
    # a blend that cannot be scored (a member's output holds NaN) must never be picked
    finite = np.isfinite(outputs.reshape(len(outputs), -1)).all(axis=1)
    counts = np.zeros(len(outputs))
    running_sum = np.zeros_like(outputs[0])
    best_counts, best_score, trajectory, over_cap = counts, -np.inf, [], False
    for round_number in range(1, size + 1):
        scores = _scores(metric, y, (running_sum + outputs) / round_number, finite, weight)
        fits = _fits(counts, costs, cap)
        if round_number == 1 and not fits.any():
            over_cap = True  # nothing fits alone: the best single candidate, over the cap
        elif not np.isfinite(scores[fits]).any():
            break  # no candidate the cap allows can be added
        else:
            scores = np.where(fits, scores, -np.inf)
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
    return Selection(weights, _score(metric, y, _weighted(weights, outputs), weight), trajectory,
                     over_cap)


def _fits(counts: np.ndarray, costs: list[Cost] | None, cap: CostCap | None) -> np.ndarray:
    """Which candidates the ensemble of `counts` can add within `cap`."""
    if cap is None or not cap.active or costs is None:
        return np.ones(len(counts), dtype=bool)
    spent = total_cost(costs, counts)
    return np.array([n > 0 or cap.allows(spent + cost) for n, cost in zip(counts, costs)])


def _weighted(weights: np.ndarray, outputs) -> np.ndarray:
    return sum(w * o for w, o in zip(weights, outputs) if w > 0)


def _scores(metric: Metric, y: np.ndarray, blends: np.ndarray, finite: np.ndarray,
            weight: np.ndarray | None = None) -> np.ndarray:
    """Each blend's score, all at once where the metric allows; -inf where not finite."""
    scores = np.full(len(blends), -np.inf)
    if finite.any():
        values = metric.scores(y, blends[finite], weight)
        scores[finite] = np.where(np.isfinite(values), values, -np.inf)
    return scores


def _score(metric: Metric, y: np.ndarray, prediction: np.ndarray,
           weight: np.ndarray | None = None) -> float:
    if not np.isfinite(prediction).all():
        return -np.inf
    score = metric.score(y, prediction, weight)
    return score if np.isfinite(score) else -np.inf


def bagged_selection(predictions: list[np.ndarray], y: np.ndarray, metric: Metric, size: int,
                     bags: int, seed: int = 0, budget: Budget | None = None,
                     costs: list[Cost] | None = None, cap: CostCap | None = None,
                     weight: np.ndarray | None = None) -> Selection:
    """Greedy selection on `bags` bootstrap samples of the validation rows, the weights
    averaged (Caruana et al., 2006, "Getting the most out of ensemble selection").

    On a small validation part plain greedy selection fits that part's noise; averaging
    over resamples smooths the weights. The blend is then scored on all the rows, and
    where it falls below the best single candidate (which plain selection never does),
    or its members together break the cost `cap` (each resample's do not, but their
    union may), plain greedy selection on all the rows is used instead.
    """
    def plain() -> Selection:
        return greedy_selection(predictions, y, metric, size, budget, costs, cap, weight)

    if bags <= 1:
        return plain()
    budget, rng = budget or Budget.unlimited(), np.random.default_rng(seed)
    outputs = [np.asarray(p, dtype=np.float64) for p in predictions]
    y, n, weights = np.asarray(y), len(y), np.zeros(len(outputs))
    for _ in range(bags):
        rows = rng.integers(0, n, n)
        if len(np.unique(y[rows])) < len(np.unique(y)) and metric.name == "roc_auc":
            continue  # a resample without both classes cannot be scored by ROC AUC
        weights += greedy_selection([o[rows] for o in outputs], y[rows], metric, size,
                                    costs=costs, cap=cap,
                                    weight=None if weight is None else weight[rows]).weights
        if budget.expired():
            break
    single = [_score(metric, y, o, weight) for o in outputs]
    if not weights.any():
        return plain()
    weights /= weights.sum()
    score = _score(metric, y, _weighted(weights, outputs), weight)
    within = cap is None or costs is None or cap.allows(total_cost(costs, weights))
    if score < max(single) or not within:
        return plain()
    # no rounds to show: the weights are a mean over resamples, scored once on all rows
    return Selection(weights, float(score), [float(score)])
