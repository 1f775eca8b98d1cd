"""A test-only family that fails on purpose, to show a search survives its trials' faults.

It is registered by the tests (automl.models.registry.register) and reaches Ray workers
by its import path, like any plugin family.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from automl.models.base import Family


class CrashyFamily(Family):
    key = "crashy"
    branch = "trees"
    allowed_params = ("mode",)
    space_folder = str(Path(__file__).parent)

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report=None):
        mode = self._checked_params().get("mode", "ok")
        if mode == "raise":
            raise ValueError("crashy failed on purpose")
        if mode == "die":
            os._exit(3)  # the worker process dies without a word
        self.prior_ = np.bincount(y, minlength=self.n_classes) / len(y)
        return self

    def predict_raw(self, X):
        return np.tile(self.prior_, (len(X), 1))
