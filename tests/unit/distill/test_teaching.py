"""The distillation's labels and judged rows: the students are judged on rows that no
model they learn from ever saw (under k-fold, one fold, labelled by the fold models that
left it out; under a holdout, the validation part), with the true label mixed in if asked."""

from __future__ import annotations

import numpy as np
import pytest

from automl.config import DistillParams, PreprocessParams
from automl.data.schema import infer_schema, prepare_features
from automl.data.split import HOLDOUT, KFOLD, split_dataset
from automl.distill.teaching import JUDGE_FOLD, lessons
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


@pytest.mark.parametrize("fold", [JUDGE_FOLD, 2])  # the screening's fold, and a cross-fit's
def test_kfold_students_are_judged_on_a_fold_no_labelling_model_saw(fold):
    dataset, trees, search, trial = _teacher(KFOLD)
    lesson = lessons(dataset, trees, search, DistillParams(multiplier=1.0), seed=0, fold=fold)
    assert lesson.fold == fold
    learn, judge = dataset.validation.fold_rows(fold)
    rows = [dataset.X_train.index.get_loc(i) for i in lesson.real.index]
    judged = [dataset.X_train.index.get_loc(i) for i in lesson.valid.index]
    assert rows == list(learn) and judged == list(judge)
    # every label comes from the fold model that left the judged fold out, synthetic rows'
    # too; on the judged rows that model's output is the out-of-fold output
    fold_model = trial.model.models_[fold]
    np.testing.assert_allclose(lesson.targets, fold_model.predict_raw(lesson.Z), rtol=1e-6)
    np.testing.assert_allclose(lesson.teacher_valid, trial.valid_prediction[judged], rtol=1e-6)
    # out-of-fold labels would have come from fold models that learned the judged rows
    assert not np.allclose(lesson.targets[:lesson.n_real], trial.valid_prediction[rows])
    assert len(lesson.Z) == 2 * lesson.n_real  # synthetic rows, as many as the real ones
    assert "left out the judged fold" in lesson.labels


def test_kfold_teacher_without_fold_models_falls_back_to_out_of_fold_labels():
    dataset, trees, search, trial = _teacher(KFOLD)
    trial.model = trial.model.models_[0]  # as a refitted member: one model, no folds
    lesson = lessons(dataset, trees, search, DistillParams(multiplier=0.0), seed=0)
    rows = [dataset.X_train.index.get_loc(i) for i in lesson.real.index]
    np.testing.assert_allclose(lesson.targets, trial.valid_prediction[rows])  # out of fold
    assert "flattering" in lesson.labels
    assert lesson.fold is None  # so nothing is cross-fitted on those labels


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
    assert lesson.fold is None  # one judged part: nothing to cross-fit


def test_synthetic_rows_stop_at_the_lesson_rows_cap():
    from automl.distill.teaching import synthetic_multiplier

    assert synthetic_multiplier(2.0, 1_000, 100_000) == 2.0  # small table: as asked
    assert synthetic_multiplier(2.0, 80_000, 100_000) == 0.25  # 20,000 synthetic rows
    assert synthetic_multiplier(2.0, 150_000, 100_000) == 0.0  # past the cap: none
