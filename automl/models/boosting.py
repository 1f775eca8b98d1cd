"""What the boosting families (xgboost, lightgbm, catboost) share: labels as codes of the
classes training saw, validation rows in those codes, and outputs over all classes.

The libraries number classes 0..k-1 from the labels they are given; a class absent from
training (a rare class, a small fold) would shift that numbering, so each family learns
on codes of the classes it saw and maps its probabilities back with `_full_proba`.
"""

from __future__ import annotations

import numpy as np

from automl.models.base import Family


class BoostingFamily(Family):
    branch = "trees"
    iterative = True

    def _label_codes(self, y) -> np.ndarray:
        """Classification: y as codes of the classes training saw (kept in `classes_seen_`)."""
        y = np.asarray(y)
        if not self.is_classifier:
            return y
        self.classes_seen_ = np.unique(y)
        return np.searchsorted(self.classes_seen_, y)

    def _seen_class_rows(self, y_valid) -> tuple[np.ndarray, np.ndarray]:
        """Which validation rows have a class training saw (the libraries cannot score the
        others), and those rows' labels as codes. Regression: every row, labels as given."""
        y_valid = np.asarray(y_valid)
        if not self.is_classifier:
            return np.ones(len(y_valid), dtype=bool), y_valid
        seen = np.isin(y_valid, self.classes_seen_)
        return seen, np.searchsorted(self.classes_seen_, y_valid[seen])

    def _shape_output(self, raw: np.ndarray) -> np.ndarray:
        """A library's prediction as predict_raw returns it: for classification, probabilities
        (n, n_classes); a binary model's (n,) probabilities of the second class included."""
        if not self.is_classifier:
            return raw
        proba = np.column_stack([1 - raw, raw]) if raw.ndim == 1 else raw
        return self._full_proba(proba, self.classes_seen_)
