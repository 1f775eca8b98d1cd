"""The contract every model family follows (checked by tests/conformance/).

A family is an sklearn-style estimator: `__init__` stores its arguments, `fit` returns
self, learned state ends in `_`. Its hyperparameters arrive as one dict, `params`,
drawn from its search space (search/<key>.yaml); unknown keys are refused.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from automl.budget import Budget
from automl.errors import ConfigError
from automl.metrics import BINARY, MULTICLASS, REGRESSION
from automl.models.memory import UNMEASURED, FitMemory
from automl.space import load_space

# Called by iterative families now and then: (round, validation predictions) -> None.
# The search stage passes one that reports to the scheduler, which may stop the trial.
ReportFn = Callable[[int, np.ndarray], None]

# How many intermediate validation reports an iterative family makes in one fit; the
# search's early-stopping scheduler (ASHA) measures a trial's progress in these.
REPORTS_PER_FIT = 10


class Family(BaseEstimator):
    key: ClassVar[str]
    branch: ClassVar[str]  # which preprocess branch it reads: "trees" (config.FITTED_BRANCH)
    tasks: ClassVar[tuple[str, ...]] = (BINARY, MULTICLASS, REGRESSION)
    iterative: ClassVar[bool] = False
    allowed_params: ClassVar[tuple[str, ...]] = ()
    # Where <key>.yaml lives; None: the shipped search/ folder. Plugin families set it.
    space_folder: ClassVar[str | None] = None
    # What a fit needs, for the Ray task that runs it (automl/models/memory.py)
    fit_memory: ClassVar[FitMemory] = UNMEASURED

    def __init__(self, task: str = BINARY, n_classes: int = 2, params: dict | None = None,
                 categorical: tuple[int, ...] = (), seed: int = 0, n_jobs: int = 1):
        self.task = task
        self.n_classes = n_classes
        self.params = params
        self.categorical = categorical
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, X, y, X_valid=None, y_valid=None, budget: Budget | None = None,
            report: ReportFn | None = None, sample_weight=None, valid_weight=None):
        """Learn from (X, y), early-stopping on (X_valid, y_valid) when given, ending by
        `budget` (the trial's share of the run's one budget; None: no time limit).
        `sample_weight` weighs the training rows in the loss, `valid_weight` the validation
        rows in early stopping (None: rows count alike); a run passes them only where the
        table has weights or classes are balanced, so a plugin family without them still
        fits unweighted tables."""
        raise NotImplementedError

    def predict_raw(self, X) -> np.ndarray:
        """Class probabilities (n, k) for classification, values (n,) for regression.

        This default serves families that wrap one sklearn-style estimator in `model_`
        and record the classes training saw in `classes_seen_`.
        """
        if self.is_classifier:
            return self._full_proba(self.model_.predict_proba(X), self.classes_seen_)
        return self.model_.predict(X)

    def trained_length(self) -> dict:
        """The params that repeat this fit's length of training without early stopping
        (a refit on train + validation has no rows left to stop on). {} for one-shot fits."""
        return {}

    # ---- helpers shared by the families -----------------------------------------------

    def _checked_params(self) -> dict:
        params = dict(self.params or {})
        unknown = sorted(set(params) - set(self.allowed_params))
        if unknown:
            raise ConfigError(
                f"family {self.key!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters are {', '.join(self.allowed_params)}"
            )
        if self.task not in self.tasks:
            raise ConfigError(f"family {self.key!r} does not support {self.task} tasks")
        return params

    def _params_with_defaults(self) -> dict:
        """The checked params over the family's defaults, which live in its search space
        (search/<key>.yaml's `default`) and nowhere else: a search hands every param, a
        direct fit (a test, a study) may hand some."""
        return {**_space_default(self.key, self.space_folder), **self._checked_params()}

    def _space_default_of(self, name: str):
        """One param's default, from the family's search space (search/<key>.yaml)."""
        return _space_default(self.key, self.space_folder)[name]

    @property
    def is_classifier(self) -> bool:
        return self.task in (BINARY, MULTICLASS)

    def _full_proba(self, proba: np.ndarray, seen_classes: np.ndarray) -> np.ndarray:
        """Probabilities over all n_classes, also when training saw only some of them."""
        if proba.shape[1] == self.n_classes:
            return proba
        full = np.zeros((proba.shape[0], self.n_classes))
        full[:, seen_classes.astype(int)] = proba
        return full


def writable(X: np.ndarray, dtype=None) -> np.ndarray:
    """X itself when writable, else a copy. Ray's object store hands trials read-only
    arrays, and some libraries (sklearn's forests, torch.from_numpy) need to write."""
    return np.require(X, dtype=dtype, requirements=["C", "W"])


def as_budget(budget: Budget | None) -> Budget:
    return Budget.unlimited() if budget is None else budget


def _space_default(key: str, folder: str | None) -> dict:
    return dict(_read_space_default(key, folder))


@lru_cache(maxsize=None)  # one read of the YAML per family and process, not one per fit
def _read_space_default(key: str, folder: str | None) -> tuple:
    return tuple(load_space(key, Path(folder) if folder else None).default.items())
