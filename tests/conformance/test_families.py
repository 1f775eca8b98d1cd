"""Every registered family, on every task, passes the same checks.

Inputs come through the real preprocess branch of the family (tables.py). A family that
does not support a task must say so in `tasks` and refuse it with a ConfigError.
"""

from __future__ import annotations

import time

import joblib
import numpy as np
import pytest

from automl.config import FITTED_BRANCH
from automl.budget import Budget
from automl.errors import ConfigError
from automl.metrics import TASKS
from automl.models.base import REPORTS_PER_FIT
from automl.models.registry import family_class, family_space

from .helpers import FAMILIES, check_output, synthetic

# Small configs: a fit takes well under a second on the synthetic tables.
SMALL = {
    "xgboost": {"n_estimators": 20, "max_depth": 3},
    "lightgbm": {"n_estimators": 20, "num_leaves": 8},
    "catboost": {"iterations": 20, "depth": 3},
    "random_forest": {"n_estimators": 10},
    "extra_trees": {"n_estimators": 10},
    "linear": {"C": 1.0},
    "mlp": {"n_layers": 1, "width": 16, "max_epochs": 5},
    "tabm": {"k": 4, "n_blocks": 1, "d_block": 16, "max_epochs": 5},
    "student_gbdt": {"n_estimators": 20, "max_depth": 3},
    "student_lgbm": {"n_estimators": 20, "num_leaves": 8},
    "student_mlp": {"n_layers": 1, "width": 16, "max_epochs": 5},
}
# Configs that would run far longer than TIME_LIMIT (minutes at least) on the synthetic tables.
SLOW = {
    "xgboost": {"n_estimators": 1_000_000, "learning_rate": 0.0001, "max_depth": 8,
                "early_stopping_rounds": 1_000_000},
    "lightgbm": {"n_estimators": 100_000_000, "learning_rate": 0.0001, "num_leaves": 64,
                 "min_child_samples": 2, "early_stopping_rounds": 100_000_000},
    "catboost": {"iterations": 100_000_000, "learning_rate": 0.0001, "depth": 8,
                 "early_stopping_rounds": 100_000_000},
    "random_forest": {"n_estimators": 1_000_000, "min_samples_leaf": 1},
    "extra_trees": {"n_estimators": 1_000_000, "min_samples_leaf": 1},
    "linear": {"penalty": "l1", "C": 1000.0, "tol": 0.0, "max_iter": 10**9},
    "mlp": {"n_layers": 3, "width": 128, "batch_size": 8, "max_epochs": 1_000_000,
            "patience": 1_000_000},
    "tabm": {"k": 32, "n_blocks": 3, "d_block": 256, "batch_size": 8, "max_epochs": 1_000_000,
             "patience": 1_000_000},
    "student_gbdt": {"n_estimators": 1_000_000, "max_depth": 6, "learning_rate": 0.0001},
    "student_lgbm": {"n_estimators": 100_000_000, "num_leaves": 64, "learning_rate": 0.0001,
                     "min_child_samples": 2},
    "student_mlp": {"n_layers": 2, "width": 128, "learning_rate": 1e-5, "max_epochs": 1_000_000},
}
# Iterative families plan 19 rounds here: a count that no naive "every n // 10 rounds"
# schedule keeps within REPORTS_PER_FIT reports.
AWKWARD_ROUNDS = {
    "xgboost": {"n_estimators": 19, "max_depth": 2, "early_stopping_rounds": 1000},
    "lightgbm": {"n_estimators": 19, "num_leaves": 4, "early_stopping_rounds": 1000},
    "catboost": {"iterations": 19, "depth": 2, "early_stopping_rounds": 1000},
    "random_forest": {"n_estimators": 19},
    "extra_trees": {"n_estimators": 19},
    "linear": {"max_iter": 19},
    "mlp": {"n_layers": 1, "width": 8, "max_epochs": 19, "patience": 1000},
    "tabm": {"k": 4, "n_blocks": 1, "d_block": 8, "max_epochs": 19, "patience": 1000},
    "student_gbdt": {"n_estimators": 19, "max_depth": 2},
    "student_lgbm": {"n_estimators": 19, "num_leaves": 4},
    "student_mlp": {"n_layers": 1, "width": 8, "max_epochs": 19},
}
TIME_LIMIT = 1.0
# A fit may overrun its limit by at most one unit of work (a chunk of trees, a boosting
# round, a batch, a chunk of solver iterations) plus the final bookkeeping. 1.5 s leaves
# room for a shared 2-core machine; a family that ignores the limit runs for minutes.
TIME_MARGIN = 1.5

CASES = [(key, task) for key in FAMILIES for task in TASKS]


def _family(key: str, task: str, data, params: dict | None = None, seed: int = 0):
    cls = family_class(key)
    if task not in cls.tasks:
        pytest.skip(f"family {key!r} declares it does not support {task}")
    params = SMALL[key] if params is None else params
    return cls(task=task, n_classes=data.n_classes, params=dict(params),
               categorical=data.branch.categorical, seed=seed, n_jobs=1)


def _fitted(key: str, task: str, params: dict | None = None, seed: int = 0, **fit_args):
    data = synthetic(task, family_class(key).branch)
    model = _family(key, task, data, params, seed)
    return model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid, **fit_args), data


def test_every_family_has_test_configs():
    missing = [k for k in FAMILIES if not all(k in c for c in (SMALL, SLOW, AWKWARD_ROUNDS))]
    assert not missing, f"add SMALL, SLOW and AWKWARD_ROUNDS configs for {missing} in {__file__}"


@pytest.mark.parametrize("key", FAMILIES)
def test_search_space_uses_only_the_family_params(key):
    cls = family_class(key)
    space = family_space(key).resolve(n_rows=10_000)
    assert set(space.default) <= set(cls.allowed_params)
    assert set(space.params) <= set(cls.allowed_params)
    # the default trial is exactly the declared config only if it names every searched param
    assert set(space.params) <= set(space.default), "give every searched param a default"
    assert cls.branch in FITTED_BRANCH.values()  # a branch a preprocess node fits


@pytest.mark.parametrize("key, task", CASES)
def test_shapes_and_probabilities(key, task):
    model, data = _fitted(key, task)
    check_output(model.predict_raw(data.X_valid), len(data.y_valid), task, data.n_classes)
    assert model.predict_raw(data.X_valid[:1]).shape[0] == 1


@pytest.mark.parametrize("key, task", CASES)
def test_unseen_categories_and_missing_values_at_predict(key, task):
    model, data = _fitted(key, task)
    raw = data.raw_valid.head(4).copy()
    raw.loc[raw.index[0], ["color", "city"]] = ["ultraviolet", "atlantis"]  # never seen
    raw.loc[raw.index[1], ["size", "color"]] = [np.nan, np.nan]
    raw.loc[raw.index[2], :] = np.nan  # every column missing
    check_output(model.predict_raw(data.encode(raw)), 4, task, data.n_classes)


@pytest.mark.parametrize("key, task", CASES)
def test_fits_and_predicts_on_read_only_arrays(key, task):
    # Ray's object store hands trials zero-copy, read-only arrays.
    data = synthetic(task, family_class(key).branch)
    frozen = [np.array(a) for a in (data.X_train, data.y_train, data.X_valid, data.y_valid)]
    for array in frozen:
        array.flags.writeable = False
    model = _family(key, task, data).fit(*frozen)
    check_output(model.predict_raw(frozen[2]), len(data.y_valid), task, data.n_classes)


@pytest.mark.parametrize("key, task", CASES)
def test_joblib_round_trip_gives_identical_predictions(key, task, tmp_path):
    model, data = _fitted(key, task)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict_raw(data.X_valid), model.predict_raw(data.X_valid))


@pytest.mark.parametrize("key, task", CASES)
def test_same_seed_gives_same_predictions(key, task):
    first, data = _fitted(key, task, seed=7)
    second, _ = _fitted(key, task, seed=7)
    np.testing.assert_array_equal(first.predict_raw(data.X_valid), second.predict_raw(data.X_valid))


@pytest.mark.parametrize("key, task", CASES)
def test_time_limit_is_respected(key, task):
    data = synthetic(task, family_class(key).branch)
    model = _family(key, task, data, SLOW[key])
    started = time.monotonic()
    model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid, budget=Budget(TIME_LIMIT))
    elapsed = time.monotonic() - started
    # the lower bound shows the config was still running at the limit, so the limit cut it
    assert 0.9 * TIME_LIMIT <= elapsed <= TIME_LIMIT + TIME_MARGIN, f"fit took {elapsed:.2f}s"
    check_output(model.predict_raw(data.X_valid), len(data.y_valid), task, data.n_classes)


@pytest.mark.parametrize("key, task", CASES)
def test_unknown_param_is_refused(key, task):
    data = synthetic(task, family_class(key).branch)
    model = _family(key, task, data, {**SMALL[key], "no_such_param": 1})
    with pytest.raises(ConfigError, match=rf"family '{key}' has no parameter 'no_such_param'"):
        model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid)


@pytest.mark.parametrize("key, task", CASES)
def test_progress_reports(key, task):
    rounds, predictions = [], []
    model, data = _fitted(key, task, AWKWARD_ROUNDS[key],
                          report=lambda r, p: (rounds.append(r), predictions.append(p)))
    if not model.iterative:
        assert rounds == [], "a family that is not iterative must not report"
        return
    # the search's scheduler (ASHA) ends a trial at REPORTS_PER_FIT + 1 reports
    assert 1 <= len(rounds) <= REPORTS_PER_FIT
    assert rounds == sorted(set(rounds))
    for prediction in predictions:
        check_output(prediction, len(data.y_valid), task, data.n_classes)


@pytest.mark.parametrize("key", FAMILIES)
def test_class_missing_from_training_still_gets_a_column(key):
    data = synthetic("multiclass", family_class(key).branch)
    keep = data.y_train != 2
    model = _family(key, "multiclass", data)
    model.fit(data.X_train[keep], data.y_train[keep], data.X_valid, data.y_valid)
    check_output(model.predict_raw(data.X_valid), len(data.y_valid), "multiclass", 3)


@pytest.mark.parametrize("key", FAMILIES)
def test_unsupported_tasks_are_refused(key):
    cls = family_class(key)
    assert set(cls.tasks) <= set(TASKS) and cls.tasks
    for task in set(TASKS) - set(cls.tasks):
        data = synthetic(task, cls.branch)
        model = cls(task=task, n_classes=data.n_classes, params=SMALL[key])
        with pytest.raises(ConfigError, match="does not support"):
            model.fit(data.X_train, data.y_train)
