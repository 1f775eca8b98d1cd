"""The report's pieces without a search: importance, figures, HTML, and a whole report of a
hand-made run (a real predictor, trials written by hand), also of runs with parts missing."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pandas as pd
import pytest

from automl.atomic import atomic_write_json, atomic_write_text
from automl.bundle import save_bundle
from automl.cli import main
from automl.data.facts import write_facts
from automl.data.split import table_dataset
from automl.ensemble.result import EnsembleResult
from automl.errors import RunError
from automl.metrics import get_metric
from automl.report import plots, run_sections
from automl.report.collect import from_run_dir
from automl.report.importance import MIN_ROWS, OutOfTime, permutation_importance
from automl.report.page import number, params_text, table
from automl.report.write import report_run_dir
from automl.runfolder import ENSEMBLE_JSON, TRIALS_CSV, RunStore
from automl.search.result import SearchResult
from automl.search.trial import TrialResult
from tests.unit.serving.test_predict_checks import fitted_predictor, table_with_codes

SECTIONS = ("overview", "data", "search", "ensemble", "compact", "importance")


# ---- permutation importance -----------------------------------------------------------


def _signal_and_noise(n: int = 500):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n)})
    return X, X["signal"].to_numpy() * 3


def test_importance_finds_the_column_the_model_reads():
    X, y = _signal_and_noise()
    result = permutation_importance("m", lambda rows: rows["signal"].to_numpy() * 3, X, y,
                                    get_metric("rmse", "regression"))
    ranked = result.frame()
    assert ranked["column"].tolist() == ["signal", "noise"]
    assert ranked["drop"].iloc[0] > 1.0  # rmse grows from 0 when the signal is shuffled
    assert ranked["drop"].iloc[1] == 0.0  # the model never reads the noise
    assert result.baseline == 0.0 and result.repeats == 3 and result.rows == 500


def test_importance_of_a_slow_model_uses_fewer_rows_and_one_repeat():
    X, y = _signal_and_noise(n=3000)

    def slow(rows):
        time.sleep(0.02)
        return rows["signal"].to_numpy() * 3

    result = permutation_importance("m", slow, X, y, get_metric("rmse", "regression"),
                                    max_rows=1000, seconds=0.001)
    assert result.rows == MIN_ROWS and result.repeats == 1


def test_importance_under_a_hard_cap_refuses_a_model_too_slow_for_one_pass():
    # at the end of a fit: a slow ensemble once took 30 s past a 60 s budget here
    X, y = _signal_and_noise(n=3000)

    def slow(rows):
        time.sleep(0.02)
        return rows["signal"].to_numpy() * 3

    with pytest.raises(OutOfTime, match="2 columns would take about"):
        permutation_importance("m", slow, X, y, get_metric("rmse", "regression"),
                               seconds=0.001, hard=True)
    fast = permutation_importance("m", lambda rows: rows["signal"].to_numpy(), X, y,
                                  get_metric("rmse", "regression"), seconds=5.0, hard=True)
    assert fast.repeats == 3


# ---- figures and HTML -----------------------------------------------------------------


def _trials(n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"at": np.sort(rng.uniform(0, 60, n)), "value": rng.uniform(0.4, 0.6, n),
                         "family": rng.choice(["xgboost", "linear", "mlp"], n)})


@pytest.mark.parametrize("metric", ["roc_auc", "log_loss"])
def test_search_figures_are_inline_svg_and_reproducible(metric):
    metric = get_metric(metric, "binary")
    first = plots.svg(plots.best_over_time(_trials(), metric, "seconds"))
    assert first.startswith("<svg") and "<?xml" not in first and "<metadata>" not in first
    assert first == plots.svg(plots.best_over_time(_trials(), metric, "seconds"))
    assert "best so far" in first  # text stays text (svg.fonttype none)
    assert plots.svg(plots.score_by_family(_trials(), metric)).startswith("<svg")


def test_a_disastrous_trial_does_not_flatten_the_others():
    trials = _trials()
    trials.loc[0, "value"] = -5.0
    drawn = plots.svg(plots.score_by_family(trials, get_metric("roc_auc", "binary")))
    assert "1 trial(s) off the scale" in drawn


def test_html_pieces_escape_and_format():
    assert "&lt;script&gt;" in table(["a"], [["<script>alert(1)</script>"]])
    assert [number(v) for v in (None, float("nan"), 3, 0.123456, 12345.6, 2.5e-5)] == \
        ["–", "–", "3", "0.1235", "12,346", "2.5e-05"]
    assert params_text({"b": 0.123456789, "a": "x"}) == "a=x, b=0.1235"
    assert params_text({"k": "v" * 500}, limit=20).endswith("…")


def _board(trials: list[TrialResult]) -> pd.DataFrame:
    """A search's trials.csv, read back as the report reads it."""
    return pd.DataFrame([t.row() for t in trials])


def test_trials_without_an_end_time_are_drawn_in_order_of_arrival():
    metric = get_metric("roc_auc", "binary")
    old = [TrialResult(f"t{i}", "xgboost", {}, "ok", score=0.8) for i in range(3)]
    frame = run_sections.trial_frame(_board(old), metric, None)
    assert not frame.attrs["timed"] and frame["at"].tolist() == [1.0, 2.0, 3.0]
    now = time.time()
    timed = [TrialResult("a", "linear", {}, "ok", score=0.7, fit_seconds=2.0, finished=now + 5),
             TrialResult("b", "linear", {}, "stopped")]  # stopped trials have no end
    frame = run_sections.trial_frame(_board(timed), metric, now)
    assert frame.attrs["timed"] and frame["at"].iloc[0] == pytest.approx(5.0)


# ---- whole reports --------------------------------------------------------------------


def hand_made_run(run_dir):
    """A run folder's files as a fit writes them, without a search: a real two-member
    predictor (the bundle), the ingest's data files, trials written by hand (one failed,
    one stopped) and an ensemble.json."""
    frame = table_with_codes()
    predictor = fitted_predictor(frame)
    dataset = table_dataset(frame, "y", valid_fraction=0.25, seed=0)
    schema = dataset.schema
    now = time.time()
    trials = [
        TrialResult("t1", "xgboost", {"n_estimators": 40}, "ok", 0.91, 0.5, finished=now + 2),
        TrialResult("t2", "linear", {"C": 1.0}, "ok", 0.88, 0.1, finished=now + 3),
        TrialResult("t3", "xgboost", {"max_depth": 99}, "error", fit_seconds=0.1,
                    error="ValueError: <b>boom</b>", finished=now + 4),
        TrialResult("t4", "linear", {"C": 9.0}, "stopped", error="stopped early by ASHA"),
    ]
    search = SearchResult(schema, "roc_auc", predictor.branches,
                          {"xgboost": "trees", "linear": "trees"}, trials, dataset.y_valid)
    ensemble = EnsembleResult(name="ensemble", schema=schema, metric="roc_auc", method="greedy",
                              branches=predictor.branches, members=predictor.members, score=0.93,
                              best_member_score=0.91, n_candidates=2, searches=["search"],
                              trajectory=[0.91, 0.925, 0.93])
    store = RunStore(run_dir)
    write_facts(dataset, store.artifact_dir("data", "k1"))
    atomic_write_text(store.artifact_dir("search", "k2") / TRIALS_CSV,
                      search.leaderboard().to_csv(index=False))
    atomic_write_json(store.artifact_dir("ensemble", "k3") / ENSEMBLE_JSON, ensemble.facts())
    for name, key in (("data", "k1"), ("search", "k2"), ("ensemble", "k3")):
        store.save(name, key, None, {"kind": name})
    (run_dir / "graph.yaml").write_text(
        "nodes:\n- {name: data, kind: ingest}\n- {name: search, kind: search}\n"
        "- {name: ensemble, kind: ensemble}\n")
    atomic_write_json(run_dir / "schema.json", schema.model_dump(mode="json"))
    save_bundle(run_dir, predictor)
    atomic_write_json(run_dir / "metrics.json", {"task": "binary", "model_node": "ensemble",
                                                 "valid": {"roc_auc": 0.93}, "test": None})
    atomic_write_json(run_dir / "run.json", {
        "source": "table.csv", "pipeline": "hand-made", "status": "done", "started": now,
        "seconds": 9.5, "settings": {"target": "y", "seed": 0, "time_budget": 60}})
    return run_dir


def _sections(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z]+)">', html)


def test_a_run_without_compact_model_gets_every_section(tmp_path):
    path = report_run_dir(hand_made_run(tmp_path / "run"))
    html = path.read_text()
    assert path.name == "report.html" and _sections(html) == list(SECTIONS)
    assert "could not be drawn" not in html
    assert "ValueError: &lt;b&gt;boom&lt;/b&gt;" in html  # the failed trial, escaped
    assert "1 stopped before their end (by the scheduler, or when the search ran out of " \
        "time), 1 failed" in html
    assert "No compact model in this run" in html
    assert "ensemble: roc_auc lost" in html  # importance of the ensemble, not of a compact model
    assert "compact model: roc_auc lost" not in html
    assert html.count("<svg") >= 5  # target, time, families, weights, trajectory, importance
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|<script|@import""", html)


def test_a_broken_section_becomes_a_note_and_the_rest_is_written(tmp_path, monkeypatch):
    def broken(facts):
        raise KeyError("no such column")

    monkeypatch.setattr(run_sections, "search", broken)
    lines = []
    html = report_run_dir(hand_made_run(tmp_path / "run"), log=lines.append).read_text()
    assert "This section could not be drawn: KeyError: &#x27;no such column&#x27;" in html
    assert any("the search section could not be drawn" in line for line in lines)
    assert _sections(html) == list(SECTIONS)


def test_a_failed_run_folder_still_gets_a_report(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"status": "failed", "error": "out of memory",
                                                   "settings": {"target": "y"}}))
    html = report_run_dir(tmp_path).read_text()
    assert _sections(html) == list(SECTIONS)
    assert "out of memory" in html and "graph.yaml is missing" in html
    assert "No search in this run folder" in html and "No compact model in this run" in html


def test_a_folder_that_is_not_a_run_is_refused(tmp_path, capsys):
    with pytest.raises(RunError, match="is not a run folder \\(no run.json\\)"):
        from_run_dir(tmp_path)
    assert main(["report", str(tmp_path)]) == 2
    assert "is not a run folder (no run.json)" in capsys.readouterr().err


def test_each_panel_draws_its_own_two_dimensional_front():
    sizes = pd.Series([1.0, 2.0, 3.0, 4.0], index=["a", "b", "c", "d"])
    scores = pd.Series([0.80, 0.75, 0.90, 0.85], index=sizes.index)
    assert plots.front_2d(sizes, scores, greater_is_better=True) == ["a", "c"]
    assert plots.front_2d(sizes, scores, greater_is_better=False) == ["a", "b"]  # a loss


def test_a_report_that_fails_at_the_end_of_a_fit_costs_one_line_not_the_run(tmp_path, monkeypatch,
                                                                              capsys):
    from automl.graph import run as fit_module
    from automl.graph.context import RunContext, Settings
    from automl.graph.load import parse_graph

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("automl.report.write.report_run_dir", broken)
    spec = parse_graph("nodes:\n- {name: data, kind: ingest}\n")
    fit_module._write_report(spec, {}, RunContext("table.csv", Settings(target="y"), tmp_path))
    assert "report: not written (RuntimeError: disk full); try again with 'automl report " \
        in capsys.readouterr().err
