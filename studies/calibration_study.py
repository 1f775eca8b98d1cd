"""Does the ensemble's temperature lower log loss on rows it never saw? Judged on the study
tables (studies/study_tables.py; none is a benchmark table).

    python -m studies.calibration_study --out DIR [--tables a,b] [--time-budget 30s]

Each table is split 75/25 (stratified, seed 0); `automl fit` learns from the 75% with
log loss as its metric; the 25% is scored twice by the same fitted model: with the
temperature the ensemble fitted, and with T = 1. One JSON line per table on stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from sklearn.model_selection import train_test_split

from automl.api import AutoML
from automl.metrics import BINARY, MULTICLASS, get_metric
from studies.study_tables import study_tables


def judge(table, out: Path, time_budget: str) -> dict:
    frame = table.load().dropna(subset=[table.target]).reset_index(drop=True)
    train, test = train_test_split(frame, test_size=0.25, random_state=0,
                                   stratify=frame[table.target])
    data = out / f"{table.name}_train.parquet"
    train.to_parquet(data)
    runs = out / "runs" / table.name
    subprocess.run([sys.executable, "-m", "automl.cli", "fit", str(data), "--target", table.target,
                    "--metric", "log_loss", "--time-budget", time_budget, "--out", str(runs),
                    "--no-report", "--quiet"], check=True, stdout=subprocess.DEVNULL)
    predictor = AutoML.load(sorted(runs.iterdir())[-1]).predictor_
    metric = get_metric("log_loss", predictor.schema.task)
    X, y = test.drop(columns=[table.target]), predictor.schema.encode_target(test[table.target])
    fitted = predictor.temperature
    with_t = metric.value(y, predictor.predict_raw(X))
    predictor.temperature = 1.0
    without = metric.value(y, predictor.predict_raw(X))
    return {"table": table.name, "train_rows": len(train), "temperature": round(fitted, 3),
            "test_log_loss": round(with_t, 5), "test_log_loss_at_1": round(without, 5),
            "lower_by_pct": round(100 * (without - with_t) / without, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studies.calibration_study",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for the training parts and runs")
    parser.add_argument("--tables", default=None, help="comma-separated (default: every "
                                                       "classification study table)")
    parser.add_argument("--time-budget", default="30s")
    args = parser.parse_args(argv)
    tables = [t for t in study_tables(args.tables.split(",") if args.tables else None)
              if t.task in (BINARY, MULTICLASS)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for table in tables:
        print(json.dumps(judge(table, out, args.time_budget)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
