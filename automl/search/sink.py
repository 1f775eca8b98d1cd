"""A Ray actor that receives every finished trial, wherever the trial ran.

Trials send their result (validation predictions, no model) here before they report to
Tune. The fitted model and the predictions are kept only while the trial ranks among the
best `keep_models` (`admit` says so), the ensemble's only candidates; so a search of
2,000 trials holds and writes no more of them than one of 20. A kept model goes to the
run folder's models/: written by the trial itself when it runs on the sink's node, and
by the sink when it arrives from another node. Results then hold a
`StoredModel` reference, so neither the sink nor the driver ever holds a pickled model
of every trial, and only the models the ensemble keeps are loaded at the end. The sink
also writes each result to the run folder, so a killed driver's finished trials survive
for `--resume`. Without a folder (Ray Client, whose driver's disk is no node's), the sink
keeps the models in its memory instead.
"""

from __future__ import annotations

import heapq
from pathlib import Path

import joblib
import ray

from automl.atomic import atomic_dump
from automl.runfolder import StoredModel


@ray.remote(num_cpus=0)
class TrialSink:
    def __init__(self, folder: str | None, keep_models: int):
        self.folder = Path(folder) if folder else None
        self.keep_models = keep_models
        self.results: dict[str, object] = {}
        self.best: list[tuple[float, str]] = []  # min-heap of (score, trial) holding a model
        self.nodes: dict[str, str] = {}  # trial -> the node it started on (started)

    def where(self) -> tuple[str, str | None]:
        """(this actor's node, its models folder): a trial on that node writes there itself."""
        node = ray.get_runtime_context().get_node_id()
        return node, None if self.folder is None else str(self.folder / "models")

    def started(self, trial_id: str, node: str) -> None:
        """A trial began on `node`: if its worker or node dies, the search still says where."""
        self.nodes[trial_id] = node

    def where_started(self) -> dict[str, str]:
        return dict(self.nodes)

    def admit(self, score: float | None) -> bool:
        """Whether a model of this score would rank among the best kept so far."""
        return score is not None and (len(self.best) < self.keep_models or score > self.best[0][0])

    def put(self, result, stored: bool = False) -> None:
        """A finished trial; `stored`: its model is in models/<trial>.joblib already."""
        model, result.model = result.model, None
        self.results[result.trial_id] = result
        kept = (stored or model is not None) and self.admit(result.score)
        if not kept:  # no member of any ensemble: its predictions serve nothing
            result.valid_prediction = None
            if stored:  # ranked out while it was being written
                self._model_path(result.trial_id).unlink(missing_ok=True)
        self._write(f"trials/{result.trial_id}.joblib", result)
        if kept:
            self._keep_model(result.trial_id, result.score, None if stored else model)

    def _keep_model(self, trial_id: str, score: float, model) -> None:
        heapq.heappush(self.best, (score, trial_id))
        if self.folder is None:
            self.results[trial_id].model = model
        else:
            if model is not None:
                atomic_dump(self._model_path(trial_id), model)
            self.results[trial_id].model = StoredModel(self._model_path(trial_id))
        if len(self.best) > self.keep_models:
            _, evicted = heapq.heappop(self.best)
            self._drop(evicted)

    def _drop(self, trial_id: str) -> None:
        """A trial ranked out of the best: its model and predictions go, here and on disk,
        so that neither this actor's memory nor the run folder grows with the search's
        length (2,000 trials keep `keep_models` models and predictions, as 20 do)."""
        result = self.results[trial_id]
        result.model, result.valid_prediction = None, None
        self._write(f"trials/{trial_id}.joblib", result)
        if self.folder is not None:
            self._model_path(trial_id).unlink(missing_ok=True)

    def _model_path(self, trial_id: str) -> Path:
        return self.folder / "models" / f"{trial_id}.joblib"

    def _write(self, relative: str, obj) -> None:
        if self.folder is not None:
            atomic_dump(self.folder / relative, obj)

    def collect(self) -> list:
        return list(self.results.values())


def send(sink, where: tuple[str, str | None], result) -> None:
    """A trial hands its result to the sink (whose node and models folder are `where`): the
    model written there by the trial itself on the sink's node, sent along from another
    node, dropped if it ranks out."""
    model = result.model
    result.model = None
    if model is None or not ray.get(sink.admit.remote(result.score)):
        ray.get(sink.put.remote(result))
        return
    node, models = where
    if models is not None and node == ray.get_runtime_context().get_node_id():
        atomic_dump(Path(models) / f"{result.trial_id}.joblib", model)
        ray.get(sink.put.remote(result, stored=True))
    else:
        result.model = model
        ray.get(sink.put.remote(result))


def load_written(folder: Path) -> dict:
    """Trials a previous (killed) driver's sink wrote, models referenced where kept."""
    results = {}
    for path in sorted((folder / "trials").glob("*.joblib")):
        result = joblib.load(path)
        model_path = folder / "models" / path.name
        if model_path.is_file():
            result.model = StoredModel(model_path)
        results[result.trial_id] = result
    return results
