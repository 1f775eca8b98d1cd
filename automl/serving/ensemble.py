"""The ensemble's predictor: schema -> branches -> members -> combined output -> labels.

A single best model is a predictor with one member of weight 1; a greedy ensemble has
many, averaged by weight; a stacked one hands the members' outputs to its meta-model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl.calibration import temper
from automl.data.schema import Schema, prepare_features, unused_columns
from automl.metrics import REGRESSION
from automl.preprocess.branches import Branch
from automl.serving.answers import Answers, check_table, warn_unused


@dataclass
class Member:
    name: str  # e.g. the trial id
    family: str
    branch: str  # key into Predictor.branches
    model: object
    weight: float
    params: dict = field(default_factory=dict)  # the family's hyperparameters, for the record


@dataclass
class Predictor(Answers):
    schema: Schema
    branches: dict[str, Branch]
    members: list[Member]
    stacker: object | None = None  # a meta-model over the members' outputs (stacking)
    # class probabilities at this temperature (automl/calibration.py); 1: as combined
    temperature: float = 1.0

    def member_outputs(self, frame: pd.DataFrame | Mapping) -> list[np.ndarray]:
        """Each member's probabilities (n, k) or values (n,), in member order."""
        frame = _as_frame(frame)
        warn_unused(unused_columns(frame, self.schema))
        return self._outputs(prepare_features(frame, self.schema))

    def _outputs(self, features: pd.DataFrame) -> list[np.ndarray]:
        encoded = {name: b.transform(features) for name, b in self.branches.items()
                   if any(m.branch == name for m in self.members)}
        return [m.model.predict_raw(encoded[m.branch]) for m in self.members]

    def predict_raw(self, frame: pd.DataFrame | Mapping) -> np.ndarray:
        """The combined output: probabilities (n, k) or values (n,)."""
        return self._combine(self.member_outputs(frame))

    def predict_features(self, features: pd.DataFrame) -> np.ndarray:
        """`predict_raw` for rows already in model-ready form (`prepare_features`'s
        output), such as the synthetic rows a distillation makes."""
        return self._combine(self._outputs(features))

    def _combine(self, outputs: list[np.ndarray]) -> np.ndarray:
        if self.stacker is not None:
            combined = self.stacker.predict_raw(outputs)
        else:
            total = sum(m.weight for m in self.members)
            combined = sum(m.weight / total * out for m, out in zip(self.members, outputs))
        return combined if self.schema.task == REGRESSION else temper(combined, self.temperature)

    def describe(self) -> dict:
        """What the model is made of, readable without unpickling it (the bundle's model.json)."""
        members = [{"name": m.name, "family": m.family, "branch": m.branch,
                    "weight": m.weight, "params": m.params} for m in self.members]
        return {"target": self.schema.target, "task": self.schema.task,
                # class i of predict_raw's columns is label classes[i]
                "classes": self.schema.classes,
                "combine": "weighted mean" if self.stacker is None else type(self.stacker).__name__,
                "temperature": self.temperature,
                "branches": sorted(self.branches), "members": members}


def _as_frame(rows: pd.DataFrame | Mapping) -> pd.DataFrame:
    """A DataFrame as it is; one row given as a dict (column -> value) as a one-row frame."""
    check_table(rows)
    return pd.DataFrame([rows]) if isinstance(rows, Mapping) else rows
