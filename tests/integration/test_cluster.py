"""A real Ray cluster, used the way platform teams use one.

A head and two worker nodes, each a separate `ray start` process on this host (1 CPU
each, token authentication on as Ray 2.60 sets it: the head finds a token and turns it on,
the workers are started with RAY_AUTH_MODE=token). `automl fit --address` runs in a
process of its own with the token's file in RAY_AUTH_TOKEN_PATH, as a user's driver would;
`ray job submit` sends a fit to the cluster; a worker node's raylet is killed by its pid
mid-search; the driver is killed mid-search and the run resumed against the same cluster.
The cluster stops exactly the processes it started (automl.search.local_cluster).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import joblib
import pandas as pd
import pytest
import yaml

from automl.provenance import fitted_by
from ray import __version__ as RAY_VERSION
from automl.search.local_cluster import LocalCluster
from tests.conftest import REPO, SAMPLE
from tests.drivers import Driver
from tests.plugins.faulty import MARKERS

pytestmark = pytest.mark.slow

SLEEPY = "tests.plugins.faulty:SleepyFamily"
NAPPING = "tests.plugins.faulty:NappingFamily"
RUN_FILES = ("model/predictor.joblib", "metrics.json", "leaderboard.csv", "run.json",
             "schema.json")
FAST_NODE_DEATH = {  # the GCS declares a node dead after 3 missed checks a second apart
    "RAY_health_check_period_ms": "1000", "RAY_health_check_failure_threshold": "3",
    "RAY_health_check_initial_delay_ms": "1000"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    with LocalCluster(workers=[1, 1], folder=folder, dashboard=True,
                      env={"PYTHONPATH": str(REPO)}) as running:
        yield running


def _pipeline(folder: Path, families: list[str], *, compact: bool = False, refit: bool = True,
              max_trials: int | None = None) -> Path:
    """Holdout validation (so the ensemble refits its members), the given families."""
    search = {"families": families, "searcher": "random", "scheduler": "fifo"}
    if max_trials:
        search["max_trials"] = max_trials
    nodes = [{"name": "data", "kind": "ingest", "params": {"validation": "holdout"}},
             {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
             {"name": "search", "kind": "search", "inputs": ["trees"],
              "params": {**search, "budget_share": 0.6 if compact else 0.85}},
             {"name": "ensemble", "kind": "ensemble", "inputs": ["search", "trees"],
              "params": {"refit": refit, "size": 5}}]
    if compact:
        preset = yaml.safe_load((REPO / "pipelines" / "compact.yaml").read_text())
        tail = [n for n in preset["nodes"] if n["kind"] in ("distill", "compress", "export")]
        tail[0]["params"].update(students=["gbdt", "rules"], search=False)
        nodes += tail
    path = folder / "cluster.yaml"
    path.write_text(json.dumps({"name": "cluster", "nodes": nodes}))
    return path


def _fit(cluster: LocalCluster, *args: str, env: dict | None = None, register=None,
         address: str | None = None) -> Driver:
    return Driver(str(SAMPLE), "--target", "income", "--address", address or cluster.address,
                  "--no-report", *args, env=cluster.driver_env(**(env or {})), register=register)


def _board(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "leaderboard.csv")


# ---- a fit on the cluster ---------------------------------------------------------------


def test_a_fit_on_the_cluster_runs_every_fit_on_its_nodes_and_predicts_without_ray(
        cluster, tmp_path):
    out = tmp_path / "runs"
    # trials proposed in batches of three (the cluster's CPUs); xgboost's and linear's fits
    # take a tenth of a second, so Tune could run a whole batch on the first node's reused
    # worker: a napping trial (3 s) holds its node while the batch's others run elsewhere
    pipeline = _pipeline(tmp_path, ["xgboost", "linear", "napping"], compact=True, max_trials=9)
    driver = _fit(cluster, "--pipeline", str(pipeline), "--out", str(out), "--time-budget", "none",
                  register={"napping": NAPPING})
    assert driver.finish() == 0, driver.log
    assert "token authentication" in driver.wait_for_line(r"joined the Ray cluster at .*").group(0)
    assert "started a local Ray" not in driver.log
    run_dir = next(out.iterdir())
    for name in (*RUN_FILES, "compact/compact.onnx"):
        assert (run_dir / name).is_file(), name
    board = _board(run_dir)
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


def _join_error(address: str, env: dict, tmp_path: Path) -> tuple[str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from automl.cli import main; sys.exit(main())",
         "fit", str(SAMPLE), "--target", "income", "--address", address,
         "--out", str(tmp_path / "runs"), "--time-budget", "30s"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    seconds = time.monotonic() - started
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("[")]
    assert len(errors) == 1, done.stderr  # only our own progress lines besides ("[  0.4s] ...")
    assert errors[0].startswith("automl: error: cannot join the Ray cluster at "), errors
    assert not (tmp_path / "runs").exists(), "a run folder for a run that never started"
    return errors[0], seconds


def test_joining_without_the_token_or_with_another_says_how_to_pass_it(cluster, tmp_path):
    home = tmp_path / "home"  # no ~/.ray/auth_token here
    home.mkdir()
    bare = {k: v for k, v in cluster.driver_env(HOME=str(home)).items() if k != "RAY_AUTH_TOKEN_PATH"}
    line, seconds = _join_error(cluster.address, bare, tmp_path)
    assert "it uses token authentication and no token was found here" in line, line
    assert "RAY_AUTH_TOKEN=" in line and "RAY_AUTH_TOKEN_PATH=" in line, line
    assert seconds < 10, seconds
    line, seconds = _join_error(cluster.address, {**bare, "RAY_AUTH_TOKEN": "not-the-token"}, tmp_path)
    assert "it refused the token from RAY_AUTH_TOKEN" in line, line
    assert seconds < 10, seconds
    line, _ = _join_error(cluster.client_address, bare, tmp_path)  # Ray Client alike
    assert "it uses token authentication and no token was found here" in line, line


def test_joining_where_nothing_answers_or_no_cpu_is_free_says_so(cluster, tmp_path):
    env = cluster.driver_env()
    line, seconds = _join_error("127.0.0.1:1", env, tmp_path)
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
        _wait_for(lambda: _free_cpus(cluster) == 0, "the holder's tasks to take every CPU")
        line, _ = _join_error(cluster.address, env, tmp_path)
        assert "none of its 3 CPUs is free: other jobs hold them all" in line, line
    finally:
        holder.kill()
        holder.wait()
    _wait_for(lambda: _free_cpus(cluster) == 3, "the CPUs to be free again")


def test_a_cluster_without_cpus_of_another_ray_or_too_small_for_a_trial_says_so(tmp_path):
    """One small cluster, three refusals in turn: a head without CPU; the same head telling
    the version of another Ray; then, its version back, a worker whose memory holds no
    trial (Ray would hold it pending without a word): refused before any trial starts."""
    with LocalCluster(workers=[], head_cpus=0, folder=tmp_path / "small") as small:
        line, seconds = _join_error(small.address, small.driver_env(), tmp_path)
        assert "its 1 node(s) have no CPU to run trials on" in line, line
        assert seconds < 10, seconds
        _set_cluster_versions(small, ray_version="2.59.0")
        line, seconds = _join_error(small.address, small.driver_env(), tmp_path)
        assert "it runs Ray 2.59.0 on Python" in line and "install ray==2.59.0" in line, line
        assert seconds < 10, seconds
        _set_cluster_versions(small, ray_version=RAY_VERSION)
        small.add_worker(1, memory=20 * 2**20)
        driver = Driver(str(SAMPLE), "--target", "income", "--address", small.address,
                        "--pipeline", "fast", "--out", str(tmp_path / "runs"), "--time-budget",
                        "30s", "--no-report", env=small.driver_env())
        assert driver.finish() == 2, driver.log
    line = driver.lines[-1]
    assert line.startswith("automl: error: search: a trial needs 1 CPU and "), line
    assert "no node of this Ray has that much (the largest: 1 CPUs, 20 MB)" in line, line
    assert not list((tmp_path / "runs").glob("*/nodes/search/*/trials/*")), "a trial ran"


def _set_cluster_versions(cluster: LocalCluster, ray_version: str) -> None:
    code = (
        "import json, sys; from automl.search import probe; probe.set_auth_mode('token'); "
        "from ray._raylet import GcsClient; from ray._common.usage import usage_lib; "
        "client = GcsClient(address=sys.argv[1]); meta = usage_lib.get_cluster_metadata(client); "
        "meta['ray_version'] = sys.argv[2]; "
        "client.internal_kv_put(b'CLUSTER_METADATA', json.dumps(meta).encode(), True, b'cluster')")
    subprocess.run([sys.executable, "-c", code, cluster.address, ray_version], check=True,
                   env=cluster.driver_env(), capture_output=True, timeout=60)


def _free_cpus(cluster: LocalCluster) -> float:
    code = ("import sys, ray; from automl.search import probe; probe.set_auth_mode('token'); "
            "ray.init(address=sys.argv[1], logging_level='ERROR'); "
            "print(ray.available_resources().get('CPU', 0))")
    done = subprocess.run([sys.executable, "-c", code, cluster.address], env=cluster.driver_env(),
                          capture_output=True, text=True, timeout=60)
    return float(done.stdout.strip().splitlines()[-1])


def _wait_for(done, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"{what} did not come in {timeout}s"
        time.sleep(0.5)


# ---- faults: a worker node lost, the driver lost ------------------------------------------


def _sleepy_pipeline(folder: Path) -> Path:
    nodes = [{"name": "data", "kind": "ingest", "params": {"validation": "holdout"}},
             {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
             {"name": "search", "kind": "search", "inputs": ["trees"],
              "params": {"families": ["xgboost", "sleepy"], "searcher": "random",
                         "scheduler": "fifo", "max_trials": 10}}]
    path = folder / "sleepy.yaml"
    path.write_text(json.dumps({"name": "sleepy", "nodes": nodes}))
    return path


def _trial_nodes(run_dir: Path) -> dict[str, tuple[str, str]]:
    """Trial -> (the node it finished on, its status), from what the search has written."""
    found = {}
    for path in run_dir.glob("nodes/search/*/trials/*.joblib"):
        try:
            trial = joblib.load(path)
        except Exception:  # being renamed into place: read it next time
            continue
        found[trial.trial_id] = (trial.node, trial.status)
    return found


def test_a_worker_node_killed_mid_search_leaves_its_trials_recorded_as_lost(tmp_path):
    """A head of 1 CPU and a worker of 2: the worker runs two trials at once (nodes of
    different sizes used fully) until its raylet is killed; the search ends on the head."""
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {"PYTHONPATH": str(REPO), MARKERS: str(markers), **FAST_NODE_DEATH}
    with LocalCluster(workers=[2], folder=tmp_path / "cluster", env=env) as cluster:
        out = tmp_path / "runs"
        driver = _fit(cluster, "--pipeline", str(_sleepy_pipeline(tmp_path)), "--out", str(out),
                      "--time-budget", "60s", env=env, register={"sleepy": SLEEPY})
        mine = driver.wait_for_line(r"this driver is on node (\w+)").group(1)[:12]
        run_dir = driver.wait_until(lambda: next(iter(out.glob("*/graph.yaml")), None)).parent

        def worker_is_busy():  # a finished trial on the worker node, and a sleepy one running there
            finished = {node for node, status in _trial_nodes(run_dir).values() if status == "ok"}
            running = [json.loads(p.read_text()) for p in markers.glob("*.json")]
            return ({n for n in finished if n != mine} and
                    [m for m in running if not m["node"].startswith(mine)])
        driver.wait_until(worker_is_busy, what="a trial on the worker node")
        os.kill(cluster.raylet_pid(1), 9)  # the worker node's raylet: its node is gone
        killed = time.time()
        assert driver.finish() == 0, driver.log
    board = _board(run_dir)
    assert board["trial"].is_unique
    lost = board[board["status"] == "error"]
    assert len(lost) >= 1, board.drop(columns=["params"]).to_string()
    assert lost["error"].str.startswith("worker failed: ").all(), lost["error"].tolist()
    ok = board[board["status"] == "ok"]
    assert ok["node"].nunique() == 2, board  # both nodes worked before
    assert (ok.loc[ok["node"] == mine, "finished"] > killed).any(), board  # ... and on without one
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
    on_worker = ok[ok["node"] != mine]
    assert _most_at_once(on_worker) == 2, on_worker[["trial", "finished", "fit_seconds"]]


def _most_at_once(trials: pd.DataFrame) -> int:
    """The most of these trials that ran at the same time, from the times their node took
    (the fit's end and length; the driver's `trial_seconds` include queueing)."""
    events = sorted([(end - seconds, 1) for end, seconds in zip(trials["finished"], trials["fit_seconds"])]
                    + [(end, -1) for end in trials["finished"]])
    running = most = 0
    for _, change in events:
        running += change
        most = max(most, running)
    return most


def test_the_driver_killed_mid_search_resumes_on_the_cluster_with_its_trials(cluster, tmp_path):
    out = tmp_path / "runs"
    pipeline = _pipeline(tmp_path, ["xgboost", "linear"], refit=False, max_trials=14)
    # `auto`: the cluster RAY_ADDRESS names (else the one `ray start` last made here)
    driver = _fit(cluster, "--pipeline", str(pipeline), "--out", str(out), "--time-budget", "none",
                  address="auto", env={"RAY_ADDRESS": cluster.address})
    joined = driver.wait_for_line(r"joined the Ray cluster at \S+:(\d+)")
    assert joined.group(1) == str(cluster.port), joined.string
    run_dir = driver.wait_until(lambda: next(iter(out.glob("*/graph.yaml")), None)).parent
    kept = driver.wait_until(
        lambda: len(t := {k for k, (_, s) in _trial_nodes(run_dir).items() if s == "ok"}) >= 3 and t,
        what="three finished trials")
    assert driver.kill() == [], "processes outlived the killed driver"
    resumed = Driver("--resume", str(run_dir), "--no-report", "--address", cluster.address,
                     env=cluster.driver_env())
    assert resumed.finish() == 0, resumed.log
    assert "search: resuming the interrupted Ray Tune experiment" in resumed.log
    board = _board(run_dir)
    assert kept <= set(board["trial"]) and board["trial"].is_unique, (kept, board)
    # Tune resumes from the experiment state it last saved: the trials that finished after
    # it are kept (above) and the search runs to its 14 from that state, so a few more
    assert len(board[board["trial"] != "ensemble"]) >= 14, board[["trial", "status"]]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
