"""The compact model of a run folder: compact/compact.onnx, served by `OnnxPredictor`."""

from __future__ import annotations

from pathlib import Path

from automl.errors import RunError
from automl.serving.onnx_predictor import OnnxPredictor, one_row_latency

COMPACT_FILE = Path("compact") / "compact.onnx"

__all__ = ["COMPACT_FILE", "CompactPredictor", "one_row_latency"]


class CompactPredictor(OnnxPredictor):
    """compact.onnx, read from `path`, as a predictor."""

    @classmethod
    def from_run(cls, run_dir: str | Path) -> "CompactPredictor":
        path = Path(run_dir) / COMPACT_FILE
        if not path.is_file():
            raise RunError(f"{run_dir} holds no compact model ({path} is missing); fit with "
                           "--compact (or --pipeline compact) to get one")
        return cls(path)
