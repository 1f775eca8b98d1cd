"""Faults for real, no mocks: a node of a two-node Ray cluster taken away mid-search, the
driver killed with SIGKILL in the search, the ensemble and the distillation (each run
resumed), and a disk that fills up while the run folder is written.

Each test knows the moment to strike by watching what the run writes (its log lines, the
files of its run folder, markers its trials leave), never by a fixed sleep. A killed
trial's worker (SIGKILL from inside a fit) is in test_search.py, beside the crashing one.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import joblib
import pandas as pd
import pytest
import yaml

from tests.conftest import REPO, SAMPLE, mount_small_disk, unmount
from tests.drivers import Driver
from tests.plugins.faulty import MARKERS

SLEEPY = "tests.plugins.faulty:SleepyFamily"
RUN_FILES = ("model/predictor.joblib", "metrics.json", "leaderboard.csv")


def _files(run_dir: Path, pattern: str) -> list[Path]:
    return sorted(run_dir.glob(pattern))


def _only_run(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def _trials_written(run_dir: Path, stage: str = "search", folder: str = "trials") -> set[str]:
    return {p.stem for p in _files(run_dir, f"nodes/{stage}/*/{folder}/*.joblib")}


# ---- a node removed from a two-node cluster mid-search -----------------------------------


def _cluster_pipeline(folder: Path) -> Path:
    nodes = [{"name": "data", "kind": "ingest", "params": {"validation": "holdout"}},
             {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
             {"name": "search", "kind": "search", "inputs": ["trees"],
              "params": {"families": ["xgboost", "sleepy"], "searcher": "random",
                         "scheduler": "fifo", "max_trials": 10}}]
    path = folder / "cluster.yaml"
    path.write_text(json.dumps({"name": "cluster", "nodes": nodes}))
    return path


def _trial_nodes(run_dir: Path) -> dict[str, str]:
    """Trial -> the node it finished on, from the trials the search has written so far."""
    found = {}
    for path in _files(run_dir, "nodes/search/*/trials/*.joblib"):
        try:
            trial = joblib.load(path)
        except Exception:  # being renamed into place: read it next time
            continue
        found[trial.trial_id] = (trial.node, trial.status)
    return found


@pytest.mark.slow
def test_a_node_removed_mid_search_has_its_trials_recorded_and_the_search_ends_on_the_other(
        tmp_path):
    from ray.cluster_utils import Cluster

    markers = tmp_path / "markers"
    markers.mkdir()
    os.environ[MARKERS] = str(markers)  # the cluster's workers inherit it from this process
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        nodes = {cluster.head_node.node_id: cluster.head_node}
        extra = cluster.add_node(num_cpus=1)
        nodes[extra.node_id] = extra
        out = tmp_path / "runs"
        driver = Driver(str(SAMPLE), "--target", "income", "--pipeline", str(_cluster_pipeline(tmp_path)),
                        "--out", str(out), "--address", cluster.address, "--time-budget", "45s",
                        "--no-report", register={"sleepy": SLEEPY})
        # the node to take away: the one the driver (and the trials' sink) is not on
        mine = driver.wait_for_line(r"joined the Ray cluster at \S+ \(2 CPUs\); this driver is on "
                                    r"node (\w+)").group(1)
        (doomed,) = [n for n in nodes if not n.startswith(mine)]
        run_dir = driver.wait_until(lambda: next(iter(out.glob("*/graph.yaml")), None)).parent

        def doomed_is_busy():  # a finished trial there, and a sleepy one running there now
            finished = {n for n, status in _trial_nodes(run_dir).values() if status == "ok"}
            running = [json.loads(p.read_text()) for p in markers.glob("*.json")]
            running = [m for m in running if m["node"] == doomed]
            return doomed[:12] in finished and running and running
        driver.wait_until(doomed_is_busy, what="a trial on each node")
        cluster.remove_node(nodes[doomed], allow_graceful=False)  # its raylet and workers: SIGKILL
        removed = time.time()
        assert driver.finish() == 0, driver.log
    finally:
        cluster.shutdown()
        os.environ.pop(MARKERS, None)
    assert "started a local Ray" not in driver.log
    board = pd.read_csv(run_dir / "leaderboard.csv")
    assert board["trial"].is_unique
    # what was running on the node when it went is recorded as lost: where Ray told the
    # sink where the trial started, with that node; else with "?"
    lost = board[board["status"] == "error"]
    assert len(lost) >= 1, board.drop(columns=["params"], errors="ignore").to_string()
    assert lost["error"].str.startswith("worker failed: ").all(), lost["error"].tolist()
    assert lost["node"].isin([doomed[:12], "?"]).all(), lost["node"].tolist()
    said_node = lost[lost["node"] == doomed[:12]]
    assert said_node["error"].str.contains("its node died|became unreachable").all(), said_node
    ok = board[board["status"] == "ok"]
    assert set(ok["node"]) == {mine, doomed[:12]}, board  # both nodes worked before
    assert (ok.loc[ok["node"] == mine, "finished"] > removed).any(), board  # ... and on without one
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
    for name in RUN_FILES:
        assert (run_dir / name).is_file(), name


# ---- the driver killed in the search, the ensemble and the distillation ------------------


def _compact_pipeline(folder: Path) -> Path:
    """The compact preset, searching the two quickest families: the stages are under test."""
    graph = yaml.safe_load((REPO / "pipelines" / "compact.yaml").read_text())
    search = next(n for n in graph["nodes"] if n["kind"] == "search")
    search["params"]["families"] = ["xgboost", "linear"]
    path = folder / "compact.yaml"
    path.write_text(yaml.safe_dump(graph))
    return path


@pytest.mark.slow
def test_a_driver_killed_in_the_search_the_ensemble_and_the_distillation_resumes_each_time(
        tmp_path):
    out, leftovers = tmp_path / "runs", []
    driver = Driver(str(SAMPLE), "--target", "income", "--pipeline", str(_compact_pipeline(tmp_path)),
                    "--out", str(out), "--time-budget", "30s", "--no-report")
    run_dir = driver.wait_until(lambda: next(iter(out.glob("*/graph.yaml")), None)).parent
    # 1. in the search, once three trials are in the run folder
    kept = driver.wait_until(lambda: len(t := _trials_written(run_dir)) >= 3 and t,
                             what="three finished trials")
    leftovers.append(driver.kill())

    # 2. in the ensemble, the moment its log line says it runs
    driver = _resume_and_kill(run_dir, r"ensemble \(ensemble\): running", leftovers)
    assert "search: resuming the interrupted Ray Tune experiment" in driver.log
    assert _files(run_dir, "nodes/search/*/done.json")
    assert not _files(run_dir, "nodes/ensemble/*/done.json"), "killed after the ensemble, not in it"

    # 3. in the distillation, once it has trained its first student
    driver = _resume_and_kill(run_dir, r"distill: \S+: roc_auc [0-9.]+ \(teacher", leftovers)
    assert "search (search): reused the stored output" in driver.log
    assert _files(run_dir, "nodes/ensemble/*/done.json")
    assert not _files(run_dir, "nodes/distill/*/done.json"), "killed after the distillation"

    # 4. to the end
    driver = Driver("--resume", str(run_dir), "--no-report")
    assert driver.finish() == 0, driver.log
    assert "ensemble (ensemble): reused the stored output" in driver.log
    assert "distill (distill): running" in driver.log
    assert leftovers == [[], [], []], "processes outlived their killed driver"
    for name in (*RUN_FILES, "compact/compact.json", "compact/compact.md"):
        assert (run_dir / name).is_file(), name
    board = pd.read_csv(run_dir / "leaderboard.csv")
    assert kept <= set(board["trial"]) and board["trial"].is_unique, (kept, board)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"


def _resume_and_kill(run_dir: Path, line: str, leftovers: list) -> Driver:
    """Resume the run, and kill its driver (SIGKILL) once `line` is in its log; what the
    killed driver left running goes to `leftovers`."""
    driver = Driver("--resume", str(run_dir), "--no-report")
    driver.wait_for_line(line)
    leftovers.append(driver.kill())
    return driver


# ---- a disk that fills up mid-search ------------------------------------------------------


def _fill(disk: Path) -> None:
    """A ballast file that takes the disk's last byte."""
    with open(disk / "ballast", "wb", buffering=0) as ballast:
        for chunk in (2**20, 4096, 1):
            try:
                while True:
                    ballast.write(b"\0" * chunk)
            except OSError:
                continue


def _search_pipeline(folder: Path) -> Path:
    nodes = [{"name": "data", "kind": "ingest"},
             {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
             {"name": "dense", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "dense"}},
             {"name": "search", "kind": "search", "inputs": ["trees", "dense"],
              "params": {"families": ["xgboost", "linear"], "max_trials": 16}},
             {"name": "ensemble", "kind": "ensemble", "inputs": ["search"]}]
    path = folder / "search.yaml"
    path.write_text(json.dumps({"name": "search", "nodes": nodes}))
    return path


@pytest.mark.slow
def test_a_disk_full_mid_search_is_one_line_and_a_resume_after_making_room_finishes(tmp_path):
    disk = mount_small_disk(tmp_path / "disk", "64m")
    if disk is None:
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN) to fill a disk for real")
    try:
        out = disk / "runs"
        driver = Driver(str(SAMPLE), "--target", "income", "--pipeline", str(_search_pipeline(tmp_path)),
                        "--out", str(out), "--time-budget", "60s", "--no-report")
        run_dir = driver.wait_until(lambda: next(iter(out.glob("*/graph.yaml")), None)).parent
        kept = driver.wait_until(lambda: len(t := _trials_written(run_dir)) >= 2 and t,
                                 what="two finished trials")
        _fill(disk)
        assert driver.finish() == 2, driver.log
        errors = [line for line in driver.lines if "error" in line.lower()]
        assert errors == [driver.lines[-1]], driver.log  # one line, the last, and no traceback
        assert errors[0].startswith(f"automl: error: the disk is full: could not write {run_dir}/")
        assert "Traceback" not in driver.log
        # nothing half-written that a resume would trust
        assert not list(run_dir.rglob("*.tmp")), list(run_dir.rglob("*.tmp"))
        for done in run_dir.glob("nodes/*/*/done.json"):
            joblib.load(done.parent / "output.joblib")
        for trial in run_dir.glob("nodes/search/*/trials/*.joblib"):
            joblib.load(trial)
        assert not (run_dir / "model").exists()
        # room again, and the run goes on from where it was
        (disk / "ballast").unlink()
        resumed = Driver("--resume", str(run_dir), "--no-report")
        assert resumed.finish() == 0, resumed.log
        assert "data (ingest): reused the stored output" in resumed.log
        board = pd.read_csv(run_dir / "leaderboard.csv")
        assert kept <= set(board["trial"]) and board["trial"].is_unique
        for name in RUN_FILES:
            assert (run_dir / name).is_file(), name
    finally:
        unmount(disk)
