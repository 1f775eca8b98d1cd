"""sklearn's random forest and extra trees as a member graph (X -> raw), written straight
from their tree arrays into ONNX's `TreeEnsemble` (ai.onnx.ml opset 5) with numpy.

skl2onnx's converter walks the forest node by node in Python, and its opset-3 output was
then walked again to compact it (`tree_ensemble`): most of an ensemble's export time on
the bench's larger tables. Here each tree is a few array operations.

Each tree as sklearn applies it: `x <= threshold` goes left (the true branch), a missing
value goes where the node learned to send it (`missing_go_to_left`). The inputs are
float32, so `x <= t` exactly when `x <=` the largest float32 not above `t`: thresholds are
rounded down, never to the nearest. An opset-5 leaf holds one target: a regressor's value,
a binary classifier's probability of its second class (the first is one minus it), and for
more classes each tree is written once per class, as CatBoost's trees are
(`catboost_graph`). The forest's mean is the sum of leaf values divided by its size.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx

from automl.onnx.member_graphs import as_column, full_proba, single_output_model
from automl.onnx.op_graph import OpGraph
from automl.onnx.tree_ensemble import MODES, ML_DOMAIN, TREE_OPSET, _tensor


def forest_graph(family, n_inputs: int) -> onnx.ModelProto:
    """A random forest or extra trees family's model as a graph X -> raw."""
    estimator = family.model_
    trees = [tree.tree_ for tree in estimator.estimators_]
    g = OpGraph("forest/")
    if not family.is_classifier:
        scores = _tree_ensemble(g, trees, lambda values: values[:, 0, :1])
        return single_output_model(g, as_column(g, scores), n_inputs, TREE_OPSET, "forest")
    if len(estimator.classes_) == 2:
        positive = _tree_ensemble(g, trees, lambda values: _proba(values)[:, 1:])
        negative = g.op("Sub", [g.const(np.ones((1, 1), np.float32)), positive])
        proba = g.op("Concat", [negative, positive], axis=1)
    else:
        proba = _tree_ensemble(g, trees, _proba)
    proba = full_proba(g, proba, family.classes_seen_, family.n_classes)
    return single_output_model(g, proba, n_inputs, TREE_OPSET, "forest")


def _proba(values: np.ndarray) -> np.ndarray:
    """A classifier tree's class fractions per node (sklearn stores fractions since 1.4,
    counts before: normalised either way)."""
    fractions = values[:, 0, :]
    return fractions / np.maximum(fractions.sum(axis=1, keepdims=True), 1e-300)


def _tree_ensemble(g: OpGraph, trees: list, leaf_values) -> str:
    """Scores (n, k): the mean over `trees` of `leaf_values(tree.value)` (nodes, k) at the
    leaf each row reaches; each tree once per target."""
    parts, n_nodes, n_leaves = defaultdict(list), 0, 0
    per_tree = [np.asarray(leaf_values(tree.value), dtype=np.float64) / len(trees) for tree in trees]
    n_targets = per_tree[0].shape[1]
    for target in range(n_targets):
        for tree, values in zip(trees, per_tree):
            added_nodes, added_leaves = _add_tree(parts, tree, values[:, target], target,
                                                  n_nodes, n_leaves)
            n_nodes, n_leaves = n_nodes + added_nodes, n_leaves + added_leaves
    a = {name: np.concatenate(chunks) for name, chunks in parts.items()}
    return g.op("TreeEnsemble", ["X"], domain=ML_DOMAIN, n_targets=n_targets,
                aggregate_function=1, post_transform=0, tree_roots=a["roots"].tolist(),
                nodes_featureids=a["features"].tolist(),
                nodes_splits=_tensor(a["splits"], np.float32),
                nodes_modes=_tensor(np.full(n_nodes, MODES["BRANCH_LEQ"]), np.uint8),
                nodes_missing_value_tracks_true=a["missing_left"].tolist(),
                nodes_truenodeids=a["true_ids"].tolist(), nodes_trueleafs=a["true_leafs"].tolist(),
                nodes_falsenodeids=a["false_ids"].tolist(),
                nodes_falseleafs=a["false_leafs"].tolist(),
                leaf_targetids=a["targets"].tolist(), leaf_weights=_tensor(a["weights"], np.float32))


def _add_tree(parts: dict, tree, leaf_values: np.ndarray, target: int, first_node: int,
              first_leaf: int) -> tuple[int, int]:
    """One tree's interior nodes and leaves, numbered after `first_node` and `first_leaf`;
    how many of each it added. A tree that is one leaf gets an interior node whose two
    branches both reach it (the operator's own convention)."""
    left, right = tree.children_left, tree.children_right
    is_leaf = left == -1
    leaves = np.flatnonzero(is_leaf)
    interior = np.flatnonzero(~is_leaf)
    if not len(interior):  # one leaf: a split on column 0 that both ways reaches it
        parts["roots"].append(np.array([first_node]))
        for name, value in (("features", 0), ("splits", 0.0), ("missing_left", 0),
                            ("true_ids", first_leaf), ("true_leafs", 1),
                            ("false_ids", first_leaf), ("false_leafs", 1)):
            parts[name].append(np.array([value]))
        parts["targets"].append(np.array([target]))
        parts["weights"].append(leaf_values[:1])
        return 1, 1
    position = np.empty(len(left), dtype=np.int64)  # node id -> its index among its kind
    position[interior] = np.arange(len(interior)) + first_node
    position[leaves] = np.arange(len(leaves)) + first_leaf
    parts["roots"].append(np.array([first_node]))  # node 0, sklearn's root, is interior
    parts["features"].append(tree.feature[interior])
    parts["splits"].append(_floor_float32(tree.threshold[interior]))
    parts["missing_left"].append(np.asarray(tree.missing_go_to_left, dtype=np.int64)[interior])
    for side, children in (("true", left[interior]), ("false", right[interior])):
        parts[f"{side}_ids"].append(position[children])
        parts[f"{side}_leafs"].append(is_leaf[children].astype(np.int64))
    parts["targets"].append(np.full(len(leaves), target))
    parts["weights"].append(leaf_values[leaves])
    return len(interior), len(leaves)


def _floor_float32(thresholds: np.ndarray) -> np.ndarray:
    """The largest float32 not above each threshold."""
    rounded = thresholds.astype(np.float32)
    above = rounded.astype(np.float64) > thresholds
    rounded[above] = np.nextafter(rounded[above], np.float32(-np.inf))
    return rounded
