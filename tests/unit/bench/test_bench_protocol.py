"""The benchmark protocol: manifest, rows kept, the one split, and class order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from automl.bench.protocol import (BenchDataset, align_proba, load_table, read_manifest,
                                   select_datasets, split_table)
from automl.errors import ConfigError, DataError
from tests.conftest import make_table


def write_data_dir(folder, tables: dict[str, tuple[pd.DataFrame, str, str]]):
    rows = []
    for name, (frame, task, target) in tables.items():
        frame.to_parquet(folder / f"{name}.parquet")
        rows.append({"name": name, "task": task, "target": target})
    pd.DataFrame(rows).to_csv(folder / "MANIFEST.csv", index=False)
    return folder


def dataset(tmp_path, frame, task="multiclass", target="y") -> BenchDataset:
    frame.to_parquet(tmp_path / "t.parquet")
    return BenchDataset("t", task, target, str(tmp_path / "t.parquet"))


def test_split_is_sklearns_80_20_stratified_with_random_state_0(tmp_path):
    frame = make_table(500, "multiclass")
    split = split_table(load_table(dataset(tmp_path, frame)), dataset(tmp_path, frame))
    train, test = train_test_split(frame, test_size=0.2, random_state=0, stratify=frame["y"])
    assert (len(split.train.X), len(split.X_test)) == (400, 100)
    assert list(split.X_test["x2"]) == list(test["x2"])  # the very same rows, in the same order
    assert list(split.y_test) == list(test["y"]) and list(split.train.y) == list(train["y"])
    # stratified: each class keeps its share on both sides (to within one row)
    share = frame["y"].value_counts(normalize=True)
    test_share = split.y_test.value_counts(normalize=True)
    assert (test_share.reindex(share.index) - share).abs().max() <= 1 / len(split.y_test)
    assert "y" not in split.train.X.columns and "y" not in split.X_test.columns


def test_regression_split_is_not_stratified(tmp_path):
    frame = make_table(200, "regression")
    split = split_table(frame, BenchDataset("t", "regression", "y", ""))
    _, test = train_test_split(frame, test_size=0.2, random_state=0)
    assert list(split.y_test) == list(test["y"])
    assert split.train.classes is None
    assert split.y_test_true.dtype == np.float64


def test_rows_without_target_are_dropped_and_big_tables_sampled_with_seed_0(tmp_path):
    frame = make_table(300, "binary")
    frame.loc[::10, "y"] = None  # 30 rows without a target
    data = dataset(tmp_path, frame, "binary")
    assert len(load_table(data)) == 270
    sampled = load_table(data, max_rows=100)
    expected = frame[frame["y"].notna()].sample(100, random_state=0)
    assert list(sampled["x2"]) == list(expected["x2"])
    assert sampled["y"].notna().all()
    assert load_table(data, max_rows=100).equals(sampled)  # fixed: the same rows every time


def test_classes_are_the_sorted_labels_and_codes_follow_them(tmp_path):
    frame = pd.DataFrame({"x": np.arange(60.0),
                          "y": ["suspect", "normal", "pathologic"] * 20})
    split = split_table(frame, BenchDataset("t", "multiclass", "y", ""))
    assert split.train.classes == ["normal", "pathologic", "suspect"]
    assert list(split.train.codes(pd.Series(["suspect", "normal"]))) == [2, 0]
    assert "y" in split.train.frame().columns and len(split.train.frame()) == 48


def test_align_proba_reorders_by_label_whatever_the_label_type():
    proba = np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    classes = ["normal", "pathologic", "suspect"]
    aligned = align_proba(proba, ["suspect", "normal", "pathologic"], classes)
    assert aligned.tolist() == [[0.2, 0.7, 0.1], [0.3, 0.1, 0.6]]
    # numpy integers, floats and text of the same number are one class
    assert align_proba(proba, [np.int8(3), 1.0, "2"], [1, 2, 3]).tolist() == \
        [[0.2, 0.7, 0.1], [0.3, 0.1, 0.6]]
    # a class the model never saw gets 0; a 1-D binary output is P(second class)
    assert align_proba(proba[:, :2], ["a", "c"], ["a", "b", "c"])[:, 1].tolist() == [0, 0]
    assert align_proba(np.array([0.25]), [0, 1], [0, 1]).tolist() == [[0.75, 0.25]]


def test_manifest_errors_say_what_to_do(tmp_path):
    with pytest.raises(DataError, match=r"benchmark data folder .*nope not found; pass --data"):
        read_manifest(tmp_path / "nope")
    with pytest.raises(DataError, match=r"has no MANIFEST.csv; add one with the columns name"):
        read_manifest(tmp_path)
    (tmp_path / "MANIFEST.csv").write_text("name,target\nt,y\n")
    with pytest.raises(DataError, match=r"lacks the column\(s\) task"):
        read_manifest(tmp_path)
    (tmp_path / "MANIFEST.csv").write_text("name,task,target\nt,classification,y\n")
    with pytest.raises(DataError, match=r"task 'classification'; the task must be one of"):
        read_manifest(tmp_path)


def test_dataset_selection(tmp_path):
    write_data_dir(tmp_path, {"credit_g": (make_table(), "binary", "y"),
                              "wine": (make_table(task="regression"), "regression", "y")})
    manifest = read_manifest(tmp_path)
    assert [d.name for d in select_datasets(manifest, None)] == ["credit_g", "wine"]
    assert [d.name for d in select_datasets(manifest, ["wine", "wine"])] == ["wine"]
    with pytest.raises(ConfigError, match=r"unknown dataset 'credit-g' \(did you mean "
                                          r"'credit_g'\?\); MANIFEST.csv lists 'credit_g', 'wine'"):
        select_datasets(manifest, ["credit-g"])
    (tmp_path / "wine.parquet").unlink()
    with pytest.raises(DataError, match=r"dataset 'wine' is in MANIFEST.csv but .*wine.parquet "
                                        r"does not exist"):
        select_datasets(manifest, ["wine"])


def test_a_wrong_target_in_the_manifest_is_named(tmp_path):
    with pytest.raises(DataError, match=r"has no target column 'yy' \(did you mean 'y'\?\)"):
        load_table(dataset(tmp_path, make_table(), "binary", "yy"))
