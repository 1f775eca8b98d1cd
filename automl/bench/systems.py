"""The registry of benchmarked systems: a key maps to a runner named by its import path.

The runner is imported only inside the worker subprocess, so a heavy or broken peer never
touches the bench process, and a system is runnable from any importable module (tests
register their own). A runner takes a `FitJob` and returns one `Fitted` per variant.
Standard library only at import time, so `automl --help` can list the keys cheaply.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from automl.errors import ConfigError, listing
from automl.registry import Registry, import_object

if TYPE_CHECKING:  # only for annotations: the CLI reads this registry without pandas
    import numpy as np
    import pandas as pd

    from automl.bench.protocol import TrainData

OURS, BASELINE, PEER = "ours", "baseline", "peer"
REFERENCE = "xgb_default"  # normalised score 0 on every dataset


@dataclass(frozen=True)
class SystemSpec:
    key: str
    runner: str  # "package.module:function", imported in the worker
    kind: str  # OURS, BASELINE or PEER
    variants: tuple[str, ...]  # result rows it yields; a crash yields an error row for each
    requires: tuple[str, ...] = ()  # modules that must be importable, else it is skipped
    install: str = ""  # how to get `requires`, shown when skipped
    python: str = ""  # the peer whose $AUTOML_BENCH_PYTHON_<PEER> it runs in (default: its key)


@dataclass
class FitJob:
    train: TrainData
    budget: float  # seconds
    work_dir: Path  # this system's private folder for this dataset
    runs_dir: Path  # where automl writes its run folders
    n_jobs: int
    pipeline: str = "default"  # automl's graph


@dataclass
class Fitted:
    variant: str
    # raw feature frame -> class probabilities (n, k) in sorted-label order, or values (n,)
    predict: Callable[[pd.DataFrame], np.ndarray]
    # folder -> the file or folder that holds everything `predict` needs (its size is reported)
    save: Callable[[Path], Path] = field(repr=False)


_BUILT_IN = [
    SystemSpec("automl", "automl.bench.ours:fit_automl", OURS, ("ensemble", "single")),
    SystemSpec(REFERENCE, "automl.bench.baselines:fit_xgb_default", BASELINE, ("default",),
               ("xgboost",)),
    SystemSpec("random_forest", "automl.bench.baselines:fit_random_forest", BASELINE, ("default",)),
    SystemSpec("flaml", "automl.bench.peers:fit_flaml", PEER, ("best",), ("flaml", "lightgbm"),
               "pip install -e '.[bench]' (or: pip install flaml lightgbm)"),
    SystemSpec("autogluon", "automl.bench.peers:fit_autogluon", PEER, ("best",),
               ("autogluon.tabular",),
               "pip install autogluon.tabular in its own environment (it needs pandas<2.4) and "
               "point AUTOML_BENCH_PYTHON_AUTOGLUON at that environment's python"),
    # AutoGluon's best_quality preset: the reference at the default budget (5 minutes)
    SystemSpec("autogluon_best", "automl.bench.peers:fit_autogluon_best", PEER, ("best",),
               ("autogluon.tabular",), "as for autogluon (AUTOML_BENCH_PYTHON_AUTOGLUON)",
               python="autogluon"),
    # AutoGluon's distill() beside our compact model (automl bench --pipeline compact)
    SystemSpec("autogluon_distill", "automl.bench.peers:fit_autogluon_distill", PEER,
               ("best", "distill"), ("autogluon.tabular",),
               "as for autogluon (AUTOML_BENCH_PYTHON_AUTOGLUON)", python="autogluon"),
]
SYSTEMS = Registry("system", "systems", unknown="unknown system {key!r}{hint}; valid systems: {keys}",
                   label=lambda spec: spec.runner)


def register_system(spec: SystemSpec) -> SystemSpec:
    if spec.kind not in (OURS, BASELINE, PEER):
        raise ConfigError(f"system {spec.key!r} has kind {spec.kind!r}; "
                          f"use one of {listing((OURS, BASELINE, PEER))}")
    return SYSTEMS.register(spec.key, spec)


for _spec in _BUILT_IN:
    register_system(_spec)


def get_system(key: str) -> SystemSpec:
    return SYSTEMS[key]


def interpreter(key: str) -> str:
    """The Python that runs system `key`: $AUTOML_BENCH_PYTHON_<KEY> when set (KEY: the
    spec's `python`, or its key), else this one.

    A peer whose pins clash with ours (AutoGluon wants pandas<2.4) lives in its own
    virtual environment, with automl installed there too (`pip install --no-deps -e .`).
    """
    environment = (SYSTEMS[key].python if key in SYSTEMS else "") or key
    return os.environ.get(f"AUTOML_BENCH_PYTHON_{environment.upper()}") or sys.executable


def missing_requirements(spec: SystemSpec) -> list[str]:
    python = interpreter(spec.key)
    if python != sys.executable:
        return [name for name in spec.requires if not _importable_by(python, name)]
    return [name for name in spec.requires if not _importable(name)]


def _importable_by(python: str, name: str) -> bool:
    check = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    try:
        return subprocess.run([python, "-c", check], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a dotted name whose parent package is absent
        return False


def load_runner(path: str) -> Callable[[FitJob], list[Fitted]]:
    return import_object(path)
