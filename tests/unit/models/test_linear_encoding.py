"""What the `linear` family reads: the trees branch through the one dense encoding
(`DenseCode`) that the MLP and the distillation's students read too. It took over from a
dense branch of linear's own; these hold what that branch did for a linear model: gaps
filled and flagged, numbers clipped and scaled, categories one-hot, unseen levels as none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import prepare_features
from automl.metrics import get_metric
from automl.models.dense_code import MAX_LEVELS, DenseCode
from automl.models.registry import family_class
from automl.preprocess.stage import BranchData, table_branch_data

N = 400


def _frame(task: str = "binary", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.choice([f"c{i}" for i in range(30)], size=N, p=np.arange(1, 31) / 465)
    frame = pd.DataFrame({
        "a": rng.normal(5, 2, size=N), "b": rng.uniform(size=N),
        "shape": rng.choice(["round", "square"], size=N).astype(object),
        "city": city.astype(object),
    })
    frame.loc[10:29, "a"] = np.nan
    frame.loc[40:44, "shape"] = np.nan
    code = frame["city"].str[1:].astype(int)
    if task == "regression":
        frame["y"] = (code // 5).astype(float) + 0.1 * frame["b"]
    else:
        frame["y"] = np.where(code > 20, "hi", "lo") if task == "binary" else (code // 10).astype(str)
    return frame


def _data(frame: pd.DataFrame, task: str = "binary") -> BranchData:
    return table_branch_data(frame, "y", task, valid_fraction=0.25, seed=0)


def _linear(data: BranchData, **params):
    model = family_class("linear")(task=data.schema.task, n_classes=len(data.schema.classes or []),
                                   params=params or None, categorical=data.branch.categorical)
    return model.fit(data.X_train, data.y_train)


def _encoded(data: BranchData, model, rows: pd.DataFrame) -> np.ndarray:
    return model.code_.encode(data.branch.transform(prepare_features(rows, data.schema)))


def _column(data: BranchData, name: str) -> int:
    """The branch's column of feature `name` (categories come first, as ordinal codes)."""
    return data.branch.feature_names.index(name)


def _flag(data: BranchData, code: DenseCode, name: str) -> int:
    """The encoding's column of `name`'s gap flag: after the numbers."""
    return len(code.numeric) + list(code.indicators).index(_column(data, name))


def _levels(data: BranchData, name: str) -> int:
    values = data.X_train[:, _column(data, name)]
    return len(np.unique(values[~np.isnan(values)]))


def test_linear_reads_the_trees_branch_through_the_one_dense_encoding():
    assert family_class("linear").branch == family_class("mlp").branch == "trees"
    data = _data(_frame())
    model = _linear(data)
    assert isinstance(model.code_, DenseCode)
    # a and b; the gap flags of a and shape; the levels of shape and city the rows held
    expected = 2 + 2 + _levels(data, "shape") + _levels(data, "city")
    assert model.code_.width == expected == model.model_.coef_.shape[1]


def test_the_encoding_is_dense_float_without_gaps_and_scaled():
    data = _data(_frame())
    H = _linear(data).code_.encode(data.X_train)
    assert H.dtype == np.float32 and not np.isnan(H).any()
    numbers = H[:, :2]  # a, b: standardised on the training rows
    np.testing.assert_allclose(numbers.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(numbers.std(axis=0), 1, atol=1e-4)


def test_missing_numbers_get_the_median_and_a_flag_where_training_had_gaps():
    frame = _frame()
    data = _data(frame)
    model = _linear(data)
    code = model.code_
    gap = _encoded(data, model, frame.head(1).assign(a=np.nan))
    at_median = _encoded(data, model, frame.head(1).assign(a=code.fill[_column(data, "a")]))
    assert gap[0, 0] == pytest.approx(at_median[0, 0])
    # a had gaps in training (its flag is 1 now), shape too (0: it has a value); b had none
    assert gap[0, _flag(data, code, "a")] == 1 and gap[0, _flag(data, code, "shape")] == 0
    assert _column(data, "b") not in code.indicators


@pytest.mark.parametrize("direction", ["above", "below"])
def test_numbers_past_the_training_range_are_clipped_to_it(direction):
    frame = _frame("regression")
    data = _data(frame, "regression")
    model = _linear(data)
    edge = frame["b"].max() if direction == "above" else frame["b"].min()
    beyond = edge * 10 + 1 if direction == "above" else edge - 100
    rows = lambda value: prepare_features(frame.head(1).assign(b=value), data.schema)  # noqa: E731
    at_edge = model.predict_raw(data.branch.transform(rows(edge)))
    past = model.predict_raw(data.branch.transform(rows(beyond)))
    np.testing.assert_allclose(past, at_edge, rtol=1e-6)


def test_an_unseen_category_is_no_level_at_all():
    frame = _frame()
    data = _data(frame)
    model = _linear(data)
    H = _encoded(data, model, frame.head(2).assign(shape="hexagon", city="nowhere"))
    onehot = len(model.code_.numeric) + len(model.code_.indicators)
    assert H[:, onehot:].sum() == 0  # every one-hot column 0


def test_a_missing_category_is_flagged():
    frame = _frame()
    data = _data(frame)
    model = _linear(data)
    code = model.code_
    H = _encoded(data, model, frame.head(2).assign(shape=[np.nan, "round"]))
    assert H[:, _flag(data, code, "shape")].tolist() == [1.0, 0.0]
    shape = len(code.numeric) + len(code.indicators) + np.flatnonzero(
        code.onehot_source == _column(data, "shape"))
    assert H[0, shape].sum() == 0 and H[1, shape].sum() == 1


def test_only_the_most_frequent_levels_of_a_category_are_one_hot():
    rng = np.random.default_rng(0)
    levels = [f"l{i}" for i in range(MAX_LEVELS + 8)]
    weights = np.arange(len(levels), 0, -1, dtype=float)
    frame = pd.DataFrame({"many": rng.choice(levels, size=2000, p=weights / weights.sum()),
                          "x": rng.normal(size=2000)})
    frame["y"] = np.where(frame["x"] > 0, "p", "n")
    data = _data(frame)
    code = _linear(data).code_
    assert len(code.onehot_source) == MAX_LEVELS
    kept = set(code.onehot_code.astype(int))
    counts = pd.Series(data.X_train[:, _column(data, "many")]).value_counts()
    assert kept == set(counts.index[:MAX_LEVELS].astype(int))


@pytest.mark.parametrize("task, metric, floor", [("binary", "roc_auc", 0.95),
                                                 ("multiclass", "accuracy", 0.9),
                                                 ("regression", "r2", 0.95)])
def test_linear_learns_a_signal_a_category_carries(task, metric, floor):
    data = _data(_frame(task), task)
    model = _linear(data, C=10.0)
    score = get_metric(metric, task).value(data.y_valid, model.predict_raw(data.X_valid))
    assert score > floor


def test_a_column_empty_in_the_training_rows_keeps_its_place():
    data = _data(_frame())
    column = _column(data, "b")
    X = data.X_train.copy()
    X[:, column] = np.nan  # b has values in the table, none in these rows
    model = family_class("linear")(task="binary", categorical=data.branch.categorical)
    code = model.fit(X, data.y_train).code_
    assert code.fill[column] == 0 and column in code.indicators
    assert code.width == _linear(data).code_.width + 1  # its gap flag: every row had one
    assert not np.isnan(code.encode(data.X_valid)).any()


def test_a_linear_model_pickled_before_it_encoded_its_input_reads_what_it_was_fitted_on():
    """An older bundle's linear member was fitted on the dense branch's output, which that
    bundle's own branch still produces: such a model (no `code_`) takes its input as it is."""
    data = _data(_frame())
    model = _linear(data)
    expected = model.predict_raw(data.X_valid)
    encoded = model.code_.encode(data.X_valid)
    del model.code_
    np.testing.assert_allclose(model.predict_raw(encoded), expected)
