"""`automl bench --weight COL`: the weight column is no feature, each system fits with the
weights, and every score is weighted (the oracle: sklearn's weighted metric on the saved
test predictions). A baseline run by the worker's own function, on a table made here."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from automl.bench.intervals import PREDICTIONS
from automl.bench.protocol import BenchDataset, load_table, split_table
from automl.bench.worker import run_job
from automl.errors import DataError
from tests.conftest import make_table


def _dataset(tmp_path, weights=None, weight="w") -> BenchDataset:
    frame = make_table(400, seed=7)
    frame["w"] = np.where(frame["colour"] == "red", 4.0, 1.0) if weights is None else weights
    frame.to_parquet(tmp_path / "t.parquet")
    return BenchDataset("t", "binary", "y", str(tmp_path / "t.parquet"), weight=weight)


def test_the_weight_column_is_split_with_its_rows_and_is_no_feature(tmp_path):
    dataset = _dataset(tmp_path)
    split = split_table(load_table(dataset), dataset)
    assert "w" not in split.train.X.columns and "w" not in split.X_test.columns
    red = (split.X_test["colour"] == "red").to_numpy()
    assert (split.w_test[red] == 4.0).all() and (split.w_test[~red] == 1.0).all()
    assert len(split.train.weight) == len(split.train.y)


def test_a_system_is_scored_with_the_weights(tmp_path):
    dataset = _dataset(tmp_path)
    job = {"dataset": dataset.as_dict(), "system": "xgb_default",
           "runner": "automl.bench.baselines:fit_xgb_default", "budget": 10,
           "work_dir": str(tmp_path / "work"), "runs_dir": str(tmp_path / "runs"), "n_jobs": 1}
    row = run_job(job)[0]
    split = split_table(load_table(dataset), dataset)
    proba = np.load(tmp_path / "work" / PREDICTIONS / "default.npy")
    assert row["roc_auc"] == pytest.approx(
        roc_auc_score(split.y_test_true, proba[:, 1], sample_weight=split.w_test), abs=1e-12)
    assert row["roc_auc"] != pytest.approx(roc_auc_score(split.y_test_true, proba[:, 1]))


def test_bad_or_missing_weights_are_one_line(tmp_path):
    with pytest.raises(DataError, match="weight column 'w' is negative"):
        load_table(_dataset(tmp_path, weights=-1.0))
    with pytest.raises(DataError, match="weight column 'wt' not found"):
        load_table(_dataset(tmp_path, weight="wt"))
