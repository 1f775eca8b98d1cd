"""The report's sections about the run, the data and the search, each from RunFacts.

A section with nothing to show says why (a node that did not run, a part of the run
folder that is missing) instead of disappearing.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from automl.report import plots
from automl.report.collect import RunFacts
from automl.report.page import (Section, esc, figure, heading, note, number, pairs, para,
                                params_text, table)

LEADERBOARD_ROWS = 25


def overview(facts: RunFacts) -> Section:
    meta, settings, schema = facts.meta, facts.meta.get("settings", {}), facts.schema
    metric = facts.metric
    rows = [("data", meta.get("source", "–")), ("target", settings.get("target", "–")),
            ("task", schema.task if schema else settings.get("task") or "–"),
            ("metric", plots.metric_label(metric) if metric else "–"),
            ("pipeline", meta.get("pipeline", "–")), ("status", _status(meta)),
            ("started", _when(meta.get("started"))),
            ("run seconds", number(meta.get("seconds"), 1)),
            ("time budget", "none" if settings.get("time_budget") is None
             else f"{settings['time_budget']:g} s"),
            ("seed", settings.get("seed", "–")), ("run folder", str(facts.run_dir))]
    if settings.get("weight"):
        rows.insert(4, ("sample weights", f"column {settings['weight']!r}: every model fits "
                                          "with them, every score is weighted by them"))
    if settings.get("class_weight"):
        rows.insert(4, ("class weight", f"{settings['class_weight']} (in the models' fits)"))
    if meta.get("error"):
        rows.append(("error", meta["error"]))
    body = pairs(rows) + _final_scores(facts.metrics)
    if facts.notes:
        body += "".join(f'<p class="note warning">{esc(n)}</p>' for n in facts.notes)
    return Section("overview", "Overview", body)


def _status(meta: dict) -> str:
    status = meta.get("status", "–")
    return "running (when this report was written)" if status == "running" else status


def _when(stamp) -> str:
    return "–" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _final_scores(metrics: dict | None) -> str:
    if not metrics:
        return note("No final scores: the run did not finish (metrics.json is missing).")
    validation = metrics.get("validation", "holdout")
    scored = "validation" if validation == "holdout" else f"out of fold ({validation})"
    parts = [(scored, metrics.get("valid")), ("test (held out)", metrics.get("test"))]
    names = list(metrics.get("valid") or {})
    rows = [[part] + [number(scores[n]) for n in names] for part, scores in parts if scores]
    model = f" (node '{metrics['model_node']}')" if metrics.get("model_node") else ""
    text = heading(f"Final model scores{model}") + table(["part", *names], rows,
                                                 numeric=tuple(range(1, len(names) + 1)))
    text += _served(metrics.get("model"))
    text += _decision(metrics.get("decision"))
    if metrics.get("valid_in_sample"):
        text += note("The model was refitted on train + validation, so its validation score "
                     "is in-sample and flatters it.")
    elif not metrics.get("test"):
        text += note("No test part was held out (fit with --holdout 0.2 for one); the "
                     "same rows also chose the model, so its score is slightly optimistic.")
    return text


def _decision(decision: dict | None) -> str:
    """How labels follow from the probabilities, where the run's metric scores labels."""
    if not decision:
        return ""
    rule = (f"class 1 where its probability is at least {decision['threshold']:.4g}"
            if decision.get("threshold") is not None else
            "the largest probability times the class weights "
            + ", ".join(f"{w:.3g}" for w in decision["class_weights"]))
    return note(f"Labels by decision: {rule}, chosen for {decision['metric']} on the "
                f"{decision['chosen_on']} ({number(decision['score'])} against "
                f"{number(decision['score_at_most_probable'])} with the most probable class); "
                "model/ensemble.onnx and compact/compact.onnx label by it too.")


def _served(served: dict | None) -> str:
    """One line on the file `automl predict` serves."""
    if not served:
        return ""
    if served.get("format") != "onnx":
        return note(f"Served from the pickle {served.get('file')}: {served.get('reason', '')}")
    return note(f"Served as {served['file']}: {served['size_bytes'] / 1024:,.0f} KB, one row in "
                f"{served['one_row_ms']:.3f} ms in onnxruntime ({served['python_one_row_ms']:.3f} "
                f"ms from a dict in Python), ONNX vs Python max difference "
                f"{served['parity_max_diff']:.2g} on {served['parity_rows']} rows.")


# ---- data ---------------------------------------------------------------------------


def data(facts: RunFacts) -> Section:
    schema, found = facts.schema, facts.data
    if schema is None:
        return Section("data", "Data", note("No data summary: schema.json is missing (the run "
                                            "did not finish its first stage)."))
    rows = (found.summary.get("rows") if found else None) or {}
    splits = [("train / validation / test rows",
               " / ".join(number(rows.get(part, 0)) for part in ("train", "valid", "test")))] if rows else []
    validation = [("validation", found.summary.get("validation_described", "–"))] if found else []
    n_columns = len(schema.columns) + len(schema.dropped) + 1
    body = pairs([("rows with a target", number(schema.n_rows)),
                  ("rows dropped (target missing)", number(schema.n_missing_target)),
                  ("columns in the table", number(n_columns)),
                  ("feature columns used", number(len(schema.columns))),
                  ("columns dropped", number(len(schema.dropped))), *splits, *validation,
                  ("task", schema.task),
                  ("classes", ", ".join(map(str, schema.classes)) if schema.classes else "–")])
    body += heading("Dropped columns")
    body += table(["column", "why"], [[k, v] for k, v in schema.dropped.items()]) \
        if schema.dropped else para("None: every column other than the target is a feature.")
    if found is None or found.columns is None:
        return Section("data", "Data", body + note("The ingest node's files are missing, so "
                                                   "column figures and the target are not shown."))
    body += heading("Feature columns") + _columns_table(found.columns)
    if found.target is not None:
        y = found.target
        body += heading(f"Target: {schema.target}") + figure(
            plots.svg(plots.target_distribution(y, schema.task == "regression")),
            f"Distribution of {schema.target} over {len(y):,} rows with a target"
            + (" (a sample)." if len(y) < schema.n_rows else "."))
    return Section("data", "Data", body)


def _columns_table(columns: pd.DataFrame) -> str:
    rows = [[c.column, c.kind, c.type, number(c.missing), f"{c.missing_share:.1%}",
             number(c.distinct)] for c in columns.itertuples()]
    return (table(["column", "kind", "type read", "missing", "missing %", "distinct"], rows,
                  numeric=(3, 4, 5))
            + para("Columns as the models read them: a date in parts (year, month, ...)."))


# ---- search ---------------------------------------------------------------------------


def search(facts: RunFacts) -> Section:
    if not facts.searches:
        return Section("search", "Search", note(
            "No search in this run folder (the search node has not finished, or its output "
            "is missing)."))
    body = "".join(_one_search(name, trials, facts) for name, trials in facts.searches.items())
    return Section("search", "Search", body)


def trial_frame(board: pd.DataFrame, metric, started: float | None) -> pd.DataFrame:
    """One row per trial (from a search's trials.csv): family, status, the metric's value,
    and `at`: seconds from the run's start to the trial's end (attrs["timed"]), or else its
    place in the order of arrival."""
    board = board.sort_values("finished", kind="stable", na_position="last") \
        if "finished" in board else board
    score = pd.to_numeric(board["score"], errors="coerce")
    trials = pd.DataFrame({
        "trial": board["trial"].astype(str), "family": board["family"].astype(str),
        "status": board["status"].astype(str), "value": score.map(
            lambda v: None if pd.isna(v) else metric.from_score(float(v))),
        "score": score, "fit_seconds": pd.to_numeric(board["fit_seconds"], errors="coerce"),
        "error": board["error"].fillna("").astype(str),
        "finished": board["finished"] if "finished" in board else None,
        "params": board["params"].map(_params_text)}).reset_index(drop=True)
    finished = pd.to_numeric(trials["finished"], errors="coerce")
    # trials stopped by the scheduler never report an end; the finished ones must all have one
    timed = bool(finished[trials["status"] == "ok"].notna().all() and finished.notna().any())
    if timed:
        zero = min(started or np.inf, float((finished - trials["fit_seconds"]).min()))
        trials["at"] = finished - zero
    else:
        trials["at"] = np.arange(1, len(trials) + 1, dtype=float)
    trials.attrs["timed"] = timed
    return trials


def _params_text(raw) -> str:
    try:
        return params_text(json.loads(raw))
    except (TypeError, ValueError):
        return str(raw)


def _one_search(name: str, board: pd.DataFrame, facts: RunFacts) -> str:
    metric = facts.metric
    trials = trial_frame(board, metric, facts.meta.get("started"))
    ok = trials[trials["status"] == "ok"]
    failed = trials[trials["status"] == "error"]
    stopped = trials[~trials["status"].isin(["ok", "error"])]
    body = heading(f"Search node '{name}'") if len(facts.searches) > 1 else ""
    body += para(f"{len(trials)} trials: {len(ok)} finished, {len(stopped)} stopped before "
                 f"their end (by the scheduler, or when the search ran out of time), "
                 f"{len(failed)} failed. Families: "
                 + ", ".join(sorted(trials["family"].unique())) + ".")
    if len(ok):
        body += _search_figures(ok, metric, trials.attrs["timed"]) + _leaderboard(ok)
    body += heading("Failed trials") + _failures(failed)
    return body


def _search_figures(ok: pd.DataFrame, metric, timed: bool) -> str:
    x_label = "seconds since the run started" if timed else "trial, in order of arrival"
    best = ok["value"].max() if metric.greater_is_better else ok["value"].min()
    return (figure(plots.svg(plots.best_over_time(ok, metric, x_label)),
                   f"Best validation {metric.name} over time (best: {number(best)}); each dot "
                   "is a finished trial.")
            + figure(plots.svg(plots.score_by_family(ok, metric)),
                     f"Validation {metric.name} by model family, one dot per finished trial."))


def _leaderboard(ok: pd.DataFrame) -> str:
    top = ok.sort_values("score", ascending=False, kind="stable").head(LEADERBOARD_ROWS)
    rows = [[rank, t.trial, t.family, number(t.value), number(t.fit_seconds, 2), t.params]
            for rank, t in enumerate(top.itertuples(), start=1)]
    shown = f"the best {len(top)} of {len(ok)}" if len(ok) > len(top) else f"all {len(ok)}"
    return (heading("Leaderboard") + para(f"Finished trials, {shown}, best first "
                                          "(every trial is in leaderboard.csv).")
            + table(["#", "trial", "family", "validation", "fit s", "params"], rows,
                    numeric=(0, 3, 4)))


def _failures(failed: pd.DataFrame) -> str:
    if failed.empty:
        return para("No trial failed.")
    rows = [[t.trial, t.family, t.error, t.params] for t in failed.itertuples()]
    return table(["trial", "family", "error", "params"], rows)
