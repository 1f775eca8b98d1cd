"""Clusters of their own, made to fail: one too small (no CPU, another Ray, a node whose
memory holds no trial) and one whose worker node is lost mid-search. Apart from
test_cluster.py so that the parallel suite runs them beside its shared cluster."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import joblib
import pytest

from ray import __version__ as RAY_VERSION
from automl.search.local_cluster import LocalCluster
from tests.conftest import REPO, SAMPLE
from tests.drivers import Driver
from tests.plugins.faulty import MARKERS

from tests.cluster_helpers import (FAST_NODE_DEATH, SLEEPY, fit_on, join_error, leaderboard,
                                   set_cluster_versions, sleepy_pipeline)

# a cluster's nodes and their workers start and schedule on the wall clock: alone, after
# the parallel part of `make test` (beside it, on two cores, trials waited on slow starts)
pytestmark = [pytest.mark.slow, pytest.mark.serial]


def test_a_cluster_without_cpus_of_another_ray_or_too_small_for_a_trial_says_so(tmp_path, capfd):
    """One small cluster, three refusals in turn: a head without CPU; the same head telling
    the version of another Ray; then, its version back, a worker whose memory holds no
    trial (Ray would hold it pending without a word): refused before any trial starts.
    Its head's first `ray start` exits at once: the cluster starts it again, saying why."""
    ray = _ray_failing_once(tmp_path)
    with LocalCluster(workers=[], head_cpus=0, folder=tmp_path / "small", ray=str(ray)) as small:
        said = capfd.readouterr().err
        assert "a node of the local cluster exited (1); the end of " in said, said
        assert "a port taken, say" in said and "starting it again on other ports" in said, said
        line, seconds = join_error(small.address, small.driver_env(), tmp_path)
        assert "its 1 node(s) have no CPU to run trials on" in line, line
        assert seconds < 10, seconds
        set_cluster_versions(small, ray_version="2.59.0")
        line, seconds = join_error(small.address, small.driver_env(), tmp_path)
        assert "it runs Ray 2.59.0 on Python" in line and "install ray==2.59.0" in line, line
        assert seconds < 10, seconds
        set_cluster_versions(small, ray_version=RAY_VERSION)
        small.add_worker(1, memory=20 * 2**20)
        driver = Driver(str(SAMPLE), "--target", "income", "--address", small.address,
                        "--pipeline", "fast", "--out", str(tmp_path / "runs"), "--time-budget",
                        "30s", "--no-report", env=small.driver_env())
        assert driver.finish() == 2, driver.log
    line = driver.lines[-1]
    assert line.startswith("automl: error: search: a trial needs 1 CPU and "), line
    assert "no node of this Ray has that much (the largest: 1 CPUs, 20 MB)" in line, line
    assert not list((tmp_path / "runs").glob("*/nodes/search/*/trials/*")), "a trial ran"



def _ray_failing_once(folder: Path) -> Path:
    """A `ray` command whose first call fails as a node does, the next ones Ray's own."""
    script, marker = folder / "ray", folder / "failed-once"
    script.write_text(f"""#!/bin/sh
if [ ! -e {marker} ]; then touch {marker}; echo "a port taken, say"; exit 1; fi
exec {Path(sys.executable).with_name("ray")} "$@"
""")
    script.chmod(0o755)
    return script


def test_a_worker_node_killed_mid_search_leaves_its_trials_recorded_as_lost(tmp_path):
    """A head of 1 CPU and a worker of 2: three trials at once over both until the
    worker's raylet is killed mid-trial; the search ends on the head."""
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {"PYTHONPATH": str(REPO), MARKERS: str(markers), **FAST_NODE_DEATH}
    with LocalCluster(workers=[2], folder=tmp_path / "cluster", env=env) as cluster:
        out = tmp_path / "runs"
        driver = fit_on(cluster, "--pipeline", str(sleepy_pipeline(tmp_path)), "--out", str(out),
                      "--time-budget", "60s", env=env, register={"sleepy": SLEEPY})
        mine = driver.wait_for_line(r"this driver is on node (\w+)").group(1)[:12]
        run_dir = driver.wait_until(lambda: next(iter(out.glob("*/graph.yaml")), None)).parent

        def worker_is_busy():  # a finished trial on the worker node, and a sleepy one running there
            return (_finished_on_other_nodes(run_dir, mine)
                    and _marked_on_other_nodes(markers, mine, within=SLEEPY_SECONDS - 2))
        driver.wait_until(worker_is_busy, what="a trial on the worker node")
        os.kill(cluster.raylet_pid(1), 9)  # the worker node's raylet: its node is gone
        killed = time.time()
        assert driver.finish() == 0, driver.log
    board = leaderboard(run_dir)
    assert board["trial"].is_unique
    lost = board[board["status"] == "error"]
    assert len(lost) >= 1, board.drop(columns=["params"]).to_string()
    assert lost["error"].str.startswith("worker failed: ").all(), lost["error"].tolist()
    ok = board[board["status"] == "ok"]
    assert ok["node"].nunique() == 2, board  # both nodes worked before
    assert (ok.loc[ok["node"] == mine, "finished"] > killed).any(), board  # ... and on without one
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
    # the search asked for every CPU of the nodes of both sizes; where Tune places each
    # trial is Ray's: two at once on the worker depends on how fast its workers start
    assert "3 trial(s) at once, 1 CPU each" in driver.log, driver.log


def _finished_on_other_nodes(run_dir: Path, mine: str) -> list[float]:
    """When each trial that ended well on a node other than `mine` was written."""
    times = []
    for path in run_dir.glob("nodes/search/*/trials/*.joblib"):
        try:
            trial = joblib.load(path)
        except Exception:  # being renamed into place: read it next time
            continue
        if trial.status == "ok" and not trial.node.startswith(mine):
            times.append(path.stat().st_mtime)
    return times


SLEEPY_SECONDS = 8  # tests/plugins/sleepy.yaml


def _marked_on_other_nodes(markers: Path, mine: str, within: float) -> list[Path]:
    """The markers (tests.plugins.faulty) of sleepy trials begun on a node other than
    `mine` in the last `within` seconds (a marker's name: pid-time_ns)."""
    return [path for path in markers.glob("*.json")
            if time.time() - int(path.stem.split("-")[1]) / 1e9 < within
            and not json.loads(path.read_text())["node"].startswith(mine)]


