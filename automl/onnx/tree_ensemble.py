"""Tree ensembles in ONNX's newer `TreeEnsemble` operator (ai.onnx.ml opset 5): the same
trees in under half the bytes, so a student under a size limit holds twice the trees.

onnxmltools and skl2onnx write `TreeEnsembleRegressor` / `TreeEnsembleClassifier`
(opset 3), which spend a string per node on its comparison ("BRANCH_LEQ", "LEAF") and
five integers per leaf on its target; `TreeEnsemble` keeps the comparisons in a byte
tensor, the thresholds and leaf values in float tensors, and a leaf as two numbers. It
computes raw scores only, so what the classifier did after summing the trees (its base
values, the logistic or softmax, the label) becomes standard operators after it.

LightGBM's splits on sets of categories, which onnxmltools writes as chains of equality
nodes reaching one subtree from each (a tree no more), become one set-membership node
each (BRANCH_MEMBER). A model is rewritten only where every tree node converts: each
leaf carries one target (boosted trees do; a decision tree classifier's leaves carry one
weight per class) and the post-transform is one this module writes (none for regression, logistic for two
classes, softmax for more). Otherwise it is left as it is, in opset 3, which
onnxruntime runs as before.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ML_DOMAIN = "ai.onnx.ml"
TREE_OPSET = 5
OLD_OPS = ("TreeEnsembleRegressor", "TreeEnsembleClassifier")
MODES = {"BRANCH_LEQ": 0, "BRANCH_LT": 1, "BRANCH_GTE": 2, "BRANCH_GT": 3,
         "BRANCH_EQ": 4, "BRANCH_NEQ": 5, "BRANCH_MEMBER": 6}


class NotConvertible(Exception):
    """This tree node has a form `TreeEnsemble` or this module does not write."""


def compact_tree_ensembles(model: onnx.ModelProto) -> bool:
    """Rewrite `model`'s opset-3 tree ensembles as `TreeEnsemble` in place; False (and
    `model` untouched) where one of them does not convert."""
    graph = model.graph
    old = [node for node in graph.node if node.op_type in OLD_OPS and node.domain == ML_DOMAIN]
    if not old:
        return False
    try:
        replacements = {id(node): _replacement(node) for node in old}
    except NotConvertible:
        return False
    nodes = []
    for node in graph.node:
        nodes.extend(replacements.get(id(node), [node]))
    del graph.node[:]
    graph.node.extend(nodes)
    for opset in model.opset_import:
        if opset.domain == ML_DOMAIN:
            opset.version = max(opset.version, TREE_OPSET)
    return True


@dataclass
class _Trees:
    """The opset-5 attributes, filled tree node by tree node."""

    featureids: list[int] = field(default_factory=list)
    splits: list[float] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    missing_true: list[int] = field(default_factory=list)
    true_ids: list[int] = field(default_factory=list)
    true_leafs: list[int] = field(default_factory=list)
    false_ids: list[int] = field(default_factory=list)
    false_leafs: list[int] = field(default_factory=list)
    leaf_targets: list[int] = field(default_factory=list)
    leaf_weights: list[float] = field(default_factory=list)
    roots: list[int] = field(default_factory=list)
    members: list[float] = field(default_factory=list)  # each set, then NaN, in node order

    def attributes(self, n_targets: int) -> dict:
        sets = {"membership_values": _tensor(self.members, np.float32)} if self.members else {}
        return {**sets, "n_targets": n_targets, "tree_roots": self.roots, "aggregate_function": 1,
                "post_transform": 0, "nodes_featureids": self.featureids,
                "nodes_splits": _tensor(self.splits, np.float32),
                "nodes_modes": _tensor(self.modes, np.uint8),
                "nodes_missing_value_tracks_true": self.missing_true,
                "nodes_truenodeids": self.true_ids, "nodes_trueleafs": self.true_leafs,
                "nodes_falsenodeids": self.false_ids, "nodes_falseleafs": self.false_leafs,
                "leaf_targetids": self.leaf_targets,
                "leaf_weights": _tensor(self.leaf_weights, np.float32)}


def _replacement(node) -> list:
    """The nodes that compute what `node` did."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if attrs.get("aggregate_function", b"SUM") != b"SUM":
        raise NotConvertible("only summed trees")
    prefix = "class" if node.op_type == "TreeEnsembleClassifier" else "target"
    n_targets = int(attrs.get("n_targets", 0)) or max(attrs[f"{prefix}_ids"], default=0) + 1
    trees = _converted(attrs, prefix)
    name = node.name or node.output[0]
    scores = f"{name}__scores"
    out = [helper.make_node("TreeEnsemble", [node.input[0]], [scores], domain=ML_DOMAIN,
                            name=f"{name}__trees", **trees.attributes(n_targets))]
    base = np.asarray(attrs.get("base_values", []), dtype=np.float32)
    if base.size and np.any(base != 0):
        out.append(helper.make_node("Add", [scores, _const(out, f"{name}__base", base)],
                                    [f"{name}__margin"]))
        scores = f"{name}__margin"
    if prefix == "target":
        return _regressor_tail(node, attrs, scores, out)
    return _classifier_tail(node, attrs, scores, n_targets, out)


def _regressor_tail(node, attrs, scores: str, out: list) -> list:
    if attrs.get("post_transform", b"NONE") != b"NONE":
        raise NotConvertible("a regressor's post-transform")
    out.append(helper.make_node("Identity", [scores], [node.output[0]]))
    return out


def _classifier_tail(node, attrs, scores: str, n_targets: int, out: list) -> list:
    """Probabilities as the opset-3 classifier returned them, then the label of the most
    probable class."""
    labels = attrs.get("classlabels_int64s") or attrs.get("classlabels_strings")
    transform = attrs.get("post_transform", b"NONE")
    name, probabilities = node.name or node.output[0], node.output[1]
    if n_targets == 1 and len(labels) == 2 and transform == b"LOGISTIC":
        positive, negative = f"{name}__p1", f"{name}__p0"
        out.append(helper.make_node("Sigmoid", [scores], [positive]))
        out.append(helper.make_node("Sub", [_const(out, f"{name}__one", np.ones(1, np.float32)),
                                            positive], [negative]))
        out.append(helper.make_node("Concat", [negative, positive], [probabilities], axis=1))
    elif n_targets == len(labels) > 2 and transform == b"SOFTMAX":
        out.append(helper.make_node("Softmax", [scores], [probabilities], axis=-1))
    else:
        raise NotConvertible("a classifier's post-transform")
    index = f"{name}__argmax"
    out.append(helper.make_node("ArgMax", [probabilities], [index], axis=1, keepdims=0))
    if list(labels) == list(range(len(labels))):
        out.append(helper.make_node("Identity", [index], [node.output[0]]))
    else:
        table = np.array([x.decode() if isinstance(x, bytes) else x for x in labels])
        out.append(helper.make_node("Gather", [_const(out, f"{name}__labels", table), index],
                                    [node.output[0]], axis=0))
    return out


def _converted(attrs: dict, prefix: str) -> _Trees:
    """The opset-3 node lists as opset-5 ones: interior nodes and leaves apart, children
    by position, the root of each tree in `tree_roots`."""
    keys = list(zip(attrs["nodes_treeids"], attrs["nodes_nodeids"]))
    modes = [m.decode() for m in attrs["nodes_modes"]]
    values = attrs.get("nodes_values") or numpy_helper.to_array(attrs["nodes_values_as_tensor"])
    missing = list(attrs.get("nodes_missing_value_tracks_true") or [0] * len(keys))
    false_ids = list(attrs["nodes_falsenodeids"])
    sets = _category_sets(keys, modes, values, attrs["nodes_featureids"],
                          attrs["nodes_truenodeids"], false_ids, missing)
    leaf_values = _leaf_values(attrs, prefix)
    interior, leaves = {}, {}
    for key, mode in zip(keys, modes):
        if mode == "DROPPED":
            continue
        if mode == "LEAF":
            leaves[key] = len(leaves)
        elif mode in MODES:
            interior[key] = len(interior)
        else:
            raise NotConvertible(f"mode {mode}")
    trees = _Trees()
    for key in leaves:
        target, weight = leaf_values.get(key, (0, 0.0))
        trees.leaf_targets.append(target)
        trees.leaf_weights.append(weight)
    children = set()
    for i, (key, mode) in enumerate(zip(keys, modes)):
        if mode in ("LEAF", "DROPPED"):
            continue
        tree = key[0]
        branches = (((tree, attrs["nodes_truenodeids"][i]), trees.true_ids, trees.true_leafs),
                    ((tree, false_ids[i]), trees.false_ids, trees.false_leafs))
        for child, ids, is_leaf in branches:
            if child in children and child in interior:
                # a chain of equality splits (a LightGBM split on a set of categories)
                # reaching one subtree twice: TreeEnsemble takes trees only
                raise NotConvertible("a node with two parents")
            children.add(child)
            ids.append(leaves[child] if child in leaves else interior[child])
            is_leaf.append(int(child in leaves))
        trees.featureids.append(attrs["nodes_featureids"][i])
        trees.splits.append(values[i])
        trees.modes.append(MODES[mode])
        trees.missing_true.append(int(missing[i]))
        if mode == "BRANCH_MEMBER":
            trees.members += [*sets[i], float("nan")]
    _add_roots(trees, keys, interior, leaves, children)
    return trees


def _category_sets(keys, modes: list, values, features, true_ids, false_ids: list,
                   missing: list) -> dict:
    """LightGBM's split on a set of categories, as onnxmltools writes it: a chain of
    equality nodes on one column, each sending its category to one same subtree and the
    rest on down the chain. Each chain becomes one set-membership node (its head; the
    others marked DROPPED, its false branch the last one's): in place, in `modes`,
    `false_ids` and `missing`. The sets, by head."""
    position = {key: i for i, key in enumerate(keys)}
    parents = defaultdict(int)
    for (tree, _), true_id, false_id in zip(keys, true_ids, false_ids):
        parents[tree, true_id] += 1
        parents[tree, false_id] += 1

    def next_in_chain(i: int) -> int | None:
        j = position.get((keys[i][0], false_ids[i]))
        if (j is not None and modes[j] == "BRANCH_EQ" and parents[keys[j]] == 1
                and true_ids[j] == true_ids[i] and features[j] == features[i]):
            return j
        return None

    equal = [i for i, mode in enumerate(modes) if mode == "BRANCH_EQ"]
    followers = {j for i in equal if (j := next_in_chain(i)) is not None}
    sets = {}
    for head in (i for i in equal if i not in followers):
        chain = [head]
        while (j := next_in_chain(chain[-1])) is not None:
            chain.append(j)
        if len(chain) < 2:
            continue
        sets[head] = [float(values[i]) for i in chain]
        false_ids[head] = false_ids[chain[-1]]
        missing[head] = int(any(missing[i] for i in chain))  # NaN goes true at any of them
        for i in chain[1:]:
            modes[i] = "DROPPED"
    for head in sets:
        modes[head] = "BRANCH_MEMBER"
    return sets


def _leaf_values(attrs: dict, prefix: str) -> dict:
    """(tree, node) → (target, weight); NotConvertible where a leaf has several."""
    values = {}
    for tree, node, target, weight in zip(attrs[f"{prefix}_treeids"], attrs[f"{prefix}_nodeids"],
                                          attrs[f"{prefix}_ids"], attrs[f"{prefix}_weights"]):
        if (tree, node) in values:
            raise NotConvertible("a leaf with several targets")
        values[tree, node] = (target, weight)
    return values


def _add_roots(trees: _Trees, keys, interior: dict, leaves: dict, children: set) -> None:
    """Each tree's first node that is nobody's child; a tree that is one leaf becomes an
    interior node whose two branches both reach it (the operator's own convention)."""
    seen = set()
    for key in keys:
        if key[0] in seen or key in children or (key not in interior and key not in leaves):
            continue  # a chain's node folded into a set (_category_sets) is neither
        seen.add(key[0])
        if key in interior:
            trees.roots.append(interior[key])
            continue
        trees.roots.append(len(trees.featureids))
        trees.featureids.append(0)
        trees.splits.append(0.0)
        trees.modes.append(MODES["BRANCH_LEQ"])
        trees.missing_true.append(0)
        for ids, is_leaf in ((trees.true_ids, trees.true_leafs), (trees.false_ids, trees.false_leafs)):
            ids.append(leaves[key])
            is_leaf.append(1)


def _tensor(values, dtype) -> TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=dtype))


def _const(out: list, name: str, value: np.ndarray) -> str:
    out.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name)))
    return name


# ---- back to opset 3, where a graph mixes both ---------------------------------------

MODE_NAMES = {code: name for name, code in MODES.items()}


def expand_tree_ensembles(model: onnx.ModelProto) -> None:
    """Rewrite `model`'s opset-5 `TreeEnsemble` nodes as opset-3 `TreeEnsembleRegressor`
    in place, and its ai.onnx.ml opset back to 3. A graph holds one opset per domain, and
    opset 5 no longer has the older operators: where one member's trees could not be
    compacted (a leaf with several targets, a post-transform not written here), the
    others' compact trees (CatBoost's and the forests' are written so) go back to the older form."""
    graph = model.graph
    nodes = [_expanded(node) if node.op_type == "TreeEnsemble" and node.domain == ML_DOMAIN
             else node for node in graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    for opset in model.opset_import:
        if opset.domain == ML_DOMAIN:
            opset.version = 3


def _expanded(node):
    """The `TreeEnsembleRegressor` computing what the `TreeEnsemble` `node` does (summed
    raw scores, no post-transform)."""
    a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    splits = numpy_helper.to_array(a["nodes_splits"]).astype(float).tolist()
    modes = numpy_helper.to_array(a["nodes_modes"]).tolist()
    leaf_weights = numpy_helper.to_array(a["leaf_weights"]).astype(float).tolist()
    if a.get("membership_values") is not None:
        raise NotConvertible("set-membership splits have no opset-3 form here")
    out = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes",
                           "nodes_values", "nodes_truenodeids", "nodes_falsenodeids",
                           "nodes_missing_value_tracks_true", "target_treeids", "target_nodeids",
                           "target_ids", "target_weights")}
    for tree, root in enumerate(a["tree_roots"]):
        ids = {}  # ("node" | "leaf", index) -> this tree's node id, in visiting order
        stack = [("node", root)]
        while stack:
            kind, index = stack.pop()
            ids[(kind, index)] = len(ids)
            if kind == "node":
                stack += [_child(a, "false", index), _child(a, "true", index)]
        for (kind, index), node_id in ids.items():
            out["nodes_treeids"].append(tree)
            out["nodes_nodeids"].append(node_id)
            if kind == "leaf":
                out["nodes_featureids"].append(0)
                out["nodes_modes"].append(b"LEAF")
                out["nodes_values"].append(0.0)
                out["nodes_truenodeids"].append(0)
                out["nodes_falsenodeids"].append(0)
                out["nodes_missing_value_tracks_true"].append(0)
                out["target_treeids"].append(tree)
                out["target_nodeids"].append(node_id)
                out["target_ids"].append(a["leaf_targetids"][index])
                out["target_weights"].append(leaf_weights[index])
                continue
            out["nodes_featureids"].append(a["nodes_featureids"][index])
            out["nodes_modes"].append(MODE_NAMES[modes[index]].encode())
            out["nodes_values"].append(splits[index])
            out["nodes_truenodeids"].append(ids[_child(a, "true", index)])
            out["nodes_falsenodeids"].append(ids[_child(a, "false", index)])
            out["nodes_missing_value_tracks_true"].append(a["nodes_missing_value_tracks_true"][index])
    return helper.make_node("TreeEnsembleRegressor", list(node.input), list(node.output),
                            domain=ML_DOMAIN, name=node.name, n_targets=a["n_targets"],
                            aggregate_function="SUM", post_transform="NONE", **out)


def _child(a: dict, side: str, index: int) -> tuple[str, int]:
    leaf = a[f"nodes_{side}leafs"][index]
    return ("leaf" if leaf else "node", a[f"nodes_{side}nodeids"][index])
