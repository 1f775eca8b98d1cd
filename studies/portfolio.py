"""The portfolio study: every candidate config of every family, 5-fold CV on the study tables.

    python -m studies.portfolio --out DIR [--families a,b] [--tables x,y]
        [--max-rows 1000] [--folds 5] [--fit-limit 10] [--workers 2]

Each (family, candidate, table) is one task: k folds, each through the path a trial takes
(schema -> the family's preprocess branch fitted on the fold's training part -> `fit_trial`
with the held-out part as its validation part, so iterative families stop early on it as
they do in a search), one CPU per fit, every fit capped at --fit-limit seconds. Rows go to
DIR/results.csv as tasks finish; a rerun skips the tasks already there, so a stopped study
resumes. Then DIR/portfolio.md and DIR/portfolio.json: the chosen portfolios and the
leave-one-table-out check (studies.portfolio_select).

Tables larger than --max-rows are sampled (seed 0): the study's compute is ~2 hours on two
shared cores, so it favours many tables over large ones. The fit limit is wall time: on a
loaded machine a slow config is cut shorter (folds_capped counts the fits it cut).
"""

from __future__ import annotations

import os

# One thread per fit, set before numpy, xgboost or torch start their pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from functools import lru_cache  # noqa: E402
from multiprocessing import get_context  # noqa: E402
from pathlib import Path  # noqa: E402

from automl.budget import Budget  # noqa: E402
from automl.data.split import KFOLD  # noqa: E402
from automl.metrics import default_metric, get_metric  # noqa: E402
from automl.models.registry import family_class, family_space  # noqa: E402
from automl.preprocess.stage import BranchData, table_branch_data  # noqa: E402
from automl.search.trial import fit_trial  # noqa: E402
from studies.candidates import Candidate, candidates  # noqa: E402
from studies.study_tables import STUDY_TABLES, load_rows, study_tables  # noqa: E402

FAMILIES = ("xgboost", "lightgbm", "catboost", "random_forest", "extra_trees", "linear", "mlp", "tabm")
RESULTS_CSV = "results.csv"
COLUMNS = ("family", "config", "table", "task", "metric", "score", "score_std", "fit_seconds",
           "folds_ok", "folds_capped", "n_rows", "error", "params", "source")


@dataclass(frozen=True)
class StudySettings:
    max_rows: int = 1000
    folds: int = 5
    fit_limit: float = 10.0
    seed: int = 0


@dataclass(frozen=True)
class Task:
    family: str
    candidate: Candidate
    table: str


# ---- folds: each table through the branch, once per process ---------------------------------

@lru_cache(maxsize=None)
def table_data(table_name: str, settings: StudySettings) -> BranchData:
    """The table through the branch every family reads, its rows in k folds: a trial fits
    one model per fold and is scored out of fold, as the search's own k-fold validation does."""
    table = STUDY_TABLES[table_name]
    frame = load_rows(table, settings.max_rows, settings.seed)
    return table_branch_data(frame, table.target, table.task, method=KFOLD,
                             n_folds=settings.folds, seed=settings.seed)


def run_task(task: Task, settings: StudySettings) -> dict:
    """One candidate on one table: its out-of-fold score (higher is better) and fit seconds."""
    warnings.simplefilter("ignore")
    table = STUDY_TABLES[task.table]
    metric = get_metric(default_metric(table.task), table.task)
    default = family_space(task.family).default
    params = {**default, **task.candidate.params}
    row = {"family": task.family, "config": task.candidate.name, "table": task.table,
           "task": table.task, "metric": metric.name, "params": json.dumps(params, sort_keys=True),
           "source": task.candidate.source}
    try:
        data = table_data(task.table, settings)
    except Exception as err:  # a table that cannot be prepared is recorded, not fatal
        return {**row, "folds_ok": 0, "error": f"{type(err).__name__}: {err}"[:300]}
    limit = settings.fit_limit * settings.folds  # a fold gets its share of what is left
    result = fit_trial(f"{task.family}-{task.candidate.name}", task.family, params, data, metric,
                       seed=settings.seed, n_jobs=1, budget=Budget(limit))
    ok = result.status == "ok"
    return {**row, "score": result.score if ok else None, "score_std": None,
            "fit_seconds": round(result.fit_seconds, 3), "folds_ok": settings.folds if ok else 0,
            "folds_capped": int(result.fit_seconds >= 0.95 * limit), "n_rows": len(data.y_train),
            "error": "" if ok else result.error}


def _run_packed(packed: tuple[Task, StudySettings]) -> dict:
    return run_task(*packed)


# ---- the task list and the results file -----------------------------------------------------

def plan_tasks(families: list[str], tables: list[str], seed: int = 0) -> list[Task]:
    """Every (family, candidate, table), candidate-major: a study stopped early still has
    the first candidates of every family on every table."""
    per_family = {f: candidates(f, family_space(f), seed) for f in families}
    longest = max(len(c) for c in per_family.values())
    return [Task(family, per_family[family][i], table)
            for i in range(longest) for family in families if i < len(per_family[family])
            for table in tables]


def done_keys(path: Path) -> set[tuple[str, str, str]]:
    if not path.is_file():
        return set()
    with path.open(newline="") as handle:
        return {(r["family"], r["config"], r["table"]) for r in csv.DictReader(handle)}


def run_study(tasks: list[Task], settings: StudySettings, out: Path, workers: int, log=print) -> Path:
    """Run the tasks not yet in out/results.csv, appending each row as it finishes."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / RESULTS_CSV
    done = done_keys(path)
    todo = [t for t in tasks if (t.family, t.candidate.name, t.table) not in done]
    log(f"portfolio study: {len(todo)} task(s) to run ({len(tasks) - len(todo)} already in {path})")
    new_file = not path.is_file()
    started = time.monotonic()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        if new_file:
            writer.writeheader()
        for i, row in enumerate(_results(todo, settings, workers), 1):
            writer.writerow(row)
            handle.flush()
            if i % 25 == 0 or i == len(todo):
                log(f"  {i}/{len(todo)} tasks, {time.monotonic() - started:.0f}s")
    return path


def _results(todo: list[Task], settings: StudySettings, workers: int):
    packed = [(t, settings) for t in todo]
    if workers <= 1:
        yield from map(_run_packed, packed)
        return
    # spawn, not fork: torch and xgboost thread pools do not survive a fork
    with get_context("spawn").Pool(workers, maxtasksperchild=200) as pool:
        yield from pool.imap_unordered(_run_packed, packed, chunksize=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studies.portfolio", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for results.csv and the report")
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated")
    parser.add_argument("--tables", default=None, help="comma-separated (default: all)")
    parser.add_argument("--max-rows", type=int, default=StudySettings.max_rows)
    parser.add_argument("--folds", type=int, default=StudySettings.folds)
    parser.add_argument("--fit-limit", type=float, default=StudySettings.fit_limit,
                        help="seconds one fit may take")
    parser.add_argument("--workers", type=int, default=2, help="processes at once, one CPU each")
    parser.add_argument("--report-only", action="store_true", help="build the report from results.csv")
    args = parser.parse_args(argv)
    families = args.families.split(",")
    for family in families:
        family_class(family)  # an unknown family fails here, with the valid keys
    tables = [t.name for t in study_tables(args.tables.split(",") if args.tables else None)]
    out = Path(args.out)
    settings = StudySettings(args.max_rows, args.folds, args.fit_limit)
    if not args.report_only:
        started = time.monotonic()
        run_study(plan_tasks(families, tables), settings, out, args.workers)
        print(f"study: {time.monotonic() - started:.0f}s wall", file=sys.stderr)
    from studies.portfolio_select import write_report

    write_report(out / RESULTS_CSV, out, families, f"study {time.strftime('%Y-%m-%d')}")
    print((out / "portfolio.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
