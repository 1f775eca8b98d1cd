"""Where trials run: an embedded local Ray by default, an existing cluster by address."""

from __future__ import annotations

import contextlib
import logging
import os
import time

import ray

from automl.errors import ConfigError
from automl.models.memory import human
from automl.search import cluster, reaper

# Spin-waiting OpenMP threads make co-scheduled trials crawl on shared cores (DESIGN.md).
WORKER_ENV = {"OMP_WAIT_POLICY": "passive"}
_joined: str | None = None  # what joining a cluster said, for whoever asks again


def connect(address: str | None = None) -> str:
    """Start or join Ray once per process; say which. With an address, never start one."""
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # no per-trial CSV/JSON
    # A trial that finds the budget spent ends without a score; that is not an error.
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    # Tune warns per trial that it found no result files: we turned those files off.
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
    # A notice that a local Ray uses token authentication; nothing for our user to act on.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    # A failed trial is recorded with its error in the leaderboard and the search goes on:
    # Tune's traceback of each one (and its closing list of them) is noise on the console.
    for name in ("ray.tune.execution.tune_controller", "ray.tune.tune"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # Tune's own state file is written to the run folder (local storage only): a failure
    # there is a full disk, which the trials' writes meet too and report as one line
    # (DiskFullError); Tune's traceback of it would come before that line.
    logging.getLogger("ray.tune.execution.experiment_state").setLevel(logging.CRITICAL)
    global _joined
    if ray.is_initialized():
        return _joined or "reused the Ray already running in this process"
    common = dict(logging_level=logging.WARNING, log_to_driver=False, configure_logging=True)
    if address:
        _joined = cluster.join(address, WORKER_ENV, common)
        return _joined
    started = time.monotonic()
    # A local Ray's workers inherit the environment its processes start with: no runtime env
    # to set up, which costs about a second before the first trial (measured, see the README).
    # The driver gets its own back: it fits alone on the machine (the ensemble's refits, the
    # students), where passive OpenMP threads made a LightGBM fit 3x slower (4.0 s against
    # 12.3 s for 600 trees on 100,000 rows, 2 threads).
    # Ray's usage statistics: a local Ray of this run's own reports to nobody, and starts
    # without the process that collects them (1.5 of 9 CPU-seconds a start; measured)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with _environment(WORKER_ENV):
        # address "local": always a Ray of this run's own, never one another process started
        ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, **common)
    reaper.watch_this_driver()  # what Ray leaves of itself when this driver is killed
    return f"started a local Ray ({cluster_cpus():g} CPUs) in {time.monotonic() - started:.1f}s"


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    """`values` in os.environ (where not set already) for the block, then as before."""
    added = {name: value for name, value in values.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def started() -> bool:
    """Whether this process has started or joined Ray already."""
    return ray.is_initialized()


def cluster_cpus() -> float:
    return float(ray.cluster_resources().get("CPU", 0))


def check_trial_cpus(cpus_per_trial: float, label: str) -> None:
    """Refuse CPUs per trial that no node of this Ray has: Tune would wait for them forever
    (or until the budget ends) without a word."""
    largest = max((node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"]),
                  default=0)
    if cpus_per_trial > largest:
        raise ConfigError(
            f"{label}: param 'cpus_per_trial' = {cpus_per_trial:g} is more than any node of "
            f"this Ray has ({largest:g} CPUs), so no trial could start; allowed: up to "
            f"{largest:g} here; lower it, or join a cluster with larger nodes (--address)")


def check_task_fits(cpus: float, memory: int | None, what: str) -> None:
    """Refuse a task that no node of this Ray has room for (CPUs and memory): Ray would hold
    it pending without a word, until the budget ends or forever."""
    nodes = [node["Resources"] for node in ray.nodes() if node["Alive"]]
    if any(n.get("CPU", 0) >= cpus and n.get("memory", 0) >= (memory or 0) for n in nodes):
        return
    largest = max(nodes, key=lambda n: (n.get("CPU", 0), n.get("memory", 0)), default={})
    raise ConfigError(
        f"{what} needs {cpus:g} CPU and {human(memory or 0)} of memory, and no node of this Ray "
        f"has that much (the largest: {largest.get('CPU', 0):g} CPUs, "
        f"{human(largest.get('memory', 0))}); join a cluster with larger nodes, or give the "
        "search less to hold: fewer rows (sample_rows), fewer cpus_per_trial, holdout "
        "validation instead of k folds")


def alive_nodes() -> set[str]:
    """The nodes of this Ray still alive, by the first 12 characters of their ids (as the
    leaderboard names them)."""
    return {node["NodeID"][:12] for node in ray.nodes() if node["Alive"]}


def free_cpus() -> float:
    return float(ray.available_resources().get("CPU", 0))


def is_client() -> bool:
    """True when connected through Ray Client (ray://): the driver's disk is not a node's."""
    try:
        return ray.util.client.ray.is_connected()
    except AttributeError:
        return False


def node_id() -> str:
    return ray.get_runtime_context().get_node_id()
