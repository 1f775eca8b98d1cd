"""Refit on train + validation: as long as the trial trained, never early-stopped again."""

from __future__ import annotations

import numpy as np
import pytest

from automl.budget import Budget
from automl.data.split import table_dataset
from automl.ensemble.refit import refit_member, refit_members
from automl.models.registry import family_class
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
