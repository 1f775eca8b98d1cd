"""Sizes and latencies as people write them: '50MB', '512KB', '10ms', '250us'.

`--max-model-size` and `--max-latency` (and the ensemble params they stand for) take
these. The standard library only: the CLI checks its options before the libraries that
take seconds to import. A size's units are binary (1 MB = 2**20 bytes), as `du -h` and
the run's own size lines count them.
"""

from __future__ import annotations

import re

from automl.errors import ConfigError

SIZE_UNITS = {"b": 1, "kb": 2**10, "kib": 2**10, "k": 2**10, "mb": 2**20, "mib": 2**20,
              "m": 2**20, "gb": 2**30, "gib": 2**30, "g": 2**30}
LATENCY_UNITS = {"us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1000.0}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*([a-zµ]*)\s*$", re.IGNORECASE)

# A model under 1 KB is no ensemble (one pickled tree is larger); one past 64 GB does
# not load on the machines that serve models. A latency of a minute constrains nothing a
# service would call (as the compress node's max_latency_ms).
MIN_SIZE, MAX_SIZE = 2**10, 64 * 2**30
MIN_LATENCY_MS, MAX_LATENCY_MS = 0.001, 60_000.0


def size_bytes(value, label: str = "max model size") -> int:
    """Bytes from '50MB', '512KB', '2GB' or a number of bytes, from 1 KB to 64 GB."""
    allowed = "allowed: 1KB to 64GB, written like '50MB', '512KB' or '2GB' (1 MB = 2^20 bytes)"
    amount = _amount(value, SIZE_UNITS, "b", label, allowed, "50MB")
    return int(_within(amount, MIN_SIZE, MAX_SIZE, value, label, allowed, "a size"))


def latency_ms(value, label: str = "max latency") -> float:
    """Milliseconds from '10ms', '250us', '0.5s' or a number of milliseconds, from 1 µs to 60 s."""
    allowed = "allowed: 1us to 60s, written like '10ms', '250us' or '0.5s'"
    amount = _amount(value, LATENCY_UNITS, "ms", label, allowed, "10ms")
    return _within(amount, MIN_LATENCY_MS, MAX_LATENCY_MS, value, label, allowed, "a latency")


def size_text(n_bytes: float) -> str:
    """'1.4 MB', '312 KB': a size for a log line, in the units `size_bytes` reads."""
    if n_bytes >= 2**20:
        return f"{n_bytes / 2**20:,.1f} MB"
    return f"{n_bytes / 2**10:,.0f} KB"


def _amount(value, units: dict[str, float], bare: str, label: str, allowed: str,
            example: str) -> float:
    """The number times its unit (`bare` where none is written)."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):  # NaN, infinity
            raise ConfigError(f"{label} {value!r} is not a finite number; {allowed}")
        return float(value) * units[bare]
    match = _NUMBER.match(str(value))
    unit = (match.group(2) or bare).lower() if match else ""
    if match is None or unit not in units:
        raise ConfigError(f"{label} {value!r} is not understood; {allowed}; e.g. {example}")
    return float(match.group(1)) * units[unit]


def _within(amount: float, low: float, high: float, value, label: str, allowed: str,
            what: str) -> float:
    """`amount` where it lies in [low, high], else the one-line error naming `value`."""
    if not low <= amount <= high:
        raise ConfigError(f"{label} {value!r} is out of range; {allowed}; give {what} in that range")
    return amount
