"""The dense branch: imputation with indicators, one-hot with rare grouping, unseen levels,
high-cardinality encodings, scaling. Built through `build_branch`, as a run builds it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import infer_schema, prepare_features
from automl.config import PreprocessParams
from automl.preprocess import build_branch
from automl.preprocess.dense import MISSING_LEVEL, FrequencyEncoder

N = 400


def _frame(task: str = "binary", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.choice([f"c{i}" for i in range(30)], size=N, p=np.arange(1, 31) / 465)
    colour = np.array(["red", "blue"] * (N // 2), dtype=object)
    colour[:3] = "violet"  # 3 of 400 rows: rarer than 1%
    frame = pd.DataFrame({
        "a": rng.normal(5, 2, size=N), "b": rng.uniform(size=N),
        "colour": colour, "shape": rng.choice(["round", "square"], size=N).astype(object),
        "city": city.astype(object),
    })
    frame.loc[10:29, "a"] = np.nan
    frame.loc[40:44, "shape"] = np.nan
    code = frame["city"].str[1:].astype(int)
    if task == "regression":
        frame["y"] = (code // 5).astype(float)  # integer-valued, few levels: still a regression
    else:
        frame["y"] = np.where(code > 20, "hi", "lo") if task == "binary" else (code // 10).astype(str)
    return frame


def _branch(frame: pd.DataFrame, task: str = "binary", **params):
    schema = infer_schema(frame, "y", task)
    X = prepare_features(frame, schema)
    settings = PreprocessParams(branch="dense", **{"max_onehot_levels": 10, **params})
    branch, _ = build_branch(settings, schema, X, schema.encode_target(frame["y"]))
    return branch, schema


def _encoded(branch, schema, frame: pd.DataFrame) -> pd.DataFrame:
    values = branch.transform(prepare_features(frame, schema))
    return pd.DataFrame(values, columns=branch.feature_names, index=frame.index)


def test_output_is_dense_float_without_gaps_and_scaled():
    frame = _frame()
    branch, schema = _branch(frame)
    out = _encoded(branch, schema, frame)
    assert out.to_numpy().dtype == np.float32 and not out.isna().any().any()
    assert out["a"].mean() == pytest.approx(0, abs=1e-5)
    assert out["b"].std(ddof=0) == pytest.approx(1, abs=1e-4)


def test_missing_numbers_get_the_median_and_an_indicator_column():
    frame = _frame()
    branch, schema = _branch(frame)
    out = _encoded(branch, schema, frame)
    assert "missingindicator_a" in out and "missingindicator_b" not in out  # b had no gaps
    missing = frame["a"].isna()
    assert out["missingindicator_a"].eq(1).equals(missing)  # 0/1, not scaled
    at_median = frame.head(1).assign(a=frame["a"].median())
    assert np.allclose(out.loc[missing, "a"], _encoded(branch, schema, at_median)["a"].iloc[0])


@pytest.mark.parametrize("clip", [True, False])
def test_numbers_past_the_training_range_are_clipped_to_it(clip):
    frame = _frame()
    branch, schema = _branch(frame, clip_numbers=clip)
    extremes = frame.head(2).assign(a=[frame["a"].max() * 10, frame["a"].min() - 100])
    at_edges = frame.head(2).assign(a=[frame["a"].max(), frame["a"].min()])
    out, edges = _encoded(branch, schema, extremes)["a"], _encoded(branch, schema, at_edges)["a"]
    assert np.allclose(out, edges) == clip
    assert (out.iloc[0] > edges.iloc[0] and out.iloc[1] < edges.iloc[1]) != clip


def test_rare_categories_are_grouped_into_one_column():
    frame = _frame()
    branch, schema = _branch(frame, rare_min_fraction=0.01)
    out = _encoded(branch, schema, frame)
    assert "colour_violet" not in out and "colour_infrequent_sklearn" in out
    assert out["colour_infrequent_sklearn"].head(3).eq(1).all()
    assert out["colour_infrequent_sklearn"].iloc[3:].eq(0).all()
    branch, schema = _branch(frame, rare_min_fraction=0.0)  # 0: no grouping
    assert "colour_violet" in branch.feature_names


def test_unseen_category_is_all_zeros():
    frame = _frame()
    branch, schema = _branch(frame, rare_min_fraction=0.01)
    new = frame.head(2).assign(colour="ultraviolet", shape="hexagon")
    out = _encoded(branch, schema, new)
    for name in ("colour", "shape"):  # with a rare group (colour) and without (shape)
        columns = [c for c in out if c.startswith(f"{name}_")]
        assert columns and out[columns].eq(0).all().all()


def test_missing_category_is_a_level_of_its_own():
    frame = _frame()
    branch, schema = _branch(frame)
    out = _encoded(branch, schema, frame)
    column = f"shape_{MISSING_LEVEL}"
    assert out[column].eq(1).equals(frame["shape"].isna())


def test_high_cardinality_column_is_frequency_encoded():
    frame = _frame()
    branch, schema = _branch(frame, high_cardinality="frequency")
    out = _encoded(branch, schema, frame)
    assert "city" in out and not any(c.startswith("city_") for c in out)
    counts = frame["city"].map(frame["city"].value_counts())
    assert np.corrcoef(counts, out["city"])[0, 1] == pytest.approx(1.0)  # a scaled frequency
    unseen = _encoded(branch, schema, frame.head(1).assign(city="nowhere"))["city"].iloc[0]
    assert unseen < out["city"].min()  # frequency 0: below every level seen


@pytest.mark.parametrize("task, n_columns", [("binary", 1), ("multiclass", 3), ("regression", 1)])
def test_high_cardinality_column_is_target_encoded(task, n_columns):
    frame = _frame(task)
    branch, schema = _branch(frame, task=task, high_cardinality="target")
    out = _encoded(branch, schema, frame)
    city_columns = [c for c in out if c.startswith("city")]
    assert len(city_columns) == n_columns
    y = schema.encode_target(frame["y"])
    if task != "multiclass":  # the encoding carries the target's signal
        assert np.corrcoef(out[city_columns[0]], y)[0, 1] > 0.8


def test_one_hot_levels_threshold():
    frame = _frame()
    wide, _ = _branch(frame, max_onehot_levels=30)  # city has 30 levels: one-hot
    assert any(name.startswith("city_") for name in wide.feature_names)


def test_frequency_encoder_maps_unseen_levels_to_zero():
    encoder = FrequencyEncoder().fit(np.array([["a"], ["a"], ["b"], ["a"]], dtype=object))
    out = encoder.transform(np.array([["a"], ["b"], ["z"]], dtype=object))
    np.testing.assert_allclose(out[:, 0], [0.75, 0.25, 0.0])
    assert list(encoder.get_feature_names_out(["city"])) == ["city"]
    with pytest.raises(ValueError, match="fitted on 1 columns, got 2"):
        encoder.transform(np.array([["a", "b"]], dtype=object))
