"""Large tables: trials learn from a sample of the rows where that pays, the same rows in
every branch, classes kept in proportion; the families' all-rows portfolio is fitted on all
the rows first, then the best trials, each family's best first."""

from __future__ import annotations

import numpy as np

from automl.data.split import KFOLD, table_dataset
from automl.preprocess.stage import BranchData, branch_data
from automl.search.sampled import _fits, _worth_fitting, sample_for_trials
from automl.search.trial import TrialResult
from automl.space import Space, load_space
from tests.conftest import make_table


def _branches(n: int, method: str = "holdout") -> dict[str, BranchData]:
    """The trees branch of make_table(n), fitted twice: as two preprocess nodes make it."""
    dataset = table_dataset(make_table(n=n), "y", valid_fraction=0.2, seed=0, method=method)
    return {name: branch_data(dataset) for name in ("trees", "other")}


def test_trials_learn_from_a_sample_of_the_same_rows_in_every_branch():
    branches = _branches(2_000)  # 1,600 training rows
    sampled = sample_for_trials(branches, 500, seed=0)
    trees, other = sampled["trees"], sampled["other"]
    assert len(trees.y_train) == len(other.y_train) == 500
    np.testing.assert_array_equal(trees.y_train, other.y_train)
    # the same rows: each sampled row of the trees branch is a row of the full one
    full = {tuple(np.nan_to_num(r)) for r in branches["trees"].X_train}
    assert all(tuple(np.nan_to_num(r)) in full for r in trees.X_train)
    share = trees.y_train.mean(), branches["trees"].y_train.mean()
    assert abs(share[0] - share[1]) < 0.01  # stratified
    assert trees.X_valid is branches["trees"].X_valid  # scored on the whole validation part


def test_soft_labels_are_sampled_without_stratifying():
    # the distillation's student search: the target is the teacher's probabilities
    branches = _branches(2_000)
    for data in branches.values():
        data.y_train = np.column_stack([1 - data.y_train, data.y_train]).astype(float)
    sampled = sample_for_trials(branches, 500, seed=0)
    assert sampled["trees"].y_train.shape == (500, 2)


def test_no_sample_where_it_does_not_pay():
    assert sample_for_trials(_branches(2_000), 1_000, seed=0) is None  # not under half the rows
    assert sample_for_trials(_branches(2_000), None, seed=0) is None
    assert sample_for_trials(_branches(2_000, KFOLD), 500, seed=0) is None  # folds use every row


def test_each_familys_best_is_refitted_first():
    def trial(name, family, score):
        return TrialResult(name, family, {}, "ok", score=score, model=object())

    trials = [trial("a", "xgboost", 0.90), trial("b", "xgboost", 0.89), trial("c", "linear", 0.80),
              TrialResult("d", "mlp", {}, "ok", score=0.95)]  # no kept model: not refitted
    assert [t.trial_id for t in _worth_fitting(trials)] == ["a", "c", "b"]


def test_the_all_rows_portfolio_comes_first_and_its_configs_are_fitted_once():
    space = Space.model_validate({
        "default": {"n_estimators": 100, "max_depth": 6},
        "params": {"max_depth": {"type": "int", "low": 2, "high": 12}},
        "all_rows_portfolio": [{"params": {"max_depth": 12}, "source": "deep trees"}]})
    trials = [TrialResult("a", "xgboost", {"n_estimators": 100, "max_depth": 3}, "ok", score=0.9,
                          model=object()),
              TrialResult("b", "xgboost", {"n_estimators": 100, "max_depth": 12}, "ok", score=0.8,
                          model=object()),
              TrialResult("c", "linear", {"C": 1.0}, "ok", score=0.7, model=object())]
    fits = _fits({"xgboost": space, "linear": Space()}, trials)
    # the entry takes the default's other values; trial b had its very config: not again;
    # linear's best before xgboost's second fit
    assert [(f.name, f.params) for f in fits] == [
        ("xgboost-rows1", {"n_estimators": 100, "max_depth": 12}), ("c", {"C": 1.0}),
        ("a", {"n_estimators": 100, "max_depth": 3})]


def test_one_fit_of_each_family_comes_before_any_familys_second():
    two = Space.model_validate({
        "default": {"num_leaves": 31},
        "params": {"num_leaves": {"type": "int", "low": 2, "high": 255}},
        "all_rows_portfolio": [{"params": {"num_leaves": 167}, "source": "one"},
                               {"params": {"num_leaves": 139}, "source": "two"}]})
    one = Space.model_validate({
        "default": {"max_depth": 6},
        "params": {"max_depth": {"type": "int", "low": 2, "high": 12}},
        "all_rows_portfolio": [{"params": {"max_depth": 12}, "source": "deep"}]})
    trials = [TrialResult(name, family, {"C": c}, "ok", score=score, model=object())
              for name, family, c, score in [("l1", "linear", 1.0, 0.9), ("l2", "linear", 2.0, 0.95),
                                             ("m1", "mlp", 1.0, 0.7)]]
    fits = _fits({"lightgbm": two, "random_forest": one, "linear": Space(), "mlp": Space()}, trials)
    assert [f.name for f in fits] == ["lightgbm-rows1", "random_forest-rows1", "l2", "m1",
                                      "lightgbm-rows2", "l1"]


def test_the_shipped_all_rows_portfolios_are_within_their_spaces():
    # load_space validates the entries' keys; resolve keeps them for the search
    assert [e.params["num_leaves"] for e in
            load_space("lightgbm").resolve(100_000).all_rows_portfolio] == [167, 139]
    assert [e.params["min_samples_leaf"] for e in
            load_space("random_forest").resolve(100_000).all_rows_portfolio] == [1]
