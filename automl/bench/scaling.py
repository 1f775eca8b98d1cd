"""How the search scales over Ray nodes: the same search on clusters of 1, 2, 4... nodes.

Each cluster is real (automl.search.local_cluster: separate `ray start` processes, a head
with no CPU, so trials run on the worker nodes alone, each of `--node-cpus`), and the
same `automl fit --address` runs on it: the same table, pipeline, seed and budget. The
figures: trials per minute of the search node, the validation score, and the scaling
efficiency, (trials/min on n nodes ÷ on the fewest) ÷ (n ÷ the fewest): 1.0 is perfect.

    python -m automl.bench.scaling --nodes 1,2 --node-cpus 1 --time-budget 60s --out DIR

writes DIR/scaling.md (and .csv). On one host the nodes share its cores with the driver and
the head, so measure with nodes × node CPUs at most the host's cores less one.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from automl.bench.report import table
from automl.errors import RunError
from automl.search.local_cluster import LocalCluster

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "adult_sample.csv"


def pipeline(folder: Path, families: list[str]) -> Path:
    """Holdout validation and a seeded random search: the trials' mix of configs does not
    depend on which finished first, so every cluster size runs the same kind of trial."""
    nodes = [{"name": "data", "kind": "ingest", "params": {"validation": "holdout"}},
             {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
             {"name": "search", "kind": "search", "inputs": ["trees"],
              "params": {"families": families, "searcher": "random", "scheduler": "fifo",
                         "budget_share": 0.9}},
             {"name": "ensemble", "kind": "ensemble", "inputs": ["search"]}]
    path = folder / "scaling.yaml"
    path.write_text(json.dumps({"name": "scaling", "nodes": nodes}))
    return path


def run_one(nodes: int, node_cpus: float, graph: Path, args, out: Path) -> dict:
    with LocalCluster(workers=[node_cpus] * nodes, head_cpus=0, folder=out / f"cluster{nodes}") as cluster:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "automl.cli", "fit", args.data, "--target", args.target,
             "--pipeline", str(graph), "--time-budget", args.time_budget, "--seed", "0",
             "--address", cluster.address, "--out", str(out / "runs"), "--no-report"],
            capture_output=True, text=True, env=cluster.driver_env())
    if done.returncode != 0:
        raise RunError(f"the fit on {nodes} node(s) failed:\n{done.stderr[-3000:]}")
    log = done.stderr
    trials = int(re.search(r"search: (\d+) trials", log).group(1))
    seconds = float(re.search(r"search \(search\): done in ([0-9.]+)s", log).group(1))
    score = re.search(r"validation score: (\w+) ([0-9.]+)", done.stdout)
    return {"nodes": nodes, "cpus": nodes * node_cpus, "trials": trials,
            "search_s": seconds, "trials_per_min": round(60 * trials / seconds, 1),
            "metric": score.group(1), "valid_score": float(score.group(2)),
            "wall_s": round(time.monotonic() - started, 1)}


def with_efficiency(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row's scaling efficiency against the fewest nodes."""
    first = frame.iloc[0]
    speedup = frame["trials_per_min"] / first["trials_per_min"]
    return frame.assign(speedup=speedup.round(2),
                        efficiency=(speedup / (frame["nodes"] / first["nodes"])).round(2))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="1,2", help="cluster sizes to compare, e.g. 1,2,4")
    parser.add_argument("--node-cpus", type=float, default=1.0)
    parser.add_argument("--time-budget", default="60s")
    parser.add_argument("--families", default="xgboost,lightgbm")
    parser.add_argument("--data", default=str(SAMPLE))
    parser.add_argument("--target", default="income")
    parser.add_argument("--repeats", type=int, default=1, help="runs per size (median taken)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    graph = pipeline(out, args.families.split(","))
    rows = []
    for _ in range(args.repeats):
        for nodes in (int(n) for n in args.nodes.split(",")):
            rows.append(run_one(nodes, args.node_cpus, graph, args, out))
            print(json.dumps(rows[-1]), flush=True)
    runs = pd.DataFrame(rows)
    runs.to_csv(out / "scaling_runs.csv", index=False)
    frame = with_efficiency(runs.groupby("nodes", as_index=False).median(numeric_only=True))
    frame = frame.round({"trials": 0, "search_s": 1, "trials_per_min": 1, "valid_score": 4,
                         "wall_s": 1})
    frame.to_csv(out / "scaling.csv", index=False)
    (out / "scaling.md").write_text(table(frame))
    print(table(frame))


if __name__ == "__main__":
    main()
