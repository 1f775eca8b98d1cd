"""The ensemble stage on real search output (a real local Ray), and the run's model bundle."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
import ray

from automl import AutoML
from automl.calibration import temper
from automl.graph.context import Settings
from automl.graph.load import validate_graph
from automl.graph.run import fit_run
from automl.metrics import get_metric
from automl.models.bagging import BaggedModel
from automl.runfolder import StoredModel, loaded
from automl.search import runtime
from tests.conftest import REPO, make_table

NO_RAY_PREDICT = """
import sys
import numpy as np
import pandas as pd
from automl import AutoML
from automl.calibration import temper
model = AutoML.load(sys.argv[1])
np.save(sys.argv[3], model.predict_proba(pd.read_csv(sys.argv[2], parse_dates=["when"])))
assert "ray" not in sys.modules, sorted(m for m in sys.modules if m.startswith("ray"))[:5]
"""


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    runtime.connect(None)
    yield
    ray.shutdown()


def graph(searches: dict[str, list[str]], ensemble: dict | None = None, max_trials: int = 6,
          validation: str = "auto"):
    """ingest, both branches, one search node per entry, and an ensemble over them all (and
    over the branches, which a refit trains on)."""
    nodes = [{"name": "data", "kind": "ingest", "params": {"validation": validation}}]
    nodes += [{"name": b, "kind": "preprocess", "inputs": ["data"], "params": {"branch": b}}
              for b in ("trees", "dense")]
    nodes += [{"name": name, "kind": "search", "inputs": ["trees", "dense"],
               "params": {"families": families, "max_trials": max_trials}}
              for name, families in searches.items()]
    reads_rows = ("refit", "refit_full", "max_size_bytes", "max_latency_ms")
    branches = ["trees", "dense"] if any((ensemble or {}).get(p) for p in reads_rows) else []
    nodes.append({"name": "ensemble", "kind": "ensemble", "inputs": list(searches) + branches,
                  "params": ensemble or {}})
    return validate_graph({"name": "t", "nodes": nodes})


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_table(n=600)  # a temperature is fitted on 500 scored rows or more


@pytest.fixture(scope="module")
def greedy_run(tmp_path_factory, frame):
    spec = graph({"search": ["xgboost", "linear"]}, {"size": 15})
    # log loss: the metric under which the ensemble also fits a temperature
    return fit_run(frame, Settings(target="y", metric="log_loss"), spec,
                   out=tmp_path_factory.mktemp("runs"), verbose=False)


def test_ensemble_scores_at_least_its_best_member_out_of_fold(greedy_run):
    ensemble, search = greedy_run.outputs["ensemble"], greedy_run.outputs["search"]
    best_trial = search.best()
    dataset = greedy_run.outputs["data"]
    assert dataset.validation.method == "kfold" and dataset.X_valid is None  # 600 rows: auto
    assert ensemble.method == "greedy" and ensemble.validation == "5-fold cross-validation"
    assert ensemble.best_member_score == best_trial.score
    assert ensemble.score >= best_trial.score
    # the score is the members' out-of-fold predictions, weighted, scored on every training row
    metric = get_metric(ensemble.metric, dataset.task)
    trials = {t.trial_id: t for t in search.trials}
    blend = sum(m.weight * trials[m.name].valid_prediction for m in ensemble.members)
    tempered = temper(blend, ensemble.temperature)
    np.testing.assert_allclose(tempered, ensemble.valid_prediction)
    assert metric.score(dataset.y_train, tempered) == pytest.approx(ensemble.score, rel=1e-9)
    assert ensemble.temperature != 1.0  # fitted: a blend of bagged models is never exact
    assert metric.score(dataset.y_train, tempered) > metric.score(dataset.y_train, blend)
    # round one is the best trial, scored by the batch form of the metric
    assert ensemble.trajectory[0] == pytest.approx(best_trial.score, rel=1e-12)


def test_class_probabilities_are_at_the_fitted_temperature(greedy_run, frame):
    ensemble, predictor = greedy_run.outputs["ensemble"], greedy_run.predictor
    features = frame.drop(columns="y")
    outputs = predictor.member_outputs(features)
    blend = sum(m.weight * out for m, out in zip(predictor.members, outputs))
    np.testing.assert_allclose(predictor.predict_proba(features).to_numpy(),
                               temper(blend, ensemble.temperature), rtol=0, atol=1e-12)
    assert predictor.describe()["temperature"] == ensemble.temperature


def test_members_are_kept_trials_with_weights(greedy_run):
    ensemble, search = greedy_run.outputs["ensemble"], greedy_run.outputs["search"]
    kept = {t.trial_id: t for t in search.trials if t.model is not None}
    assert {m.name for m in ensemble.members} <= set(kept)
    assert ensemble.n_candidates == len([t for t in kept.values() if t.status == "ok"])
    assert sum(m.weight for m in ensemble.members) == pytest.approx(1.0)
    for member in ensemble.members:
        # the search keeps a reference to each kept model; the ensemble loads its members'
        stored = kept[member.name].model
        assert isinstance(stored, StoredModel) and stored.path.is_file()
        assert member.params == kept[member.name].params
        assert isinstance(member.model, BaggedModel) and len(member.model) == 5  # fold models
        assert joblib.hash(member.model) == joblib.hash(stored.load())  # no refit: the trial's


def test_leaderboard_and_metrics_name_the_ensemble(greedy_run):
    board = pd.read_csv(greedy_run.run_dir / "leaderboard.csv")
    row = board[board["family"] == "ensemble"]
    assert len(row) == 1 and len(board) == 6 + 1
    assert row.index[0] == 0  # best first, and nothing beats it
    ensemble = greedy_run.outputs["ensemble"]
    assert row["score"].iloc[0] == pytest.approx(ensemble.score)
    assert row["score"].iloc[0] >= board.loc[board["family"] != "ensemble", "score"].max()
    params = json.loads(row["params"].iloc[0])
    assert set(params["members"]) == {m.name for m in ensemble.members}
    assert params["method"] == "greedy" and params["refit"] is False
    metrics = json.loads((greedy_run.run_dir / "metrics.json").read_text())
    assert metrics["model_node"] == "ensemble" and metrics["valid_in_sample"] is False


def test_save_load_predict_is_identical(greedy_run, frame, tmp_path):
    fitted = AutoML.load(greedy_run.run_dir)
    features = frame.drop(columns="y")
    expected = greedy_run.predictor.predict(features)
    saved = AutoML.load(fitted.save(tmp_path / "saved"))  # model/ensemble.onnx: float32
    np.testing.assert_array_equal(saved.predict(features), expected)
    np.testing.assert_allclose(saved.predict_proba(features),
                               greedy_run.predictor.predict_proba(features).to_numpy(),
                               rtol=0, atol=1e-5)


def test_the_model_folder_alone_predicts_without_ray(greedy_run, frame, tmp_path):
    alone = tmp_path / "alone"
    shutil.copytree(greedy_run.run_dir / "model", alone / "model")  # no nodes/, no table
    rows = tmp_path / "rows.csv"
    frame.drop(columns="y").to_csv(rows, index=False)
    out = tmp_path / "proba.npy"
    done = subprocess.run([sys.executable, "-c", NO_RAY_PREDICT, str(alone), str(rows), str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    expected = greedy_run.predictor.predict_proba(pd.read_csv(rows, parse_dates=["when"]))
    np.testing.assert_allclose(np.load(out), expected.to_numpy(), rtol=0, atol=1e-5)


@pytest.mark.slow
def test_two_searches_stacking_and_refit(tmp_path, frame):
    spec = graph({"search_trees": ["xgboost"], "search_dense": ["linear"]},
                 {"method": "stacking", "refit": True, "size": 10}, max_trials=4,
                 validation="holdout")  # a refit adds the validation part to the rows
    result = fit_run(frame, Settings(target="y"), spec, out=tmp_path, verbose=False)
    ensemble = result.outputs["ensemble"]
    trials = {t.trial_id: t for name in ("search_trees", "search_dense")
              for t in result.outputs[name].trials if t.model is not None}
    assert ensemble.searches == ["search_trees", "search_dense"]
    assert ensemble.n_candidates == len(trials)
    assert {m.name for m in ensemble.members} <= set(trials)
    assert ensemble.score >= max(t.score for t in trials.values()) == ensemble.best_member_score
    assert ensemble.method in ("greedy", "stacking")
    assert (ensemble.stacker is not None) == (ensemble.method == "stacking")
    for member in ensemble.members:  # refitted, as long as its trial trained
        trial, trial_model = trials[member.name], loaded(trials[member.name].model)
        assert member.params == {**trial.params, **trial_model.trained_length()}
        if member.family == "xgboost":
            assert member.model.n_rounds_ == trial_model.model_.best_iteration + 1
    assert json.loads((result.run_dir / "metrics.json").read_text())["valid_in_sample"] is True
    proba = AutoML.load(result.run_dir).predict_proba(frame.drop(columns="y"))
    assert np.isfinite(proba).all() and proba.shape == (len(frame), 2)


def test_refit_full_under_a_cap_below_every_member(tmp_path, frame, capsys):
    """kfold members refitted once on all rows each; a 1 KB cap, below any member, keeps
    the best one alone and says so."""
    spec = graph({"search": ["xgboost", "linear"]},
                 {"size": 10, "refit_full": True, "max_size_bytes": "1KB"}, max_trials=4)
    result = fit_run(frame, Settings(target="y"), spec, out=tmp_path, verbose=True)
    ensemble, search = result.outputs["ensemble"], result.outputs["search"]
    assert "no candidate fits the cap (size 1 KB) alone; kept the best one" in capsys.readouterr().err
    (member,) = ensemble.members
    assert member.name == search.best().trial_id and ensemble.score == search.best().score
    assert not isinstance(member.model, BaggedModel)  # one model in place of five
    assert ensemble.refitted == [member.name]
    facts = json.loads(next((result.run_dir / "nodes" / "ensemble").rglob("ensemble.json")).read_text())
    assert facts["members"][0]["refitted"] is True and facts["cost"]["max_size_bytes"] == 1024
    row = pd.read_csv(result.run_dir / "leaderboard.csv").query("family == 'ensemble'")
    assert json.loads(row["params"].iloc[0])["refitted"] == [member.name]
    proba = AutoML.load(result.run_dir).predict_proba(frame.drop(columns="y"))
    assert np.isfinite(proba).all() and proba.shape == (len(frame), 2)
