"""The protocol's cost figures, measured the same way for every system, in the worker."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

LATENCY_CALLS = 50
THROUGHPUT_MIN_SECONDS = 0.5  # repeat short batches until timing noise is small
THROUGHPUT_MAX_REPEATS = 20


def single_row_latency_ms(predict: Callable, X: pd.DataFrame, calls: int = LATENCY_CALLS) -> float:
    """Median wall time of one-row predictions, rows taken in turn from `X`."""
    rows = [X.iloc[[i % len(X)]] for i in range(calls)]
    predict(rows[0])  # first call pays lazy imports and caches; not what a server sees
    times = []
    for row in rows:
        started = time.perf_counter()
        predict(row)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def throughput_rows_s(predict: Callable, X: pd.DataFrame) -> float:
    """Rows per second when predicting all of `X` in one call."""
    repeats, elapsed = 0, 0.0
    while repeats == 0 or (elapsed < THROUGHPUT_MIN_SECONDS and repeats < THROUGHPUT_MAX_REPEATS):
        started = time.perf_counter()
        predict(X)
        elapsed += time.perf_counter() - started
        repeats += 1
    return repeats * len(X) / elapsed


def disk_bytes(path: Path) -> int:
    """Size of a file, or of every file under a folder."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def peak_memory_mb() -> float:
    """Peak resident memory of this process, or of its largest finished child if larger.

    Linux reports ru_maxrss in KiB. Children count only once they have exited and been
    waited for (e.g. joblib/loky workers); a library's still-running helpers do not.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 / 1024 if os.uname().sysname == "Linux" else 1 / 1024 / 1024  # macOS: bytes
    return max(own, children) * scale
