"""Rules reproduce their tree's predictions: as Python and as SQL (run in sqlite3)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from automl.config import PreprocessParams
from automl.data import infer_schema, prepare_features
from automl.onnx.rules import tree_rules
from automl.preprocess import build_branch
from tests.conftest import make_table


def _fitted(task: str):
    frame = make_table(n=600, task=task, seed=1)
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    y = schema.encode_target(frame["y"])
    branch, X = build_branch(PreprocessParams(branch="trees"), schema, features, y)
    tree_cls = DecisionTreeRegressor if task == "regression" else DecisionTreeClassifier
    tree = tree_cls(max_depth=4, random_state=0).fit(X, y)
    return schema, branch, tree


def _rows_with_surprises(schema) -> pd.DataFrame:
    frame = make_table(n=200, task=schema.task, seed=2)
    frame.loc[frame.index[:10], "colour"] = "ultraviolet"  # never seen
    frame.loc[frame.index[10:20], "colour"] = np.nan
    frame.loc[frame.index[20:40], "x2"] = np.nan  # x2 had no gaps in training
    return prepare_features(frame, schema)


def _expected(schema, branch, tree, features):
    raw = tree.predict(branch.transform(features))
    return raw if schema.task == "regression" else schema.decode_target(raw.astype(int))


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_python_rules_reproduce_the_tree(task):
    schema, branch, tree = _fitted(task)
    rules = tree_rules(tree, branch, "y", schema.classes if task != "regression" else None)
    namespace: dict = {}
    exec(rules.python(), namespace)  # the generated source is the product under test
    features = _rows_with_surprises(schema)
    rows = features.astype(object).where(features.notna(), None).to_dict("records")
    got = [namespace["predict"](row) for row in rows]
    expected = _expected(schema, branch, tree, features)
    if task == "regression":
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    else:
        assert list(got) == list(expected)


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_sql_rules_reproduce_the_tree(task):
    schema, branch, tree = _fitted(task)
    rules = tree_rules(tree, branch, "y", schema.classes if task != "regression" else None)
    features = _rows_with_surprises(schema)
    with sqlite3.connect(":memory:") as db:
        features.to_sql("t", db, index=False)
        got = [r[0] for r in db.execute(f"SELECT {rules.sql()} FROM t")]
    expected = _expected(schema, branch, tree, features)
    if task == "regression":
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    else:
        assert got == list(expected)


def test_text_reads_in_the_tables_terms():
    schema, branch, tree = _fitted("binary")
    text = tree_rules(tree, branch, "y", schema.classes).text()
    assert text.startswith("if ")
    assert "then y = 'yes' (p = " in text or "then y = 'no' (p = " in text
    assert "colour in {" in text  # a category split names categories, not codes


def test_a_table_of_numbers_only_gets_rules():
    # the branch's category encoder is never fitted when there are no categories
    frame = make_table(n=400, seed=3).drop(columns=["colour", "when"])
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    y = schema.encode_target(frame["y"])
    branch, X = build_branch(PreprocessParams(branch="trees"), schema, features, y)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    rules = tree_rules(tree, branch, "y", schema.classes)
    namespace: dict = {}
    exec(rules.python(), namespace)
    rows = features.astype(object).where(features.notna(), None).to_dict("records")
    assert [namespace["predict"](row) for row in rows] == list(_expected(schema, branch, tree, features))
    assert "x1" in rules.text() or "x2" in rules.text()
