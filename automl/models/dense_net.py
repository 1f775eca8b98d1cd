"""A fitted dense network as plain arrays: its encoding (`DenseCode`) and its layers.

The distillation's dense students (a linear model, small MLPs) are trained in torch and
kept as these arrays: the numpy forward pass here is the Python side of the ONNX parity
check, the ONNX converter writes the same steps as operators, and compression (pruning,
low rank, int8) makes new arrays. No torch is needed to read or run one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from automl.metrics import REGRESSION
from automl.models.dense_code import DenseCode


@dataclass
class Layer:
    """x @ m1 @ m2 ... + bias; int8 matrices carry a scale per output column."""

    matrices: list[np.ndarray]
    bias: np.ndarray
    scales: list[np.ndarray | None] = field(default_factory=list)

    def weights(self) -> list[np.ndarray]:
        """The float matrices the forward pass uses (int8 ones dequantized)."""
        scales = self.scales or [None] * len(self.matrices)
        return [m if s is None else m.astype(np.float32) * s for m, s in zip(self.matrices, scales)]


@dataclass
class DenseNet:
    """The student: its encoding and its layers, ReLU between layers."""

    code: DenseCode
    layers: list[Layer]
    task: str

    def forward(self, Z: np.ndarray) -> np.ndarray:
        h = self.code.encode(Z)
        for i, layer in enumerate(self.layers):
            for matrix in layer.weights():
                h = h @ matrix
            h = h + layer.bias
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0)
        return h

    def predict(self, Z: np.ndarray) -> np.ndarray:
        """What `predict_raw` gives: probabilities (n, k) or values (n,)."""
        out = self.forward(Z).astype(np.float64)
        if self.task == REGRESSION:
            return out[:, 0]
        out -= out.max(axis=1, keepdims=True)
        exp = np.exp(out)
        return exp / exp.sum(axis=1, keepdims=True)

    @property
    def hidden(self) -> list[int]:
        return [layer.bias.size for layer in self.layers[:-1]]

    def n_weights(self) -> int:
        return sum(m.size for layer in self.layers for m in layer.matrices)
