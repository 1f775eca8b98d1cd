"""The ensemble's predictor: schema -> branches -> members -> combined output -> labels.

A single best model is a predictor with one member of weight 1; a greedy ensemble has
many, averaged by weight; a stacked one hands the members' outputs to its meta-model.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl.calibration import temper
from automl.data.schema import IgnoredColumnsWarning, Schema, prepare_features, unused_columns
from automl.errors import PredictError
from automl.metrics import REGRESSION
from automl.preprocess.branches import Branch


@dataclass
class Member:
    name: str  # e.g. the trial id
    family: str
    branch: str  # key into Predictor.branches
    model: object
    weight: float
    params: dict = field(default_factory=dict)  # the family's hyperparameters, for the record


@dataclass
class Predictor:
    schema: Schema
    branches: dict[str, Branch]
    members: list[Member]
    stacker: object | None = None  # a meta-model over the members' outputs (stacking)
    # class probabilities at this temperature (automl/calibration.py); 1: as combined
    temperature: float = 1.0

    def member_outputs(self, frame: pd.DataFrame | Mapping) -> list[np.ndarray]:
        """Each member's probabilities (n, k) or values (n,), in member order."""
        frame = _as_frame(frame)
        ignored = unused_columns(frame, self.schema)
        if ignored:
            warnings.warn(f"ignoring {len(ignored)} input column(s) the model does not use: "
                          + ", ".join(map(str, ignored[:10])) + (" ..." if len(ignored) > 10 else ""),
                          IgnoredColumnsWarning, stacklevel=2)
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

    def labels(self, raw: np.ndarray) -> np.ndarray:
        """Predicted values or class labels from `predict_raw`'s output."""
        if self.schema.task == REGRESSION:
            return raw
        return self.schema.decode_target(raw.argmax(axis=1))

    def proba_frame(self, raw: np.ndarray, index=None) -> pd.DataFrame:
        """`predict_raw`'s probabilities with one column per class, named by the class."""
        self.check_classifier()
        return pd.DataFrame(raw, columns=[str(c) for c in self.schema.classes], index=index)

    def predict(self, frame: pd.DataFrame | Mapping) -> np.ndarray:
        return self.labels(self.predict_raw(frame))

    def predict_proba(self, frame: pd.DataFrame | Mapping) -> pd.DataFrame:
        self.check_classifier()
        frame = _as_frame(frame)
        return self.proba_frame(self.predict_raw(frame), frame.index)

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

    def check_classifier(self) -> None:
        if self.schema.task == REGRESSION:
            raise PredictError("predict_proba is for classification; this model does regression "
                               f"(target {self.schema.target!r}): use predict")


def _as_frame(rows: pd.DataFrame | Mapping) -> pd.DataFrame:
    """A DataFrame as it is; one row given as a dict (column -> value) as a one-row frame."""
    if isinstance(rows, Mapping):
        return pd.DataFrame([rows])
    if not isinstance(rows, pd.DataFrame):
        raise PredictError(f"predict takes a pandas DataFrame with the model's columns, or one "
                           f"row as a dict, got {type(rows).__name__}")
    return rows
