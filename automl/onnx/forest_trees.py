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

import numpy as np
import onnx

from automl.onnx.member_graphs import as_column, full_proba, single_output_model
from automl.onnx.op_graph import OpGraph
from automl.onnx.tree_ensemble import TREE_OPSET
from automl.onnx.tree_writer import TreeParts, floor_float32


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
    per_tree = [np.asarray(leaf_values(tree.value), dtype=np.float64) / len(trees) for tree in trees]
    n_targets = per_tree[0].shape[1]
    parts = TreeParts()
    for target in range(n_targets):
        for tree, values in zip(trees, per_tree):
            parts.add(tree.children_left, tree.children_right, tree.feature,
                      floor_float32(tree.threshold), tree.missing_go_to_left, values[:, target],
                      target)
    return parts.op(g, "X", n_targets, "BRANCH_LEQ")
