"""Sample weights as a table gives them: checked with one line per fault, split with their
rows, and classes balanced by weight (automl/data/weights.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data.split import HOLDOUT, KFOLD, table_dataset
from automl.data.weights import balanced_factors, check_class_weight, fit_weights, row_weights
from automl.errors import ConfigError, DataError
from tests.conftest import make_table


@pytest.mark.parametrize("values, message", [
    ([1.0, -2.0, 1.0], "is negative in 1 row(s), the first row 1"),
    ([1.0, np.nan, 1.0], "is missing in 1 row(s)"),
    ([1.0, np.inf, 1.0], "is infinite"),
    ([0.0, 0.0, 0.0], "zero on every row"),
    (["1", "heavy", "2"], "not a number ('heavy' in row 1)"),
])
def test_bad_weights_get_one_line_naming_the_fault(values, message):
    frame = pd.DataFrame({"w": values, "y": [0, 1, 0]})
    with pytest.raises(DataError) as err:
        row_weights(frame, "w", "y")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_missing_weight_column_is_named_with_a_suggestion():
    frame = pd.DataFrame({"weight": [1.0], "y": [0]})
    with pytest.raises(DataError, match=r"weight column 'wieght' not found \(did you mean 'weight'\?\)"):
        row_weights(frame, "wieght", "y")
    with pytest.raises(DataError, match="is the target"):
        row_weights(frame, "y", "y")


def test_numbers_written_as_text_are_read():
    frame = pd.DataFrame({"w": ["1.5", "2", None], "y": [0, 1, 0]})
    with pytest.raises(DataError, match="missing"):
        row_weights(frame, "w", "y")
    assert row_weights(frame.iloc[:2], "w", "y").tolist() == [1.5, 2.0]


def test_class_weight_is_checked():
    check_class_weight("balanced", "binary")
    with pytest.raises(ConfigError, match="not known; use balanced"):
        check_class_weight("even", "binary")
    with pytest.raises(ConfigError, match="regression"):
        check_class_weight("balanced", "regression")


def test_balanced_factors_give_every_class_the_same_total_weight():
    y = np.array([0] * 90 + [1] * 10)
    w = np.linspace(0.5, 1.5, 100)
    factors = balanced_factors(y, 3, w)  # class 2 is absent: factor 1, no division by 0
    fitted = fit_weights(y, w, factors)
    assert fitted[y == 0].sum() == pytest.approx(fitted[y == 1].sum())
    assert fitted.sum() == pytest.approx(w.sum())
    assert factors[2] == 1.0
    assert fit_weights(y, None, None) is None and fit_weights(y, w, None) is w


@pytest.mark.parametrize("method", [HOLDOUT, KFOLD])
def test_each_part_keeps_its_rows_weights(method):
    frame = make_table(200, seed=1)
    frame["w"] = np.arange(len(frame), dtype=float) + 1  # a weight that names its row
    data = table_dataset(frame, "y", weight="w", method=method, test_fraction=0.2)
    assert "w" not in [c.name for c in data.schema.columns]
    for X, w in [(data.X_train, data.w_train), (data.X_valid, data.w_valid),
                 (data.X_test, data.w_test)]:
        if X is not None:
            np.testing.assert_array_equal(X.index.to_numpy() + 1, w)
    assert (data.w_valid is None) == (method == KFOLD)
