"""Trees written straight from their arrays into ONNX's `TreeEnsemble` (ai.onnx.ml opset 5)
with numpy: what the forests (`forest_trees`), xgboost (`xgboost_trees`) and CatBoost
(`catboost_graph`) members share.

A tree is given as arrays over its nodes, node 0 its root: each node's left and right
child (-1 at a leaf), its feature and float32 threshold, whether a missing value goes
left, and each leaf's value. Left is the operator's true branch: the comparison (`mode`:
`x <= t` for sklearn, `x < t` for xgboost) holds there. The operator numbers interior
nodes and leaves apart, so each tree's are renumbered after those of the trees before it.
A leaf holds one target: a tree that scores k targets is added once per target.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx

from automl.onnx.member_graphs import as_column, full_proba, single_output_model
from automl.onnx.op_graph import OpGraph
from automl.onnx.tree_ensemble import MODES, ML_DOMAIN, TREE_OPSET, _tensor


class TreeParts:
    """The trees of one `TreeEnsemble` node, gathered one by one (`add`), then written (`op`)."""

    def __init__(self):
        self.parts: dict[str, list[np.ndarray]] = defaultdict(list)
        self.n_nodes = self.n_leaves = 0
        self.members: list[float] = []  # set-membership nodes' values, NaN after each set

    def add(self, left, right, feature, split, missing_left, value, target: int = 0,
            sets: dict[int, list[float]] | None = None) -> None:
        """One tree (arrays over its nodes; `value` read at its leaves) scoring `target`;
        `sets`: node -> the values that send a row left at that node (a split on a set of
        categories), the other nodes comparing with `op`'s mode. A tree that is one leaf
        gets an interior node whose two branches both reach it (the operator's own
        convention)."""
        left, right = np.asarray(left), np.asarray(right)
        is_leaf = left == -1
        leaves, interior = np.flatnonzero(is_leaf), np.flatnonzero(~is_leaf)
        value = np.asarray(value, dtype=np.float64)
        if not len(interior):
            self.append(roots=[self.n_nodes], features=[0], splits=[0.0], missing_left=[0],
                        true_ids=[self.n_leaves], true_leafs=[1], false_ids=[self.n_leaves],
                        false_leafs=[1], targets=[target], weights=value[:1], n_nodes=1, n_leaves=1)
            return
        sets = sets or {}
        position = np.empty(len(left), dtype=np.int64)  # node id -> its index among its kind
        position[interior] = np.arange(len(interior)) + self.n_nodes
        position[leaves] = np.arange(len(leaves)) + self.n_leaves
        self.append(roots=[self.n_nodes], features=np.asarray(feature)[interior],
                    splits=np.asarray(split)[interior],
                    missing_left=np.asarray(missing_left, dtype=np.int64)[interior],
                    true_ids=position[left[interior]], true_leafs=is_leaf[left[interior]],
                    false_ids=position[right[interior]], false_leafs=is_leaf[right[interior]],
                    targets=np.full(len(leaves), target), weights=value[leaves],
                    member=np.array([node in sets for node in interior], dtype=bool),
                    n_nodes=len(interior), n_leaves=len(leaves))
        for node in interior:  # each set, then NaN, in node order (the operator's layout)
            if node in sets:
                self.members += [*sets[node], float("nan")]

    def append(self, n_nodes: int, n_leaves: int, **arrays) -> None:
        """Arrays already numbered after the nodes and leaves gathered so far (CatBoost's
        oblivious trees are laid out whole); then `n_nodes` and `n_leaves` more."""
        for name, values in arrays.items():
            self.parts[name].append(np.asarray(values))
        if "member" not in arrays:
            self.parts["member"].append(np.zeros(n_nodes, dtype=bool))
        self.n_nodes += n_nodes
        self.n_leaves += n_leaves

    def op(self, g: OpGraph, inputs: str, n_targets: int, mode: str) -> str:
        """The `TreeEnsemble` node: the sum over trees of their leaf values, (n, n_targets)."""
        a = {name: np.concatenate(chunks) for name, chunks in self.parts.items()}
        ints = {name: a[name].astype(np.int64)
                for name in ("roots", "features", "missing_left", "true_ids", "true_leafs",
                             "false_ids", "false_leafs", "targets")}
        modes = np.where(a["member"], MODES["BRANCH_MEMBER"], MODES[mode])
        sets = {"membership_values": _tensor(self.members, np.float32)} if self.members else {}
        return g.op("TreeEnsemble", [inputs], domain=ML_DOMAIN, n_targets=n_targets,
                    aggregate_function=1, post_transform=0, tree_roots=ints["roots"],
                    nodes_featureids=ints["features"], **sets,
                    nodes_splits=_tensor(a["splits"], np.float32),
                    nodes_modes=_tensor(modes, np.uint8),
                    nodes_missing_value_tracks_true=ints["missing_left"],
                    nodes_truenodeids=ints["true_ids"], nodes_trueleafs=ints["true_leafs"],
                    nodes_falsenodeids=ints["false_ids"], nodes_falseleafs=ints["false_leafs"],
                    leaf_targetids=ints["targets"], leaf_weights=_tensor(a["weights"], np.float32))


def floor_float32(values: np.ndarray) -> np.ndarray:
    """The largest float32 not above each value. For a float32 x, x <= t exactly when
    x <= floor32(t): rounded to the nearest instead, a threshold can cross a row's value
    (a LightGBM member on wine_quality differed by 1% of the scale)."""
    values = np.asarray(values, dtype=np.float64)
    lowered = values.astype(np.float32)
    above = lowered.astype(np.float64) > values
    lowered[above] = np.nextafter(lowered[above], np.float32(-np.inf))
    return lowered


def boosted_member(g: OpGraph, margin: str, link: str | None, family, n_inputs: int,
                   name: str) -> onnx.ModelProto:
    """A boosted member's summed margin (n, k) through its objective's link (None for a
    regression's values, "logistic" for two classes, "softmax" for more) to the member
    graph's `raw`, over all the run's classes (`full_proba`)."""
    if link is None:
        return single_output_model(g, as_column(g, margin), n_inputs, TREE_OPSET, name)
    if link == "logistic":
        positive = g.op("Sigmoid", [margin])
        proba = g.op("Concat", [g.op("Sub", [g.const(np.ones((1, 1), np.float32)), positive]),
                                positive], axis=1)
    else:
        proba = g.op("Softmax", [margin], axis=1)
    proba = full_proba(g, proba, family.classes_seen_, family.n_classes)
    return single_output_model(g, proba, n_inputs, TREE_OPSET, name)
