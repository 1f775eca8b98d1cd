"""What the cluster tests share: pipelines, a driver against a cluster, the leaderboard,
a join that must fail, and reading a running cluster (tests/integration/test_cluster*.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import joblib
import pandas as pd
import yaml

from automl.search.local_cluster import LocalCluster
from tests.conftest import REPO, SAMPLE
from tests.drivers import Driver

SLEEPY = "tests.plugins.faulty:SleepyFamily"
NAPPING = "tests.plugins.faulty:NappingFamily"
RUN_FILES = ("model/predictor.joblib", "metrics.json", "leaderboard.csv", "run.json",
             "schema.json")
FAST_NODE_DEATH = {  # the GCS declares a node dead after 3 missed checks a second apart
    "RAY_health_check_period_ms": "1000", "RAY_health_check_failure_threshold": "3",
    "RAY_health_check_initial_delay_ms": "1000"}


def cluster_pipeline(folder: Path, families: list[str], *, compact: bool = False,
                     refit: bool = True, max_trials: int | None = None) -> Path:
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


def fit_on(cluster: LocalCluster, *args: str, env: dict | None = None, register=None,
         address: str | None = None) -> Driver:
    return Driver(str(SAMPLE), "--target", "income", "--address", address or cluster.address,
                  "--no-report", *args, env=cluster.driver_env(**(env or {})), register=register)


def leaderboard(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "leaderboard.csv")




def join_error(address: str, env: dict, tmp_path: Path) -> tuple[str, float]:
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


def set_cluster_versions(cluster: LocalCluster, ray_version: str) -> None:
    code = (
        "import json, sys; from automl.search import probe; probe.set_auth_mode('token'); "
        "from ray._raylet import GcsClient; from ray._common.usage import usage_lib; "
        "client = GcsClient(address=sys.argv[1]); meta = usage_lib.get_cluster_metadata(client); "
        "meta['ray_version'] = sys.argv[2]; "
        "client.internal_kv_put(b'CLUSTER_METADATA', json.dumps(meta).encode(), True, b'cluster')")
    subprocess.run([sys.executable, "-c", code, cluster.address, ray_version], check=True,
                   env=cluster.driver_env(), capture_output=True, timeout=60)


def free_cpus(cluster: LocalCluster) -> float:
    code = ("import sys, ray; from automl.search import probe; probe.set_auth_mode('token'); "
            "ray.init(address=sys.argv[1], logging_level='ERROR'); "
            "print(ray.available_resources().get('CPU', 0))")
    done = subprocess.run([sys.executable, "-c", code, cluster.address], env=cluster.driver_env(),
                          capture_output=True, text=True, timeout=60)
    return float(done.stdout.strip().splitlines()[-1])


def wait_for(done, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"{what} did not come in {timeout}s"
        time.sleep(0.5)




def sleepy_pipeline(folder: Path) -> Path:
    nodes = [{"name": "data", "kind": "ingest", "params": {"validation": "holdout"}},
             {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
             {"name": "search", "kind": "search", "inputs": ["trees"],
              "params": {"families": ["xgboost", "sleepy"], "searcher": "random",
                         "scheduler": "fifo", "max_trials": 10}}]
    path = folder / "sleepy.yaml"
    path.write_text(json.dumps({"name": "sleepy", "nodes": nodes}))
    return path


def trial_nodes(run_dir: Path) -> dict[str, tuple[str, str]]:
    """Trial -> (the node it finished on, its status), from what the search has written."""
    found = {}
    for path in run_dir.glob("nodes/search/*/trials/*.joblib"):
        try:
            trial = joblib.load(path)
        except Exception:  # being renamed into place: read it next time
            continue
        found[trial.trial_id] = (trial.node, trial.status)
    return found
