"""How sure a gain kept is: the test part resampled.

Gain kept, (student - xgb_default) / (teacher - xgb_default), divides by the teacher's
lead over the baseline, which on some tables is a few thousandths of ROC AUC or log loss
on a few hundred test rows (credit_g: 200). One test part then cannot say whether a
student keeps 0.97 of that lead or 0.6. So each worker keeps its test predictions
(`save_predictions`), and the bench resamples the test rows with replacement, the same
rows for the teacher, the student and the baseline, N_RESAMPLES times: the interval is
the middle LEVEL of the gain kept over the resamples where the teacher still beats the
baseline, and `no_gain` is the share of resamples where it does not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from automl.bench.systems import REFERENCE
from automl.metrics import PROTOCOL, get_metric

N_RESAMPLES = 1000
LEVEL = 0.90
SEED = 0
PREDICTIONS = "predictions"  # the worker's folder of <variant>.npy, and the labels
LABELS = "y_test"
COLUMNS = ["dataset", "system", "low", "high", "no_gain"]


def save_predictions(work_dir: Path, variant: str, prediction: np.ndarray,
                     y_true: np.ndarray) -> None:
    folder = Path(work_dir) / PREDICTIONS
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"{variant}.npy", prediction)
    np.save(folder / f"{LABELS}.npy", y_true)


def gain_kept_interval(task: str, y: np.ndarray, teacher: np.ndarray, student: np.ndarray,
                       baseline: np.ndarray, resamples: int = N_RESAMPLES,
                       seed: int = SEED) -> tuple[float, float, float]:
    """(low, high, no_gain): the LEVEL interval of the gain kept over resamples of the
    test rows, and the share of resamples where the teacher does not beat the baseline
    (low and high are NaN when it beats it on none)."""
    metric = get_metric(PROTOCOL[task][0], task)
    rng = np.random.default_rng(seed)
    stack = np.stack([teacher, student, baseline])  # scored together: one call a resample
    kept, no_gain = [], 0
    for _ in range(resamples):
        rows = rng.integers(0, len(y), len(y))
        try:
            teacher_score, student_score, base_score = metric.scores(y[rows], stack[:, rows])
        except ValueError:  # a resample with one class only has no ROC AUC: not drawn again
            continue
        gain = teacher_score - base_score
        if gain > 0:
            kept.append((student_score - base_score) / gain)
        else:
            no_gain += 1
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(kept, [tail, 1 - tail]) if kept else (np.nan, np.nan)
    return float(low), float(high), no_gain / max(len(kept) + no_gain, 1)


def gain_kept_intervals(results: pd.DataFrame, work_root: Path, distilled) -> pd.DataFrame:
    """One row per (dataset, system) of `distilled` ((system, teacher variant, student
    variant) triples) whose three predictions the workers left under `work_root`."""
    rows = []
    tasks = dict(zip(results["dataset"], results["task"]))
    for dataset, task in tasks.items():
        for system, teacher, student in distilled:
            outputs = [_load(work_root, dataset, system, variant)
                       for variant in (teacher, student)]
            outputs.append(_load(work_root, dataset, REFERENCE, "default"))
            y = _load(work_root, dataset, system, LABELS)
            if y is None or any(output is None for output in outputs):
                continue
            rows.append({"dataset": dataset, "system": system,
                         **dict(zip(COLUMNS[2:], gain_kept_interval(task, y, *outputs)))})
    return pd.DataFrame(rows, columns=COLUMNS)


def _load(work_root: Path, dataset: str, system: str, name: str) -> np.ndarray | None:
    """A variant's test predictions (or the labels, LABELS) as `system`'s worker left them."""
    path = Path(work_root) / dataset / system / PREDICTIONS / f"{name}.npy"
    return np.load(path) if path.is_file() else None
