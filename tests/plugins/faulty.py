"""Test-only families whose trials meet a fault for real, to show a search lives through it.

- `killer`: its worker process kills itself with SIGKILL mid-fit, as the kernel's
  out-of-memory killer would: no exception, no goodbye.
- `napping`: a fit of a few seconds that, where $AUTOML_TEST_MARKERS is set, also waits
  (up to a bound) until a trial runs on another node: Tune gives a pending
  trial to whichever worker is free first, so on a loaded machine, where the other nodes'
  workers take many seconds to start, one node's reused worker ran a whole search.
- `sleepy`: a long fit that first writes a marker (its pid and Ray node) into the folder
  $AUTOML_TEST_MARKERS, so a test knows where a trial is running and can take that node
  away.

Registered by the tests (automl.models.registry.register); Ray workers import them by
their path, like any plugin family.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import numpy as np

from automl.models.base import Family, as_budget

MARKERS = "AUTOML_TEST_MARKERS"


class _Prior(Family):
    branch = "trees"
    space_folder = str(Path(__file__).parent)

    def _learn(self, y) -> "_Prior":
        self.prior_ = np.bincount(y, minlength=self.n_classes) / len(y)
        return self

    def predict_raw(self, X):
        return np.tile(self.prior_, (len(X), 1))


class KillerFamily(_Prior):
    key = "killer"
    allowed_params = ("mode",)

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report=None):
        if self._checked_params().get("mode") == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        return self._learn(y)


class SleepyFamily(_Prior):
    key = "sleepy"
    allowed_params = ("seconds",)

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report=None):
        _mark_where_this_runs()
        end = time.monotonic() + float(self._checked_params().get("seconds", 0))
        budget = as_budget(budget)
        while time.monotonic() < end and not budget.expired():
            time.sleep(0.1)
        return self._learn(y)


def _mark_where_this_runs() -> None:
    folder = os.environ.get(MARKERS)
    if not folder:
        return
    import ray

    node = ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
    path = Path(folder) / f"{os.getpid()}-{time.time_ns()}.json"
    path.write_text(json.dumps({"pid": os.getpid(), "node": node}))


class NappingFamily(SleepyFamily):
    key = "napping"
    longest_wait = 60.0  # seconds: the other nodes' workers start within it (over 20 s on a busy machine)

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report=None):
        super().fit(X, y, X_valid, y_valid, budget, report)
        folder = os.environ.get(MARKERS)
        deadline = time.monotonic() + self.longest_wait
        while folder and not _another_node_works(folder) and time.monotonic() < deadline:
            time.sleep(0.2)
        return self


def _another_node_works(folder: str) -> bool:
    """A trial runs on a node other than this napping one's: two nodes marked, or, on
    nodes of 1 CPU each, a CPU in use beside this trial's (it waited out its whole bound
    when it looked for another napping trial only, and one napping trial is the usual)."""
    import ray

    if len(_nodes_marked(folder)) >= 2 or not ray.is_initialized():
        return True
    in_use = ray.cluster_resources().get("CPU", 0) - ray.available_resources().get("CPU", 0)
    return in_use >= 2


def _nodes_marked(folder: str) -> set:
    nodes = set()
    for path in Path(folder).glob("*.json"):
        try:
            nodes.add(json.loads(path.read_text())["node"])
        except (OSError, ValueError):  # a marker being written
            pass
    return nodes
