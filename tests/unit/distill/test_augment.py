"""Synthetic rows for distillation stay in the table's form and near its data."""

from __future__ import annotations

import numpy as np
import pytest

from automl.data import infer_schema, prepare_features
from automl.distill.augment import augment
from automl.errors import ConfigError
from tests.conftest import make_table


@pytest.fixture
def features():
    frame = make_table(n=300)
    return prepare_features(frame, infer_schema(frame, "y"))


@pytest.mark.parametrize("method", ["munge", "gibbs"])
def test_rows_keep_the_tables_form(features, method):
    rows = augment(features, method, multiplier=2.0, seed=0)
    assert len(rows) == 600
    assert list(rows.columns) == list(features.columns)
    assert (rows.dtypes == features.dtypes).all()
    assert set(rows["colour"].dropna()) <= set(features["colour"].dropna())
    # missing values survive as missing, not as made-up numbers
    assert rows["x1"].isna().any() and not np.isinf(rows["x1"]).any()


@pytest.mark.parametrize("method", ["munge", "gibbs"])
def test_same_seed_same_rows(features, method):
    first = augment(features, method, 1.0, seed=3)
    again = augment(features, method, 1.0, seed=3)
    other = augment(features, method, 1.0, seed=4)
    assert first.equals(again) and not first.equals(other)


def test_munge_stays_near_the_data(features):
    rows = augment(features, "munge", 3.0, seed=0)
    real, made = features["x2"], rows["x2"]
    # x2 is uniform on [-1, 1]: draws around neighbours rarely stray far outside it
    assert made.between(-1.5, 1.5).mean() > 0.99
    assert abs(made.mean() - real.mean()) < 0.1
    # and the rows are new, not copies
    assert (made.round(6).isin(real.round(6))).mean() < 0.9


def test_no_rows_and_bad_method(features):
    assert len(augment(features, "munge", 0.0)) == 0
    assert len(augment(features, "none", 2.0)) == 0
    with pytest.raises(ConfigError, match="unknown augmentation 'smote'"):
        augment(features, "smote", 1.0)
