"""One system on one dataset, in a subprocess of its own: `python -m automl.bench.worker JOB`.

JOB is a JSON file written by the runner. The worker loads and splits the table itself
(same protocol code for every system), fits, scores on the test part, measures, and
writes result.json beside JOB. A Python error is written there as an error; a crash,
a hang or an out-of-memory kill leaves no result, and the runner reports that instead.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from automl.atomic import atomic_write_json
from automl.bench import measure
from automl.bench.intervals import save_predictions
from automl.bench.protocol import BenchDataset, BenchSplit, load_table, split_table
from automl.bench.systems import FitJob, Fitted, load_runner
from automl.errors import RunError, first_line
from automl.metrics import evaluate

RESULT = "result.json"


def run_job(job: dict) -> list[dict]:
    """Result rows (one per variant) for the job; raises on any failure."""
    dataset = BenchDataset(**job["dataset"])
    split = split_table(load_table(dataset), dataset)
    work_dir = Path(job["work_dir"])
    fit_job = FitJob(split.train, float(job["budget"]), work_dir, Path(job["runs_dir"]),
                     int(job["n_jobs"]), job.get("pipeline", "default"))
    runner = load_runner(job["runner"])
    # the memory of every process the system starts (Ray's too), while it fits and predicts
    with measure.TreeMemory() as tree:
        started = time.perf_counter()
        fitted = runner(fit_job)
        fit_seconds = time.perf_counter() - started
        if not fitted:
            raise RunError(f"system {job['system']!r} returned no fitted model")
        rows = [_measure(variant, split, work_dir) for variant in fitted]
    peak = max(tree.peak_mb, measure.peak_memory_mb())
    shared = {"n_train": len(split.train.y), "n_test": len(split.y_test),
              "fit_seconds": fit_seconds, "peak_memory_mb": peak}
    return [{**row, **shared} for row in rows]


def _measure(fitted: Fitted, split: BenchSplit, work_dir: Path) -> dict:
    prediction = _checked(fitted.predict(split.X_test), split, fitted.variant)
    scores = evaluate(split.train.task, split.y_test_true, prediction, split.w_test)
    # kept for the bench's intervals of the gain kept (`intervals`), beside result.json
    save_predictions(work_dir, fitted.variant, prediction, split.y_test_true)
    artifact = fitted.save(work_dir / "model" / fitted.variant)
    return {"variant": fitted.variant, **scores,
            "model_bytes": measure.disk_bytes(artifact),
            "latency_ms": measure.single_row_latency_ms(fitted.predict, split.X_test),
            "throughput_rows_s": measure.throughput_rows_s(fitted.predict, split.X_test)}


def _checked(prediction, split: BenchSplit, variant: str) -> np.ndarray:
    prediction = np.asarray(prediction, dtype=np.float64)
    classes = split.train.classes
    expected = (len(split.y_test),) if classes is None else (len(split.y_test), len(classes))
    if prediction.shape != expected:
        raise RunError(f"variant {variant!r} predicted shape {prediction.shape}, expected "
                       f"{expected} (one {'value' if classes is None else 'probability per class'}"
                       " per test row)")
    if not np.isfinite(prediction).all():
        raise RunError(f"variant {variant!r} predicted non-finite values")
    return prediction


def one_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {first_line(err, limit=300)}"[:300]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m automl.bench.worker JOB.json", file=sys.stderr)
        return 2
    job_path = Path(argv[0])
    job = json.loads(job_path.read_text())
    try:
        result = {"status": "ok", "rows": run_job(job)}
    except Exception as err:  # recorded as the system's error row; the bench goes on
        traceback.print_exc()  # the whole story goes to worker.log
        result = {"status": "error", "error": one_line(err)}
    atomic_write_json(job_path.parent / RESULT, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
