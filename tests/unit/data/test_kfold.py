"""k-fold validation: folds partition the rows, a trial's out-of-fold predictions cover
every training row exactly once, each from the fold model that never saw it."""

from __future__ import annotations

import numpy as np
import pytest

from automl.config import IngestParams, PreprocessParams
from automl.data.schema import infer_schema, prepare_features
from automl.data.split import HOLDOUT, KFOLD, assign_folds, split_dataset
from automl.data.stage import valid_share, validation_method
from automl.metrics import get_metric
from automl.models.bagging import BaggedModel
from automl.preprocess.branches import build_branch
from automl.preprocess.stage import BranchData
from automl.search.trial import fit_trial
from tests.conftest import make_table


def _branch_data(task: str, n: int = 300, folds: int = 5) -> BranchData:
    frame = make_table(n=n, task=task)
    schema = infer_schema(frame, "y")
    data = split_dataset(prepare_features(frame, schema), schema.encode_target(frame["y"]),
                         schema, 0.2, 0.0, seed=0, method=KFOLD, n_folds=folds)
    branch, X = build_branch(PreprocessParams(branch="trees"), schema, data.X_train, data.y_train)
    return BranchData(branch, schema, X, data.y_train, None, None, data.validation)


def test_folds_partition_the_rows_and_stratify_classes():
    y = np.array([0] * 50 + [1] * 30 + [2] * 20)
    folds = assign_folds(y, "multiclass", 5, seed=0)
    assert sorted(np.unique(folds)) == [0, 1, 2, 3, 4]
    for fold in range(5):
        counts = np.bincount(y[folds == fold], minlength=3)
        assert counts.tolist() == [10, 6, 4]  # each class spread evenly
    rare = np.array([0] * 50 + [1] * 3)  # a class too rare for every fold: plain k-fold
    assert len(np.unique(assign_folds(rare, "binary", 5, seed=0))) == 5


@pytest.mark.parametrize("task, metric", [("binary", "roc_auc"), ("multiclass", "log_loss"),
                                          ("regression", "rmse")])
def test_out_of_fold_predictions_cover_every_row_once_from_the_model_that_left_it_out(task, metric):
    data = _branch_data(task)
    metric = get_metric(metric, task)
    interim = []
    result = fit_trial("t", "xgboost", {"n_estimators": 30, "max_depth": 3}, data, metric,
                       report=interim.append)
    assert result.status == "ok", result.error
    model, oof = result.model, result.valid_prediction
    assert isinstance(model, BaggedModel) and len(model) == 5
    assert len(oof) == len(data.y_train)
    covered = np.zeros(len(data.y_train), dtype=int)
    for fold, fold_model in enumerate(model.models_):
        learn, held = data.validation.fold_rows(fold)
        assert not set(learn) & set(held)
        covered[held] += 1
        np.testing.assert_allclose(oof[held], fold_model.predict_raw(data.X_train[held]))
    assert (covered == 1).all()  # every training row predicted exactly once
    assert result.score == pytest.approx(metric.score(data.y_train, oof))
    assert len(interim) == 4  # the scheduler hears the score after each fold but the last
    # the bagged model predicts new rows as the mean of its fold models
    mean = np.mean([m.predict_raw(data.X_train[:7]) for m in model.models_], axis=0)
    np.testing.assert_allclose(model.predict_raw(data.X_train[:7]), mean)


def test_auto_validation_goes_by_the_table_size():
    params = IngestParams(kfold_max_rows=1000)
    assert validation_method(params, 999)[0] == KFOLD
    assert validation_method(params, 5000)[0] == HOLDOUT
    assert validation_method(IngestParams(validation="holdout"), 50)[0] == HOLDOUT
    method, why = validation_method(IngestParams(test_fraction=0.5, kfold_max_rows=1000), 1800)
    assert method == KFOLD and "900 rows" in why  # the test part is not trained on


def test_a_large_tables_validation_part_stops_at_max_valid_rows():
    params = IngestParams(max_valid_rows=20_000)
    assert valid_share(params, 100_000) == 0.2  # 20,000 rows: at the cap
    assert valid_share(params, 1_000_000) * 1_000_000 == pytest.approx(20_000)
    with_test = IngestParams(max_valid_rows=20_000, test_fraction=0.5)
    assert valid_share(with_test, 1_000_000) * 500_000 == pytest.approx(20_000)
    assert valid_share(IngestParams(max_valid_rows=None), 10**7) == 0.2
