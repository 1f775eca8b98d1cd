"""The run's one time budget: parsed once from `--time-budget`, shared out to the stages,
handed down to trials and into each model's fit.

A `Budget` is a wall-clock allowance: it ends at `end` (`time.time()`), or never
(`None`, a run without a time budget). Wall-clock time, not a monotonic clock, because a
budget crosses processes: a Ray worker on another core (or node) must read the same end.
Every clock in the package is a Budget, so "how long may I still take?" has one answer.
"""

from __future__ import annotations

import re
import time

from automl.errors import ConfigError

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*$")


def parse_duration(value: str | float | int, what: str = "time budget") -> float:
    """Seconds from '90s', '5m', '1.5h' or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _PATTERN.match(str(value))
        if not match:
            raise ConfigError(
                f"{what} {value!r} is not a duration; write it like '90s', '5m' or '1h'"
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not seconds > 0:
        raise ConfigError(f"{what} must be positive, got {value!r}")
    return seconds


class Budget:
    """Seconds a piece of work may take, from now or from a given end.

    `total` is what it was given (None: unlimited); `end` when it runs out. A share of a
    budget is a Budget of its own that ends no later than its parent, so a stage that
    overruns its share eats into what is left, never into what was promised.
    """

    def __init__(self, seconds: float | None = None, *, end: float | None = None,
                 start: float | None = None):
        self.start = time.time() if start is None else start
        if end is None and seconds is not None:
            end = self.start + seconds
        self.end = end
        self.total = None if end is None else end - self.start

    @classmethod
    def unlimited(cls) -> "Budget":
        return cls(None)

    @property
    def limited(self) -> bool:
        return self.end is not None

    def elapsed(self) -> float:
        return time.time() - self.start

    def remaining(self) -> float | None:
        """Seconds left, never negative; None when unlimited."""
        return None if self.end is None else max(0.0, self.end - time.time())

    def expired(self) -> bool:
        return self.end is not None and time.time() >= self.end

    def reserve(self) -> float:
        """Kept back from every stage's share for finishing the run: the model bundle, the
        scores, the report (whose permutation importance takes what is left)."""
        return 0.0 if self.total is None else min(10.0, 2.0 + 0.05 * self.total)

    def share(self, fraction: float, keep: float = 0.0) -> "Budget":
        """`fraction` of the whole budget from now, ending `keep` seconds before this one
        at the latest (the run keeps its reserve back from every stage's share)."""
        if self.end is None:
            return Budget.unlimited()
        return Budget(end=min(time.time() + fraction * self.total, self.end - keep))

    def until(self, fraction: float, keep: float = 0.0) -> "Budget":
        """What is left until `fraction` of the whole budget has passed since its start,
        and at most until `keep` seconds before its end: how a run's stages share it out
        (a stage ends when its share and those of the stages before it are spent)."""
        if self.end is None:
            return Budget.unlimited()
        return Budget(end=min(self.start + fraction * self.total, self.end - keep))

    def cap(self, seconds: float | None) -> "Budget":
        """At most `seconds` from now, and never past this budget's end."""
        if seconds is None:
            return Budget(end=self.end)
        end = time.time() + seconds
        return Budget(end=end if self.end is None else min(end, self.end))

    def split(self, parts: int) -> "Budget":
        """A fair slice of what is left, for the next of `parts` pieces of work."""
        left = self.remaining()
        return Budget(end=self.end) if left is None else self.cap(left / max(parts, 1))

    def describe(self) -> str:
        return "none" if self.end is None else f"{self.remaining():.0f}s"

    def __repr__(self) -> str:
        return f"Budget(remaining={self.remaining()})"
