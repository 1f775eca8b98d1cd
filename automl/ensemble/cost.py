"""What each candidate costs to ship and to call, and the cap an ensemble must stay under.

A candidate's cost is its model's pickled size (what model/predictor.joblib holds of it)
and its one-row latency: the median of a few `predict_raw` calls on one row of its
branch's features, measured once, here, before selection. The ensemble's cost is the sum
over its distinct members; the branch's encoding and the predictor's own overhead are
shared by every ensemble and left out. As AutoGluon's `infer_limit` does with
`as_child`, a bagged candidate that will be refitted (refit_full) is costed as one of its
fold models, the model that refit makes, not as all k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.bundle import pickled_bytes
from automl.models.bagging import BaggedModel
from automl.serving.timing import median_call_ms
from automl.units import size_text

LATENCY_CALLS = 5  # one-row calls per candidate, after a warm-up call: the median is kept


@dataclass(frozen=True)
class Cost:
    size_bytes: int
    latency_ms: float

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.size_bytes + other.size_bytes, self.latency_ms + other.latency_ms)

    def describe(self) -> str:
        return f"{size_text(self.size_bytes)}, {self.latency_ms:.2f} ms per row"


ZERO = Cost(0, 0.0)


@dataclass(frozen=True)
class CostCap:
    max_size_bytes: int | None = None
    max_latency_ms: float | None = None

    @property
    def active(self) -> bool:
        return self.max_size_bytes is not None or self.max_latency_ms is not None

    def allows(self, cost: Cost) -> bool:
        return ((self.max_size_bytes is None or cost.size_bytes <= self.max_size_bytes)
                and (self.max_latency_ms is None or cost.latency_ms <= self.max_latency_ms))

    def describe(self) -> str:
        parts = []
        if self.max_size_bytes is not None:
            parts.append(f"size {size_text(self.max_size_bytes)}")
        if self.max_latency_ms is not None:
            parts.append(f"latency {self.max_latency_ms:g} ms per row")
        return ", ".join(parts) or "none"


def total_cost(costs: list[Cost], weights) -> Cost:
    """The cost of the members with weight above 0."""
    return sum((c for c, w in zip(costs, weights) if w > 0), ZERO)


def model_cost(model, row: np.ndarray, refit_full: bool = False) -> Cost:
    """`model`'s cost as it will be shipped: with `refit_full`, a bagged model's first fold
    model stands for its refit, its size scaled by k / (k - 1) because the refit learns
    from that many more rows (a fully grown tree's leaves grow with its rows; a boosted
    model's size does not, so this errs large)."""
    scale = 1.0
    if refit_full and isinstance(model, BaggedModel) and len(model) > 1:
        model, scale = model.models_[0], len(model) / (len(model) - 1)
    return Cost(int(scale * pickled_bytes(model)), one_row_latency_ms(model, row))


def one_row_latency_ms(model, row: np.ndarray, calls: int = LATENCY_CALLS) -> float:
    # one warm-up call: the first pays for lazy set-up (a booster's, torch's)
    return median_call_ms(lambda _: model.predict_raw(row), calls, warmup=1)
