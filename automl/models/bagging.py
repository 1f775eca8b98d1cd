"""A bagged model: the k fold models of a k-fold trial, predicting by their average.

Each fold model learned on k-1 folds and was early-stopped on the fold it left out, whose
rows it then predicted (the trial's out-of-fold predictions). New rows get the mean of
the k models' outputs: probabilities averaged per class, values averaged.
"""

from __future__ import annotations

import numpy as np


class BaggedModel:
    """Fitted fold models of one family and config, used as one model."""

    def __init__(self, models: list):
        self.models_ = list(models)

    def predict_raw(self, X) -> np.ndarray:
        """Probabilities (n, k) or values (n,), as a family's predict_raw."""
        return np.mean([model.predict_raw(X) for model in self.models_], axis=0)

    def trained_length(self) -> dict:
        """The fold models' lengths of training, their median where they differ."""
        lengths = [model.trained_length() for model in self.models_]
        return {key: type(lengths[0][key])(np.median([length[key] for length in lengths]))
                for key in lengths[0]}

    @property
    def n_jobs(self) -> int:
        return getattr(self.models_[0], "n_jobs", 1)

    def __len__(self) -> int:
        return len(self.models_)
