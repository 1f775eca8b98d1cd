"""What a running stage is handed: its declared inputs, the run's settings, its budget, a log.

A stage reads exactly the outputs its node lists (`StageInputs`); nothing further up the
graph. The run also offers the stages two services they share and must not import from each
other: a Ray Tune search (`RunContext.tune`), used by the search stage and by the distill
stage to tune its students; and `RunContext.offload`, which runs a heavy fit as a Ray task
on a joined cluster's nodes (in this process on a local Ray).
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from automl.budget import Budget
from automl.errors import GraphError


@dataclass
class Settings:
    """Run-level choices that node outputs depend on (part of the node keys that read them)."""

    target: str
    task: str | None = None
    metric: str | None = None
    seed: int = 0
    # seconds, or None for no limit; "default" (budget.DEFAULT) until fit_run resolves it
    time_budget: float | str | None = None
    address: str | None = None
    encoding: str | None = None  # of a text table; None: detected
    weight: str | None = None  # the column of sample weights (automl/data/weights.py)
    class_weight: str | None = None  # "balanced": classes re-weighted in the families' fits

    def key_fields(self, budgeted: bool = True) -> dict:
        # Where Ray runs does not change results, so the address stays out of node keys;
        # nor do the budget and metric for kinds whose output ignores them; settings left
        # at None (a detected encoding, no weights) neither, so runs from before they
        # existed keep their keys.
        left_out = {"address"} if budgeted else {"address", "time_budget", "metric"}
        left_out |= {name for name in ("encoding", "weight", "class_weight")
                     if getattr(self, name) is None}
        return {k: v for k, v in vars(self).items() if k not in left_out}


@dataclass
class StageInputs:
    """The outputs a node declared, by input name, with each one's node kind."""

    outputs: dict[str, Any]
    kinds: dict[str, str]

    def all(self, *kinds: str) -> list:
        return [out for name, out in self.outputs.items() if self.kinds[name] in kinds]

    def named(self, *kinds: str) -> dict[str, Any]:
        return {name: out for name, out in self.outputs.items() if self.kinds[name] in kinds}

    def one(self, *kinds: str):
        """The single input of one of `kinds` (validation guarantees it for required slots)."""
        found = self.all(*kinds)
        if len(found) != 1:
            raise GraphError(f"expected one input of kind {' or '.join(kinds)}, got {len(found)}; "
                             "run 'automl validate' on the graph")
        return found[0]

    def __iter__(self):
        return iter(self.outputs.values())


@dataclass
class RunContext:
    source: str | Path | pd.DataFrame
    settings: Settings
    run_dir: Path
    run_budget: Budget = field(default_factory=Budget.unlimited)
    verbose: bool = True
    node_dir: Path | None = None  # the running node's own folder in the run store
    budget: Budget = field(default_factory=Budget.unlimited)  # the running node's share
    _table: pd.DataFrame | None = field(default=None, repr=False)
    _schema: Any = field(default=None, repr=False)
    _held: list[str] | None = field(default=None, repr=False)  # notices kept back (preflight)
    _offload: Any = field(default=None, repr=False)
    _frame_hash: str | None = field(default=None, repr=False)  # data_fingerprint of a frame
    stopped: list[str] = field(default_factory=list)  # what Ctrl-C ended early, for run.json

    def table(self) -> pd.DataFrame:
        """The input table, read once per run however many stages ask for it."""
        if self._table is None:
            from automl.data.ingest import read_table
            from automl.data.tidy import tidy_labels

            def notify(message: str) -> None:
                self.notice(f"ingest: {message}")

            table = read_table(self.source, encoding=self.settings.encoding, notify=notify)
            self._table = tidy_labels(table, self.settings.target, notify)
        return self._table

    def schema(self):
        """The table's schema, inferred once: by the preflight, reused by the ingest."""
        if self._schema is None:
            from automl.data.schema import infer_schema
            from automl.data.weights import check_class_weight, row_weights

            table, target, weight = self.table(), self.settings.target, self.settings.weight
            features = table if weight in (None, target) else table.drop(columns=[weight], errors="ignore")
            schema = infer_schema(features, target, self.settings.task)
            if weight is not None:  # the column is no feature: checked on the rows with a target
                row_weights(table.loc[table[target].notna()], weight, target)
            check_class_weight(self.settings.class_weight, schema.task)
            self._schema = schema.model_copy(update={"weight": weight})
        return self._schema

    def preflight(self, first_line: str) -> None:
        """Read the table and check the target before anything is written or trained; then
        log `first_line` (the run's first) and the notices reading the table gave, which
        come before the error instead if the check fails (a wrong separator explains a
        missing target column)."""
        from automl.metrics import get_metric

        self._held = []
        try:
            schema = self.schema()
            if self.settings.metric is not None:
                get_metric(self.settings.metric, schema.task)
        except BaseException:
            self._release_notices()
            raise
        self.log(first_line)
        self._release_notices()

    def _release_notices(self) -> None:
        held, self._held = self._held or [], None
        for message in held:
            self.notice(message)

    def tune(self, params, data_by_branch: dict, metric, budget: Budget, label: str, folder,
             fixed: dict[str, dict] | None = None):
        """A Ray Tune search over `params.families` (see automl.search.stage.search_families)."""
        from automl.search.stage import search_families

        return search_families(params, data_by_branch, metric, budget, self, label, folder, fixed)

    def join_cluster(self) -> None:
        """Join the cluster of `settings.address` now, before the table is read: a cluster
        that cannot be joined is one line and exit 2 in seconds (automl.search.cluster)."""
        from automl.search.runtime import connect

        self.log(f"search: {connect(self.settings.address)}")

    @property
    def offload(self):
        """Where the stages' heavy fits run: Ray tasks on the nodes of a joined cluster,
        this process otherwise (see automl.search.offload); one per run."""
        if self._offload is None:
            from automl.search.offload import offload_for

            self._offload = offload_for(self.settings.address)
        return self._offload

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"[{self.run_budget.elapsed():6.1f}s] {message}", file=sys.stderr, flush=True)

    def stopped_early(self, message: str) -> None:
        """A stage ended early because the user asked (Ctrl-C): logged, and kept for
        run.json, so that a run finished early does not pass for one that had its budget."""
        self.stopped.append(message)
        self.log(message)

    def notice(self, message: str) -> None:
        """What the data layer decided for the user: a log line, or when quiet, a warning
        (`automl.data.notices`), so that a quiet API call still hears of it."""
        if self._held is not None:
            self._held.append(message)
        elif self.verbose:
            self.log(message)
        else:
            from automl.data.notices import warn

            warn(message)

    def data_fingerprint(self) -> str:
        """Identifies the input table cheaply: path, size and mtime, or a hash of the frame
        (once per run: the executor asks before it runs and again as it runs)."""
        if isinstance(self.source, pd.DataFrame):
            if self._frame_hash is None:
                hashed = pd.util.hash_pandas_object(self.source, index=False).to_numpy()
                columns = str(list(self.source.columns)).encode()
                self._frame_hash = hashlib.sha256(hashed.tobytes() + columns).hexdigest()
            return self._frame_hash
        path = Path(self.source).resolve()
        try:
            stat = path.stat()
        except OSError:
            return str(path)
        return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
