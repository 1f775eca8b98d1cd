"""Python facade: `AutoML` follows the sklearn estimator contract over `fit_run`."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from automl.budget import parse_duration
from automl.data.ingest import read_table
from automl.errors import ConfigError
from automl.bundle import load_bundle
from automl.graph.context import Settings
from automl.graph.load import load_graph
from automl.graph.run import fit_run
from automl.graph.spec import GraphSpec


def with_holdout(spec: GraphSpec, test_fraction: float | None) -> GraphSpec:
    """The graph with its ingest node's test_fraction replaced (None: as the graph says)."""
    if test_fraction is None:
        return spec
    nodes = [n.model_copy(update={"params": n.params.model_copy(update={"test_fraction": test_fraction})})
             if n.kind == "ingest" else n for n in spec.nodes]
    return GraphSpec.model_validate({**spec.model_dump(), "nodes": [n.model_dump() for n in nodes]})


class AutoML(BaseEstimator):
    """Fit a pipeline graph on a table; predict with the run's best model.

    >>> model = AutoML(time_budget="2m").fit(df, target="income")
    >>> model.predict(df.head())
    """

    def __init__(self, pipeline: str | Path = "default", time_budget: str | float | None = None,
                 metric: str | None = None, task: str | None = None, seed: int = 0,
                 out: str | Path = "runs", address: str | None = None,
                 holdout: float | None = None, verbose: bool = True, report: bool = True):
        self.pipeline = pipeline
        self.time_budget = time_budget
        self.metric = metric
        self.task = task
        self.seed = seed
        self.out = out
        self.address = address
        self.holdout = holdout
        self.verbose = verbose
        self.report = report

    def fit(self, X, y=None, *, target: str | None = None):
        source, target = _table_and_target(X, y, target)
        budget = None if self.time_budget is None else parse_duration(self.time_budget)
        settings = Settings(target=target, task=self.task, metric=self.metric, seed=self.seed,
                            time_budget=budget, address=self.address)
        spec = with_holdout(load_graph(self.pipeline), self.holdout)
        result = fit_run(source, settings, spec, out=self.out, verbose=self.verbose,
                         report=self.report)
        self.run_dir_ = result.run_dir
        self.metrics_ = result.metrics
        self._set_predictor(result.predictor)
        return self

    def _set_predictor(self, predictor) -> None:
        self.predictor_ = predictor
        if predictor.schema.classes is not None:
            self.classes_ = np.asarray(predictor.schema.classes, dtype=object)

    def predict(self, X) -> np.ndarray:
        return self.predictor_.predict(_frame(X))

    def predict_proba(self, X) -> np.ndarray:
        return self.predictor_.predict_proba(_frame(X)).to_numpy()

    def write_report(self, importance: bool = True) -> Path:
        """Write report.html in the run folder (again) and return its path."""
        from automl.report.write import report_run_dir

        check_is_fitted(self, "run_dir_")
        return report_run_dir(self.run_dir_, importance=importance)

    def save(self, path: str | Path) -> Path:
        """Copy the run folder (model, schema, metrics, leaderboard) to `path`."""
        path = Path(path)
        if path.resolve() != Path(self.run_dir_).resolve():
            shutil.copytree(self.run_dir_, path, dirs_exist_ok=True)
        return path

    @classmethod
    def load(cls, run_dir: str | Path) -> "AutoML":
        model = cls()
        model.run_dir_ = Path(run_dir)
        model._set_predictor(load_bundle(run_dir))
        return model


def _table_and_target(X, y, target):
    if y is None:
        if target is None:
            raise ConfigError("give the target: fit(X, y) or fit(frame, target='column')")
        return (X if isinstance(X, pd.DataFrame) else str(X)), target
    if target is not None:
        raise ConfigError("give either y or target=, not both")
    frame = _frame(X).copy()
    name = getattr(y, "name", None) or "target"
    if name in frame.columns:
        raise ConfigError(f"y is named {name!r}, which is also a column of X; rename one")
    frame[name] = np.asarray(y)
    return frame, name


def _frame(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, (str, Path)):
        return read_table(X)
    array = np.asarray(X)
    if array.ndim != 2:
        raise ConfigError(f"X must be a 2-D table, got an array of shape {array.shape}")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
