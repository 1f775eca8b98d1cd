"""The parity check: an exported graph must predict what the Python model predicts.

It is the oracle of every export: each student's graph is checked on the judged rows
when it is measured, and compact.onnx, as written, on the stored rows fed as raw
columns; a mismatch fails the export.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl.errors import AutoMLError
from automl.serving.session import OnnxModel, feeds


class ParityError(AutoMLError):
    """The exported graph does not predict what the Python model predicts."""


def run_onnx(onnx_bytes: bytes, features: pd.DataFrame) -> np.ndarray:
    """What the graph returns for model-ready rows, as `predict_raw` would."""
    return OnnxModel(onnx_bytes, threads=None).predict_features(features)


def check_parity(onnx_bytes: bytes | str | OnnxModel, python_output: np.ndarray,
                 rows: pd.DataFrame | dict[str, np.ndarray], tolerance: float = 1e-4) -> float:
    """The largest ONNX-vs-Python difference on `rows` (`onnx_bytes`: the model, its
    file's path, or a session already open on it: a large graph's session takes seconds
    to make); ParityError past `tolerance` (and,
    for classes, on any differing label). `rows`: model-ready columns for a student's
    graph, or the graph's feed as it is (compact.onnx: `serving.inputs.frame_feeds`).

    Probabilities are compared as they are. Regression values are compared relative to
    their scale (the largest |value|, at least 0.001): both sides compute in float32, whose
    rounding grows with the values (a house price of 180,000 has a step of 0.016).
    """
    feed = rows if isinstance(rows, dict) else feeds(rows)
    model = onnx_bytes if isinstance(onnx_bytes, OnnxModel) else OnnxModel(onnx_bytes, threads=None)
    got = model.run(feed)
    expected = np.asarray(python_output, dtype=np.float64)
    if got.shape != expected.shape:
        raise ParityError(f"ONNX output has shape {got.shape}, Python {expected.shape}")
    if not got.size:
        return 0.0
    scale = 1.0 if expected.ndim == 2 else max(1e-3, float(np.max(np.abs(expected))))
    difference = float(np.max(np.abs(got - expected))) / scale
    if difference > tolerance:
        what = "" if expected.ndim == 2 else " relative to the values' scale"
        raise ParityError(f"ONNX and Python outputs differ by up to {difference:.3g}{what} "
                          f"(tolerance {tolerance:g}); the export is not faithful")
    if expected.ndim == 2 and (got.argmax(axis=1) != expected.argmax(axis=1)).any():
        raise ParityError("ONNX and Python predict different labels for some rows")
    return difference
