"""Contributions carried through maps of a model's outputs (`Flow`): each map keeps them
adding up to its change in output: an elementwise map rescales them, a linear one maps
them linearly, a softmax gets its Jacobian integrated along the line from base to row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, softmax

TINY = 1e-6  # below this change an elementwise map's slope is taken at the midpoint
# composite Gauss-Legendre on [0, 1]: the softmax path's integral
PANELS, ORDER = 8, 6
_LEGENDRE_X, _LEGENDRE_W = np.polynomial.legendre.leggauss(ORDER)
NODES = np.concatenate([(p + (_LEGENDRE_X + 1) / 2) / PANELS for p in range(PANELS)])
WEIGHTS = np.tile(_LEGENDRE_W / 2 / PANELS, PANELS)


@dataclass
class Flow:
    """Contributions `c` (n, f, p) of f columns to p outputs that move from `x0` (n, p)
    (the base) to `x1` (n, p) (the row's): c.sum(axis=1) == x1 - x0."""

    c: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    remainder: float = 0.0  # the largest share of a change a quadrature left, shared out

    def linear(self, W: np.ndarray, b=0.0) -> "Flow":
        """Outputs x @ W + b."""
        return Flow(self.c @ W, self.x0 @ W + b, self.x1 @ W + b, self.remainder)

    def elementwise(self, f) -> "Flow":
        """Outputs f(x), output by output: the rescale rule."""
        y0, y1 = f(self.x0), f(self.x1)
        dx = self.x1 - self.x0
        small = np.abs(dx) < TINY
        middle = (self.x0 + self.x1) / 2
        step = 1e-5 * np.maximum(1.0, np.abs(middle))
        slope = (f(middle + step) - f(middle - step)) / (2 * step)
        ratio = np.where(small, slope, (y1 - y0) / np.where(small, 1.0, dx))
        return Flow(self.c * ratio[:, None, :], y0, y1, self.remainder)

    def softmax(self) -> "Flow":
        """Outputs softmax(x): the Jacobian integrated along the line from x0 to x1."""
        s = softmax(self.x0[:, None, :] + NODES[None, :, None] * (self.x1 - self.x0)[:, None, :],
                    axis=2)  # (n, q, p)
        weighted = s * WEIGHTS[None, :, None]
        jacobian = (np.einsum("nqk,kl->nkl", weighted, np.eye(s.shape[2]))
                    - np.einsum("nqk,nql->nkl", weighted, s))
        return Flow(np.einsum("nkl,nfl->nfk", jacobian, self.c), softmax(self.x0, axis=1),
                    softmax(self.x1, axis=1), self.remainder).closed()

    def closed(self) -> "Flow":
        """The contributions made to add up to x1 - x0 exactly, the remainder shared out in
        proportion to their sizes (evenly where all are 0); `remainder` keeps its largest."""
        remainder = (self.x1 - self.x0) - self.c.sum(axis=1)
        size = np.abs(self.c)
        total = size.sum(axis=1, keepdims=True)
        share = np.where(total > 0, size / np.where(total > 0, total, 1.0), 1.0 / max(self.c.shape[1], 1))
        return Flow(self.c + share * remainder[:, None, :], self.x0, self.x1,
                    max(self.remainder, float(np.abs(remainder).max(initial=0.0))))

    def to_classes(self, seen, n_classes: int) -> "Flow":
        """Outputs over the classes a model saw, placed among all `n_classes` (0 elsewhere)."""
        seen = np.asarray(seen, dtype=np.int64)
        if len(seen) == n_classes and (seen == np.arange(n_classes)).all():
            return self
        place = np.zeros((len(seen), n_classes))
        place[np.arange(len(seen)), seen] = 1.0
        return self.linear(place)


def from_margins(contributions: np.ndarray, bias: np.ndarray) -> Flow:
    """A flow from per-column margins (n, f, p) and the bias (n, p) they start from."""
    return Flow(contributions, bias, bias + contributions.sum(axis=1))


def weighted(flows: list[Flow], weights) -> Flow:
    """The flows' weighted sum, as of a weighted mean of their outputs."""
    weights = np.asarray(weights, dtype=np.float64)
    return Flow(sum(w * f.c for w, f in zip(weights, flows)),
                sum(w * f.x0 for w, f in zip(weights, flows)),
                sum(w * f.x1 for w, f in zip(weights, flows)),
                max(f.remainder for f in flows))


def stacked(flows: list[Flow]) -> Flow:
    """The members' outputs side by side, as a stacker reads them."""
    return Flow(np.concatenate([f.c for f in flows], axis=2),
                np.concatenate([f.x0 for f in flows], axis=1),
                np.concatenate([f.x1 for f in flows], axis=1),
                max(f.remainder for f in flows))


def binary(margin: Flow) -> Flow:
    """A binary model's log-odds (n, 1) as its two probabilities (1 - p, p)."""
    return margin.elementwise(expit).linear(np.array([[-1.0, 1.0]]), np.array([1.0, 0.0]))


def probabilities(margin: Flow) -> Flow:
    """Margins as probabilities: one column of log-odds, or logits of a softmax."""
    return binary(margin) if margin.c.shape[2] == 1 else margin.softmax()


def log_clipped(floor: float):
    """log(p), p clipped below at `floor`: as a stacker or the temperature reads probabilities."""
    return lambda p: np.log(np.clip(p, floor, 1.0))
