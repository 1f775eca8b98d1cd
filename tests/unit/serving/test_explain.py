"""Explanations add up: for every family, blend, bag, stacker and temperature, a row's base
plus its contributions is the model's own output (`predict_raw`) within 1e-4, and the
methods get there by themselves (the quadrature leaves next to nothing to share out).

Real models fitted on small tables (`make_table`: two numbers, a category, a date).
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from automl.data.schema import prepare_features
from automl.ensemble.stacking import LinearStacker
from automl.errors import PredictError
from automl.models.bagging import BaggedModel
from automl.models.registry import family_class
from automl.preprocess.stage import table_branch_data
from automl.serving.ensemble import Member, Predictor
from automl.serving.explain import Explainer
from tests.conftest import make_table

TASKS = ("binary", "multiclass", "regression")
SMALL = {"lightgbm": {"n_estimators": 30, "num_leaves": 8},
         "xgboost": {"n_estimators": 30, "max_depth": 3},
         "catboost": {"iterations": 30, "depth": 3, "learning_rate": 0.2},
         "random_forest": {"n_estimators": 8, "max_depth": 6},
         "extra_trees": {"n_estimators": 8},
         "linear": {"C": 1.0},
         "mlp": {"max_epochs": 8, "width": 16, "n_layers": 2},
         "tabm": {"max_epochs": 8, "k": 4, "d_block": 16, "n_blocks": 2}}
FAMILIES = tuple(SMALL)
TOLERANCE = 1e-4


@lru_cache(maxsize=None)
def _data(task: str):
    frame = make_table(n=300, task=task)
    return frame, table_branch_data(frame, "y", valid_fraction=0.25, seed=0)


def _fit(key: str, task: str, params: dict | None = None, rows=slice(None)):
    _, data = _data(task)
    model = family_class(key)(task=data.schema.task, n_classes=len(data.schema.classes or []),
                              params={**SMALL[key], **(params or {})},
                              categorical=data.branch.categorical, seed=0)
    return model.fit(data.X_train[rows], data.y_train[rows])


def _predictor(task: str, models: list, weights=None, **kwargs) -> Predictor:
    _, data = _data(task)
    weights = weights or [1.0] * len(models)
    members = [Member(f"m{i}", getattr(m, "key", "bagged"), data.branch.name, m, w)
               for i, (m, w) in enumerate(zip(models, weights))]
    return Predictor(data.schema, {data.branch.name: data.branch}, members, **kwargs)


def _rows(task: str) -> pd.DataFrame:
    return _data(task)[0].drop(columns="y")


def _background(task: str) -> pd.DataFrame:
    return prepare_features(_rows(task).iloc[::3], _data(task)[1].schema)


def assert_adds_up(predictor: Predictor, rows: pd.DataFrame, background=None):
    explanation = Explainer(predictor, background).explain(rows)
    raw = predictor.predict_raw(rows)
    raw = raw[:, None] if raw.ndim == 1 else raw
    by_feature = explanation.base + explanation.contributions.sum(axis=1)
    by_column = explanation.base + explanation.by_column().sum(axis=1)
    np.testing.assert_allclose(by_feature, raw, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(by_column, raw, atol=TOLERANCE, rtol=0)
    assert explanation.remainder < 1e-6  # the methods add up without help
    frame = explanation.frame()
    explained = frame["base"] + frame[explanation.columns].sum(axis=1)
    np.testing.assert_allclose(explained, explanation.explained_output(), atol=TOLERANCE, rtol=0)
    return explanation


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("key", FAMILIES)
def test_each_family_adds_up_to_its_prediction(key, task):
    explanation = assert_adds_up(_predictor(task, [_fit(key, task)]), _rows(task),
                                 _background(task))
    assert np.abs(explanation.by_column()).sum() > 0


def test_binary_probabilities_are_the_native_treeshap_rescaled_per_row():
    """A binary member's probability contributions are its library's TreeSHAP log-odds
    times one positive number per row: (p - p_base) / (margin - margin_base)."""
    model = _fit("lightgbm", "binary")
    predictor = _predictor("binary", [model])
    rows = _rows("binary")
    explanation = Explainer(predictor).explain(rows)
    X = predictor.branches["trees"].transform(prepare_features(rows, predictor.schema))
    native = model.booster_.predict(X, pred_contrib=True, num_iteration=model.n_rounds_)[:, :-1]
    ours = explanation.contributions[:, :, 1]  # the model-ready columns, in the branch's order
    order = [explanation.features.index(n) for n in predictor.branches["trees"].feature_names]
    ours = ours[:, order]
    used = np.abs(native).sum(axis=1) > 1e-9
    scale = ours[used].sum(axis=1) / native[used].sum(axis=1)
    assert (scale > 0).all()
    np.testing.assert_allclose(ours[used], native[used] * scale[:, None], atol=1e-9)


def test_a_blend_of_bags_and_networks_at_a_temperature_adds_up():
    task = "multiclass"
    bagged = BaggedModel([_fit("lightgbm", task, rows=slice(0, 150)),
                          _fit("lightgbm", task, rows=slice(75, 225))])
    models = [bagged, _fit("random_forest", task), _fit("mlp", task, {"activation": "gelu"}),
              _fit("catboost", task)]
    predictor = _predictor(task, models, weights=[0.4, 0.2, 0.3, 0.1], temperature=0.7)
    assert_adds_up(predictor, _rows(task), _background(task))


@pytest.mark.parametrize("task", TASKS)
def test_a_stacker_adds_up(task):
    _, data = _data(task)
    models = [_fit("xgboost", task), _fit("linear", task), _fit("extra_trees", task)]
    outputs = [m.predict_raw(data.X_valid) for m in models]
    stacker = LinearStacker(task, len(data.schema.classes or []), seed=0).fit(outputs, data.y_valid)
    predictor = _predictor(task, models, stacker=stacker,
                           temperature=1.0 if task == "regression" else 1.3)
    assert_adds_up(predictor, _rows(task), _background(task))


def test_members_that_saw_some_classes_only_add_up():
    task = "multiclass"
    _, data = _data(task)
    some = data.y_train != data.y_train.max()  # the last class left out
    models = [family_class(key)(task=task, n_classes=len(data.schema.classes), params=SMALL[key],
                                categorical=data.branch.categorical).fit(data.X_train[some],
                                                                         data.y_train[some])
              for key in ("xgboost", "linear", "random_forest", "catboost")]
    explanation = assert_adds_up(_predictor(task, models), _rows(task))
    assert np.abs(explanation.contributions[:, :, -1]).max() < 1e-12  # a class none can give


def test_linear_contributions_are_coefficients_times_distance_from_the_reference():
    task = "regression"
    model = _fit("linear", task)
    predictor = _predictor(task, [model])
    rows, background = _rows(task), _background(task)
    explanation = Explainer(predictor, background).explain(rows)
    branch = predictor.branches["trees"]
    h = model.code_.encode(branch.transform(prepare_features(rows, predictor.schema)))
    reference = model.code_.encode(branch.transform(background)).astype(np.float64).mean(axis=0)
    x2 = list(model.code_.numeric).index(branch.feature_names.index("x2"))  # no gaps: no flag
    expected = model.model_.coef_[x2] * (h[:, x2] - reference[x2]) * model.y_scale_
    np.testing.assert_allclose(explanation.frame()["x2"], expected, rtol=1e-6, atol=1e-9)
    # the base is the model's value at the reference row
    assert explanation.base[0] == pytest.approx(
        float(reference @ model.model_.coef_ + model.model_.intercept_) * model.y_scale_
        + model.y_mean_)


def test_the_frame_has_a_column_per_raw_column_and_names_the_class():
    task = "multiclass"
    predictor = _predictor(task, [_fit("xgboost", task)])
    rows = _rows(task).iloc[5:12]
    explainer = Explainer(predictor)
    frame = explainer.explain(rows).frame()
    assert list(frame.columns) == ["explained_class", "base", "x1", "x2", "colour", "when"]
    assert list(frame.index) == list(rows.index)
    np.testing.assert_array_equal(frame["explained_class"], predictor.predict(rows))
    # a date's parts are summed into the date
    explanation = explainer.explain(rows)
    parts = [explanation.features.index(f) for f in explanation.features if f.startswith("when__")]
    assert len(parts) == 5
    np.testing.assert_allclose(explanation.by_column()[:, 3], explanation.contributions[:, parts].sum(axis=1))
    # a class asked for, as the command line gives it (text)
    chosen = explainer.explain(rows).frame(target_class="2")
    assert (chosen["explained_class"] == 2).all()
    np.testing.assert_allclose(chosen["base"] + chosen[["x1", "x2", "colour", "when"]].sum(axis=1),
                               predictor.predict_raw(rows)[:, 2], atol=TOLERANCE)
    # one row as a dict
    one = explainer.explain(rows.iloc[0].to_dict()).frame()
    np.testing.assert_allclose(one.iloc[0, 1:].astype(float), frame.iloc[0, 1:].astype(float))


def test_a_column_named_base_keeps_its_name():
    frame = make_table(n=200, task="regression").rename(columns={"x1": "base"})
    data = table_branch_data(frame, "y", valid_fraction=0.25, seed=0)
    model = family_class("lightgbm")(task="regression", params=SMALL["lightgbm"],
                                     categorical=data.branch.categorical).fit(data.X_train, data.y_train)
    predictor = Predictor(data.schema, {"trees": data.branch}, [Member("m", "lightgbm", "trees", model, 1.0)])
    rows = frame.drop(columns="y")
    explained = Explainer(predictor).explain(rows).frame()
    assert list(explained.columns) == ["_base", "base", "x2", "colour", "when"]
    np.testing.assert_allclose(explained.sum(axis=1), predictor.predict_raw(rows), atol=TOLERANCE)


def test_bad_requests_are_named():
    binary = Explainer(_predictor("binary", [_fit("lightgbm", "binary")]))
    rows = _rows("binary").head(3)
    with pytest.raises(PredictError, match="'yess' is not a class of this model \\(did you mean 'yes'"):
        binary.explain(rows).frame(target_class="yess")
    assert (binary.explain(rows).frame(target_class="no")["explained_class"] == "no").all()
    with pytest.raises(PredictError, match="input lacks 1 column\\(s\\) the model was fitted on: x2"):
        binary.explain(rows.drop(columns="x2"))
    regression = Explainer(_predictor("regression", [_fit("lightgbm", "regression")]))
    with pytest.raises(PredictError, match="target_class is for classification"):
        regression.explain(_rows("regression").head(2)).frame(target_class="yes")
    empty = binary.explain(rows.head(0)).frame()
    assert len(empty) == 0 and list(empty.columns) == ["explained_class", "base", "x1", "x2",
                                                       "colour", "when"]


def test_one_row_read_value_by_value_is_explained_as_the_frame_is():
    """The one-row path (no pandas) makes the same model-ready values as `prepare_features`:
    gaps, an unseen category, numbers and dates written as text, a Timestamp."""
    task = "binary"
    predictor = _predictor(task, [_fit("xgboost", task), _fit("mlp", task)])
    explainer = Explainer(predictor, _background(task))
    rows = [{"x1": np.nan, "x2": "0.25", "colour": "violet", "when": "2024-01-03 17:00:00"},
            {"x1": 1.5, "x2": -0.5, "colour": None, "when": pd.Timestamp("2024-01-09 06:00")},
            {"x1": "NA", "x2": 0.1, "colour": "red", "when": None, "extra": 1}]
    for row in rows:
        frame = pd.DataFrame([row], dtype=object)
        slow = explainer.explain_features(prepare_features(frame, predictor.schema))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fast = explainer.explain(row)
            expected = predictor.predict_raw(frame)
        assert [str(w.message) for w in caught] == (
            2 * ["ignoring 1 input column(s) the model does not use: extra"] if "extra" in row else [])
        np.testing.assert_allclose(fast.contributions, slow.contributions, atol=1e-12)
        np.testing.assert_allclose(fast.output, expected, atol=TOLERANCE)
    with pytest.raises(PredictError, match="input lacks 1 column\\(s\\) the model was fitted on: when"):
        explainer.explain({"x1": 1.0, "x2": 0.0, "colour": "red"})


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_forest_contributions_are_the_value_changes_along_decision_path(task):
    """Saabas by sklearn's own `decision_path`, tree by tree, as the oracle; a gap where
    training had none (x2) goes where the tree sends it."""
    model = _fit("extra_trees", task)
    predictor = _predictor(task, [model])
    rows = _rows(task).head(40).copy()
    rows.loc[rows.index[:5], "x2"] = np.nan
    explanation = Explainer(predictor).explain(rows)
    X = predictor.branches["trees"].transform(prepare_features(rows, predictor.schema))
    names = predictor.branches["trees"].feature_names
    expected = np.zeros((len(X), len(names), explanation.contributions.shape[2]))
    for estimator in model.model_.estimators_:
        tree = estimator.tree_
        values = tree.value[:, 0, :]
        paths = estimator.decision_path(X).toarray().astype(bool)
        for i, path in enumerate(paths):
            nodes = np.flatnonzero(path)  # in order from the root: children come after parents
            for parent, child in zip(nodes[:-1], nodes[1:]):
                expected[i, tree.feature[parent], :values.shape[1]] += values[child] - values[parent]
    expected /= len(model.model_.estimators_)
    order = [explanation.features.index(name) for name in names]
    np.testing.assert_allclose(explanation.contributions[:, order, :], expected, atol=1e-12)
    raw = predictor.predict_raw(rows)
    np.testing.assert_allclose(explanation.output, raw[:, None] if raw.ndim == 1 else raw, atol=1e-12)
