"""The portfolio study: a smoke run of the harness, and the selection math by hand."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from automl.models.registry import family_space
from automl.space import Space
from studies import portfolio, portfolio_select
from studies.candidates import Candidate, candidates
from studies.portfolio import StudySettings, Task, run_study
from studies.portfolio_select import (family_matrices, greedy, normalise, portfolio_value, write_report,
                                      yaml_block)
from studies.study_tables import StudyTable
from tests.conftest import make_table


@pytest.fixture
def tiny_tables(monkeypatch):
    tables = {
        "tiny_binary": StudyTable("tiny_binary", "y", "binary", "conftest", lambda: make_table(120)),
        "tiny_regression": StudyTable("tiny_regression", "y", "regression", "conftest",
                                      lambda: make_table(120, "regression")),
    }
    for name, table in tables.items():
        monkeypatch.setitem(portfolio.STUDY_TABLES, name, table)
    return list(tables)


def test_a_tiny_study_runs_writes_rows_and_resumes(tiny_tables, tmp_path):
    configs = [Candidate("default", {}, "the default"),
               Candidate("strong", {"C": 10.0}, "a weaker penalty")]
    tasks = [Task("linear", c, t) for c in configs for t in tiny_tables]
    settings = StudySettings(max_rows=100, folds=2, fit_limit=5.0)
    path = run_study(tasks, settings, tmp_path, workers=1, log=lambda _: None)
    rows = pd.read_csv(path)
    assert len(rows) == 4 and (rows["folds_ok"] == 2).all() and rows["score"].notna().all()
    assert set(rows["metric"]) == {"roc_auc", "rmse"} and (rows["n_rows"] == 100).all()
    assert json.loads(rows.loc[rows["config"] == "strong", "params"].iloc[0])["C"] == 10.0

    run_study(tasks, settings, tmp_path, workers=1, log=lambda _: None)  # nothing left to do
    assert len(pd.read_csv(path)) == 4

    write_report(path, tmp_path, ["linear"])
    report = json.loads((tmp_path / "portfolio.json").read_text())[0]
    assert report["entries"][0]["config"] == "default"
    assert "portfolio:" in (tmp_path / "portfolio.md").read_text()


def test_the_yaml_block_reads_back_with_the_same_values_and_types():
    params = {"C": 1.0, "tol": 1e-06, "max_iter": 100, "penalty": "l1", "l1_ratio": 0.123456}
    report = {"tables": 2, "entries": [{"config": "x", "params": params, "source": "s", "rank": 1,
                                        "of": 2, "fit_seconds": 0.5}]}
    space = Space.model_validate({"default": params, **yaml.safe_load(yaml_block(report, "study"))})
    read = space.portfolio[0].params
    assert read == {**params, "l1_ratio": 0.1235}
    assert isinstance(read["C"], float) and isinstance(read["max_iter"], int)


def test_candidates_start_with_the_default_and_stay_inside_the_space():
    space = family_space("xgboost")
    found = candidates("xgboost", space)
    assert found[0].name == "default" and found[0].params == space.default
    assert len({c.name for c in found}) == len(found)
    widest = space.resolve(10_000_000)
    for candidate in found:
        for name, value in candidate.params.items():
            if name in widest.params and widest.params[name].type != "choice":
                assert widest.params[name].low <= value <= widest.params[name].high


def test_published_configs_are_mapped_onto_the_space_names_and_losses_are_named():
    space = Space.model_validate({"default": {"n_estimators": 300, "learning_rate": 0.1,
                                              "colsample_bytree": 1.0, "min_child_samples": 20}})
    found = {c.name: c for c in candidates("lightgbm", space)}
    large = found["ag_large"]  # written in LightGBM's native names
    assert large.params == {"n_estimators": 10000, "learning_rate": 0.03, "colsample_bytree": 0.9,
                            "min_child_samples": 3}
    assert large.source.endswith("(not in our space: num_leaves)")
    assert "ag_xt" not in found  # without extra_trees it is ag_default again


def test_configs_not_run_on_every_table_are_left_out():
    rows = [{"family": "f", "config": c, "table": t, "score": 1.0, "fit_seconds": 1.0}
            for c, tables in (("a", "xy"), ("b", "xy"), ("late", "x")) for t in tables]
    scores, seconds = family_matrices(pd.DataFrame(rows), "f")
    assert list(scores.columns) == ["a", "b"] and list(seconds.index) == ["a", "b"]


def test_scores_are_normalised_between_the_median_and_the_best_config():
    scores = pd.DataFrame({"default": [0.80, -2.0], "a": [0.90, -1.0], "b": [0.70, -3.0],
                           "c": [None, -1.5]}, index=["t1", "t2"])
    norm = normalise(scores)
    assert norm.loc["t1"].tolist() == pytest.approx([0.0, 1.0, 0.0, 0.0])  # a failure counts 0
    # median -1.75, best -1.0: c (-1.5) is a third of the way up
    assert norm.loc["t2"].tolist() == pytest.approx([0.0, 1.0, 0.0, 1 / 3])


def test_greedy_adds_the_biggest_gain_and_gives_near_ties_to_the_cheaper_config(monkeypatch):
    norm = pd.DataFrame({"default": [1.0, 0.0, 0.0], "slow": [0.0, 1.0, 0.5],
                         "cheap": [0.0, 0.999, 0.5], "other": [0.0, 0.0, 1.0]},
                        index=["t1", "t2", "t3"])
    seconds = pd.Series({"default": 1.0, "slow": 50.0, "cheap": 2.0, "other": 3.0})
    monkeypatch.setattr(portfolio_select, "MIN_SIZE", 1)
    chosen = greedy(norm, seconds)
    assert chosen[:2] == ["default", "cheap"]  # slow is better by 0.0003 only
    assert chosen[2] == "other" and portfolio_value(norm, chosen) == pytest.approx(0.9997, abs=1e-4)
