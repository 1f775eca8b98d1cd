"""Cross-system scores from the results table: ranks and the normalised score.

An entry is a (system, variant) pair. On each dataset only the protocol's first metric
counts, oriented so that higher is better. An entry that failed on a dataset gets
nothing there (no rank, no score): its figures average over the datasets it covers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl.bench.systems import REFERENCE
from automl.metrics import PROTOCOL, get_metric

ENTRY = ["system", "variant"]


def primary_scores(results: pd.DataFrame) -> pd.DataFrame:
    """Datasets x entries: the first protocol metric, higher is better; NaN where it failed."""
    entries = list(dict.fromkeys(zip(results["system"], results["variant"])))
    table = pd.DataFrame(np.nan, index=list(dict.fromkeys(results["dataset"])),
                         columns=pd.MultiIndex.from_tuples(entries, names=ENTRY))
    for row in results[results["status"] == "ok"].itertuples(index=False):
        table.loc[row.dataset, (row.system, row.variant)] = _oriented(row)
    return table


def _oriented(row) -> float:
    metric = get_metric(PROTOCOL[row.task][0], row.task)
    return metric.from_score(getattr(row, metric.name))  # the sign flip is its own inverse


def ranks(scores: pd.DataFrame) -> pd.DataFrame:
    """1 = best on that dataset; ties share the mean of their ranks; failures stay NaN."""
    return scores.rank(axis=1, ascending=False, method="average")


def normalised(scores: pd.DataFrame) -> pd.DataFrame:
    """(score - xgb_default) / (best - xgb_default), per dataset.

    0 is the xgb_default baseline and 1 the best entry. Undefined (NaN) on a dataset where
    the baseline failed or is itself the best, since 0 and 1 then coincide.
    """
    reference = [c for c in scores.columns if c[0] == REFERENCE]
    if not reference:
        return scores * np.nan
    base = scores[reference[0]]
    span = scores.max(axis=1) - base
    span = span.where(span > 0)
    return scores.sub(base, axis=0).div(span, axis=0)


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """One row per entry: datasets covered, mean rank, mean normalised score."""
    scores = primary_scores(results)
    rank, norm = ranks(scores), normalised(scores)
    n_datasets = len(scores.index)
    rows = []
    for entry in scores.columns:
        rows.append({"system": entry[0], "variant": entry[1],
                     "covered": int(scores[entry].notna().sum()), "datasets": n_datasets,
                     "mean_rank": rank[entry].mean(), "normalised_score": norm[entry].mean(),
                     "scored": int(norm[entry].notna().sum())})
    return pd.DataFrame(rows, columns=["system", "variant", "covered", "datasets", "mean_rank",
                                       "normalised_score", "scored"])


# (system, the teacher's variant, the student's variant): the compact models compared
DISTILLED = (("automl", "ensemble", "compact"), ("autogluon_distill", "best", "distill"))


def compact_vs_ensemble(results: pd.DataFrame, system: str = "automl", teacher: str = "ensemble",
                        student: str = "compact") -> pd.DataFrame:
    """Per dataset where `system` ran: its student (compact) model against its teacher.

    gain_kept = (student - xgb_default) / (teacher - xgb_default) on the first protocol
    metric (1: the whole gain over the baseline kept; NaN when the teacher has no gain);
    the student's size, and size and latency as student / teacher. No student row: no
    student met the run's constraints, and the teacher stayed the model.
    """
    scores = primary_scores(results)
    ok = results[results["status"] == "ok"].set_index(["dataset", "system", "variant"])
    rows = []
    for dataset in scores.index:
        ensemble, compact = (system, teacher), (system, student)
        if ensemble not in scores.columns or pd.isna(scores.loc[dataset, ensemble]):
            continue
        row = {"dataset": dataset, "ensemble": scores.loc[dataset, ensemble],
               "compact": scores.loc[dataset, compact] if compact in scores.columns else np.nan}
        base = [c for c in scores.columns if c[0] == REFERENCE]
        row["baseline"] = scores.loc[dataset, base[0]] if base else np.nan
        gain = row["ensemble"] - row["baseline"]
        row["gain_kept"] = (row["compact"] - row["baseline"]) / gain if gain > 0 else np.nan
        row["compact_bytes"] = ok["model_bytes"].get((dataset, *compact), np.nan)
        for column in ("model_bytes", "latency_ms"):
            try:
                row[f"{column}_ratio"] = (ok.loc[(dataset, *compact), column]
                                          / ok.loc[(dataset, *ensemble), column])
            except KeyError:
                row[f"{column}_ratio"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["dataset", "ensemble", "compact", "baseline", "gain_kept",
                                       "compact_bytes", "model_bytes_ratio", "latency_ms_ratio"])


# What a team would ship instead of our compact model: FLAML's final model (one tuned
# GBDT, the single model users compare with), AutoGluon's best distill() student
SHIPPED_INSTEAD = (("flaml", "best"), ("autogluon_distill", "distill"))


def compact_vs_shipped(results: pd.DataFrame) -> pd.DataFrame:
    """Per dataset where our compact model ran: its score, and each model of
    SHIPPED_INSTEAD's (NaN where it did not run), with their sizes."""
    scores = primary_scores(results)
    compact = ("automl", "compact")
    if compact not in scores.columns:
        return pd.DataFrame(columns=["dataset", "compact", *(s for s, _ in SHIPPED_INSTEAD)])
    ok = results[results["status"] == "ok"].set_index(["dataset", "system", "variant"])
    rows = []
    for dataset in scores.index[scores[compact].notna()]:
        row = {"dataset": dataset, "compact": scores.loc[dataset, compact],
               "compact_bytes": ok["model_bytes"].get((dataset, *compact), np.nan)}
        for entry in SHIPPED_INSTEAD:
            row[entry[0]] = scores.loc[dataset, entry] if entry in scores.columns else np.nan
            row[f"{entry[0]}_bytes"] = ok["model_bytes"].get((dataset, *entry), np.nan)
        rows.append(row)
    return pd.DataFrame(rows)
