"""How a classifier's labels follow from its probabilities, where the run's metric scores
labels (`Metric.decides`: f1, mcc, balanced accuracy, accuracy) rather than probabilities.

Taking the most probable class is the right decision for accuracy on balanced classes, and
a poor one for f1 on a table with 2% positives. So the run chooses the decision on its
final model's out-of-fold (k-fold) or validation predictions, never on a test part:

- binary: the threshold on the positive class's probability that scores best (among the
  distinct probabilities, at most `CANDIDATES` of them, and 0.5);
- multiclass: a weight per class on the probabilities, by coordinate ascent over
  `WEIGHTS`, the label being the class of the largest weighted probability.

The decision lives in the schema (`Schema.decision`), so every served model applies it:
the Python predictor, model/ensemble.onnx (its `label` output) and both ONNX predictors.
The probabilities never change.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from automl.metrics import Metric

CANDIDATES = 400
WEIGHTS = np.geomspace(0.25, 4.0, 9)
PASSES = 3


class Decision(BaseModel):
    """The label rule of a classifier; `threshold` (binary) or `class_weights` (multiclass)."""

    model_config = ConfigDict(extra="forbid")
    metric: str
    chosen_on: str  # which predictions, e.g. "out-of-fold predictions of 600 training rows"
    threshold: float | None = None  # binary: class 1 where its probability >= threshold
    class_weights: list[float] | None = None  # multiclass: argmax of probability x weight
    score: float  # the metric under this decision, on the rows it was chosen on
    score_at_most_probable: float  # and with the most probable class

    def labels(self, proba: np.ndarray) -> np.ndarray:
        """Class indices (n,) for probabilities (n, k). In float32, as the ONNX graphs
        decide, so that every served model gives the same labels (the threshold is a
        float32 value itself)."""
        proba = np.asarray(proba, dtype=np.float32)
        if self.threshold is not None:
            return (proba[:, 1] >= np.float32(self.threshold)).astype(np.int64)
        return (proba * np.asarray(self.class_weights, dtype=np.float32)).argmax(axis=1)

    def describe(self) -> str:
        rule = (f"class 1 from probability {self.threshold:.4g}" if self.threshold is not None
                else "class weights " + ", ".join(f"{w:.3g}" for w in self.class_weights))
        return (f"{rule}, chosen for {self.metric} on the {self.chosen_on}: {self.score:.4f} "
                f"against {self.score_at_most_probable:.4f} with the most probable class")


def choose_decision(metric: Metric, y: np.ndarray, proba: np.ndarray, chosen_on: str,
                    weight: np.ndarray | None = None) -> Decision | None:
    """The decision that scores `metric` best on (`y`, `proba`), rows weighted by the
    sample weights `weight`; None where the metric scores probabilities, or the most
    probable class does as well."""
    if not metric.decides or proba.ndim != 2:
        return None
    y = np.asarray(y)

    def score(labels: np.ndarray) -> float:
        return metric.score(y, labels, weight)

    plain = score(proba.argmax(axis=1))
    if proba.shape[1] == 2:
        threshold, best = _best_threshold(score, proba[:, 1])
        found = {"threshold": threshold}
    else:
        weights, best = _best_weights(score, proba)
        found = {"class_weights": weights}
    if best <= plain:
        return None
    return Decision(metric=metric.name, chosen_on=chosen_on, score=metric.from_score(best),
                    score_at_most_probable=metric.from_score(plain), **found)


def _best_threshold(score, positive: np.ndarray) -> tuple[float, float]:
    candidates = np.unique(positive)
    if len(candidates) > CANDIDATES:
        candidates = np.unique(np.quantile(positive, np.linspace(0, 1, CANDIDATES)))
    candidates = np.append(candidates, 0.5).astype(np.float32)  # as the graphs compare
    positive = positive.astype(np.float32)
    scores = np.array([score((positive >= t).astype(np.int64)) for t in candidates])
    # the best score; among equals, the threshold nearest 0.5
    best = np.flatnonzero(scores == scores.max())
    pick = best[np.argmin(np.abs(candidates[best] - 0.5))]
    return float(np.float32(candidates[pick])), float(scores[pick])


def _best_weights(score, proba: np.ndarray) -> tuple[list[float], float]:
    weights, proba = np.ones(proba.shape[1]), proba.astype(np.float32)
    best = score(proba.argmax(axis=1))
    for _ in range(PASSES):
        improved = False
        for k in range(proba.shape[1]):
            for w in WEIGHTS:
                trial = weights.copy()
                trial[k] = w
                scored = score((proba * trial.astype(np.float32)).argmax(axis=1))
                if scored > best:
                    best, weights, improved = scored, trial, True
        if not improved:
            break
    return [float(w) for w in weights], float(best)
