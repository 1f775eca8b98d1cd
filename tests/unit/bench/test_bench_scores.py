"""Rank and normalised-score math on a hand-made results table, checked against hand sums."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from automl.bench.report import COLUMNS, markdown, results_frame, summary_lines
from automl.bench.scores import (compact_vs_ensemble, compact_vs_shipped, normalised,
                                 primary_scores, ranks, summary)

ENTRIES = [("automl", "ensemble"), ("xgb_default", "default"), ("random_forest", "default"),
           ("flaml", "best")]
# dataset, task, metric, values per entry (None: that entry failed)
FIGURES = [
    ("d1", "binary", "roc_auc", [0.90, 0.80, 0.85, 0.95]),
    ("d2", "regression", "rmse", [10.0, 12.0, 12.0, None]),
    ("d3", "multiclass", "log_loss", [0.50, 0.40, 0.60, 0.45]),  # xgb_default is the best
]


def hand_made() -> pd.DataFrame:
    rows = []
    for dataset, task, metric, values in FIGURES:
        for (system, variant), value in zip(ENTRIES, values):
            row = {"dataset": dataset, "task": task, "system": system, "variant": variant,
                   "status": "ok" if value is not None else "error",
                   "error": "" if value is not None else "time-out: killed", "n_train": 80,
                   "n_test": 20, "time_budget_s": 10.0, "wall_seconds": 5.0}
            if value is not None:
                row.update({metric: value, "accuracy": 0.8, "r2": 0.5, "fit_seconds": 2.0,
                            "peak_memory_mb": 300.0, "model_bytes": 2048, "latency_ms": 1.0,
                            "throughput_rows_s": 1000.0})
            rows.append(row)
    return results_frame(rows)


def test_primary_scores_orient_losses_so_higher_is_better():
    scores = primary_scores(hand_made())
    assert scores.loc["d1", ("flaml", "best")] == 0.95
    assert scores.loc["d2", ("automl", "ensemble")] == -10.0
    assert scores.loc["d3", ("xgb_default", "default")] == -0.40
    assert math.isnan(scores.loc["d2", ("flaml", "best")])


def test_ranks_by_hand():
    rank = ranks(primary_scores(hand_made()))
    assert list(rank.loc["d1"]) == [2, 4, 3, 1]
    assert list(rank.loc["d2"])[:3] == [1, 2.5, 2.5]  # a tie shares the mean of ranks 2 and 3
    assert math.isnan(rank.loc["d2", ("flaml", "best")])  # a failure gets no rank
    assert list(rank.loc["d3"]) == [3, 1, 4, 2]


def test_normalised_by_hand():
    norm = normalised(primary_scores(hand_made()))
    # d1: baseline 0.80, best 0.95, span 0.15
    assert norm.loc["d1"].tolist() == pytest.approx([0.10 / 0.15, 0.0, 0.05 / 0.15, 1.0])
    # d2 (rmse, negated): baseline -12, best -10, span 2
    assert norm.loc["d2"].tolist()[:3] == pytest.approx([1.0, 0.0, 0.0])
    # d3: the baseline is the best, so 0 and 1 coincide: no score for anyone
    assert norm.loc["d3"].isna().all()


def test_normalised_is_undefined_where_the_baseline_failed():
    results = hand_made()
    failed = (results["dataset"] == "d1") & (results["system"] == "xgb_default")
    results.loc[failed, "status"] = "error"
    norm = normalised(primary_scores(results))
    assert norm.loc["d1"].isna().all()
    assert norm.loc["d2", ("automl", "ensemble")] == pytest.approx(1.0)


def test_summary_by_hand():
    table = summary(hand_made()).set_index(["system", "variant"])
    expected = {  # covered, mean rank, normalised score, datasets scored
        ("automl", "ensemble"): (3, (2 + 1 + 3) / 3, (2 / 3 + 1) / 2, 2),
        ("xgb_default", "default"): (3, (4 + 2.5 + 1) / 3, 0.0, 2),
        ("random_forest", "default"): (3, (3 + 2.5 + 4) / 3, (1 / 3 + 0) / 2, 2),
        ("flaml", "best"): (2, (1 + 2) / 2, 1.0, 1),
    }
    for entry, (covered, mean_rank, score, scored) in expected.items():
        row = table.loc[entry]
        assert row["covered"] == covered and row["datasets"] == 3, entry
        assert row["mean_rank"] == pytest.approx(mean_rank), entry
        assert row["normalised_score"] == pytest.approx(score), entry
        assert row["scored"] == scored, entry


def test_an_entry_that_always_failed_is_listed_with_no_figures():
    results = hand_made()
    results.loc[results["system"] == "flaml", "status"] = "error"
    row = summary(results).set_index("system").loc["flaml"]
    assert row["covered"] == 0 and math.isnan(row["mean_rank"])
    assert "flaml/best: mean rank —, normalised score — (covers 0 of 3 datasets)" \
        in summary_lines(results)


def test_markdown_has_summary_tables_and_ratio_to_best_peer():
    text = markdown(hand_made(), ["header line"], ["skipped autogluon: not installed"])
    assert "## Summary" in text and "- skipped autogluon: not installed" in text
    assert "| automl | ensemble | 3 of 3 | 2.00 | 0.83 (on 2) |" in text
    assert "| flaml | best | 2 of 3 | 1.50 | 1.00 (on 1) |" in text
    for dataset in ("## d1", "## d2", "## d3"):
        assert dataset in text
    # d1: roc_auc 0.90 / best peer 0.95; accuracy 0.8 / 0.8; fit seconds 2 / 2
    assert "| *automl/ensemble ÷ best peer* | | 0.95 | 1.00 | 1.00 |" in text
    assert "- flaml/best failed: time-out: killed" in text
    assert "*peak MB* is the memory of the whole process tree a system runs as" in text


def test_results_frame_keeps_every_column_in_order():
    frame = results_frame([{"dataset": "d", "status": "ok", "surplus": 1}])
    assert list(frame.columns) == COLUMNS


def test_compact_against_the_ensemble_by_hand():
    results = hand_made()
    compact = results[(results["system"] == "automl")].copy()
    compact["variant"] = "compact"
    compact.loc[compact["dataset"] == "d1", ["roc_auc", "model_bytes", "latency_ms"]] = [0.88, 256, 0.1]
    compact = compact[compact["dataset"] == "d1"]  # d2, d3: no student met the constraints
    results = pd.concat([results, compact], ignore_index=True)
    table = compact_vs_ensemble(results).set_index("dataset")
    # d1: (0.88 - 0.80) / (0.90 - 0.80) of the gain; 256 / 2048 bytes; 0.1 / 1.0 ms
    assert table.loc["d1", "gain_kept"] == pytest.approx(0.8)
    assert table.loc["d1", "model_bytes_ratio"] == pytest.approx(0.125)
    assert table.loc["d1", "latency_ms_ratio"] == pytest.approx(0.1)
    assert table.loc["d1", "compact_bytes"] == 256
    assert math.isnan(table.loc["d2", "compact"]) and math.isnan(table.loc["d2", "gain_kept"])
    assert math.isnan(table.loc["d3", "gain_kept"])  # the ensemble did not beat xgb_default
    text = markdown(results, [], [])
    assert "## automl: compact vs ensemble" in text
    assert "| d1 | 0.9000 | 0.8800 | 0.8000 | 0.80 |  | 256 B | 0.1250 | 0.100 |" in text
    assert "Gain kept ≥ 0.97 on 0 of 3 datasets." in text
    intervals = pd.DataFrame([{"dataset": "d1", "system": "automl", "low": 0.61, "high": 0.98,
                               "no_gain": 0.02}])
    text = markdown(results, [], [], intervals)
    assert "| d1 | 0.9000 | 0.8800 | 0.8000 | 0.80 | 0.61 – 0.98 (2% no gain) | 256 B |" in text
    assert "Gain kept ≥ 0.97 on 0 of 3 datasets; its 90% interval reaches 0.97 on 1." in text


def test_compact_against_what_a_team_would_ship_instead_by_hand():
    results = hand_made()
    compact = results[(results["system"] == "automl")].copy()
    compact["variant"] = "compact"
    compact["roc_auc"] = [0.96, None, None]
    compact["rmse"] = [None, 11.0, None]
    compact["log_loss"] = [None, None, 0.47]
    compact["model_bytes"] = 512
    results = pd.concat([results, compact], ignore_index=True)
    table = compact_vs_shipped(results).set_index("dataset")
    # FLAML: d1 0.95 (compact 0.96 ahead), d2 failed, d3 log loss 0.45 (compact 0.47 behind)
    assert table.loc["d1", "compact"] == 0.96 and table.loc["d1", "flaml"] == 0.95
    assert math.isnan(table.loc["d2", "flaml"]) and table.loc["d3", "compact"] == -0.47
    assert math.isnan(table.loc["d1", "autogluon_distill"])  # not in this run
    text = markdown(results, [], [])
    assert "## automl compact vs what a team would ship instead" in text
    assert "| d1 | 0.9600 | 0.9500 | — | 512 B | 2.0 KB |  |" in text
    assert "- compact at least as accurate as flaml on 1 of 2 datasets." in text
    assert "autogluon_distill on" not in text  # no dataset where both ran
