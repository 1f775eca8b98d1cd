"""The lean-ensemble measurement: `automl fit` on a few dev tables, then per run its
validation (or out-of-fold) score, its model folder's size and one row's latency through
the Python API.

    python -m studies.lean_ensemble --out DIR/NAME --tables credit_g,wine_quality [-- FIT ARGS]
    python -m studies.lean_ensemble --reselect RUNS OUT '{"refit_full": true}'   (RUNS' runs
        copied to OUT, their ensembles made again with these params from the same trials)
    python -m studies.lean_ensemble --remeasure DIR   (every DIR/*/ run's latency again, side by side)

Each run is `automl fit TABLE --target T --time-budget 60s --seed 0 --no-report` plus the
fit arguments after `--` (e.g. `--max-model-size 50MB`), in a subprocess, so the code
measured is the one on PYTHONPATH. One JSON line per table on stdout and in
DIR/results.jsonl. The score is metrics.json's `valid`: no test part is read.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
from pathlib import Path

DATA = Path("/work/shared/data")
LATENCY_CALLS = 50


def fit(table: str, target: str, out: Path, budget: str, extra: list[str]) -> Path:
    command = [sys.executable, "-c", "from automl.cli import main; raise SystemExit(main())",
               "fit", str(DATA / f"{table}.parquet"), "--target", target, "--time-budget",
               budget, "--seed", "0", "--no-report", "--out", str(out), *extra]
    for _ in range(3):  # on a loaded shared machine Ray's start may time out: try again
        done = subprocess.run(command, capture_output=True, text=True)
        if "timed out during startup" not in done.stderr:
            break
    if done.returncode:
        raise SystemExit(f"automl fit {table} failed ({done.returncode}): {done.stderr[-2000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("run folder: "))
    run_dir = Path(line.removeprefix("run folder: "))
    (run_dir / "fit.log").write_text(done.stdout + done.stderr)
    return run_dir


def one_row_latency_ms(run_dir: Path, row: dict, calls: int = LATENCY_CALLS) -> float:
    """Median of `calls` calls of predict on one row (a dict), after one warm-up."""
    from automl import AutoML

    from automl.serving.timing import median_call_ms

    model = AutoML.load(run_dir)
    return median_call_ms(lambda _: model.predict(row), calls, warmup=1)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(table: str, target: str, out: Path, budget: str, extra: list[str]) -> dict:
    import pandas as pd

    run_dir = fit(table, target, out, budget, extra)
    row = pd.read_parquet(DATA / f"{table}.parquet").drop(columns=target).iloc[0].to_dict()
    return {**_facts(table, run_dir, row), "args": " ".join(extra)}


def _facts(table: str, run_dir: Path, row: dict) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    found = sorted((run_dir / "nodes" / "ensemble").glob("*/ensemble.json"),
                   key=lambda p: p.stat().st_mtime)
    ensemble = json.loads(found[-1].read_text()) if found else {}
    return {"table": table, "run": str(run_dir),
            "validation": metrics["validation"], "valid": metrics["valid"],
            "model_mb": round(folder_bytes(run_dir / "model") / 2**20, 2),
            "latency_ms": round(one_row_latency_ms(run_dir, row), 2),
            "members": [(m["family"], m.get("refitted", False)) for m in
                        ensemble.get("members", [])],
            "cost": ensemble.get("cost")}


def reselect(runs: Path, out: Path, options: dict) -> None:
    """Each run of runs/results.jsonl copied into `out` and its ensemble made again with
    these ensemble params (refit_full, max_size_bytes), the run's own graph otherwise, so
    that its search (the same trials) is reused: their effect alone, in seconds."""
    import shutil

    import pandas as pd

    from automl.graph.compose import with_ensemble_options
    from automl.graph.load import parse_graph
    from automl.graph.run import fit_run

    targets = {r["name"]: r["target"] for r in csv.DictReader(open(DATA / "MANIFEST.csv"))}
    out.mkdir(parents=True, exist_ok=True)
    for line in (runs / "results.jsonl").read_text().splitlines():
        run = json.loads(line)
        copy = out / Path(run["run"]).name
        shutil.copytree(run["run"], copy)
        graph = parse_graph((copy / "graph.yaml").read_text(), str(copy / "graph.yaml"))
        fit_run(None, None, with_ensemble_options(graph, **options), resume=copy,
                verbose=False, report=False)
        row = pd.read_parquet(DATA / f"{run['table']}.parquet").drop(
            columns=targets[run["table"]]).iloc[0].to_dict()
        result = {**_facts(run["table"], copy, row), "args": json.dumps(options)}
        print(json.dumps(result), flush=True)
        with open(out / "results.jsonl", "a") as sink:
            sink.write(json.dumps(result) + "\n")


def remeasure(out: Path, rounds: int = 2, calls: int = 20) -> None:
    """Every run's one-row latency again (the median of `calls`), the runs interleaved over
    `rounds`, in this one process: on a shared machine the load changes from run to run,
    and figures to compare are best taken side by side. The median of each run's rounds,
    to DIR/latency.jsonl."""
    import pandas as pd

    rows = [json.loads(line) for path in sorted(out.glob("*/results.jsonl"))
            for line in path.read_text().splitlines()]
    targets = {r["name"]: r["target"] for r in csv.DictReader(open(DATA / "MANIFEST.csv"))}
    seen: dict[str, list[float]] = {r["run"]: [] for r in rows}
    for _ in range(rounds):
        for r in rows:
            frame = pd.read_parquet(DATA / f"{r['table']}.parquet")
            row = frame.drop(columns=targets[r["table"]]).iloc[0].to_dict()
            seen[r["run"]].append(one_row_latency_ms(Path(r["run"]), row, calls))
    with open(out / "latency.jsonl", "w") as sink:
        for r in rows:
            line = {"table": r["table"], "run": r["run"],
                    "latency_ms": round(statistics.median(seen[r["run"]]), 2)}
            print(json.dumps(line))
            sink.write(json.dumps(line) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--remeasure"]:
        remeasure(Path(argv[1]))
        return 0
    if argv[:1] == ["--reselect"]:  # RUNS OUT '{"refit_full": true, ...}'
        reselect(Path(argv[1]), Path(argv[2]), json.loads(argv[3]))
        return 0
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m studies.lean_ensemble")
    parser.add_argument("--out", required=True)
    parser.add_argument("--tables", default="credit_g,cardiotocography,wine_quality,magic_telescope")
    parser.add_argument("--time-budget", default="60s")
    args = parser.parse_args(own)
    targets = {r["name"]: r["target"] for r in csv.DictReader(open(DATA / "MANIFEST.csv"))}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for table in args.tables.split(","):
        result = measure(table, targets[table], out, args.time_budget, extra)
        print(json.dumps(result), flush=True)
        with open(out / "results.jsonl", "a") as sink:
            sink.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
