"""What the lightgbm and catboost families promise beyond the conformance suite: native
categoricals, odd categories at predict time, no files written, reports and trained
lengths that match a plain fit of the same number of rounds.

Real fits on small tables; the oracle for a round count is the library itself, fitted
again for exactly that many rounds without a validation part.
"""

from __future__ import annotations

import gc
import io
import pickle
import time

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from automl.budget import Budget
from automl.models.registry import family_class
from tests.conformance.helpers import synthetic

FAMILIES = ["lightgbm", "catboost"]
ROUNDS = {"lightgbm": "n_estimators", "catboost": "iterations"}
# Small models: a category's signal needs a categorical split, not a handful of thresholds.
# The learning rate is given: CatBoost would pick one from the number of iterations.
SMALL = {"lightgbm": {"n_estimators": 20, "num_leaves": 4},
         "catboost": {"iterations": 20, "depth": 2, "learning_rate": 0.1}}
# Stops early on the synthetic tables: a high learning rate and little patience.
EAGER = {"lightgbm": {"n_estimators": 500, "learning_rate": 0.5, "early_stopping_rounds": 5},
         "catboost": {"iterations": 500, "learning_rate": 0.5, "early_stopping_rounds": 5}}


def _model(key, task="binary", params=None, categorical=(0,), n_classes=2, seed=0):
    return family_class(key)(task=task, n_classes=n_classes, params=dict(params or SMALL[key]),
                             categorical=categorical, seed=seed, n_jobs=1)


def _category_table(n=3000, levels=60, seed=0):
    """Column 0: a category's code whose level alone decides the class (10% flipped);
    the levels that say yes are drawn at random, so the codes' order carries nothing."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, levels, size=n)
    yes = rng.permutation(levels)[: levels // 2]
    y = (np.isin(codes, yes) ^ (rng.random(n) < 0.1)).astype(int)
    X = np.column_stack([codes, rng.normal(size=n)]).astype(np.float32)
    return X[:2000], y[:2000], X[2000:], y[2000:]


def _fitted(key, task, params, report=None):
    data = synthetic(task, "trees")
    model = _model(key, task, params, data.branch.categorical, data.n_classes)
    return model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid, report=report), data


# ---- categoricals ----------------------------------------------------------------------


@pytest.mark.parametrize("key", FAMILIES)
def test_category_is_split_natively_and_beats_its_codes_read_as_numbers(key):
    X, y, X_valid, y_valid = _category_table()
    native = _model(key, categorical=(0,)).fit(X, y)
    as_numbers = _model(key, categorical=()).fit(X, y)
    native_auc = roc_auc_score(y_valid, native.predict_raw(X_valid)[:, 1])
    numbers_auc = roc_auc_score(y_valid, as_numbers.predict_raw(X_valid)[:, 1])
    assert native_auc > 0.85 and native_auc > numbers_auc + 0.03, (native_auc, numbers_auc)


def test_lightgbm_splits_the_category_column_by_sets_of_levels():
    X, y, _, _ = _category_table()  # 60 levels: native only when asked (many_levels_from 32)
    model = _model("lightgbm", params={**SMALL["lightgbm"], "many_levels": "native"}).fit(X, y)
    kinds = {s["decision_type"] for s in _splits(model.booster_.dump_model()) if s["split_feature"] == 0}
    assert kinds == {"=="}


def _splits(dump: dict):
    nodes = [tree["tree_structure"] for tree in dump["tree_info"]]
    while nodes:
        node = nodes.pop()
        if "split_feature" in node:
            yield node
            nodes += [node["left_child"], node["right_child"]]


def test_catboost_reads_the_category_columns_as_categories():
    data = synthetic("binary", "trees")
    model = _model("catboost", categorical=data.branch.categorical).fit(data.X_train, data.y_train)
    assert model.model_.get_cat_feature_indices() == list(data.branch.categorical)


@pytest.mark.parametrize("key", FAMILIES)
def test_unseen_and_missing_category_codes_at_predict(key):
    X, y, X_valid, _ = _category_table()
    model = _model(key).fit(X, y)
    odd = np.array([[999, 0.0], [np.nan, 0.0], [-1, 0.0], [np.nan, np.nan]], dtype=np.float32)
    proba = model.predict_raw(odd)
    assert proba.shape == (4, 2) and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_catboost_maps_a_missing_code_the_same_at_fit_and_predict():
    # NaN is a category of its own: rows whose category is missing learn their own rate
    X, y, _, _ = _category_table()
    X[:300, 0], y[:300] = np.nan, 1
    model = _model("catboost", params={"iterations": 50, "depth": 2}).fit(X, y)
    missing = np.array([[np.nan, 0.0]], dtype=np.float32)
    assert model.predict_raw(missing)[0, 1] > 0.9


# ---- files, pickles --------------------------------------------------------------------


def test_catboost_writes_no_files_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model, data = _fitted("catboost", "multiclass", {"iterations": 30}, report=lambda r, p: None)
    model.predict_raw(data.X_valid)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", FAMILIES)
def test_pickle_holds_no_hooks_of_the_fit(key):
    model, data = _fitted(key, "binary", SMALL[key], report=lambda r, p: None)  # a lambda: unpicklable
    loader = _ClassesLoaded(io.BytesIO(pickle.dumps(model)))
    loaded = loader.load()
    assert not [name for name in loader.names if "Progress" in name or "Budget" in name]
    np.testing.assert_array_equal(loaded.predict_raw(data.X_valid), model.predict_raw(data.X_valid))


def test_catboost_keeps_no_hooks_in_memory_after_the_fit():
    model, _ = _fitted("catboost", "binary", SMALL["catboost"], report=lambda r, p: None)
    gc.collect()
    assert not [o for o in gc.get_objects() if type(o).__name__ == "_Progress"]
    assert model.model_.get_params()["eval_metric"] == "Logloss"


class _ClassesLoaded(pickle.Unpickler):
    """Records the classes and functions a pickle refers to."""

    def __init__(self, file):
        super().__init__(file)
        self.names = []

    def find_class(self, module, name):
        self.names.append(f"{module}.{name}")
        return super().find_class(module, name)


# ---- reports and trained length ---------------------------------------------------------


@pytest.mark.parametrize("key", FAMILIES)
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_each_report_is_the_model_of_that_round(key, task):
    reports = []
    params = {**SMALL[key], "early_stopping_rounds": 1000}
    _fitted(key, task, params, report=lambda r, p: reports.append((r, p)))
    rounds, prediction = reports[len(reports) // 2]
    plain, data = _plain_fit(key, task, {**params, ROUNDS[key]: rounds})
    np.testing.assert_allclose(prediction, plain.predict_raw(data.X_valid), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("key", FAMILIES)
def test_reports_cover_every_validation_row_when_a_class_is_missing_from_training(key):
    data = synthetic("multiclass", "trees")
    keep = data.y_train != 2
    reports = []
    model = _model(key, "multiclass", SMALL[key], data.branch.categorical, n_classes=3)
    model.fit(data.X_train[keep], data.y_train[keep], data.X_valid, data.y_valid,
              report=lambda r, p: reports.append(p))
    assert reports and all(p.shape == (len(data.y_valid), 3) for p in reports)


@pytest.mark.parametrize("key", FAMILIES)
def test_trained_length_repeats_the_early_stopped_fit(key):
    stopped, data = _fitted(key, "binary", EAGER[key])
    length = stopped.trained_length()
    assert 0 < length[ROUNDS[key]] < EAGER[key][ROUNDS[key]]
    again, _ = _plain_fit(key, "binary", {**EAGER[key], **length})
    assert again.trained_length() == length
    np.testing.assert_allclose(again.predict_raw(data.X_valid), stopped.predict_raw(data.X_valid),
                               rtol=1e-6, atol=1e-9)


def _plain_fit(key, task, params):
    """The same training rows without a validation part: no early stopping, no reports."""
    data = synthetic(task, "trees")
    model = _model(key, task, params, data.branch.categorical, data.n_classes)
    return model.fit(data.X_train, data.y_train), data


@pytest.mark.parametrize("key", FAMILIES)
def test_a_fit_cut_by_its_time_limit_keeps_the_best_round_not_the_last(key):
    # Patience never runs out: only the time limit ends this fit, after a second of rounds
    # (hundreds at least, for trees this small), while the validation loss is best early.
    params = {**SMALL[key], **EAGER[key], ROUNDS[key]: 100_000_000,
              "early_stopping_rounds": 100_000_000}
    data = synthetic("binary", "trees")
    model = _model(key, "binary", params, data.branch.categorical)
    started = time.monotonic()
    model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid, budget=Budget(1.0))
    assert time.monotonic() - started >= 0.9
    length = model.trained_length()
    assert length[ROUNDS[key]] < 50
    again, _ = _plain_fit(key, "binary", {**params, **length})
    np.testing.assert_allclose(again.predict_raw(data.X_valid), model.predict_raw(data.X_valid),
                               rtol=1e-6, atol=1e-9)
