"""The forest-leaves study: what bounding a forest's leaves costs in score and saves in size.

    python -m studies.forest_leaves --out DIR [--tables a,b] [--max-rows 10000] [--leaves 0,2000,500]
        [--bases default,deep]

For random_forest and extra_trees, two base configs each (the family's default, leaves of
5+ rows; and its full-depth portfolio entry, leaves of 1 row), each with max_leaf_nodes
unbounded (0) and at the --leaves bounds: 5-fold out-of-fold score on the study tables
(studies/study_tables.py; no benchmark table), through the path a trial takes
(studies.portfolio.run_task), and the bagged model's pickled size. Tables are sampled to
--max-rows (seed 0): leaves grow with rows, so the study wants more rows than the
portfolio study's 1,000. Rows go to DIR/results.csv as they finish (a rerun resumes);
then DIR/leaves.md: per config, the mean score gap to its unbounded self (in units of
the metric, higher is better) and the median size ratio.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

from automl.budget import Budget  # noqa: E402
from automl.bundle import pickled_bytes  # noqa: E402
from automl.metrics import default_metric, get_metric  # noqa: E402
from automl.models.registry import family_space  # noqa: E402
from automl.search.trial import fit_trial  # noqa: E402
from studies.portfolio import StudySettings, table_data  # noqa: E402
from studies.study_tables import STUDY_TABLES  # noqa: E402

# the default, and the full-depth portfolio entry run second (search/<family>.yaml)
BASES = {
    "random_forest": {"default": {}, "deep": {"max_features": 0.75, "max_samples": 1.0,
                                              "min_samples_leaf": 1}},
    "extra_trees": {"default": {}, "deep": {"max_features": 0.75, "min_samples_leaf": 1}},
}
N_TREES = 100  # the bound's effect per tree does not depend on how many trees there are
COLUMNS = ("family", "base", "leaves", "table", "metric", "score", "size_bytes", "fit_seconds",
           "n_rows", "error")


def run_one(family: str, base: str, leaves: int, table: str, settings: StudySettings) -> dict:
    warnings.simplefilter("ignore")
    task = STUDY_TABLES[table].task
    metric = get_metric(default_metric(task), task)
    params = {**family_space(family).default, **BASES[family][base], "n_estimators": N_TREES,
              "max_leaf_nodes": leaves or None}
    row = {"family": family, "base": base, "leaves": leaves, "table": table, "metric": metric.name}
    data = table_data(table, settings)
    result = fit_trial(f"{family}-{base}-{leaves}", family, params, data, metric, seed=0,
                       n_jobs=1, budget=Budget(settings.fit_limit * settings.folds))
    if result.status != "ok":
        return {**row, "error": result.error}
    return {**row, "score": result.score, "size_bytes": pickled_bytes(result.model),
            "fit_seconds": round(result.fit_seconds, 2), "n_rows": len(data.y_train), "error": ""}


def summary(path: Path) -> str:
    """Per family, base and bound, against the unbounded config on the same table: the
    mean relative score change (higher is better; as a share of the unbounded score's
    size), the tables where it is worse by over 0.2%, and the median size ratio."""
    rows = [r for r in csv.DictReader(path.open()) if not r["error"]]
    full = {(r["family"], r["base"], r["table"]): r for r in rows if r["leaves"] == "0"}
    lines = ["| family | base | max_leaf_nodes | tables | mean relative score change | "
             "worse by > 0.2% | median size ratio | median size |",
             "|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r["family"], r["base"], int(r["leaves"])) for r in rows},
                  key=lambda k: (k[0], k[1], -k[2] if k[2] else -10**9))
    for family, base, leaves in keys:
        mine = [r for r in rows if (r["family"], r["base"], int(r["leaves"])) == (family, base, leaves)
                and (family, base, r["table"]) in full]
        if not mine:
            continue
        ref = [full[family, base, r["table"]] for r in mine]
        changes = [(float(r["score"]) - float(f["score"])) / abs(float(f["score"]))
                   for r, f in zip(mine, ref)]
        ratios = [int(r["size_bytes"]) / int(f["size_bytes"]) for r, f in zip(mine, ref)]
        size = statistics.median(int(r["size_bytes"]) for r in mine) / 2**20
        lines.append(f"| {family} | {base} | {leaves or 'none'} | {len(mine)} | "
                     f"{statistics.mean(changes):+.2%} | {sum(c < -0.002 for c in changes)} | "
                     f"{statistics.median(ratios):.2f} | {size:.1f} MB |")
    return "\n".join(lines) + "\n"


def per_table(path: Path) -> str:
    """Every row: the table, the config and its score and size."""
    rows = [r for r in csv.DictReader(path.open()) if not r["error"]]
    lines = ["| table | metric | family | base | max_leaf_nodes | score | size |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['table']} | {r['metric']} | {r['family']} | {r['base']} | "
                     f"{r['leaves'] if r['leaves'] != '0' else 'none'} | {float(r['score']):.4f} | "
                     f"{int(r['size_bytes']) / 2**20:.1f} MB |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studies.forest_leaves", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--tables", default=None, help="comma-separated (default: all)")
    parser.add_argument("--max-rows", type=int, default=10_000)
    parser.add_argument("--fit-limit", type=float, default=20.0, help="seconds one fold may take")
    parser.add_argument("--leaves", default="0,2000,500", help="max_leaf_nodes; 0: unbounded")
    parser.add_argument("--bases", default="default,deep", help="comma-separated, of default, deep")
    args = parser.parse_args(argv)
    settings = StudySettings(max_rows=args.max_rows, fit_limit=args.fit_limit)
    tables = args.tables.split(",") if args.tables else list(STUDY_TABLES)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.csv"
    done = set()
    if path.is_file():
        done = {(r["family"], r["base"], r["leaves"], r["table"]) for r in csv.DictReader(path.open())}
    new_file = not path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        if new_file:
            writer.writeheader()
        for table in tables:
            for family, bases in BASES.items():
                for base in (b for b in bases if b in args.bases.split(",")):
                    for leaves in map(int, args.leaves.split(",")):
                        if (family, base, str(leaves), table) in done:
                            continue
                        started = time.monotonic()
                        row = run_one(family, base, leaves, table, settings)
                        writer.writerow(row)
                        handle.flush()
                        print(json.dumps(row), f"{time.monotonic() - started:.0f}s", flush=True)
    (out / "leaves.md").write_text(summary(path) + "\n" + per_table(path))
    print((out / "leaves.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
