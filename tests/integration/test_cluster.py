"""A real Ray cluster, used the way platform teams use one.

A head and two worker nodes, each a separate `ray start` process on this host (1 CPU
each, token authentication on as Ray 2.60 sets it: the head finds a token and turns it on,
the workers are started with RAY_AUTH_MODE=token). `automl fit --address` runs in a
process of its own with the token's file in RAY_AUTH_TOKEN_PATH, as a user's driver would;
`ray job submit` sends a fit to the cluster; the driver is killed mid-search and the run
resumed against the same cluster.
The cluster stops exactly the processes it started (automl.search.local_cluster).
Clusters of their own (too small, a worker node lost) are in test_cluster_faults.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import pandas as pd
import pytest

from automl.provenance import fitted_by
from automl.search.local_cluster import LocalCluster
from tests.conftest import REPO, SAMPLE
from tests.plugins.faulty import MARKERS
from tests.cluster_helpers import (NAPPING, RUN_FILES, cluster_pipeline, fit_on, free_cpus,
                                   join_error, leaderboard, trial_nodes, wait_for)
from tests.drivers import Driver

# a cluster's nodes and their workers start and schedule on the wall clock: alone, after
# the parallel part of `make test` (beside it, on two cores, trials waited on slow starts)
pytestmark = [pytest.mark.slow, pytest.mark.serial]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    markers = tmp_path_factory.mktemp("markers")  # where napping trials say their node
    with LocalCluster(workers=[1, 1], folder=folder, dashboard=True,
                      env={"PYTHONPATH": str(REPO), MARKERS: str(markers)}) as running:
        yield running



# ---- a fit on the cluster ---------------------------------------------------------------


def test_a_fit_on_the_cluster_runs_every_fit_on_its_nodes_and_predicts_without_ray(
        cluster, tmp_path):
    out = tmp_path / "runs"
    # trials proposed in batches of three (the cluster's CPUs); xgboost's and linear's fits
    # take a tenth of a second, so Tune could run a whole batch on the first node's reused
    # worker: a napping trial holds its node until another node has one (tests.plugins.faulty)
    pipeline = cluster_pipeline(tmp_path, ["xgboost", "linear", "napping"], compact=True, max_trials=9)
    driver = fit_on(cluster, "--pipeline", str(pipeline), "--out", str(out), "--time-budget", "none",
                  register={"napping": NAPPING})
    assert driver.finish() == 0, driver.log
    assert "token authentication" in driver.wait_for_line(r"joined the Ray cluster at .*").group(0)
    assert "started a local Ray" not in driver.log
    run_dir = next(out.iterdir())
    for name in (*RUN_FILES, "compact/compact.onnx"):
        assert (run_dir / name).is_file(), name
    board = leaderboard(run_dir)
    ok = board[board["status"] == "ok"]
    assert ok["node"].nunique() >= 2, driver.log

    # no model fitted in the driver's process: the trials, the refits, the students
    driver_pid = f":{driver.process.pid}"
    trials = [joblib.load(p) for p in run_dir.glob("nodes/search/*/trials/*.joblib")]
    fitted = {t.trial_id: t.fitted_by for t in trials if t.status == "ok"}
    assert fitted and not [t for t, by in fitted.items() if by.endswith(driver_pid)], fitted
    assert "member(s) refitted on train + validation" in driver.log
    members = joblib.load(run_dir / "model" / "predictor.joblib").members
    refits = {m.name: fitted_by(m.model) for m in members}
    assert all(refits.values()) and not [m for m, by in refits.items() if by.endswith(driver_pid)], refits
    distilled = joblib.load(next(run_dir.glob("nodes/distill/*/output.joblib")))
    by_student = {s.name: s.fitted_by for s in distilled.students}
    assert by_student and not [s for s, by in by_student.items() if by.endswith(driver_pid)], by_student

    # the run folder serves without Ray: nothing of it is imported
    code = ("import sys; from automl.cli import main; code = main(sys.argv[1:]); "
            "assert 'ray' not in sys.modules, 'predict imported ray'; sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, "predict", str(run_dir), str(SAMPLE),
                           "--out", str(tmp_path / "predictions.csv")],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(tmp_path / "predictions.csv")) == len(pd.read_csv(SAMPLE))


def test_a_job_submitted_to_the_cluster_leaves_its_run_folder_where_out_says(cluster, tmp_path):
    """`ray job submit --working-dir . -- automl fit ...`: the fit is the job's driver, on
    the head; the token step is the user's (RAY_AUTH_MODE=token and the token)."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(SAMPLE, work / "adult.csv")
    out = tmp_path / "job_runs"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ray")), "job", "submit", "--address",
         cluster.dashboard_url, "--working-dir", str(work), "--",
         "automl", "fit", "adult.csv", "--target", "income", "--time-budget", "30s",
         "--max-trials", "6", "--pipeline", "fast", "--out", str(out), "--no-report"],
        env=cluster.driver_env(RAY_AUTH_MODE="token"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "joined the Ray cluster at" in done.stdout, done.stdout[-3000:]
    (run_dir,) = list(out.iterdir())
    for name in RUN_FILES:
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"


# ---- joining fails: one line each, in seconds, none of Ray's own lines --------------------


def test_joining_without_the_token_or_with_another_says_how_to_pass_it(cluster, tmp_path):
    home = tmp_path / "home"  # no ~/.ray/auth_token here
    home.mkdir()
    bare = {k: v for k, v in cluster.driver_env(HOME=str(home)).items() if k != "RAY_AUTH_TOKEN_PATH"}
    line, seconds = join_error(cluster.address, bare, tmp_path)
    assert "it uses token authentication and no token was found here" in line, line
    assert "RAY_AUTH_TOKEN=" in line and "RAY_AUTH_TOKEN_PATH=" in line, line
    assert seconds < 10, seconds
    line, seconds = join_error(cluster.address, {**bare, "RAY_AUTH_TOKEN": "not-the-token"}, tmp_path)
    assert "it refused the token from RAY_AUTH_TOKEN" in line, line
    assert seconds < 10, seconds
    line, _ = join_error(cluster.client_address, bare, tmp_path)  # Ray Client alike
    assert "it uses token authentication and no token was found here" in line, line


def test_joining_where_nothing_answers_or_no_cpu_is_free_says_so(cluster, tmp_path):
    env = cluster.driver_env()
    line, seconds = join_error("127.0.0.1:1", env, tmp_path)
    assert "nothing answers there" in line and "ray start --head" in line, line
    assert seconds < 10, seconds
    # every CPU of the cluster held by another job
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time, ray; ray.init(address=%r); "
         "block = ray.remote(num_cpus=1)(lambda: time.sleep(300)); "
         "refs = [block.remote() for _ in range(3)]; print('holding', flush=True); "
         "time.sleep(300)" % cluster.address],
        env={**env, "RAY_AUTH_MODE": "token"}, stdout=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        wait_for(lambda: free_cpus(cluster) == 0, "the holder's tasks to take every CPU")
        line, _ = join_error(cluster.address, env, tmp_path)
        assert "none of its 3 CPUs is free: other jobs hold them all" in line, line
    finally:
        holder.kill()
        holder.wait()
    wait_for(lambda: free_cpus(cluster) == 3, "the CPUs to be free again")


# ---- the driver lost mid-search (a worker node lost: test_cluster_faults.py) ------------


def test_the_driver_killed_mid_search_resumes_on_the_cluster_with_its_trials(cluster, tmp_path):
    out = tmp_path / "runs"
    pipeline = cluster_pipeline(tmp_path, ["xgboost", "linear"], refit=False, max_trials=14)
    # `auto`: the cluster RAY_ADDRESS names (else the one `ray start` last made here)
    driver = fit_on(cluster, "--pipeline", str(pipeline), "--out", str(out), "--time-budget", "none",
                  address="auto", env={"RAY_ADDRESS": cluster.address})
    joined = driver.wait_for_line(r"joined the Ray cluster at \S+:(\d+)")
    assert joined.group(1) == str(cluster.port), joined.string
    run_dir = driver.wait_until(lambda: next(iter(out.glob("*/graph.yaml")), None)).parent
    kept = driver.wait_until(
        lambda: len(t := {k for k, (_, s) in trial_nodes(run_dir).items() if s == "ok"}) >= 3 and t,
        what="three finished trials")
    assert driver.kill() == [], "processes outlived the killed driver"
    resumed = Driver("--resume", str(run_dir), "--no-report", "--address", cluster.address,
                     env=cluster.driver_env())
    assert resumed.finish() == 0, resumed.log
    assert "search: resuming the interrupted Ray Tune experiment" in resumed.log
    board = leaderboard(run_dir)
    assert kept <= set(board["trial"]) and board["trial"].is_unique, (kept, board)
    # Tune resumes from the experiment state it last saved: the trials that finished after
    # it are kept (above) and the search runs to its 14 from that state, so a few more
    assert len(board[board["trial"] != "ensemble"]) >= 14, board[["trial", "status"]]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
