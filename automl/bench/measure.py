"""The protocol's cost figures, measured the same way for every system, in the worker."""

from __future__ import annotations

import os
import resource
import threading
import time
from pathlib import Path
from typing import Callable

import pandas as pd

from automl.serving.timing import median_call_ms

LATENCY_CALLS = 50
THROUGHPUT_MIN_SECONDS = 0.5  # repeat short batches until timing noise is small
THROUGHPUT_MAX_REPEATS = 20


def single_row_latency_ms(predict: Callable, X: pd.DataFrame, calls: int = LATENCY_CALLS) -> float:
    """Median wall time of one-row predictions, rows taken in turn from `X`, after one
    call that pays for lazy imports and caches (not what a server sees)."""
    rows = [X.iloc[[i % len(X)]] for i in range(calls)]
    return median_call_ms(lambda i: predict(rows[i]), calls, warmup=1)


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


class TreeMemory:
    """The peak memory of a process and all its descendants, sampled by a thread.

    A system's fit is rarely one process: a local Ray is a GCS server, a raylet and a
    worker per trial, all descendants of the process that started it; joblib's loky
    workers too. Each sample sums the proportional set size (PSS) of every process in the
    tree: a shared page counts once in the sum, split among the processes that map it, so
    libraries and Ray's object store (shared memory in /dev/shm, mapped by the raylet and
    the workers) are not counted once per process, as summing RSS would. Pages of the
    object store that no process maps at that moment are not seen. Where /proc has no
    smaps_rollup (before Linux 4.14) a process counts by its RSS. A spike shorter than the
    interval may be missed; the worker's own peak (ru_maxrss) is a floor under the figure.
    """

    def __init__(self, pid: int | None = None, interval: float = 0.25):
        self.pid = os.getpid() if pid is None else pid
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="tree-memory", daemon=True)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, tree_memory_mb(self.pid))
            if self._stop.wait(self.interval):
                return


def tree_memory_mb(pid: int) -> float:
    """The summed PSS (else RSS) of `pid` and its descendants now, in MB; 0 without /proc."""
    return sum(_process_kib(p) for p in [pid, *_descendants(pid)]) / 1024


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # the name (field 2) may hold spaces and ')': the parent is after the last ')'
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _process_kib(pid: int) -> int:
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1])
        except (OSError, ValueError):
            continue  # gone, or not ours to read
    return 0
