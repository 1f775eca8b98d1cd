"""What individual families promise beyond the shared contract (test_families.py)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.ensemble import ExtraTreesRegressor, RandomForestClassifier

from automl.budget import Budget
from automl.errors import ConfigError
from automl.models.registry import family_class

from .helpers import synthetic


def _fit(key, task, params, seed=0, **fit_args):
    data = synthetic(task, family_class(key).branch)
    model = family_class(key)(task=task, n_classes=data.n_classes, params=params,
                              categorical=data.branch.categorical, seed=seed, n_jobs=1)
    return model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid, **fit_args), data


# ---- forests ---------------------------------------------------------------------------


@pytest.mark.parametrize("key, task, oracle", [
    ("random_forest", "multiclass", RandomForestClassifier),
    ("extra_trees", "regression", ExtraTreesRegressor),
])
def test_forest_grown_in_chunks_equals_one_sklearn_fit(key, task, oracle):
    params = {"n_estimators": 37, "min_samples_leaf": 2, "max_features": 0.5}
    model, data = _fit(key, task, params, seed=3)
    reference = oracle(**params, random_state=3, n_jobs=1).fit(data.X_train, data.y_train)
    expected = reference.predict_proba if task == "multiclass" else reference.predict
    np.testing.assert_allclose(model.predict_raw(data.X_valid), expected(data.X_valid))
    assert model.n_rounds_ == 37


def test_forest_last_report_is_the_final_prediction():
    reports = []
    model, data = _fit("extra_trees", "binary", {"n_estimators": 25},
                       report=lambda r, p: reports.append((r, p)))
    assert reports[-1][0] == 25
    np.testing.assert_allclose(reports[-1][1], model.predict_raw(data.X_valid))


def test_forest_cut_by_its_time_limit_keeps_the_trees_grown():
    model, data = _fit("random_forest", "binary", {"n_estimators": 1_000_000}, budget=Budget(0.5))
    assert 0 < model.n_rounds_ < 1_000_000
    assert model.model_.n_estimators == model.n_rounds_


def test_forest_stops_growing_at_its_size_cap(monkeypatch):
    from automl.models import forest_base

    full, _ = _fit("extra_trees", "regression", {"n_estimators": 40})
    cap = forest_base.forest_bytes(full.model_) // 4  # room for about 10 of the 40 trees
    monkeypatch.setattr(forest_base, "MAX_FOREST_BYTES", cap)
    capped, _ = _fit("extra_trees", "regression", {"n_estimators": 40})
    assert 4 <= capped.n_rounds_ < 40
    assert forest_base.forest_bytes(capped.model_) <= cap * 1.2  # trees differ a little in size


# ---- linear ----------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_linear_l1_gives_exact_zeros_and_l2_does_not(task):
    sparse, _ = _fit("linear", task, {"penalty": "l1", "C": 0.002})
    dense, _ = _fit("linear", task, {"penalty": "l2", "C": 0.002})
    assert np.sum(sparse.model_.coef_ == 0) > 0
    assert np.sum(dense.model_.coef_ == 0) == 0


def test_linear_refuses_an_unknown_penalty():
    with pytest.raises(ConfigError, match="penalty must be one of l2, l1, elasticnet, got 'l3'"):
        _fit("linear", "binary", {"penalty": "l3"})


# ---- mlp -------------------------------------------------------------------------------


def test_mlp_refuses_an_unknown_activation():
    with pytest.raises(ConfigError, match="activation must be one of .* got 'sigmoidish'"):
        _fit("mlp", "binary", {"activation": "sigmoidish"})


def test_mlp_stops_early_when_validation_stops_improving():
    params = {"width": 256, "learning_rate": 0.03, "dropout": 0.0, "max_epochs": 300, "patience": 3}
    model, _ = _fit("mlp", "regression", params)
    assert model.n_epochs_ < 300
    assert model.n_epochs_ == model.best_epoch_ + 3


def test_mlp_pickle_holds_numpy_weights_and_no_torch_object():
    model, _ = _fit("mlp", "binary", {"n_layers": 1, "width": 8, "max_epochs": 2})
    model.predict_raw(synthetic("binary", "trees").X_valid[:2])  # builds the cached network
    assert b"torch" not in pickle.dumps(model)


def test_mlp_leaves_torch_threads_and_random_state_as_they_were():
    threads, rng_state = torch.get_num_threads(), torch.get_rng_state()
    model, data = _fit("mlp", "multiclass", {"n_layers": 1, "width": 8, "max_epochs": 2})
    model.predict_raw(data.X_valid)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.get_rng_state(), rng_state)


def test_mlp_seed_changes_the_model():
    params = {"n_layers": 1, "width": 8, "max_epochs": 2}
    first, data = _fit("mlp", "binary", params, seed=0)
    second, _ = _fit("mlp", "binary", params, seed=1)
    assert not np.array_equal(first.predict_raw(data.X_valid), second.predict_raw(data.X_valid))
