"""Refit on train + validation: as long as the trial trained, never early-stopped again."""

from __future__ import annotations

import numpy as np
import pytest

from automl.budget import Budget
from automl.data.schema import prepare_features
from automl.data.split import KFOLD, table_dataset
from automl.ensemble.refit import refit_member, refit_members
from automl.metrics import get_metric
from automl.models.bagging import BaggedModel
from automl.models.registry import family_class
from automl.search.trial import fit_trial
from automl.preprocess import stage as preprocess
from automl.preprocess.stage import BranchData
from automl.serving.ensemble import Member
from tests.conftest import make_table


def make_branch_data() -> BranchData:
    """The trees branch fitted on the training part of make_table(400)."""
    return preprocess.branch_data(table_dataset(make_table(n=400), "y", valid_fraction=0.25, seed=0))


@pytest.fixture(scope="module")
def branch_data() -> dict[str, BranchData]:
    """The branch data by the preprocess node that made it: two nodes, one table."""
    data = make_branch_data()
    return {"trees": data, "other": data}


def trial_member(family: str, params: dict, data: BranchData, node: str = "trees") -> Member:
    """A member as a search leaves it: fitted on train, early-stopped on validation, reading
    preprocess node `node`."""
    model = family_class(family)(task="binary", n_classes=2, params=params,
                                 categorical=data.branch.categorical)
    model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid)
    return Member(f"{family}-trial", family, node, model, 1.0, params)


def test_xgboost_refits_with_the_rounds_early_stopping_kept(branch_data):
    data = branch_data["trees"]
    member = trial_member("xgboost", {"n_estimators": 400, "learning_rate": 0.3,
                                      "early_stopping_rounds": 10}, data)
    best_rounds = member.model.model_.best_iteration + 1
    assert best_rounds < 400  # early stopping did stop it
    refitted = refit_member(member, data, seed=0)
    assert refitted.model.n_rounds_ == best_rounds
    assert refitted.params["n_estimators"] == best_rounds
    # the oracle: the same family fitted by hand on all rows for that many rounds
    by_hand = family_class("xgboost")(task="binary", n_classes=2,
                                      params={**member.params, "n_estimators": best_rounds},
                                      categorical=data.branch.categorical)
    by_hand.fit(np.concatenate([data.X_train, data.X_valid]),
                np.concatenate([data.y_train, data.y_valid]))
    np.testing.assert_array_equal(refitted.model.predict_raw(data.X_valid),
                                  by_hand.predict_raw(data.X_valid))


def test_mlp_refits_for_the_epoch_it_kept(branch_data):
    data = branch_data["trees"]  # the mlp reads the trees branch through its own encoding
    member = trial_member("mlp", {"max_epochs": 60, "patience": 3, "width": 16}, data)
    assert member.model.trained_length() == {"max_epochs": member.model.best_epoch_}
    refitted = refit_member(member, data, seed=0)
    assert refitted.model.n_epochs_ == member.model.best_epoch_


def test_forest_and_linear_keep_their_size(branch_data):
    forest = trial_member("random_forest", {"n_estimators": 30}, branch_data["trees"])
    assert forest.model.trained_length() == {"n_estimators": 30}
    assert len(refit_member(forest, branch_data["trees"], seed=0).model.model_.estimators_) == 30
    linear = trial_member("linear", {"C": 0.5}, branch_data["trees"])
    assert linear.model.trained_length() == {}
    assert refit_member(linear, branch_data["trees"], seed=0).params == {"C": 0.5}


def test_members_without_data_or_time_stay_as_validated(branch_data):
    trees, other = branch_data["trees"], branch_data["other"]
    members = [trial_member("xgboost", {"n_estimators": 20}, trees),
               trial_member("linear", {"C": 1.0}, other, node="other")]
    lines = []
    # only the node 'trees' is an input: the linear member, of 'other', has no data to refit on
    refitted, count = refit_members(members, {"trees": trees}, {}, seed=0,
                                    budget=Budget.unlimited(), log=lines.append)
    assert count == 1
    assert refitted[0].model is not members[0].model and refitted[1] is members[1]
    assert lines == ["refit: kept linear-trial (linear) as validated: "
                     "its branch 'other' is not an input of the ensemble node"]
    lines.clear()
    spent = Budget(0.001)
    refitted, count = refit_members(members, {"trees": trees, "other": other},
                                    {"xgboost-trial": 0.5, "linear-trial": 0.5},
                                    seed=0, budget=spent, log=lines.append)
    assert count == 0 and all(a is b for a, b in zip(refitted, members))
    assert all(line.endswith("as validated: not enough time left") for line in lines)


# ---- refit_full: a kfold trial's bagged model, refitted once on all training rows -------


@pytest.fixture(scope="module")
def bagged_trials():
    """xgboost and random_forest trials of a 5-fold search on make_table(500), the rows
    of another draw of the table to judge them on."""
    data = preprocess.table_branch_data(make_table(n=500), "y", method=KFOLD, n_folds=5)
    metric = get_metric("roc_auc", "binary")
    trials = [fit_trial(f"{family}-trial", family, params, data, metric)
              for family, params in (("xgboost", {"n_estimators": 300, "learning_rate": 0.1,
                                                  "early_stopping_rounds": 10}),
                                     ("random_forest", {"n_estimators": 40}))]
    fresh = make_table(n=1000, seed=1)
    X_new = data.branch.transform(prepare_features(fresh.drop(columns="y"), data.schema))
    return data, trials, X_new, data.schema.encode_target(fresh["y"]), metric


def test_refit_full_replaces_each_bagged_member_by_one_model(bagged_trials):
    data, trials, X_new, y_new, metric = bagged_trials
    members = [Member(t.trial_id, t.family, "trees", t.model, 0.5, t.params) for t in trials]
    assert all(isinstance(m.model, BaggedModel) and len(m.model) == 5 for m in members)
    lines = []
    refitted, count = refit_members(members, {"trees": data}, {}, seed=0,
                                    budget=Budget.unlimited(), log=lines.append,
                                    holdout=False, bagged=True)
    assert count == 2 and lines == []
    for old, new in zip(members, refitted):
        assert not isinstance(new.model, BaggedModel)  # one model in place of five
        assert new.params == {**old.params, **old.model.trained_length()}
        bagged, full = (metric.score(y_new, m.model.predict_raw(X_new)) for m in (old, new))
        assert full > bagged - 0.02, (old.family, bagged, full)  # as good, on new rows
    # as long as its folds trained (their best rounds, early stopping's patience left out)
    best_rounds = [m.trained_length()["n_estimators"] for m in members[0].model.models_]
    assert refitted[0].model.n_rounds_ == int(np.median(best_rounds))
    assert len(refitted[1].model.model_.estimators_) == 40


def test_without_refit_full_bagged_members_stay(bagged_trials):
    data, trials, *_ = bagged_trials
    member = Member("rf", "random_forest", "trees", trials[1].model, 1.0, trials[1].params)
    lines = []
    refitted, count = refit_members([member], {"trees": data}, {}, seed=0,
                                    budget=Budget.unlimited(), log=lines.append)
    assert count == 0 and refitted[0] is member
    assert lines == ["refit: kept rf (random_forest) as validated: a bagged model of k folds "
                     "already learned from every training row"]
    # a refit takes about 1/(k-1) of the trial's seconds (k fold fits on (k-1)/k of the rows)
    refitted, count = refit_members([member], {"trees": data}, {"rf": 40.0}, seed=0,
                                    budget=Budget(15.0), log=lines.append, bagged=True)
    assert count == 0 and lines[-1].endswith("not enough time left")  # needs 2 x 10 s
