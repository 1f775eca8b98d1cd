"""A CatBoost member as an ONNX graph, categorical features included.

CatBoost's own ONNX export refuses models trained with categorical features, and our
family always names its categorical columns. This converter reads the model's oblivious
trees from its JSON form and writes them in ONNX's `TreeEnsemble` (ai.onnx.ml opset 5):
a float split is a threshold on the input column (CatBoost's `x > border`; the side NaN
takes is read from CatBoost by probing, whatever its nan_mode), and a split on
categories is a 0/1 column looked up in a table probed from CatBoost
(`catboost_lookup`), which the tree reads with a 0.5 threshold. An oblivious tree of
depth d becomes a full binary tree whose level j tests split j, so the leaf reached is
CatBoost's leaf index (bit j = split j). After the trees: scale and bias, then what
`predict_raw` does (sigmoid or softmax, the columns of classes training never saw).

Graph: input `X` float [n, n_inputs] (the trees branch's output), output `raw` float
[n, k] (classes) or [n, 1] (regression).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper

from automl.metrics import BINARY
from automl.models.catboost_family import LOSSES, CatBoostFamily
from automl.onnx.catboost_lookup import CatBoostGraphError, Inputs, Lookups, leaf_indexes, tabulate
from automl.onnx.op_graph import OpGraph
from automl.onnx.tree_ensemble import ML_DOMAIN, TREE_OPSET
from automl.onnx.tree_writer import TreeParts

__all__ = ["catboost_graph", "CatBoostGraphError"]


@dataclass
class _Tree:
    """One oblivious tree: per level the column it reads and its threshold, and whether
    NaN goes to the 1 side; leaf values (2^depth, k)."""

    columns: list[int] = field(default_factory=list)
    thresholds: list[float] = field(default_factory=list)
    nan_true: list[int] = field(default_factory=list)
    leaves: np.ndarray | None = None


def catboost_graph(model: CatBoostFamily, n_inputs: int, opset: int = 17) -> onnx.ModelProto:
    """The ONNX graph computing `model.predict_raw(X)` from X [n, n_inputs]."""
    dump = _json(model.model_)
    trees, groups = _trees(model, dump, n_inputs)
    ops = OpGraph("cb_")
    features = ["X", *_lookup_columns(ops, model, n_inputs, trees, groups)]
    tree_input = ops.op("Concat", features, axis=1) if len(features) > 1 else "X"
    raw = _tail(ops, model, _tree_ensemble(ops, tree_input, trees), dump["scale_and_bias"])
    k = model.n_classes if model.is_classifier else 1
    graph = helper.make_graph(
        ops.nodes, "catboost", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, n_inputs])],
        [helper.make_tensor_value_info(raw, TensorProto.FLOAT, [None, k])], ops.constants)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                   helper.make_opsetid(ML_DOMAIN, TREE_OPSET)])


# ---- reading the trees ------------------------------------------------------------------


def _trees(model: CatBoostFamily, dump: dict, n_inputs: int) -> tuple[list[_Tree], dict]:
    """The trees, and the categorical splits grouped by what they read:
    {Inputs: {split_index: [(tree, level), ...]}} (one split may recur in several trees)."""
    info = dump["features_info"]
    floats = {f["feature_index"]: f["flat_feature_index"] for f in info.get("float_features", [])}
    cats = {c["feature_index"]: c["flat_feature_index"] for c in info.get("categorical_features", [])}
    _check_width(n_inputs, [*floats.values(), *cats.values()])
    read = _SplitReader(floats, cats, _category_codes(model, cats.values()), _ctr_splits(info))
    trees, groups = [], defaultdict(lambda: defaultdict(list))
    for t, tree in enumerate(dump["oblivious_trees"]):
        splits = tree["splits"] or []  # a tree of no split: null
        depth = len(splits)
        current = _Tree(leaves=np.asarray(tree["leaf_values"], dtype=np.float64).reshape(2 ** depth, -1))
        for level, split in enumerate(splits):
            column, threshold, inputs = read(split)
            current.columns.append(column)
            current.thresholds.append(threshold)
            current.nan_true.append(0)
            if inputs is not None:
                groups[inputs][split["split_index"]].append((t, level))
        trees.append(current)
    _set_nan_sides(model, trees, n_inputs)
    return trees, groups


class _SplitReader:
    """A split of the JSON as (column, threshold, None) for a float split, or
    (-1, 0.5, Inputs) for a categorical one, whose column the lookups assign."""

    def __init__(self, floats: dict, cats: dict, codes: dict, ctrs: dict):
        self.floats, self.cats, self.codes, self.ctrs = floats, cats, codes, ctrs

    def __call__(self, split: dict) -> tuple[int, float, Inputs | None]:
        kind = split["split_type"]
        if kind == "FloatFeature":
            return self.floats[split["float_feature_index"]], float(np.float32(split["border"])), None
        if kind == "OneHotFeature":
            column = self.cats[split["cat_feature_index"]]
            return -1, 0.5, Inputs(((column, self.codes[column]),), ())
        if kind == "OnlineCtr":
            return -1, 0.5, self._ctr_inputs(split)
        raise CatBoostGraphError(f"a CatBoost split of type {kind!r} is not converted (float, "
                                 "one-hot and CTR splits are); this member cannot be written as ONNX")

    def _ctr_inputs(self, split: dict) -> Inputs:
        ctr, border = self.ctrs.get(split["split_index"], (None, None))
        if ctr is None or np.float32(border) != np.float32(split["border"]):
            raise CatBoostGraphError(
                f"CTR split {split['split_index']} does not match the model's CTR list; the "
                "installed catboost writes its JSON in a form this converter does not read")
        cats, borders = set(), defaultdict(set)
        for element in ctr["elements"]:
            kind = element["combination_element"]
            if kind in ("cat_feature_value", "cat_feature_exact_value"):
                cats.add(self.cats[element["cat_feature_index"]])
            elif kind == "float_feature":
                borders[self.floats[element["float_feature_index"]]].add(float(np.float32(element["border"])))
            else:
                raise CatBoostGraphError(f"a CTR over a {kind!r} is not converted; this member "
                                         "cannot be written as ONNX")
        return Inputs(tuple((c, self.codes[c]) for c in sorted(cats)),
                      tuple((f, tuple(sorted(b))) for f, b in sorted(borders.items())))


def _ctr_splits(info: dict) -> dict:
    """split_index -> (ctr, border): CatBoost numbers binary features float borders first,
    then one-hot values, then each CTR's borders, in the JSON's order."""
    index = sum(len(f.get("borders", [])) for f in info.get("float_features", []))
    index += sum(len(c.get("values", [])) for c in info.get("categorical_features", []))
    splits = {}
    for ctr in info.get("ctrs", []):
        for border in ctr["borders"]:
            splits[index] = (ctr, border)
            index += 1
    return splits


def _category_codes(model: CatBoostFamily, columns) -> dict[int, int]:
    """Flat column -> how many codes training held there: the tables' domains."""
    columns = list(columns)
    if columns and getattr(model, "category_codes_", None) is None:
        raise CatBoostGraphError("this CatBoost member was fitted before the family recorded its "
                                 "category codes (category_codes_); refit it to export it as ONNX")
    codes = dict(zip(model.categorical, getattr(model, "category_codes_", ())))
    return {column: codes[column] for column in columns}


def _check_width(n_inputs: int, columns: list[int]) -> None:
    if columns and max(columns) >= n_inputs:
        raise CatBoostGraphError(f"the CatBoost member reads column {max(columns)}, but n_inputs is "
                                 f"{n_inputs}; pass the width of the matrix it was fitted on")


def _set_nan_sides(model: CatBoostFamily, trees: list[_Tree], n_inputs: int) -> None:
    """Which side NaN takes at each float split, as CatBoost applies the model: one probe
    row with every column NaN (a float split reads its own column only)."""
    if not any(column >= 0 for tree in trees for column in tree.columns):
        return
    leaves = leaf_indexes(model, np.full((1, n_inputs), np.nan))[0]
    for tree, leaf in zip(trees, leaves):
        tree.nan_true = [int(column >= 0 and (leaf >> level) & 1)
                         for level, column in enumerate(tree.columns)]


def _lookup_columns(ops: OpGraph, model: CatBoostFamily, n_inputs: int, trees: list[_Tree],
                    groups: dict) -> list[str]:
    """One lookup per group of categorical splits; each split's tree level reads its column."""
    lookups, columns, offset = Lookups(ops, "X"), [], n_inputs
    wanted = [(inputs, [places[0] for places in splits.values()]) for inputs, splits in groups.items()]
    for (inputs, splits), table in zip(groups.items(), tabulate(model, n_inputs, wanted)):
        columns.append(lookups.columns(inputs, table))
        for j, places in enumerate(splits.values()):
            for tree, level in places:
                trees[tree].columns[level] = offset + j
        offset += len(splits)
    return columns


# ---- writing the graph ------------------------------------------------------------------


def _tree_ensemble(ops: OpGraph, tree_input: str, trees: list[_Tree]) -> str:
    """Scores (n, k): one TreeEnsemble, each CatBoost tree once per output dimension (an
    opset-5 leaf holds one target)."""
    n_targets = trees[0].leaves.shape[1] if trees else 1
    parts = TreeParts()
    for target in range(n_targets):
        for tree in trees:
            _add_tree(parts, tree, target)
    return parts.op(ops, tree_input, n_targets, "BRANCH_GT")


def _add_tree(parts: TreeParts, tree: _Tree, target: int) -> None:
    """An oblivious tree, laid out whole (`_layout`): `x > border` is its 1 side."""
    levels, true_child, false_child, to_leaf = _layout(len(tree.columns))
    columns = np.asarray(tree.columns or [0])
    offset = np.where(to_leaf, parts.n_leaves, parts.n_nodes)
    parts.append(roots=[parts.n_nodes], features=columns[levels],
                 splits=np.asarray(tree.thresholds or [0.0])[levels],
                 missing_left=np.asarray(tree.nan_true or [0])[levels],
                 true_ids=true_child + offset, false_ids=false_child + offset,
                 true_leafs=to_leaf, false_leafs=to_leaf,
                 targets=np.full(len(tree.leaves), target), weights=tree.leaves[:, target],
                 n_nodes=max(2 ** len(tree.columns) - 1, 1), n_leaves=len(tree.leaves))


def _layout(depth: int) -> tuple[np.ndarray, ...]:
    """An oblivious tree as a full binary tree, nodes breadth first: each node's level, its
    1 and 0 children (node or leaf numbers), and whether they are leaves. The node at level
    j after the bits p of levels 0..j-1 is number 2^j - 1 + p; the leaf reached is
    CatBoost's leaf index, bit j being split j. Depth 0: one node whose sides both reach
    the one leaf (the operator's convention)."""
    if depth == 0:
        zero = np.zeros(1, dtype=np.int64)
        return zero, zero, zero, np.ones(1, dtype=np.int64)
    levels = np.concatenate([np.full(2 ** j, j) for j in range(depth)])
    prefixes = np.concatenate([np.arange(2 ** j) for j in range(depth)])
    last = levels == depth - 1
    child_base = np.where(last, 0, 2 ** (levels + 1) - 1)
    true_child = child_base + (prefixes | (1 << levels))
    false_child = child_base + prefixes
    return levels, true_child, false_child, last.astype(np.int64)


def _tail(ops: OpGraph, model: CatBoostFamily, scores: str, scale_and_bias: list) -> str:
    """From summed leaves to predict_raw's output, named `raw`."""
    scale, bias = scale_and_bias
    if scale != 1:
        scores = ops.op("Mul", [scores, ops.const(np.float32(scale))])
    bias = np.asarray(bias, dtype=np.float32).ravel()
    if bias.any():
        scores = ops.op("Add", [scores, ops.const(bias)])
    if not model.is_classifier:
        return ops.op("Identity", [scores], "raw")
    if model._loss() == LOSSES[BINARY]:
        positive = ops.op("Sigmoid", [scores])
        negative = ops.op("Sub", [ops.const(np.ones(1, np.float32)), positive])
        probabilities = ops.op("Concat", [negative, positive], axis=1)
    else:
        probabilities = ops.op("Softmax", [scores], axis=1)
    seen = np.asarray(model.classes_seen_).astype(int)
    if seen.tolist() == list(range(model.n_classes)):
        return ops.op("Identity", [probabilities], "raw")
    # classes training never saw get probability 0, as _full_proba gives them
    placement = np.zeros((len(seen), model.n_classes), dtype=np.float32)
    placement[np.arange(len(seen)), seen] = 1
    return ops.op("MatMul", [probabilities, ops.const(placement)], "raw")


def _json(booster) -> dict:
    """The model's JSON form (CatBoost writes it to a file only)."""
    handle, path = tempfile.mkstemp(suffix=".json")
    os.close(handle)
    try:
        booster.save_model(path, format="json")
        with open(path) as file:
            return json.load(file)
    finally:
        os.remove(path)
