"""Every family fits with sample weights: weights of one change nothing, and rows of weight
0 are left out of the fit (here half the rows with their labels turned around, which an
unweighted fit cannot tell from the rest). Real fits on small tables."""

from __future__ import annotations

import numpy as np
import pytest

from automl.models.registry import family_class

FAMILIES = ["lightgbm", "xgboost", "catboost", "random_forest", "extra_trees", "linear", "mlp"]
SMALL = {"lightgbm": {"n_estimators": 40}, "xgboost": {"n_estimators": 40},
         "catboost": {"iterations": 40, "learning_rate": 0.2}, "random_forest": {"n_estimators": 20},
         "extra_trees": {"n_estimators": 20}, "linear": {}, "mlp": {"max_epochs": 15}}


def _table(n: int, task: str, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    signal = 2 * X[:, 0] + X[:, 1]
    return X, (signal > 0).astype(np.int64) if task == "binary" else signal


def _model(key: str, task: str):
    return family_class(key)(task=task, n_classes=2 if task == "binary" else 0,
                             params=dict(SMALL[key]), seed=0, n_jobs=1)


# sklearn's forests draw their bootstrap by the weights when given (ones too): other trees,
# as good, so the forests are held to the second test only
@pytest.mark.parametrize("key", [k for k in FAMILIES if k not in ("random_forest", "extra_trees")])
def test_weights_of_one_change_nothing(key):
    X, y = _table(400, "binary", 0)
    X_valid, y_valid = _table(100, "binary", 1)
    plain = _model(key, "binary").fit(X, y, X_valid, y_valid)
    ones = _model(key, "binary").fit(X, y, X_valid, y_valid, sample_weight=np.ones(len(y)),
                                     valid_weight=np.ones(len(y_valid)))
    np.testing.assert_allclose(ones.predict_raw(X_valid), plain.predict_raw(X_valid), atol=1e-4)


@pytest.mark.parametrize("task", ["binary", "regression"])
@pytest.mark.parametrize("key", FAMILIES)
def test_rows_of_weight_zero_are_left_out(key, task):
    X, y = _table(600, task, 0)
    flipped = np.arange(len(y)) % 2 == 1  # half the rows say the opposite
    y_noisy = y.copy()
    y_noisy[flipped] = 1 - y[flipped] if task == "binary" else -y[flipped]
    weight = np.where(flipped, 0.0, 1.0)
    X_test, y_test = _table(300, task, 2)
    weighted = _model(key, task).fit(X, y_noisy, sample_weight=weight).predict_raw(X_test)
    plain = _model(key, task).fit(X, y_noisy).predict_raw(X_test)
    if task == "binary":
        right = (weighted.argmax(axis=1) == y_test).mean()
        assert right > 0.85 and right > (plain.argmax(axis=1) == y_test).mean() + 0.2
    else:
        error = np.abs(weighted - y_test).mean()
        assert error < 0.5 * np.abs(plain - y_test).mean()
