"""The deployable predictor: schema -> branches -> weighted members -> labels.

A single best model is a predictor with one member of weight 1; an ensemble has many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.data.schema import Schema, prepare_features
from automl.metrics import REGRESSION
from automl.preprocess.branches import Branch


@dataclass
class Member:
    name: str  # e.g. the trial id
    family: str
    branch: str
    model: object
    weight: float


@dataclass
class Predictor:
    schema: Schema
    branches: dict[str, Branch]
    members: list[Member]

    def predict_raw(self, frame: pd.DataFrame) -> np.ndarray:
        """Weighted mean of the members' outputs: probabilities (n, k) or values (n,)."""
        features = prepare_features(frame, self.schema)
        encoded = {name: b.transform(features) for name, b in self.branches.items()
                   if any(m.branch == name for m in self.members)}
        total = sum(m.weight for m in self.members)
        return sum(m.weight / total * m.model.predict_raw(encoded[m.branch]) for m in self.members)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        raw = self.predict_raw(frame)
        if self.schema.task == REGRESSION:
            return raw
        return self.schema.decode_target(raw.argmax(axis=1))

    def predict_proba(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.schema.task == REGRESSION:
            raise TypeError("predict_proba is for classification; this model does regression")
        return pd.DataFrame(self.predict_raw(frame), columns=[str(c) for c in self.schema.classes],
                            index=frame.index)
