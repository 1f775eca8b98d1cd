"""Time budgets: parse '90s' / '5m' / '1h' / plain seconds, and a monotonic deadline."""

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
    if seconds <= 0:
        raise ConfigError(f"{what} must be positive, got {value!r}")
    return seconds


class Deadline:
    """A point in monotonic time; stages ask it how long they may still take."""

    def __init__(self, seconds: float | None):
        self.total = seconds
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float | None:
        """Seconds left, never negative; None when there is no budget."""
        if self.total is None:
            return None
        return max(0.0, self.total - self.elapsed())

    def share(self, fraction: float) -> float | None:
        """`fraction` of the whole budget, capped by what is left after the reserve."""
        if self.total is None:
            return None
        return max(0.0, min(self.total * fraction, self.remaining() - self.reserve()))

    def reserve(self) -> float:
        """Kept back from every stage for finishing the run (bundling, metrics)."""
        return 0.0 if self.total is None else min(5.0, 1.0 + 0.02 * self.total)
