"""What a report shows, gathered from a run: node outputs by name and the run folder's files.

Two routes lead here: a fit hands over the outputs it holds in memory; `automl report
RUN_DIR` loads them from the run store. Both read the same files for the rest, and
whatever is missing (a run without a compact model, a node that never finished) is left
as None for its section to say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from automl.data.schema import Schema
from automl.data.split import Dataset
from automl.ensemble.result import EnsembleResult
from automl.errors import RunError
from automl.graph.store import RunStore
from automl.metrics import Metric, default_metric, evaluate, get_metric
from automl.search.result import SearchResult

# Node kinds whose stored outputs the report reads (the compact model comes from files).
READ_KINDS = ("ingest", "search", "ensemble")


@dataclass
class CompactFacts:
    """The export stage's files in <run>/compact/."""

    card: dict | None  # compact.json
    front: pd.DataFrame | None  # pareto.csv: every student tried, and the teacher
    rules: str | None  # rules.txt
    onnx: Path | None  # compact.onnx, when a student was chosen


@dataclass
class RunFacts:
    run_dir: Path
    meta: dict  # run.json
    dataset: Dataset | None
    searches: dict[str, SearchResult]
    ensembles: dict[str, EnsembleResult]
    metrics: dict | None  # the final model's scores, as in metrics.json
    compact: CompactFacts | None
    notes: list[str] = field(default_factory=list)  # parts that could not be read

    @property
    def schema(self) -> Schema | None:
        for output in [self.dataset, *self.ensembles.values(), *self.searches.values()]:
            if output is not None:
                return output.schema
        saved = _json(self.run_dir / "schema.json")
        return None if saved is None else Schema.model_validate(saved)

    @property
    def metric(self) -> Metric | None:
        """The metric the run optimised: every score in the report is on it."""
        schema = self.schema
        if schema is None:
            return None
        named = [o.metric for o in [*self.ensembles.values(), *self.searches.values()]]
        settings = self.meta.get("settings", {})
        return get_metric((named or [settings.get("metric") or default_metric(schema.task)])[0],
                          schema.task)

    def model_output(self) -> EnsembleResult | SearchResult | None:
        """The node whose model the run ships: the one metrics.json names, else the last
        ensemble, else the last search."""
        by_name = {**self.searches, **self.ensembles}
        named = (self.metrics or {}).get("model_node")
        if named in by_name:
            return by_name[named]
        for outputs in (self.ensembles, self.searches):
            if outputs:
                return list(outputs.values())[-1]
        return None


def from_outputs(outputs: dict, run_dir: Path) -> RunFacts:
    """Facts from node outputs by name (in execution order) and the run folder's files."""
    run_dir = Path(run_dir)
    facts = RunFacts(
        run_dir=run_dir, meta=_json(run_dir / "run.json") or {},
        dataset=next((o for o in outputs.values() if isinstance(o, Dataset)), None),
        searches={n: o for n, o in outputs.items() if isinstance(o, SearchResult)},
        ensembles={n: o for n, o in outputs.items() if isinstance(o, EnsembleResult)},
        metrics=_json(run_dir / "metrics.json"), compact=_compact(run_dir / "compact"),
    )
    if facts.metrics is None:  # a report node runs before the fit writes metrics.json
        try:
            facts.metrics = _scores(facts)
        except Exception as err:  # the report goes on without the final scores
            facts.notes.append(f"the final scores could not be computed ({type(err).__name__}: "
                               f"{str(err)[:200]})")
    return facts


def from_run_dir(run_dir: str | Path) -> RunFacts:
    """Facts from a run folder on disk, finished or not."""
    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file():
        raise RunError(f"{run_dir} is not a run folder (no run.json); give a folder that "
                       "'automl fit' wrote, e.g. runs/20260101-120000-data")
    outputs, notes = _stored_outputs(run_dir)
    facts = from_outputs(outputs, run_dir)
    facts.notes += notes
    return facts


def _stored_outputs(run_dir: Path) -> tuple[dict, list[str]]:
    graph = run_dir / "graph.yaml"
    if not graph.is_file():
        return {}, [f"{graph.name} is missing, so no node output was read"]
    # Read as plain data, not validated: the run may use a plugin family that is not
    # registered in this process, and its report needs none of the checks.
    nodes = (yaml.safe_load(graph.read_text()) or {}).get("nodes") or []
    store, outputs, notes = RunStore(run_dir), {}, []
    for name in [n["name"] for n in nodes if n.get("kind") in READ_KINDS]:
        try:
            output = store.latest(name)
        except Exception as err:  # e.g. pickled by another version of a library
            notes.append(f"node {name!r}: its stored output could not be read "
                         f"({type(err).__name__}: {str(err)[:200]})")
            continue
        if output is None:
            notes.append(f"node {name!r} has not finished in this run folder")
        else:
            outputs[name] = output
    return outputs, notes


def _scores(facts: RunFacts) -> dict | None:
    """metrics.json's figures for the run's model, computed afresh."""
    model, data = facts.model_output(), facts.dataset
    if model is None or data is None:
        return None
    predictor = model.predictor()
    scores = {"task": data.task, "valid": evaluate(data.task, data.y_valid,
                                                   predictor.predict_raw(data.X_valid)),
              "valid_in_sample": bool(getattr(model, "refit", False)), "test": None}
    if data.X_test is not None:
        scores["test"] = evaluate(data.task, data.y_test, predictor.predict_raw(data.X_test))
    return scores


def _compact(folder: Path) -> CompactFacts | None:
    card = _json(folder / "compact.json")
    front = pd.read_csv(folder / "pareto.csv") if (folder / "pareto.csv").is_file() else None
    if card is None and front is None:
        return None
    rules = folder / "rules.txt"
    onnx = folder / "compact.onnx"
    return CompactFacts(card, front, rules.read_text() if rules.is_file() else None,
                        onnx if onnx.is_file() and (card or {}).get("chosen") else None)


def _json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None
