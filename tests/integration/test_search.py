"""Ray Tune search for real: every searcher, failing and killed trials, the time budget.

A killed driver, a node taken away and a full disk are in test_faults.py."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import ray

from automl import AutoML
from automl.errors import ConfigError
from automl.models.registry import register
from automl.search import runtime
from tests.conftest import REPO, SAMPLE, make_table

CRASHY = "tests.plugins.crashy:CrashyFamily"
KILLER = "tests.plugins.faulty:KillerFamily"  # its default config SIGKILLs its own worker


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    runtime.connect(None)
    yield
    ray.shutdown()


def write_pipeline(folder: Path, families: list[str], searcher: str = "tpe",
                   max_trials: int | None = 6, scheduler: str = "asha") -> Path:
    branches = {"trees": "trees", "dense": "dense"}
    nodes = [{"name": "data", "kind": "ingest"}]
    nodes += [{"name": b, "kind": "preprocess", "inputs": ["data"], "params": {"branch": b}}
              for b in branches]
    nodes.append({"name": "search", "kind": "search", "inputs": list(branches),
                  "params": {"families": families, "searcher": searcher, "max_trials": max_trials,
                             "scheduler": scheduler}})
    path = folder / f"search-{searcher}.yaml"
    path.write_text(json.dumps({"name": "t", "nodes": nodes}))  # JSON is YAML too
    return path


def leaderboard(model: AutoML) -> pd.DataFrame:
    return pd.read_csv(Path(model.run_dir_) / "leaderboard.csv")


def test_trial_workers_wait_passively_and_the_driver_keeps_its_environment():
    # a process of its own: this one's environment is not clean (studies.portfolio,
    # imported by another test module, sets the variable for its study's workers)
    script = ("import os, ray\n"
              "from automl.search import runtime\n"
              "runtime.connect(None)\n"
              "worker = ray.get(ray.remote(lambda: os.environ.get('OMP_WAIT_POLICY')).remote())\n"
              "print(worker, os.environ.get('OMP_WAIT_POLICY'))\n"
              "ray.shutdown()\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["passive", "None"]


@pytest.mark.parametrize("searcher", ["tpe", "nsga2", "pso", "random"])
def test_each_searcher_runs_a_short_search(tmp_path, searcher):
    pipeline = write_pipeline(tmp_path, ["xgboost", "linear"], searcher=searcher)
    model = AutoML(pipeline=pipeline, out=tmp_path, verbosity=0).fit(make_table(n=400), target="y")
    board = leaderboard(model)
    assert len(board) == 6
    assert set(board["family"]) == {"xgboost", "linear"}
    assert (board["status"] == "ok").sum() >= 2
    assert model.metrics_["valid"]["roc_auc"] > 0.8
    # each family's cheap default config is among the trials, as sent
    from automl.space import load_space

    for family in ("xgboost", "linear"):
        default = load_space(family).resolve(400).default
        tried = [json.loads(p) for p in board.loc[board["family"] == family, "params"]]
        assert any(all(_same(t.get(k), v) for k, v in default.items()) for t in tried), family


def _same(a, b) -> bool:
    # Nevergrad hands floats back through a transform: 0.1 may come back as 0.10000000000000003
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)
    return a == b


def test_crashed_and_killed_trials_are_recorded_and_the_search_goes_on(tmp_path):
    register("crashy", CRASHY)
    register("killer", KILLER)
    pipeline = write_pipeline(tmp_path, ["xgboost", "crashy", "killer"], searcher="random",
                              max_trials=10, scheduler="fifo")  # every trial to its end or crash
    model = AutoML(pipeline=pipeline, out=tmp_path, verbosity=0).fit(make_table(n=400), target="y")
    board = leaderboard(model)
    assert len(board) == 10 and board["trial"].is_unique
    failed = board[board["status"] == "error"]
    crashed, killed = failed[failed["family"] == "crashy"], failed[failed["family"] == "killer"]
    assert len(crashed) >= 1 and len(killed) >= 1  # both default configs fail
    assert crashed["error"].str.contains("crashy failed on purpose").all()
    # a worker that SIGKILLs itself mid-fit: recorded with its node, the search went on
    assert killed["error"].str.startswith("worker failed: its worker process died: killed, out "
                                          "of memory or crashed (The actor").all(), killed["error"]
    assert set(killed["node"]) <= set(board.loc[board["status"] == "ok", "node"])
    assert (board["status"] == "ok").sum() >= 3
    assert model.metrics_["valid"]["roc_auc"] > 0.8  # the best model is a real one


def test_more_cpus_per_trial_than_any_node_has_are_refused_before_training(tmp_path):
    pipeline = write_pipeline(tmp_path, ["xgboost"], max_trials=2)
    graph = json.loads(pipeline.read_text())
    graph["nodes"][-1]["params"]["cpus_per_trial"] = 64
    pipeline.write_text(json.dumps(graph))
    with pytest.raises(ConfigError, match=r"^node 'search': param 'cpus_per_trial' = 64 is more "
                                          r"than any node of this Ray has \(\d+ CPUs\), so no trial "
                                          r"could start; allowed: up to \d+ here; lower it"):
        AutoML(pipeline=pipeline, out=tmp_path, verbosity=0).fit(make_table(n=400), target="y")
    (run_dir,) = tmp_path.glob("*-frame")
    assert not list(run_dir.glob("nodes/search/*"))  # nothing was searched


@pytest.mark.serial  # timed against the wall clock: run alone, after the parallel part
def test_time_budget_is_honoured(tmp_path):
    pipeline = write_pipeline(tmp_path, ["xgboost", "linear"], max_trials=None)
    # Ray up before the clock starts, as after a first fit in this process: the run's own
    # ending is what is timed
    runtime.connect()
    started = time.monotonic()
    model = AutoML(pipeline=pipeline, time_budget="20s", out=tmp_path, verbosity=0)
    model.fit(make_table(n=400), target="y")
    elapsed = time.monotonic() - started
    assert elapsed < 20 + 3, elapsed  # a small stated margin: the run ends on time
    assert len(leaderboard(model)) >= 2  # the budget went to trials (Tune's start-up costs seconds)


def test_unreachable_address_is_a_clear_error(tmp_path):
    pipeline = write_pipeline(tmp_path, ["xgboost"], max_trials=2)
    code = subprocess.run(
        [sys.executable, "-m", "automl.cli", "fit", str(SAMPLE), "--target", "income",
         "--pipeline", str(pipeline), "--out", str(tmp_path), "--address", "127.0.0.1:1"],
        cwd=REPO, capture_output=True, text=True, timeout=180)
    assert code.returncode == 2, code.stderr
    assert "automl: error: cannot join the Ray cluster at '127.0.0.1:1'" in code.stderr
    assert "Traceback" not in code.stderr


def test_max_trials_without_a_time_budget_gives_the_same_leaderboard_twice(tmp_path):
    """Trials in batches, none stopped early: which trial ended first changes nothing."""
    pipeline = write_pipeline(tmp_path, ["xgboost", "linear"], max_trials=6)
    graph = json.loads(pipeline.read_text())
    graph["nodes"][0]["params"] = {"validation": "holdout"}  # one fit a trial: quicker
    pipeline.write_text(json.dumps(graph))
    boards = []
    for run in ("first", "second"):
        model = AutoML(pipeline=pipeline, time_budget="none", max_trials=6, seed=3,
                       out=tmp_path / run, verbosity=0).fit(make_table(n=400), target="y")
        board = leaderboard(model)
        board = board[board["trial"] != "ensemble"]
        assert len(board) == 6 and (board["status"] == "ok").all(), board
        boards.append(sorted(zip(board["family"], board["params"], board["score"].round(10))))
    assert boards[0] == boards[1]
