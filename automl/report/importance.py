"""Permutation importance on the validation part, kept cheap enough to run after every fit,
and beside it the mean absolute contribution of each column (automl/serving/explain/).

A column's importance is how much the run's metric falls when that column's values are
shuffled among the rows. Rows are sampled (at most MAX_ROWS) and the repeats shrink to
fit a time cap, so a slow ensemble costs seconds, not minutes; the report says what ran.
A column's mean contribution is the mean over rows (at most CONTRIBUTION_ROWS) of how far
it moved each row's output from the base: the probability explained (the positive class,
or the predicted one) or the value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from automl.metrics import Metric

MAX_ROWS = 2000
MIN_ROWS = 200
CONTRIBUTION_ROWS = 500
PROBE_ROWS = 20  # rows explained first, to time the rest by
REPEATS = 3
SECONDS = 6.0  # per model: the cap the rows and repeats are fitted to

Predict = Callable[[pd.DataFrame], np.ndarray]  # model-ready columns -> predict_raw's output


class OutOfTime(Exception):
    """Even one pass over the columns, on the fewest rows, would outrun a hard time cap."""


@dataclass
class Importance:
    model: str  # what was explained, e.g. "ensemble"
    columns: list[str]
    drop: np.ndarray  # mean fall of the score per column (metric units, higher: more important)
    spread: np.ndarray  # standard deviation of the fall over the repeats
    baseline: float  # the score on the sampled rows, unshuffled
    rows: int
    repeats: int
    seconds: float

    def frame(self) -> pd.DataFrame:
        """Columns, most important first."""
        table = pd.DataFrame({"column": self.columns, "drop": self.drop, "spread": self.spread})
        return table.sort_values("drop", ascending=False, kind="stable", ignore_index=True)


def permutation_importance(model: str, predict: Predict, X: pd.DataFrame, y: np.ndarray,
                           metric: Metric, seed: int = 0, max_rows: int = MAX_ROWS,
                           repeats: int = REPEATS, seconds: float = SECONDS,
                           hard: bool = False) -> Importance:
    """The score's fall per shuffled column. `seconds` caps the repeats; the first one
    always runs, unless `hard` (the end of a fit's time budget): then a model too slow for
    one pass in `seconds` raises OutOfTime rather than run past the budget."""
    started = time.monotonic()
    X, y = _sample(X, y, max_rows, seed)
    baseline, per_call = _timed_score(predict, X, y, metric)
    affordable = int(len(X) * seconds / max(per_call * X.shape[1], 1e-9))
    if affordable < len(X):  # a slow model: fewer rows rather than no answer
        X, y = _sample(X, y, max(MIN_ROWS, affordable), seed)
        baseline, per_call = _timed_score(predict, X, y, metric)
    one_pass = per_call * X.shape[1]
    if hard and one_pass > seconds:  # an ensemble of 65 fold models: 0.4 s a call on 200 rows
        raise OutOfTime(f"one pass over the {X.shape[1]} columns would take about "
                        f"{one_pass:.0f} s ({per_call:.2f} s a call on {len(X)} rows), more than "
                        f"the {seconds:.0f} s the time budget left")
    # the loop also checks the cap as it goes: the timing above is one noisy call
    repeats = max(1, min(repeats, int(seconds / max(per_call * X.shape[1], 1e-9))))
    rng, drops, looping = np.random.default_rng(seed), [], time.monotonic()
    while len(drops) < repeats and _room_for_another(len(drops), looping, seconds):
        drops.append([baseline - metric.score(y, predict(_shuffled(X, column, rng)))
                      for column in X.columns])
    drops = np.asarray(drops).T  # (columns, repeats done)
    return Importance(model, [str(c) for c in X.columns], drops.mean(axis=1), drops.std(axis=1),
                      metric.from_score(baseline), len(X), drops.shape[1],
                      time.monotonic() - started)


@dataclass
class Contributions:
    model: str
    columns: list[str]
    mean_abs: np.ndarray  # per column: the mean over rows of |contribution|
    rows: int
    seconds: float


# model-ready rows -> (rows, columns) contributions to each row's explained output
Explain = Callable[[pd.DataFrame], np.ndarray]


def mean_contributions(model: str, explain: Explain, X: pd.DataFrame, seed: int = 0,
                       max_rows: int = CONTRIBUTION_ROWS, seconds: float = SECONDS,
                       hard: bool = False) -> Contributions:
    """Each column's mean absolute contribution over a sample of the rows, as many as fit
    in `seconds` (timed on the first PROBE_ROWS). `hard`: OutOfTime rather than run past
    `seconds` where even those rows would."""
    started = time.monotonic()
    X, _ = _sample(X, np.zeros(len(X)), max_rows, seed)
    probe = X.iloc[:PROBE_ROWS]
    first = explain(probe)
    per_row = (time.monotonic() - started) / max(len(probe), 1)
    if hard and per_row * len(probe) > seconds:
        raise OutOfTime(f"explaining {len(probe)} rows took {per_row * len(probe):.1f} s, more "
                        f"than the {seconds:.0f} s the time budget left")
    end = max(len(probe), min(len(X), int(seconds / max(per_row, 1e-9))))
    rest = X.iloc[len(probe):end]
    values = np.vstack([first, explain(rest)]) if len(rest) else first
    return Contributions(model, [str(c) for c in X.columns], np.abs(values).mean(axis=0),
                         len(values), time.monotonic() - started)


def _room_for_another(done: int, since: float, seconds: float) -> bool:
    """Whether one more repeat fits in the cap, going by how long those done took."""
    spent = time.monotonic() - since
    return done == 0 or spent + spent / done <= seconds


def _shuffled(X: pd.DataFrame, column, rng) -> pd.DataFrame:
    shuffled = X.copy()
    shuffled[column] = X[column].to_numpy()[rng.permutation(len(X))]
    return shuffled


def _sample(X: pd.DataFrame, y: np.ndarray, rows: int, seed: int):
    if len(X) <= rows:
        return X, np.asarray(y)
    picked = np.sort(np.random.default_rng(seed).choice(len(X), size=rows, replace=False))
    return X.iloc[picked], np.asarray(y)[picked]


def _timed_score(predict: Predict, X: pd.DataFrame, y: np.ndarray, metric: Metric):
    started = time.monotonic()
    score = metric.score(y, predict(X))
    return score, time.monotonic() - started


def onnx_predict(path: Path) -> Predict:
    """compact.onnx as a function of model-ready columns, as `predict_raw` would answer."""
    from automl.serving.compact import CompactPredictor
    from automl.serving.session import OnnxModel
    from automl.errors import RunError

    try:
        return CompactPredictor(path).predict_features
    except RunError:  # a run from before compact.onnx took raw columns: it reads these
        return OnnxModel(path).predict_features
