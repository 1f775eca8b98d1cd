"""The size check: the default pipeline on a large synthetic table, through the Python API.

    python -m studies.big_fit OUT_DIR [--rows 1000000] [--test-rows 250000]
                                   [--time-budget 5m]

Fits on `--rows` rows of `big_table` (the bench caps its tables at 500,000 rows, so this
check runs apart from it) and prints one line: the fit's wall time, its trials, the peak
memory of this process and all its descendants (Ray's workers and object store included:
PSS, sampled every 0.25 s, as the bench measures it) and the test ROC AUC of the ensemble
and of the best single trial on `--test-rows` rows the fit never saw.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

from automl.api import AutoML
from automl.bench.measure import TreeMemory
from automl.runfolder import RunStore
from studies.big_table import big_table


def big_fit(rows: int, test_rows: int, time_budget: str, out: Path) -> dict:
    frame = big_table(rows + test_rows, seed=0)
    train, test = frame.iloc[:rows], frame.iloc[rows:]
    with TreeMemory() as memory:
        started = time.monotonic()
        model = AutoML(time_budget=time_budget, holdout=0.0, out=out, report=False,
                       verbosity=1).fit(train, target="y")
        wall = time.monotonic() - started
    X_test, is_yes = test.drop(columns="y"), (test["y"] == "yes").to_numpy()
    yes = list(model.predictor_.schema.classes).index("yes")
    single = RunStore(model.run_dir_).latest("search").predictor()
    board = pd.read_csv(Path(model.run_dir_) / "leaderboard.csv")
    return {"wall_s": wall, "trials": int((board["family"] != "ensemble").sum()),
            "peak_mb": memory.peak_mb,
            "test_auc_ensemble": roc_auc_score(is_yes, model.predictor_.predict_raw(X_test)[:, yes]),
            "test_auc_single": roc_auc_score(is_yes, single.predict_raw(X_test)[:, yes]),
            "run_dir": model.run_dir_}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the run")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--test-rows", type=int, default=250_000)
    parser.add_argument("--time-budget", default="5m")
    args = parser.parse_args()
    found = big_fit(args.rows, args.test_rows, args.time_budget, args.out)
    print(f"big fit: {args.rows} rows, wall {found['wall_s']:.1f} s, {found['trials']} trials, "
          f"peak {found['peak_mb']:.0f} MB, test roc_auc ensemble "
          f"{found['test_auc_ensemble']:.4f}, best single trial {found['test_auc_single']:.4f} "
          f"({found['run_dir']})", flush=True)


if __name__ == "__main__":
    main()
