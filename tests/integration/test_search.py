"""Ray Tune search for real: every searcher, faults, a killed driver, a two-node cluster."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import ray

from automl import AutoML
from automl.models.registry import register
from automl.search import runtime
from tests.conftest import REPO, SAMPLE, make_table

CRASHY = "tests.plugins.crashy:CrashyFamily"


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


def test_crashed_trials_are_recorded_and_the_search_goes_on(tmp_path):
    register("crashy", CRASHY)
    pipeline = write_pipeline(tmp_path, ["xgboost", "crashy"], searcher="random", max_trials=8,
                              scheduler="fifo")  # every trial runs to its end or its crash
    model = AutoML(pipeline=pipeline, out=tmp_path, verbosity=0).fit(make_table(n=400), target="y")
    board = leaderboard(model)
    assert len(board) == 8
    failed = board[board["status"] == "error"]
    assert len(failed) >= 1  # crashy's default config raises
    assert failed["error"].str.contains("crashy failed on purpose").all()
    assert (board["status"] == "ok").sum() >= 3
    assert model.metrics_["valid"]["roc_auc"] > 0.8  # the best model is a real one


def test_time_budget_is_honoured(tmp_path):
    pipeline = write_pipeline(tmp_path, ["xgboost", "linear"], max_trials=None)
    started = time.monotonic()
    model = AutoML(pipeline=pipeline, time_budget="20s", out=tmp_path, verbosity=0)
    model.fit(make_table(n=400), target="y")
    elapsed = time.monotonic() - started
    assert elapsed < 20 + 3, elapsed  # a small stated margin: the run ends on time
    assert len(leaderboard(model)) >= 2  # the budget went to trials (Tune's start-up costs seconds)


def _cli(*args, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "automl.cli", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.slow
def test_killed_driver_resumes_with_finished_trials_kept(tmp_path):
    pipeline = write_pipeline(tmp_path, ["xgboost", "linear"], max_trials=40)
    out = tmp_path / "runs"
    driver = _cli("fit", str(SAMPLE), "--target", "income", "--pipeline", str(pipeline),
                  "--out", str(out), start_new_session=True)
    finished = _wait_for_trials(out, at_least=4, process=driver, timeout=120)
    os.killpg(driver.pid, signal.SIGKILL)  # the driver and the Ray it started die at once
    driver.wait()
    (run_dir,) = out.iterdir()
    resumed = _cli("fit", "--resume", str(run_dir))
    _, log = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, log
    assert "resuming the interrupted Ray Tune experiment" in log
    board = pd.read_csv(run_dir / "leaderboard.csv")
    assert finished <= set(board["trial"]), (finished, log)
    assert board["trial"].is_unique and len(board) >= 40


def _wait_for_trials(out: Path, at_least: int, process, timeout: float) -> set[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = {p.stem for p in out.glob("*/nodes/search/*/trials/*.joblib")}
        if len(done) >= at_least:
            return done
        assert process.poll() is None, process.communicate()[1]
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} trials finished in {timeout}s")


@pytest.mark.slow
def test_two_node_cluster_runs_trials_on_both_nodes(tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    try:
        pipeline = write_pipeline(tmp_path, ["xgboost", "linear"], max_trials=12)
        out = tmp_path / "runs"
        driver = _cli("fit", str(SAMPLE), "--target", "income", "--pipeline", str(pipeline),
                      "--out", str(out), "--address", cluster.address)
        _, log = driver.communicate(timeout=300)
        assert driver.returncode == 0, log
        assert f"joined the Ray cluster at {cluster.address} (2 CPUs)" in log
        assert "started a local Ray" not in log
        (run_dir,) = out.iterdir()
        board = pd.read_csv(run_dir / "leaderboard.csv")
        assert board.loc[board["status"] == "ok", "node"].nunique() == 2, board
    finally:
        cluster.shutdown()


def test_unreachable_address_is_a_clear_error(tmp_path):
    pipeline = write_pipeline(tmp_path, ["xgboost"], max_trials=2)
    code = subprocess.run(
        [sys.executable, "-m", "automl.cli", "fit", str(SAMPLE), "--target", "income",
         "--pipeline", str(pipeline), "--out", str(tmp_path), "--address", "127.0.0.1:1"],
        cwd=REPO, capture_output=True, text=True, timeout=180)
    assert code.returncode == 2, code.stderr
    assert "automl: error: cannot join the Ray cluster at '127.0.0.1:1'" in code.stderr
    assert "Traceback" not in code.stderr
