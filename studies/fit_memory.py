"""How much memory a family's fit takes, by rows and columns: the figures behind
automl/models/memory.py (what each Ray task asks its node for).

Each fit runs in a fresh process: the table (float64, binary target, 20% of the rows kept
for validation as the search does) is made first, then the process's resident memory is
read, then the family's default config is fitted with one thread, and the peak resident
memory (getrusage's ru_maxrss) less that baseline is the fit's need. Run:

    python studies/fit_memory.py --out docs/results/fit-memory.csv

and fit `bytes = base + per_cell * rows * columns` per family (the script prints both,
the slope by least squares over the measured sizes, the base as the largest residual
above the line so that the estimate covers every measured fit).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FAMILIES = ("lightgbm", "xgboost", "catboost", "random_forest", "extra_trees", "linear", "mlp")
SIZES = ((2_000, 10), (2_000, 100), (20_000, 10), (20_000, 50), (100_000, 20), (100_000, 50))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def measure(family: str, rows: int, columns: int) -> dict:
    """One fit, in this process (a fresh one): its peak memory above the data's."""
    from automl.models.registry import family_class, family_space

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, columns))
    y = (X[:, 0] + rng.normal(size=rows) > 0).astype(int)
    cut = int(rows * 0.8)
    space = family_space(family).resolve(cut)
    model = family_class(family)(task="binary", n_classes=2, params=dict(space.default),
                                 seed=0, n_jobs=1)
    base = _rss_bytes()
    started = time.monotonic()
    model.fit(X[:cut], y[:cut], X[cut:], y[cut:])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"family": family, "rows": rows, "columns": columns, "cells": rows * columns,
            "peak_above_data": max(0, peak - base), "seconds": round(time.monotonic() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--families", default=",".join(FAMILIES))
    args = parser.parse_args()
    rows = []
    for family in args.families.split(","):
        for n_rows, n_columns in SIZES:
            done = subprocess.run([sys.executable, __file__, "--one", family, str(n_rows),
                                   str(n_columns)], capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{family} {n_rows}x{n_columns}: failed: {done.stderr[-300:]}", flush=True)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"{family:14s} {n_rows:>7} x {n_columns:<3} {row['peak_above_data'] / 2**20:8.1f} MB "
                  f"{row['seconds']:6.1f}s", flush=True)
    import pandas as pd

    frame = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    for family, part in frame.groupby("family"):
        slope = float(np.linalg.lstsq(part[["cells"]].to_numpy(float),
                                      part["peak_above_data"].to_numpy(float), rcond=None)[0][0])
        base = float((part["peak_above_data"] - slope * part["cells"]).max())
        print(f"{family}: base {base / 2**20:.0f} MB + {slope:.1f} bytes per cell")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        main()
