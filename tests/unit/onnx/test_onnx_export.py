"""The trees branch + xgboost, LightGBM or a decision tree in one ONNX graph predicts what
Python predicts."""

from __future__ import annotations

import numpy as np
import pytest
from lightgbm import LGBMClassifier, LGBMRegressor
from xgboost import XGBClassifier, XGBRegressor

from automl.config import PreprocessParams
from automl.data import infer_schema, prepare_features
from automl.onnx.parity import ParityError, check_parity
from automl.onnx.trees_graph import export_trees_model
from automl.preprocess import build_branch
from tests.conftest import make_table


BOOSTERS = {"xgboost": (XGBClassifier, XGBRegressor, {"max_depth": 3}),
            "lightgbm": (LGBMClassifier, LGBMRegressor, {"num_leaves": 8, "verbose": -1})}


def _student(task: str, library: str = "xgboost"):
    frame = make_table(n=600, task=task, seed=1)
    frame.loc[frame.index[:30], "colour"] = np.nan  # a missing category seen in training
    schema = infer_schema(frame, "y")
    features = prepare_features(frame, schema)
    y = schema.encode_target(frame["y"])
    branch, X = build_branch(PreprocessParams(branch="trees"), schema, features, y)
    classifier, regressor, shape = BOOSTERS[library]
    cls = regressor if task == "regression" else classifier
    model = cls(n_estimators=30, n_jobs=1, **shape).fit(X, y)
    return schema, branch, model


def _surprising_rows(schema):
    frame = make_table(n=200, task=schema.task, seed=2)
    frame.loc[frame.index[:10], "colour"] = "ultraviolet"  # unseen
    frame.loc[frame.index[10:20], "colour"] = np.nan
    frame.loc[frame.index[20:30], "x2"] = np.nan
    return prepare_features(frame, schema)


@pytest.mark.parametrize("library", BOOSTERS)
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_onnx_matches_python(task, library):
    schema, branch, model = _student(task, library)
    rows = _surprising_rows(schema)
    onnx_bytes = export_trees_model(branch, model, rows)
    X = branch.transform(rows)
    python = model.predict(X) if task == "regression" else model.predict_proba(X)
    assert check_parity(onnx_bytes, python, rows) <= 1e-4
    assert len(onnx_bytes) < 200_000  # a small model stays small
    # in the compact TreeEnsemble operator (`automl.onnx.tree_ensemble`), under 0.6 of the older one's size
    assert "TreeEnsemble" in _ops(onnx_bytes)
    assert not {"TreeEnsembleClassifier", "TreeEnsembleRegressor"} & _ops(onnx_bytes)
    assert len(onnx_bytes) < 0.6 * _opset3_size(branch, model, rows)


def test_parity_check_fails_loudly():
    schema, branch, model = _student("binary")
    rows = _surprising_rows(schema)
    onnx_bytes = export_trees_model(branch, model, rows)
    wrong = model.predict_proba(branch.transform(rows))[:, ::-1]  # swapped classes
    with pytest.raises(ParityError, match="differ by up to"):
        check_parity(onnx_bytes, wrong, rows)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_a_decision_tree_exports_with_its_missing_value_routes(task):
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    schema, branch, _ = _student(task)
    frame = make_table(n=600, task=task, seed=1)
    frame.loc[frame.index[:30], "colour"] = np.nan
    features = prepare_features(frame, schema)
    X = branch.transform(features)
    cls = DecisionTreeRegressor if task == "regression" else DecisionTreeClassifier
    tree = cls(max_depth=4, random_state=0).fit(X, schema.encode_target(frame["y"]))
    rows = _surprising_rows(schema)
    onnx_bytes = export_trees_model(branch, tree, rows)
    X_rows = branch.transform(rows)
    python = tree.predict(X_rows) if task == "regression" else tree.predict_proba(X_rows)
    assert check_parity(onnx_bytes, python, rows) <= 1e-4


def _ops(onnx_bytes: bytes) -> set[str]:
    import onnx

    return {node.op_type for node in onnx.load_from_string(onnx_bytes).graph.node}


def _opset3_size(branch, model, rows) -> int:
    """The same export left in the opset-3 tree operators, for the size comparison."""
    return len(export_trees_model(branch, model, rows, compact_trees=False))


def test_trees_of_one_leaf_and_labels_survive_the_rewrite():
    from automl.serving.session import OnnxModel, feeds

    schema, branch, _ = _student("binary")
    rows = _surprising_rows(schema)
    X = branch.transform(prepare_features(make_table(n=600, task="binary", seed=1), schema))
    y = schema.encode_target(make_table(n=600, task="binary", seed=1)["y"])
    # past the first rounds every split costs more than `gamma` allows: trees of one leaf
    model = XGBClassifier(n_estimators=20, max_depth=3, gamma=50.0, n_jobs=1).fit(X, y)
    onnx_bytes = export_trees_model(branch, model, rows)
    python = model.predict_proba(branch.transform(rows))
    assert check_parity(onnx_bytes, python, rows) <= 1e-4
    labels, _ = OnnxModel(onnx_bytes).session.run(None, feeds(rows))
    assert np.array_equal(np.asarray(labels).reshape(-1), python.argmax(axis=1))


def test_a_decision_tree_classifier_keeps_the_older_operator():
    from sklearn.tree import DecisionTreeClassifier

    schema, branch, _ = _student("multiclass")
    frame = make_table(n=600, task="multiclass", seed=1)
    X = branch.transform(prepare_features(frame, schema))
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, schema.encode_target(frame["y"]))
    rows = _surprising_rows(schema)
    # its leaves hold one probability per class, which `TreeEnsemble` has no form for
    assert "TreeEnsembleClassifier" in _ops(export_trees_model(branch, tree, rows))
