"""What random_forest and extra_trees share: a forest grown in chunks within a time limit.

sklearn forests have no callback, so the forest grows with `warm_start`: each chunk adds
trees, then the budget is asked whether to go on. Chunk sizes follow the measured
seconds per tree, so the last chunk does not run far past the limit. Tree seeds do not
depend on the chunking (sklearn draws them in order), so without a time limit the forest
equals a single `fit` with the same seed.
"""

from __future__ import annotations

import math
import time
from typing import ClassVar

import numpy as np

from automl.budget import Budget
from automl.models.base import Family, ReportFn, as_budget, writable
from automl.models.reporting import ProgressReports

CHUNKS_PER_FIT = 10  # chunks for a fit that is not cut short: time-limit checks
FIRST_CHUNK = 4  # trees grown before the seconds per tree are known
# A forest stops growing at this size in memory. Fully grown trees on a regression table
# are large: on diamonds (34,521 rows) an extra-trees trial reached 1.4 GB in 26 s of a
# 60 s run, and writing, loading and predicting with it cost the run 20 s past its budget.
MAX_FOREST_BYTES = 256 * 2**20


class ForestFamily(Family):
    branch = "trees"
    iterative = True
    allowed_params = (
        "n_estimators", "max_depth", "min_samples_leaf", "min_samples_split", "max_features",
        "bootstrap", "max_samples", "criterion", "max_leaf_nodes",
    )
    classifier_cls: ClassVar[type]
    regressor_cls: ClassVar[type]

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report: ReportFn | None = None,
            sample_weight=None, valid_weight=None):
        params = self._checked_params()
        X = writable(X)
        total = int(params.pop("n_estimators", 100))
        estimator_cls = self.classifier_cls if self.is_classifier else self.regressor_cls
        self.model_ = estimator_cls(**params, warm_start=True, n_jobs=self.n_jobs,
                                    random_state=self.seed)
        reports = ProgressReports(total, report if X_valid is not None else None)
        valid_sum = _ValidSum(self, X_valid) if reports.report is not None else None
        grown = self._grow(X, y, total, as_budget(budget), valid_sum, reports, sample_weight)
        self.model_.set_params(n_estimators=grown, warm_start=False)
        if self.is_classifier:
            self.classes_seen_ = self.model_.classes_
        return self

    def _grow(self, X, y, total: int, budget: Budget, valid_sum, reports, sample_weight=None) -> int:
        """Add chunks of trees until `total`, the time limit or MAX_FOREST_BYTES; the number
        of trees grown."""
        grown, seconds_per_tree = 0, None
        while grown < total:
            chunk = self._next_chunk(grown, total, budget, seconds_per_tree)
            if grown:  # no more trees than the size left allows, at the size of those so far
                size = forest_bytes(self.model_)
                chunk = min(chunk, int((MAX_FOREST_BYTES - size) / (size / grown)))
            if chunk <= 0:
                break
            started = time.monotonic()
            self.model_.set_params(n_estimators=grown + chunk)
            self.model_.fit(X, y, sample_weight=sample_weight)
            seconds_per_tree = (time.monotonic() - started) / chunk
            grown += chunk
            if valid_sum is not None:
                valid_sum.add(self.model_.estimators_[grown - chunk:])
                reports.send(grown, valid_sum.mean)
            if budget.expired():
                break
        return grown

    def _next_chunk(self, grown: int, total: int, budget: Budget,
                    seconds_per_tree: float | None) -> int:
        """How many trees to add now: 0 when the next tree would not fit in the time left."""
        chunk = max(1, math.ceil(total / CHUNKS_PER_FIT), self.n_jobs)
        if seconds_per_tree is None:
            return min(total, FIRST_CHUNK, chunk)
        left = budget.remaining()
        if left is not None:
            chunk = min(chunk, int(left / max(seconds_per_tree, 1e-9)))
        return max(0, min(chunk, total - grown))

    @property
    def n_rounds_(self) -> int:
        return len(self.model_.estimators_)

    def trained_length(self) -> dict:
        return {"n_estimators": self.n_rounds_}  # the trees grown within the time limit


def forest_bytes(model) -> int:
    """The memory a fitted sklearn forest's trees hold: per node, its fields (64 bytes)
    and its values (outputs x classes float64)."""
    trees = [estimator.tree_ for estimator in model.estimators_]
    _, outputs, classes = trees[0].value.shape
    return (64 + 8 * outputs * classes) * sum(tree.node_count for tree in trees)


class _ValidSum:
    """The forest's validation prediction, kept up to date one chunk at a time.

    Predicting with the whole forest after every chunk would cost O(trees^2) over a fit;
    adding only the new trees' predictions keeps reporting linear.
    """

    def __init__(self, family: ForestFamily, X_valid):
        self.family, self.X_valid = family, X_valid
        self.total, self.n_trees = None, 0

    def add(self, trees) -> None:
        for tree in trees:
            if self.family.is_classifier:
                part = tree.predict_proba(self.X_valid)
            else:
                part = tree.predict(self.X_valid)
            self.total = part if self.total is None else self.total + part
            self.n_trees += 1

    def mean(self) -> np.ndarray:
        mean = self.total / self.n_trees
        if self.family.is_classifier:
            return self.family._full_proba(mean, self.family.model_.classes_)
        return mean
