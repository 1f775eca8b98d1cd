"""Large tables: trials learn from a sample of the rows where that pays, the same rows in
every branch, classes kept in proportion; the best are refitted first per family."""

from __future__ import annotations

import numpy as np

from automl.config import PreprocessParams
from automl.data.schema import infer_schema, prepare_features
from automl.data.split import KFOLD, split_dataset
from automl.preprocess.branches import build_branch
from automl.preprocess.stage import BranchData
from automl.search.sampled import _worth_fitting, sample_for_trials
from automl.search.trial import TrialResult
from tests.conftest import make_table


def _branches(n: int, method: str = "holdout") -> dict[str, BranchData]:
    frame = make_table(n=n)
    schema = infer_schema(frame, "y")
    data = split_dataset(prepare_features(frame, schema), schema.encode_target(frame["y"]),
                         schema, 0.2, 0.0, seed=0, method=method)
    out = {}
    for name in ("trees", "dense"):
        branch, X = build_branch(PreprocessParams(branch=name), schema, data.X_train, data.y_train)
        valid = None if data.X_valid is None else branch.transform(data.X_valid)
        out[name] = BranchData(branch, schema, X, data.y_train, valid, data.y_valid, data.validation)
    return out


def test_trials_learn_from_a_sample_of_the_same_rows_in_every_branch():
    branches = _branches(2_000)  # 1,600 training rows
    sampled = sample_for_trials(branches, 500, seed=0)
    trees, dense = sampled["trees"], sampled["dense"]
    assert len(trees.y_train) == len(dense.y_train) == 500
    np.testing.assert_array_equal(trees.y_train, dense.y_train)
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
