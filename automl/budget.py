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

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")

# A run's time budget, bounded. Below 5 s the run's reserve (2 s + 10%, kept for the
# bundle, ensemble.onnx and the scores) leaves the stages under 3 s: no trial, only the fallback model. Above
# 7 days a budget is more likely a slip of the unit (5000m for 5000s) than a plan.
MIN_TIME_BUDGET = 5.0
MAX_TIME_BUDGET = 7 * 86400.0
# When none is given. Fixed, not scaled by the table: the same on every table, so a user
# can plan around it, and stated in a fit's first log line. 5 minutes is where the 300 s
# benchmark (docs/results/2026-11-30-bench-300s.md) found the default pipeline near its
# best on tables up to ~100k rows on 2 cores, and larger tables are searched on a sample;
# short enough that a forgotten flag does not hold a shared machine for hours (a 300-row
# table once trained past 4 minutes without one).
DEFAULT_TIME_BUDGET = 300.0
DEFAULT = "default"  # Settings.time_budget when none was given; fit_run resolves it
NO_LIMIT = "none"  # asked for explicitly: a run bounded by max_trials alone, the same on any machine


def parse_duration(value: str | float | int, what: str = "time budget",
                   low: float = MIN_TIME_BUDGET, high: float = MAX_TIME_BUDGET) -> float:
    """Seconds from '90s', '5m', '1.5h', '2d' or a number of seconds, from `low` to `high`."""
    allowed = (f"allowed: {format_duration(low)} to {format_duration(high)}, written like "
               "'90s', '5m', '1.5h' or '2d'")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _PATTERN.match(str(value))
        if not match:
            raise ConfigError(f"{what} {value!r} is not a duration; {allowed}; e.g. 5m")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not low <= seconds <= high:  # NaN too
        why = "negative" if seconds < 0 else "too short" if seconds < low else \
            "too long" if seconds > high else "not a number"
        raise ConfigError(f"{what} {value!r} is {why}; {allowed}; give a duration in that range")
    return seconds


def parse_time_budget(value: str | float | int | None,
                      what: str = "time budget") -> float | str | None:
    """A run's time budget as Settings holds it: seconds, None for no limit ('none'),
    or DEFAULT when none was given (None)."""
    if value is None:
        return DEFAULT
    if isinstance(value, str) and value.strip().lower() == NO_LIMIT:
        return None
    return parse_duration(value, what)


def resolve_time_budget(value: float | str | None) -> tuple[float | None, str]:
    """The seconds a run's time budget stands for (None: no limit), and the log line that
    says so: the first line of a fit."""
    if value == DEFAULT:
        return DEFAULT_TIME_BUDGET, (f"time budget: {format_duration(DEFAULT_TIME_BUDGET)} "
                                     "(the default; --time-budget or time_budget= to change)")
    if value is None:
        return None, "time budget: none (no limit)"
    return float(value), f"time budget: {format_duration(float(value))}"


def format_duration(seconds: float) -> str:
    """'5m', '90s', '1h', '7d': the largest unit that divides it."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


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
        """Kept back from every stage's share for finishing the run: the model bundle,
        model/ensemble.onnx (written, parity-checked and timed: 4-11 s on the bench's
        smaller tables at a 60 s budget), the scores, the report (whose permutation
        importance takes what is left)."""
        return 0.0 if self.total is None else min(20.0, 2.0 + 0.10 * self.total)

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
