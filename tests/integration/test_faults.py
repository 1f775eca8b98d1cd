"""Faults for real, no mocks, on a local Ray: the driver killed with SIGKILL in the search,
the ensemble and the distillation (each run resumed), and a disk that fills up while the
run folder is written. A cluster's worker node lost and its driver killed are in
test_cluster.py, on a real cluster of `ray start` processes.

Each test knows the moment to strike by watching what the run writes (its log lines, the
files of its run folder, markers its trials leave), never by a fixed sleep. A killed
trial's worker (SIGKILL from inside a fit) is in test_search.py, beside the crashing one.
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pandas as pd
import pytest
import yaml

from tests.conftest import REPO, SAMPLE, mount_small_disk, unmount
from tests.drivers import Driver

RUN_FILES = ("model/predictor.joblib", "metrics.json", "leaderboard.csv")


def _files(run_dir: Path, pattern: str) -> list[Path]:
    return sorted(run_dir.glob(pattern))


def _only_run(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def _trials_written(run_dir: Path, stage: str = "search", folder: str = "trials") -> set[str]:
    return {p.stem for p in _files(run_dir, f"nodes/{stage}/*/{folder}/*.joblib")}


# ---- the driver killed in the search, the ensemble and the distillation ------------------


def _compact_pipeline(folder: Path) -> Path:
    """The compact preset, searching the two quickest families: the stages are under test."""
    graph = yaml.safe_load((REPO / "pipelines" / "compact.yaml").read_text())
    search = next(n for n in graph["nodes"] if n["kind"] == "search")
    search["params"]["families"] = ["xgboost", "linear"]
    distill = next(n for n in graph["nodes"] if n["kind"] == "distill")
    distill["params"].update(students=["gbdt", "rules"], search=False)
    path = folder / "compact.yaml"
    path.write_text(yaml.safe_dump(graph))
    return path


@pytest.mark.slow
def test_a_driver_killed_in_the_search_the_ensemble_and_the_distillation_resumes_each_time(
        tmp_path):
    out, leftovers = tmp_path / "runs", []
    driver = Driver(str(SAMPLE), "--target", "income", "--pipeline", str(_compact_pipeline(tmp_path)),
                    # a budget a loaded 2-core machine cannot eat before the search (beside the
                    # parallel suite, this driver's imports and Ray took 27 s of a minute); the
                    # trial count ends the search, the budget the distillation's students
                    "--out", str(out), "--time-budget", "2m", "--max-trials", "8", "--no-report")
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
    assert "local Ray" not in driver.log, "its search is stored: nothing needs a Ray"
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
                        "--out", str(out), "--time-budget", "60s", "--max-trials", "6", "--no-report")
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
