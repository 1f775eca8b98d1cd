"""LightGBM's many-level categories (automl/models/many_levels.py): what each mode hands the
booster, that target encoding never reads a row's own label, and the searched choice.

Real fits on small tables; the oracle for an encoding is the counting done here by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from automl.errors import ConfigError
from automl.models.many_levels import MODES, fit_coding, lookup
from automl.models.registry import family_class, family_space

SMALL = {"n_estimators": 20, "num_leaves": 8}


def _table(n=3000, levels=300, seed=0):
    """Column 0: a category of `levels` levels, half of them saying yes (10% flipped);
    column 1: a category of 3 levels; column 2: noise. NaN codes in column 0 now and then."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, levels, size=n).astype(np.float32)
    yes = rng.permutation(levels)[: levels // 2]
    y = (np.isin(codes, yes) ^ (rng.random(n) < 0.1)).astype(int)
    codes[rng.random(n) < 0.03] = np.nan
    X = np.column_stack([codes, rng.integers(0, 3, size=n), rng.normal(size=n)]).astype(np.float32)
    return X, y


def _model(mode, task="binary", start=50, n_classes=2, **params):
    return family_class("lightgbm")(
        task=task, n_classes=n_classes, categorical=(0, 1),
        params={**SMALL, "many_levels": mode, "many_levels_from": start, **params})


def _split_kinds(model, feature: int) -> set[str]:
    nodes = [tree["tree_structure"] for tree in model.booster_.dump_model()["tree_info"]]
    kinds = set()
    while nodes:
        node = nodes.pop()
        if "split_feature" in node:
            if node["split_feature"] == feature:
                kinds.add(node["decision_type"])
            nodes += [node["left_child"], node["right_child"]]
    return kinds


@pytest.mark.parametrize("mode", ["codes", "frequency", "target"])
def test_a_many_level_column_leaves_the_native_splits_and_a_few_level_one_stays(mode):
    X, y = _table()
    model = _model(mode).fit(X, y)
    assert model.level_coding_.columns == (0,)
    assert _split_kinds(model, 0) == {"<="}
    native = _model("native").fit(X, y)
    assert native.level_coding_.columns == () and _split_kinds(native, 0) == {"=="}


def test_below_the_threshold_a_column_stays_native():
    X, y = _table(levels=40)
    assert _model("frequency", start=41).fit(X, y).level_coding_.columns == ()
    assert _model("frequency", start=40).fit(X, y).level_coding_.columns == (0,)


def test_codes_hand_the_booster_the_codes_themselves():
    X, y = _table()
    model = _model("codes").fit(X, y)
    assert model.level_coding_.tables == ()
    np.testing.assert_array_equal(model.booster_input(X), X)


def test_frequency_is_each_levels_share_of_the_training_rows():
    X, y = _table()
    model = _model("frequency").fit(X, y)
    rows = np.array([[7, 0, 0], [np.nan, 1, 0], [10_000, 2, 0]], dtype=np.float32)
    seen = model.booster_input(rows)
    share = np.mean(X[:, 0] == 7)
    assert seen[0, 0] == pytest.approx(share) and share > 0
    assert np.isnan(seen[1, 0]) and seen[2, 0] == 0.0  # missing stays missing; unseen: 0
    np.testing.assert_array_equal(seen[:, 1:], rows[:, 1:])


def test_target_means_of_other_rows_count_and_unseen_levels_read_the_prior():
    X, y = _table()
    model = _model("target").fit(X, y)
    rows = np.array([[7, 0, 0], [10_000, 0, 0]], dtype=np.float32)
    seen = model.booster_input(rows)[:, 0]
    level = X[:, 0] == 7
    m, prior = 20.0, y.mean()  # TARGET_SMOOTHING
    assert seen[0] == pytest.approx((y[level].sum() + m * prior) / (level.sum() + m), rel=1e-5)
    assert seen[1] == pytest.approx(prior, rel=1e-5)


def test_target_encoding_of_a_training_row_never_reads_its_own_label():
    """A row id (every level once) encoded in sample would be the row's label itself;
    out of fold, a row's value does not move when its own label flips, and the column
    tells the training labels apart no better than chance."""
    rng = np.random.default_rng(1)
    n = 2000
    X = np.column_stack([rng.permutation(n), rng.normal(size=n)]).astype(np.float32)
    y = rng.integers(0, 2, size=n)
    coding, encoded = fit_coding(X, y, (0,), "target", 50, "binary", seed=0)
    for row in range(5):  # one label flipped at a time: the others' folds see it, it does not
        flipped = y.copy()
        flipped[row] = 1 - flipped[row]
        _, encoded_flipped = fit_coding(X, flipped, (0,), "target", 50, "binary", seed=0)
        assert encoded_flipped[row, 0] == encoded[row, 0]
        assert (encoded_flipped[:, 0] != encoded[:, 0]).any()
    assert abs(roc_auc_score(y, encoded[:, 0]) - 0.5) < 0.05
    # the prediction-time table does use every training row: there a row is its label
    assert roc_auc_score(y, coding.transform(X)[:, 0]) == 1.0


def test_the_validation_rows_labels_reach_neither_the_encoding_nor_the_input():
    X, y = _table()
    X_valid, y_valid = _table(n=600, seed=1)
    first = _model("target").fit(X, y, X_valid, y_valid)
    second = _model("target").fit(X, y, X_valid, 1 - y_valid)
    for a, b in zip(first.level_coding_.tables, second.level_coding_.tables):
        np.testing.assert_array_equal(a, b)


def test_target_means_learn_which_levels_say_yes_as_native_splits_do():
    """The levels that say yes are drawn at random: their codes' order and their
    frequencies carry nothing, their mean target all of it."""
    X, y = _table(n=4000)
    aucs = {mode: roc_auc_score(y[3000:], _model(mode, n_estimators=50).fit(
        X[:3000], y[:3000]).predict_raw(X[3000:])[:, 1]) for mode in ("target", "codes")}
    assert aucs["target"] > 0.8 and aucs["target"] > aucs["codes"] + 0.1, aucs


def test_lookup_reads_past_the_table_as_its_last_entry_and_keeps_missing():
    table = np.array([0.1, 0.2, 0.9], dtype=np.float32)
    codes = np.array([0, 1, 2, 5, np.nan], dtype=np.float32)
    out = lookup(codes, table)
    np.testing.assert_array_equal(out[:4], np.float32([0.1, 0.2, 0.9, 0.9]))
    assert np.isnan(out[4])


def test_target_on_a_multiclass_task_reads_frequency_and_says_so():
    X, y = _table()
    model = _model("target", task="multiclass", n_classes=3).fit(X, y % 3)
    frequency = _model("frequency", task="multiclass", n_classes=3).fit(X, y % 3)
    assert model.level_coding_.mode == "frequency"
    np.testing.assert_array_equal(model.level_coding_.tables[0], frequency.level_coding_.tables[0])


def test_an_unknown_mode_is_refused_naming_the_modes():
    X, y = _table()
    with pytest.raises(ConfigError, match="many_levels must be one of native, codes, "
                                          "frequency, target; got 'hashing'"):
        _model("hashing").fit(X, y)


def test_the_categorical_params_are_in_lightgbms_space():
    space = family_space("lightgbm")
    assert set(space.params["many_levels"].values) <= set(MODES)
    assert space.default["many_levels"] in space.params["many_levels"].values
    assert space.default["many_levels_from"] >= 2
    for name in ("max_cat_to_onehot", "max_cat_threshold", "cat_smooth", "min_data_per_group"):
        param = space.params[name]
        assert param.low <= space.default[name] <= param.high, name
