"""The distillation's labels: under k-fold validation a training row is labelled only by
fold models that never learned from it; under a holdout, by the teacher, with the true
label mixed in if asked."""

from __future__ import annotations

import numpy as np
import pytest

from automl.compress.teaching import lessons
from automl.config import DistillParams, PreprocessParams
from automl.data.schema import infer_schema, prepare_features
from automl.data.split import HOLDOUT, KFOLD, split_dataset
from automl.metrics import get_metric
from automl.preprocess.branches import build_branch
from automl.preprocess.stage import BranchData
from automl.search.result import SearchResult
from automl.search.trial import fit_trial
from tests.conftest import make_table

AUC = get_metric("roc_auc", "binary")


def _teacher(method: str):
    """A real search result of one xgboost trial, validated as `method` says."""
    frame = make_table(n=500)
    schema = infer_schema(frame, "y")
    dataset = split_dataset(prepare_features(frame, schema), schema.encode_target(frame["y"]),
                            schema, 0.2, 0.0, seed=0, method=method)
    branch, X = build_branch(PreprocessParams(branch="trees"), schema, dataset.X_train,
                             dataset.y_train)
    valid = None if dataset.X_valid is None else branch.transform(dataset.X_valid)
    trees = BranchData(branch, schema, X, dataset.y_train, valid, dataset.y_valid,
                       dataset.validation)
    trial = fit_trial("t", "xgboost", {"n_estimators": 40, "max_depth": 4}, trees, AUC)
    search = SearchResult(schema, "roc_auc", {"trees": branch}, {"xgboost": "trees"}, [trial],
                          trees.y_scored, dataset.validation.describe())
    return dataset, trees, search, trial


def test_kfold_labels_come_only_from_fold_models_that_never_saw_the_row():
    dataset, trees, search, trial = _teacher(KFOLD)
    lesson = lessons(dataset, trees, search, DistillParams(multiplier=1.0), seed=0)
    real = lesson.targets[:lesson.n_real]
    rows = [dataset.X_train.index.get_loc(i) for i in lesson.real.index]
    np.testing.assert_allclose(real, trial.valid_prediction[rows])  # the out-of-fold output
    for fold, model in enumerate(trial.model.models_):
        _, held = dataset.validation.fold_rows(fold)
        mine = np.isin(rows, held)
        np.testing.assert_allclose(real[mine], model.predict_raw(trees.X_train[np.array(rows)[mine]]))
    in_sample = search.predictor().predict_features(lesson.real)
    assert not np.allclose(real, in_sample)  # the whole bag saw every row: not what is taught
    # the judged rows are training rows the students do not learn from, with the OOF output
    judged = [dataset.X_train.index.get_loc(i) for i in lesson.valid.index]
    assert not set(judged) & set(rows)
    np.testing.assert_allclose(lesson.teacher_valid, trial.valid_prediction[judged])
    assert len(lesson.Z) == 2 * lesson.n_real  # synthetic rows, as many as the real ones


@pytest.mark.parametrize("share", [0.0, 0.5])
def test_holdout_labels_are_the_teachers_with_the_true_label_mixed_in(share):
    dataset, trees, search, _ = _teacher(HOLDOUT)
    lesson = lessons(dataset, trees, search, DistillParams(multiplier=0.0, hard_labels=share),
                     seed=0)
    teacher = search.predictor().predict_features(dataset.X_train)
    truth = np.eye(2)[dataset.y_train]
    np.testing.assert_allclose(lesson.targets, (1 - share) * teacher + share * truth)
    np.testing.assert_allclose(lesson.teacher_valid,
                               search.predictor().predict_features(dataset.X_valid))


def test_synthetic_rows_stop_at_the_lesson_rows_cap():
    from automl.compress.teaching import synthetic_multiplier

    assert synthetic_multiplier(2.0, 1_000, 100_000) == 2.0  # small table: as asked
    assert synthetic_multiplier(2.0, 80_000, 100_000) == 0.25  # 20,000 synthetic rows
    assert synthetic_multiplier(2.0, 150_000, 100_000) == 0.0  # past the cap: none
