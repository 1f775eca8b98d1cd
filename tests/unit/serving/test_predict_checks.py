"""`predict` checks its input against the schema: each problem has its message.

The predictor here is a real one, built without a search: the branch fitted on a table,
an xgboost and a linear member fitted on it, averaged.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from automl.data.schema import IgnoredColumnsWarning
from automl.errors import PredictError
from automl.models.registry import family_class
from automl.preprocess.stage import table_branch_data
from automl.serving.ensemble import Member, Predictor
from tests.conftest import make_table

MEMBER_PARAMS = {"xgboost": {"n_estimators": 40, "max_depth": 3}, "linear": {"C": 1.0}}


def table_with_codes(n: int = 300, task: str = "binary") -> pd.DataFrame:
    """make_table plus a categorical column whose levels look like numbers."""
    frame = make_table(n=n, task=task)
    frame["grade"] = np.random.default_rng(1).choice(["1", "2", "3"], size=n)
    return frame


def fitted_predictor(frame: pd.DataFrame, target: str = "y") -> Predictor:
    data = table_branch_data(frame, target, valid_fraction=0.25, seed=0)
    members = []
    for family, params in MEMBER_PARAMS.items():
        model = family_class(family)(task=data.schema.task, n_classes=len(data.schema.classes or []),
                                     params=params, categorical=data.branch.categorical)
        members.append(Member(family, family, data.branch.name,
                              model.fit(data.X_train, data.y_train), 0.5, params))
    return Predictor(data.schema, {data.branch.name: data.branch}, members)


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return fitted_predictor(table_with_codes())


@pytest.fixture
def rows() -> pd.DataFrame:
    return table_with_codes().drop(columns="y").head(40)


def quiet_predict(predictor: Predictor, frame: pd.DataFrame) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no notice expected for a clean input
        return predictor.predict_raw(frame)


def test_a_missing_column_is_named(predictor, rows):
    with pytest.raises(PredictError, match="input lacks 1 column\\(s\\) the model was fitted on: x2"):
        predictor.predict(rows.drop(columns="x2"))


def test_extra_columns_are_ignored_with_a_notice(predictor, rows):
    expected = quiet_predict(predictor, rows)
    with pytest.warns(IgnoredColumnsWarning,
                      match="ignoring 2 input column\\(s\\) the model does not use: y, note"):
        got = predictor.predict_raw(rows.assign(y="no", note="hello"))
    np.testing.assert_array_equal(got, expected)


def test_column_order_does_not_matter(predictor, rows):
    np.testing.assert_array_equal(quiet_predict(predictor, rows[rows.columns[::-1]]),
                                  quiet_predict(predictor, rows))


def test_numbers_as_text_and_ints_are_coerced(predictor, rows):
    expected = quiet_predict(predictor, rows)
    as_text = rows.assign(x1=rows["x1"].map(lambda v: "" if pd.isna(v) else f" {v!r} "))
    np.testing.assert_allclose(quiet_predict(predictor, as_text), expected)
    rounded = rows.assign(x2=rows["x2"].round())
    as_ints = rows.assign(x2=rows["x2"].round().astype("int64"))
    np.testing.assert_array_equal(quiet_predict(predictor, as_ints), quiet_predict(predictor, rounded))


def test_numbers_for_a_categorical_column_are_coerced(predictor, rows):
    expected = quiet_predict(predictor, rows)
    for numbers in (rows["grade"].astype(int), rows["grade"].astype(float)):
        np.testing.assert_array_equal(quiet_predict(predictor, rows.assign(grade=numbers)), expected)


def test_text_in_a_numeric_column_is_an_error(predictor, rows):
    bad = rows.assign(x1=rows["x1"].astype(object))
    bad.loc[bad.index[3], "x1"] = "twelve"
    with pytest.raises(PredictError, match="column 'x1' should be numeric but holds 'twelve' "
                                           "\\(1 such rows\\)"):
        predictor.predict(bad)


def test_dates_in_a_numeric_column_are_an_error(predictor, rows):
    with pytest.raises(PredictError, match="column 'x2' should be numeric but holds datetime64"):
        predictor.predict(rows.assign(x2=pd.Timestamp("2024-01-01")))


def test_a_date_column_given_numbers_or_nonsense_is_an_error(predictor, rows):
    with pytest.raises(PredictError, match="column 'when' should hold dates but holds numbers"):
        predictor.predict(rows.assign(when=3.5))
    with pytest.raises(PredictError, match="column 'when' should hold dates but none of its "
                                           "values reads as one \\(e.g. 'soon'\\)"):
        predictor.predict(rows.assign(when="soon"))


def test_dates_as_text_are_coerced(predictor, rows):
    as_text = rows.assign(when=rows["when"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    np.testing.assert_array_equal(quiet_predict(predictor, as_text), quiet_predict(predictor, rows))


def test_unseen_categories_and_missing_values_are_handled(predictor, rows):
    odd = rows.assign(colour="purple", grade="99")
    gaps = rows.astype(object).copy()
    gaps.loc[gaps.index[:10], :] = None
    gaps.loc[gaps.index[10:15], "x1"] = "NA"
    for frame in (odd, gaps):
        proba = quiet_predict(predictor, frame)
        assert proba.shape == (len(rows), 2) and np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_a_doubled_column_is_an_error(predictor, rows):
    doubled = pd.concat([rows, rows[["x1"]]], axis=1)
    with pytest.raises(PredictError, match="more than one column named 'x1'; keep one"):
        predictor.predict(doubled)


def test_only_a_dataframe_is_taken(predictor, rows):
    with pytest.raises(PredictError, match="takes a pandas DataFrame .* got ndarray"):
        predictor.predict(rows.to_numpy())


def test_proba_of_a_regression_model_is_an_error():
    regression = fitted_predictor(table_with_codes(task="regression"))
    with pytest.raises(PredictError, match="predict_proba is for classification; this model "
                                           "does regression \\(target 'y'\\)"):
        regression.predict_proba(table_with_codes(task="regression"))


def test_labels_and_proba_columns_are_the_classes(predictor, rows):
    proba = predictor.predict_proba(rows)
    assert list(proba.columns) == ["no", "yes"]
    assert list(proba.index) == list(rows.index)
    labels = predictor.predict(rows)
    assert set(labels) <= {"no", "yes"}
    np.testing.assert_array_equal(labels, np.where(proba["yes"] > proba["no"], "yes", "no"))
