"""A Ray actor that receives every finished trial, wherever the trial ran.

Trials on any node send their result (validation predictions, and the fitted model while
it ranks among the best `keep_models`) here before they report to Tune. When the sink
runs on the driver's node it also writes each trial to the run folder, so a killed
driver's finished trials survive for `--resume`.
"""

from __future__ import annotations

import heapq
from pathlib import Path

import joblib
import ray

from automl.atomic import atomic_dump


@ray.remote(num_cpus=0)
class TrialSink:
    def __init__(self, folder: str | None, keep_models: int):
        self.folder = Path(folder) if folder else None
        self.keep_models = keep_models
        self.results: dict[str, object] = {}
        self.best: list[tuple[float, str]] = []  # min-heap of (score, trial) holding a model

    def put(self, result) -> None:
        model, result.model = result.model, None
        self.results[result.trial_id] = result
        self._write(f"trials/{result.trial_id}.joblib", result)
        if model is not None and result.score is not None:
            self._keep_model(result.trial_id, result.score, model)

    def _keep_model(self, trial_id: str, score: float, model) -> None:
        heapq.heappush(self.best, (score, trial_id))
        self.results[trial_id].model = model
        self._write(f"models/{trial_id}.joblib", model)
        if len(self.best) > self.keep_models:
            _, evicted = heapq.heappop(self.best)
            self.results[evicted].model = None
            if self.folder is not None:
                (self.folder / "models" / f"{evicted}.joblib").unlink(missing_ok=True)

    def _write(self, relative: str, obj) -> None:
        if self.folder is not None:
            atomic_dump(self.folder / relative, obj)

    def collect(self) -> list:
        return list(self.results.values())


def load_written(folder: Path) -> dict:
    """Trials a previous (killed) driver's sink wrote, models re-attached where kept."""
    results = {}
    for path in sorted((folder / "trials").glob("*.joblib")):
        result = joblib.load(path)
        model_path = folder / "models" / path.name
        if model_path.is_file():
            result.model = joblib.load(model_path)
        results[result.trial_id] = result
    return results
