"""Orchestration: each chosen system on each chosen dataset, in a subprocess of its own.

A worker that raises, crashes, hangs past the hard time-out or is killed for memory
becomes an error row, and the bench goes on. results.csv is rewritten after every
system, so an interrupted bench still leaves what it measured.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import pandas as pd

import automl
from automl.atomic import atomic_write_json, atomic_write_text
from automl.bench import protocol
from automl.bench.defaults import (HARD_TIMEOUT_FACTOR, HARD_TIMEOUT_MARGIN, INTERVALS_CSV, OUT,
                                   REPORT_MD, RESULTS_CSV)
from automl.bench.protocol import BenchDataset, read_manifest, select_datasets
from automl.bench.intervals import gain_kept_intervals
from automl.bench.report import markdown, results_frame
from automl.bench.scores import DISTILLED
from automl.bench.systems import (SYSTEMS, SystemSpec, get_system, interpreter,
                                  missing_requirements)
from automl.bench.worker import RESULT
from automl.errors import ConfigError
from automl.metrics import PROTOCOL

VERSIONS = ("scikit-learn", "xgboost", "pandas", "flaml", "lightgbm", "autogluon.tabular")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


@dataclass
class BenchConfig:
    data_dir: Path
    datasets: list[str] | None = None  # None: every dataset of the manifest
    systems: list[str] | None = None  # None: every registered system
    time_budget: float = 60.0
    out: Path = Path(OUT)
    hard_timeout: float | None = None  # None: budget x 3 + margin
    n_jobs: int = field(default_factory=_cores)
    pipeline: str = "default"  # the graph automl runs (e.g. "compact" adds the compact model)
    weight: str | None = None  # each table's column of sample weights (fits and scores)

    @property
    def timeout(self) -> float:
        if self.hard_timeout is not None:
            return self.hard_timeout
        return self.time_budget * HARD_TIMEOUT_FACTOR + HARD_TIMEOUT_MARGIN


@dataclass
class BenchResult:
    results: pd.DataFrame
    csv_path: Path
    md_path: Path
    notices: list[str]


class Progress:
    """Timestamped lines on stderr (or to `sink`), so a long bench shows where it is."""

    def __init__(self, sink: Callable[[str], None] | None = None):
        self.started = time.monotonic()
        self.sink = sink or (lambda line: print(line, file=sys.stderr, flush=True))

    def __call__(self, message: str) -> None:
        self.sink(f"[bench {time.monotonic() - self.started:7.1f}s] {message}")


def run_bench(config: BenchConfig, log: Callable[[str], None] | None = None) -> BenchResult:
    progress = Progress(log)
    specs, notices = runnable_systems(config.systems)
    datasets = [replace(d, weight=config.weight)
                for d in select_datasets(read_manifest(config.data_dir), config.datasets)]
    for notice in notices:
        progress(notice)
    out = Path(config.out)
    rows: list[dict] = []
    for i, dataset in enumerate(datasets, 1):
        for spec in specs:
            where = f"dataset {i} of {len(datasets)} ({dataset.name}) · {spec.key}"
            progress(f"{where}: running (budget {config.time_budget:g}s, "
                     f"time-out {config.timeout:g}s)")
            new = run_system(dataset, spec, config)
            rows += new
            progress(f"{where}: {_outcome(new)}")
            atomic_write_text(out / RESULTS_CSV, results_frame(rows).to_csv(index=False))
    results = results_frame(rows)
    if (results["variant"].isin([student for _, _, student in DISTILLED])).any():
        progress("the gain kept's intervals: resampling each test part (a few seconds a table)")
    intervals = gain_kept_intervals(results, out / "work", DISTILLED)
    if len(intervals):
        atomic_write_text(out / INTERVALS_CSV, intervals.to_csv(index=False))
    atomic_write_text(out / REPORT_MD, markdown(results, _header(config), notices, intervals))
    return BenchResult(results, out / RESULTS_CSV, out / REPORT_MD, notices)


def runnable_systems(keys: list[str] | None) -> tuple[list[SystemSpec], list[str]]:
    """The chosen systems that can run here, and a notice for each one skipped."""
    specs = [get_system(key) for key in dict.fromkeys(keys or SYSTEMS)]
    runnable, notices = [], []
    for spec in specs:
        missing = missing_requirements(spec)
        if missing:
            notices.append(f"skipped {spec.key}: {', '.join(missing)} not installed; "
                           f"{spec.install or 'install it'} to include it")
        else:
            runnable.append(spec)
    if not runnable:
        raise ConfigError("none of the chosen systems can run here: " + "; ".join(notices))
    return runnable, notices


def run_system(dataset: BenchDataset, spec: SystemSpec, config: BenchConfig) -> list[dict]:
    """Result rows of one system on one dataset: measured rows, or an error row per variant."""
    work_dir = Path(config.out) / "work" / dataset.name / spec.key
    if work_dir.exists():  # a result.json left by an earlier bench must not pass for this one
        shutil.rmtree(work_dir)
    job = {"dataset": dataset.as_dict(), "system": spec.key, "runner": spec.runner,
           "budget": config.time_budget, "work_dir": str(work_dir.resolve()),
           "runs_dir": str((Path(config.out) / "runs").resolve()), "n_jobs": config.n_jobs,
           "pipeline": config.pipeline}
    atomic_write_json(work_dir / "job.json", job)
    started = time.monotonic()
    result = _run_worker(work_dir, config.timeout, interpreter(spec.key))
    base = {"dataset": dataset.name, "task": dataset.task, "system": spec.key,
            "time_budget_s": config.time_budget, "wall_seconds": time.monotonic() - started}
    if result["status"] == "ok":
        return [{**base, "status": "ok", "error": "", **row} for row in result["rows"]]
    return [{**base, "variant": variant, "status": "error", "error": result["error"]}
            for variant in spec.variants]


def _run_worker(work_dir: Path, timeout: float, python: str) -> dict:
    log_path = work_dir / "worker.log"
    command = [python, "-m", "automl.bench.worker", str(work_dir / "job.json")]
    with open(log_path, "wb") as log:
        # a session of its own: on a time-out the whole group (the worker and any helper
        # processes it started) is killed, not just the worker
        worker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=_worker_env(),
                                  start_new_session=True)
        try:
            code = worker.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(worker.pid)
            worker.wait()
            return {"status": "error",
                    "error": f"time-out: no result within the hard limit of {timeout:g}s; killed"}
        except BaseException:  # Ctrl-C reaches only the bench: its own session shields the worker
            _kill_group(worker.pid)
            raise
        _kill_group(worker.pid)  # helpers a finished worker left running
    if (work_dir / RESULT).is_file():
        return json.loads((work_dir / RESULT).read_text())
    return {"status": "error", "error": _death(code, log_path)}


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nothing left in the group


def _worker_env() -> dict[str, str]:
    # The user's environment as it is: no OMP_WAIT_POLICY here. Passive OpenMP threads
    # belong in the search's workers, which share the cores (automl.search.runtime sets it
    # there); a system fitting alone with passive threads runs LightGBM up to 3x slower.
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    # every system runs on this machine, or their figures would not compare
    env.pop("RAY_ADDRESS", None)
    # the worker must import this very automl, installed or not
    root = str(Path(automl.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _death(code: int, log_path: Path) -> str:
    if code < 0:
        name = signal.Signals(-code).name
        what = f"killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    else:
        what = f"exited with code {code} without a result"
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    return what + (f"; last output: {lines[-1].strip()[:200]}" if lines else "")


def _outcome(rows: list[dict]) -> str:
    if rows[0]["status"] != "ok":
        return f"failed after {rows[0]['wall_seconds']:.1f}s: {rows[0]['error']}"
    parts = []
    for row in rows:
        metric = PROTOCOL[row["task"]][0]
        parts.append(f"{row['variant']} {metric} {row[metric]:.4f}")
    return f"done in {rows[0]['wall_seconds']:.1f}s: " + ", ".join(parts)


def _header(config: BenchConfig) -> list[str]:
    versions = [f"automl {automl.__version__}", f"python {sys.version.split()[0]}"]
    for name in VERSIONS:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return [f"Protocol (DESIGN.md, \"Benchmark protocol\"): rows with a missing target dropped; "
            f"at most {protocol.MAX_ROWS:,} rows (fixed sample, seed {protocol.SAMPLE_SEED}); "
            f"one split, train_test_split(test_size={protocol.TEST_SIZE}, "
            f"random_state={protocol.SPLIT_SEED}), stratified for classification; every system "
            "fits on the 80% and is scored on the 20%.",
            "",
            f"Time budget {config.time_budget:g}s per system and dataset; hard time-out "
            f"{config.timeout:g}s; {config.n_jobs} cores; {time.strftime('%Y-%m-%d %H:%M')}.",
            "",
            *([f"Rows weighted by the column {config.weight!r}: every system fits with the "
               "weights and every score is weighted (the column is no feature).", ""]
              if config.weight else []),
            "Versions: " + ", ".join(versions) + "."]
