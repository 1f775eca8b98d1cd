"""What a report shows, read from a run folder's files: JSON, CSV and Parquet that the
stages write beside their stored outputs, the model bundle and the compact model.

Nothing here unpickles a stage's output, so a report reads any run folder, finished or
not, whatever the versions of the libraries that made it (only permutation importance
loads the model bundle, the run's product). Whatever is missing (a node that never
finished, a run without a compact model) is None, and its section says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
import yaml

from automl.data.schema import Schema
from automl.metrics import Metric, default_metric, get_metric
from automl.options import check_run_dir
from automl.runfolder import (COLUMNS_CSV, DATA_JSON, ENSEMBLE_JSON, SCORED_FILE, TARGET_FILE,
                              TRIALS_CSV, RunStore)


@dataclass
class DataFacts:
    """The ingest stage's files."""

    summary: dict  # data.json: rows per part, validation
    columns: pd.DataFrame | None  # columns.csv
    target: pd.Series | None  # target.parquet: labels of every row (a sample on large tables)
    scored: pd.DataFrame | None  # scored.parquet: model-ready rows + the encoded target


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
    data: DataFacts | None
    searches: dict[str, pd.DataFrame]  # search node -> its trials.csv
    ensembles: dict[str, dict]  # ensemble node -> its ensemble.json
    metrics: dict | None  # the final model's scores, as in metrics.json
    compact: CompactFacts | None
    notes: list[str] = field(default_factory=list)  # parts that could not be read

    @cached_property
    def schema(self) -> Schema | None:
        saved = _json(self.run_dir / "schema.json")
        return None if saved is None else Schema.model_validate(saved)

    @property
    def metric(self) -> Metric | None:
        """The metric the run optimised: every score in the report is on it."""
        if self.schema is None:
            return None
        named = [e["metric"] for e in self.ensembles.values() if e.get("metric")]
        settings = self.meta.get("settings", {})
        return get_metric((named or [settings.get("metric") or default_metric(self.schema.task)])[0],
                          self.schema.task)

    @property
    def model_kind(self) -> str | None:
        """"ensemble" or "best single model", as metrics.json names the model's node."""
        node = (self.metrics or {}).get("model_node")
        if node is None:
            return None
        return "ensemble" if node in self.ensembles else "best single model"

    def predictor(self):
        """The run's model from its bundle (model/), or None before the run finished."""
        from automl.bundle import load_bundle

        if not (self.run_dir / "model" / "predictor.joblib").is_file():
            return None
        return load_bundle(self.run_dir)


def from_run_dir(run_dir: str | Path) -> RunFacts:
    """Facts from a run folder on disk, finished or not."""
    run_dir = check_run_dir(run_dir, "report on")
    folders, notes = _node_folders(run_dir)
    facts = RunFacts(run_dir=run_dir, meta=_json(run_dir / "run.json") or {},
                     data=None, searches={}, ensembles={},
                     metrics=_json(run_dir / "metrics.json"), compact=_compact(run_dir / "compact"),
                     notes=notes)
    for name, (kind, folder) in folders.items():
        try:
            _read_node(facts, name, kind, folder)
        except Exception as err:  # one unreadable file costs its part of the report only
            facts.notes.append(f"node {name!r}: its files could not be read "
                               f"({type(err).__name__}: {str(err)[:200]})")
    return facts


def _node_folders(run_dir: Path) -> tuple[dict[str, tuple[str, Path]], list[str]]:
    """Node name -> (kind, folder of its latest finished output) for the kinds read here."""
    graph = run_dir / "graph.yaml"
    if not graph.is_file():
        return {}, [f"{graph.name} is missing, so no node's files were read"]
    nodes = (yaml.safe_load(graph.read_text()) or {}).get("nodes") or []
    store, folders, notes = RunStore(run_dir), {}, []
    for node in nodes:
        if node.get("kind") not in ("ingest", "search", "ensemble"):
            continue
        folder = store.latest_dir(node["name"])
        if folder is None:
            notes.append(f"node {node['name']!r} has not finished in this run folder")
        else:
            folders[node["name"]] = (node["kind"], folder)
    return folders, notes


def _read_node(facts: RunFacts, name: str, kind: str, folder: Path) -> None:
    if kind == "ingest":
        facts.data = DataFacts(_json(folder / DATA_JSON) or {}, _csv(folder / COLUMNS_CSV),
                               _target(folder / TARGET_FILE), _parquet(folder / SCORED_FILE))
    elif kind == "search" and (folder / TRIALS_CSV).is_file():
        facts.searches[name] = pd.read_csv(folder / TRIALS_CSV, keep_default_na=False,
                                           na_values=[""])
    elif kind == "ensemble" and (folder / ENSEMBLE_JSON).is_file():
        facts.ensembles[name] = _json(folder / ENSEMBLE_JSON)


def _compact(folder: Path) -> CompactFacts | None:
    card = _json(folder / "compact.json")
    front = _csv(folder / "pareto.csv")
    if card is None and front is None:
        return None
    rules = folder / "rules.txt"
    onnx = folder / "compact.onnx"
    return CompactFacts(card, front, rules.read_text() if rules.is_file() else None,
                        onnx if onnx.is_file() and (card or {}).get("chosen") else None)


def _json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def _csv(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() else None


def _parquet(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.is_file() else None


def _target(path: Path) -> pd.Series | None:
    frame = _parquet(path)
    return None if frame is None else frame.iloc[:, 0]
