"""Candidates from one or more searches, and the ensemble stage on them (no Ray: the
trials are fitted here with the same `fit_trial` a Ray worker runs)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from automl.ensemble.pool import merge_searches
from automl.ensemble.stage import run as run_ensemble
from automl.errors import AutoMLError
from automl.graph.context import RunContext, Settings, StageInputs
from automl.graph.spec import EnsembleNode
from automl.metrics import get_metric
from automl.search.result import SearchResult
from automl.search.trial import fit_trial
from tests.unit.ensemble.test_ensemble_refit import branch_data, make_branch_data  # noqa: F401 (a fixture)

AUC = get_metric("roc_auc", "binary")


def stage_inputs(**named) -> StageInputs:
    """A stage's inputs as the executor hands them: name=(kind, output)."""
    return StageInputs({n: out for n, (_, out) in named.items()},
                       {n: kind for n, (kind, _) in named.items()})


TRIALS = [("xgboost", {"n_estimators": 30, "max_depth": 2}), ("xgboost", {"n_estimators": 60}),
          ("linear", {"C": 0.01}), ("linear", {"C": 1.0})]


def search_result(branches, trials=TRIALS, prefix="t", nodes=None) -> SearchResult:
    """A search's result over `branches["trees"]`, the branch read from a preprocess node
    named 'trees' unless `nodes` (branch -> node name) says otherwise."""
    family_branch = {"xgboost": "trees", "linear": "trees"}
    data = branches["trees"]
    done = [fit_trial(f"{prefix}{i}", family, params, data, AUC)
            for i, (family, params) in enumerate(trials)]
    return SearchResult(data.schema, AUC.name, {"trees": data.branch}, family_branch, done,
                        data.y_scored, branch_nodes=nodes or {"trees": "trees"})


@pytest.fixture(scope="module")
def search(branch_data):  # noqa: F811
    return search_result(branch_data)


def test_each_family_gets_a_place_before_the_rest(search):
    pool = merge_searches({"search": search})
    ranked = sorted(search.trials, key=lambda t: -t.score)
    assert [c.name for c in pool.candidates] == [t.trial_id for t in ranked]
    two = pool.best(2)
    assert {c.family for c in two} == {"xgboost", "linear"}
    assert [c.score for c in two] == sorted((c.score for c in two), reverse=True)
    assert len(pool.best(10)) == 4


def test_trials_without_a_kept_model_are_not_candidates(branch_data):  # noqa: F811
    result = search_result(branch_data)
    result.trials[0].model = None  # evicted by keep_models
    assert "t0" not in {c.name for c in merge_searches({"s": result}).candidates}
    for trial in result.trials:
        trial.model = None
    with pytest.raises(AutoMLError, match="no trial of s finished with a kept model"):
        merge_searches({"s": result})


def test_two_searches_share_a_preprocess_node_and_part_different_ones(branch_data, search):  # noqa: F811
    other = search_result(branch_data, prefix="u")
    pool = merge_searches({"a": search, "b": other})
    assert set(pool.branches) == {"trees"}  # the same preprocess node: one key
    assert len(pool.candidates) == 8
    # b reads another preprocess node, fitted apart
    other.branches["trees"] = make_branch_data().branch
    other.branch_nodes = {"trees": "trees_b"}
    pool = merge_searches({"a": search, "b": other})
    assert set(pool.branches) == {"trees", "trees_b"}
    assert pool.branches["trees_b"] is other.branches["trees"]
    assert {c.branch for c in pool.candidates if c.family == "linear"} == {"trees", "trees_b"}


def test_a_trial_id_found_in_two_searches_is_told_apart(branch_data, search):  # noqa: F811
    again = search_result(branch_data, TRIALS[:2], prefix="t")  # ids t0 and t1 once more
    names = {c.name for c in merge_searches({"a": search, "b": again}).candidates}
    assert names == {"a/t0", "a/t1", "t2", "t3", "b/t0", "b/t1"}


def test_searches_on_other_rows_are_refused(branch_data, search):  # noqa: F811
    other = search_result(branch_data, TRIALS[:1], prefix="u")
    other.y_scored = other.y_scored[::-1].copy()
    with pytest.raises(AutoMLError, match="search node 'b' was scored on other validation rows"):
        merge_searches({"a": search, "b": other})


@pytest.mark.parametrize("method", ["greedy", "stacking"])
def test_the_stage_scores_at_least_the_best_trial(branch_data, search, tmp_path, method):  # noqa: F811
    node = EnsembleNode(name="ens", kind="ensemble", inputs=["search"],
                        params={"method": method, "size": 10})
    context = RunContext(source="unused.csv", settings=Settings(target="y"), run_dir=tmp_path,
                         verbose=False)
    context.node_dir = tmp_path
    result = run_ensemble(node, stage_inputs(search=("search", search)), context)
    best = max(t.score for t in search.trials)
    assert result.best_member_score == best and result.score >= best
    assert result.method in ("greedy", method)
    dataset_valid = {name: d.X_valid for name, d in branch_data.items()}
    outputs = [m.model.predict_raw(dataset_valid[m.branch]) for m in result.members]
    combined = (result.stacker.predict_raw(outputs) if result.stacker is not None
                else sum(m.weight * out for m, out in zip(result.members, outputs)))
    if result.method == "greedy":  # the stage's score is the combination's own
        assert AUC.score(search.y_scored, combined) == pytest.approx(result.score)
    row = result.leaderboard_row()
    assert row["family"] == "ensemble" and row["trial"] == "ens" and row["search_node"] == "search"
    assert set(json.loads(row["params"])["members"]) == {m.name for m in result.members}
    assert np.isclose(sum(m.weight for m in result.members), 1.0)
