"""A long search: N trials of a fast family on a small table, on a local Ray, measured.

What a platform team's search of thousands of trials needs to hold: the per-trial
overhead flat (the driver's wall time of a trial less its fit, median of the last 100
against the first 100), the driver's memory and the run folder bounded (the same at 2,000
trials as at 200, give or take the trial records), and the report readable. Each length
runs `automl fit --max-trials N --time-budget none` in a process of its own, whose peak
resident memory is read from /proc while it runs.

    python -m automl.bench.long_search --trials 200,2000 --out bench_out/long

writes OUT/long_search.md (and .csv); the README quotes it, from
docs/results/2026-12-07-long-search.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from automl.bench.measure import disk_bytes
from automl.bench.report import table
from automl.errors import RunError

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "adult_sample.csv"
WINDOW = 100  # trials in the first and last window whose overheads are compared


def pipeline(folder: Path, family: str) -> Path:
    """Holdout validation (one fit a trial), one fast family, the default ensemble."""
    nodes = [{"name": "data", "kind": "ingest", "params": {"validation": "holdout"}},
             {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
             {"name": "search", "kind": "search", "inputs": ["trees"],
              "params": {"families": [family], "searcher": "tpe"}},
             {"name": "ensemble", "kind": "ensemble", "inputs": ["search"]}]
    path = folder / "long_search.yaml"
    path.write_text(json.dumps({"name": "long_search", "nodes": nodes}))
    return path


def run_one(trials: int, graph: Path, data: Path, target: str, out: Path) -> dict:
    """One fit of `trials` trials, its figures."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "automl.cli", "fit", str(data), "--target", target, "--pipeline",
         str(graph), "--max-trials", str(trials), "--time-budget", "none", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak_kb = 0
    while process.poll() is None:
        peak_kb = max(peak_kb, _peak_rss_kb(process.pid))
        time.sleep(0.5)
    log = process.stdout.read()
    if process.returncode != 0:
        raise RunError(f"the {trials}-trial fit failed:\n{log[-3000:]}")
    run_dir = max(out.iterdir(), key=lambda p: p.stat().st_mtime)
    board = pd.read_csv(run_dir / "leaderboard.csv")
    board = board[board["trial"] != "ensemble"].sort_values("finished")
    overhead = (board["trial_seconds"] - board["fit_seconds"]).dropna()
    return {"trials": trials, "finished": int((board["status"] == "ok").sum()),
            "wall_s": round(time.monotonic() - started, 1),
            "trials_per_min": round(60 * len(board) / _search_seconds(log), 1),
            "overhead_first_ms": round(1000 * overhead.head(WINDOW).median(), 1),
            "overhead_last_ms": round(1000 * overhead.tail(WINDOW).median(), 1),
            "driver_peak_mb": round(peak_kb / 1024),
            "run_folder_mb": round(disk_bytes(run_dir) / 2**20, 1),
            "models_kept": len(list(run_dir.glob("nodes/search/*/models/*.joblib"))),
            "report_kb": round((run_dir / "report.html").stat().st_size / 1024)
            if (run_dir / "report.html").is_file() else None}


def _peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _search_seconds(log: str) -> float:
    """The search node's own time, from its 'done in' log line."""
    for line in log.splitlines():
        if "search (search): done in" in line:
            return float(line.rsplit("done in", 1)[1].strip().rstrip("s"))
    raise RunError("no 'search (search): done in' line in the fit's log; did the graph's "
                   "search node change its name?")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default="200,2000", help="lengths to run, e.g. 200,2000")
    parser.add_argument("--family", default="xgboost", help="a fast family (default: xgboost)")
    parser.add_argument("--data", default=str(SAMPLE))
    parser.add_argument("--target", default="income")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    graph = pipeline(out, args.family)
    rows = []
    for trials in (int(n) for n in args.trials.split(",")):
        rows.append(run_one(trials, graph, Path(args.data), args.target, out / "runs"))
        print(json.dumps(rows[-1]), flush=True)
    frame = pd.DataFrame(rows)
    frame.to_csv(out / "long_search.csv", index=False)
    (out / "long_search.md").write_text(table(frame))
    print(table(frame))


if __name__ == "__main__":
    main()
