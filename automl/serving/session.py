"""One onnxruntime session over an exported graph, and the feed of model-ready rows.

A student's graph takes one (n, 1) input per model-ready column
(`automl.data.prepare_features`): a float tensor per number, a string tensor per category
(a missing category fed as the empty string, which the encoder treats as unseen, i.e.
missing). compact.onnx takes the table's own columns instead (`inputs`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


class OnnxModel:
    """One onnxruntime session over an exported model, answering as `predict_raw` does:
    probabilities (n, k) or values (n,). `threads=None`: onnxruntime's default."""

    def __init__(self, model: bytes | str | Path, threads: int | None = 1):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = options.inter_op_num_threads = threads
        source = model if isinstance(model, bytes) else str(model)
        self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])

    def run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        outputs = self.session.run(None, feed)
        if len(outputs) == 2:  # classifier: labels, probabilities
            return np.asarray(outputs[1], dtype=np.float64)
        return np.asarray(outputs[0], dtype=np.float64).reshape(-1)

    def predict_features(self, features: pd.DataFrame) -> np.ndarray:
        """From model-ready columns (`prepare_features`), for a student's graph."""
        return self.run(feeds(features))


def feeds(features: pd.DataFrame) -> dict[str, np.ndarray]:
    """onnxruntime inputs for model-ready rows: one (n, 1) column each."""
    out = {}
    for name in features.columns:
        column = features[name]
        if is_text(column):
            out[name] = column.fillna("").astype(str).to_numpy().reshape(-1, 1)
        else:
            out[name] = column.to_numpy(dtype=np.float32).reshape(-1, 1)
    return out


def is_text(column: pd.Series) -> bool:
    """A column the graph takes as strings (a category), not as floats."""
    return not pd.api.types.is_numeric_dtype(column)
