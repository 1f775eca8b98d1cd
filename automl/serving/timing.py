"""The one timer of one-row predictions: the median of many calls, after a warm-up (first
calls pay for lazy imports, caches and allocations, which a server pays once)."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np


def median_call_ms(call: Callable[[int], object], calls: int, warmup: int) -> float:
    """Median milliseconds of `call(i)` for i in 0..calls-1, after `warmup` untimed calls
    (call(0), call(1), ...)."""
    for i in range(warmup):
        call(i)
    times = np.empty(calls)
    for i in range(calls):
        started = time.perf_counter()
        call(i)
        times[i] = time.perf_counter() - started
    return float(np.median(times) * 1000)
