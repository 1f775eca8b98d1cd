"""What every stage may read about the run: the data source, settings, budget, log."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from automl.budget import Deadline


@dataclass
class Settings:
    """Run-level choices that every node's output depends on (part of every node key)."""

    target: str
    task: str | None = None
    metric: str | None = None
    seed: int = 0
    time_budget: float | None = None
    address: str | None = None
    encoding: str | None = None  # of a text table; None: detected

    def key_fields(self) -> dict:
        # Where Ray runs does not change results, so the address stays out of node keys;
        # a detected encoding (None) neither, so runs from before it existed keep theirs.
        fields = {k: v for k, v in vars(self).items() if k != "address"}
        if fields["encoding"] is None:
            del fields["encoding"]
        return fields


@dataclass
class RunContext:
    source: str | Path | pd.DataFrame
    settings: Settings
    run_dir: Path
    deadline: Deadline = field(default_factory=lambda: Deadline(None))
    verbose: bool = True
    node_dir: Path | None = None  # the running node's own folder in the run store
    # Outputs of every node the running node depends on, directly or not, by name: a
    # stage reads what it needs from further up (the raw data, a branch) without each
    # output in between carrying copies of it.
    upstream: dict = field(default_factory=dict)
    _table: pd.DataFrame | None = field(default=None, repr=False)

    def table(self) -> pd.DataFrame:
        """The input table, read once per run however many stages ask for it."""
        if self._table is None:
            from automl.data.ingest import read_table

            self._table = read_table(self.source, encoding=self.settings.encoding,
                                     notify=lambda message: self.notice(f"ingest: {message}"))
        return self._table

    def upstream_of_kind(self, kind_type: type) -> list:
        """Upstream outputs that are instances of `kind_type`, nearest first."""
        return [out for out in self.upstream.values() if isinstance(out, kind_type)]

    def preflight(self) -> None:
        """Read the table and check the target before anything is written or trained."""
        from automl.data.schema import infer_schema
        from automl.metrics import get_metric

        schema = infer_schema(self.table(), self.settings.target, self.settings.task)
        if self.settings.metric is not None:
            get_metric(self.settings.metric, schema.task)

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"[{self.deadline.elapsed():6.1f}s] {message}", file=sys.stderr, flush=True)

    def notice(self, message: str) -> None:
        """What the data layer decided for the user: a log line, or when quiet, a warning
        (`automl.data.notices`), so that a quiet API call still hears of it."""
        if self.verbose:
            self.log(message)
        else:
            from automl.data.notices import warn

            warn(message)

    def data_fingerprint(self) -> str:
        """Identifies the input table cheaply: path, size and mtime, or a hash of the frame."""
        if isinstance(self.source, pd.DataFrame):
            hashed = pd.util.hash_pandas_object(self.source, index=False).to_numpy()
            return hashlib.sha256(hashed.tobytes() + str(list(self.source.columns)).encode()).hexdigest()
        path = Path(self.source).resolve()
        try:
            stat = path.stat()
        except OSError:
            return str(path)
        return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
