"""A LightGBM member as a graph X -> raw (`member_graphs`' contract), written straight from
the booster's model text into ONNX's `TreeEnsemble` (ai.onnx.ml opset 5) with numpy.

onnxmltools' converter parses LightGBM's JSON dump node by node and writes the older
opset-3 operators (a split on a set of categories as a chain of equality nodes), which
`tree_ensemble` then rewrote: 12 of a 20 s ensemble export on wine_quality (five fold
models). The model text holds each tree as arrays; here they are read with numpy.

As LightGBM decides (its `NumericalDecision` / `CategoricalDecision`): `x <= t` goes left,
t lowered to the largest float32 not above it (inputs are float32: `tree_writer.floor_float32`);
a missing value goes where the node learned to send it when the node tracks missing
values, else it is taken as 0; a split on categories sends the set's members left and
a missing value right. The trees are those up to the round `predict_raw` stops at, their
margin's base read off the booster (a row's raw score less its leaves), then the
objective's link. Zero-as-missing splits, linear trees and other objectives are left to
onnxmltools (`member_trees`).
"""

from __future__ import annotations

import numpy as np
import onnx

from automl.onnx import member_trees
from automl.onnx.level_lookup import with_level_lookup
from automl.onnx.op_graph import OpGraph
from automl.onnx.tree_writer import TreeParts, boosted_member, floor_float32

LINKS = {"binary": "logistic", "multiclass": "softmax", "regression": None}
CATEGORICAL, DEFAULT_LEFT = 1, 2  # decision_type's bits; bits 2-3 its missing type
MISSING_ZERO, MISSING_NAN = 1, 2


class NotWritten(Exception):
    """A model this writer does not cover; onnxmltools converts it instead."""


def lightgbm_graph(family, n_inputs: int) -> onnx.ModelProto:
    """The member's trees, behind the lookups of the columns it re-encodes (`level_lookup`)."""
    try:
        model = _written(family, n_inputs)
    except NotWritten:
        model = member_trees.lightgbm_graph(family, n_inputs)
    return with_level_lookup(model, getattr(family, "level_coding_", None), n_inputs)


def _written(family, n_inputs: int) -> onnx.ModelProto:
    import lightgbm as lgb

    text = family.booster_.model_to_string(num_iteration=family.n_rounds_)
    header, trees = _parsed(text)
    objective = header["objective"].split()
    if objective[0] not in LINKS:
        raise NotWritten(f"objective {objective[0]}")
    per_round = int(header.get("num_tree_per_iteration", 1))
    g, parts = OpGraph("lightgbm/"), TreeParts()
    for i, tree in enumerate(trees):
        _add_tree(parts, tree, i % per_round)
    booster = lgb.Booster(model_str=text)
    margin = g.op("Add", [parts.op(g, "X", per_round, "BRANCH_LEQ"),
                          g.const(_base_margin(booster, trees, per_round, n_inputs))])
    link = LINKS[objective[0]]
    if link == "logistic":
        sigmoid = float(dict(p.split(":") for p in objective[1:]).get("sigmoid", 1.0))
        if sigmoid != 1.0:
            margin = g.op("Mul", [margin, g.const(np.full((1, 1), sigmoid, np.float32))])
    return boosted_member(g, margin, link, family, n_inputs, "lightgbm")


def _parsed(text: str) -> tuple[dict, list[dict]]:
    """The model text's header and each tree's `key=value` lines."""
    blocks = text.split("end of trees")[0].split("\nTree=")
    header = _fields(blocks[0])
    trees = [_fields(block) for block in blocks[1:]]
    if any(tree.get("is_linear", "0") != "0" for tree in trees):
        raise NotWritten("linear trees")
    return header, trees


def _fields(block: str) -> dict:
    return dict(line.split("=", 1) for line in block.splitlines() if "=" in line)


def _numbers(tree: dict, key: str, dtype) -> np.ndarray:
    return np.array(tree[key].split(), dtype=dtype) if tree.get(key) else np.zeros(0, dtype)


def _add_tree(parts: TreeParts, tree: dict, target: int) -> None:
    """LightGBM numbers interior nodes 0.. and leaves apart, a child < 0 being leaf ~child;
    here leaves follow the interior nodes, as `TreeParts.add` takes them."""
    leaf_value = _numbers(tree, "leaf_value", np.float64)
    n_interior = int(tree["num_leaves"]) - 1
    if n_interior == 0:
        parts.add([-1], [-1], [0], [0.0], [0], leaf_value, target)
        return
    decision = _numbers(tree, "decision_type", np.int64)
    missing = (decision >> 2) & 3
    if (missing == MISSING_ZERO).any():
        raise NotWritten("zero-as-missing splits")
    threshold = _numbers(tree, "threshold", np.float64)
    children = [_numbers(tree, side, np.int64) for side in ("left_child", "right_child")]
    left, right = (np.concatenate([np.where(c >= 0, c, n_interior + ~c),
                                   np.full(n_interior + 1, -1)]) for c in children)
    categorical = (decision & CATEGORICAL).astype(bool)
    # a missing value: where the node learned to send it, else taken as 0 (`0 <= t`);
    # on a categorical split always right
    missing_left = np.where(missing == MISSING_NAN, (decision & DEFAULT_LEFT) > 0, threshold >= 0)
    missing_left &= ~categorical
    sets = _category_sets(tree, threshold, categorical)
    split = np.where(categorical, 0.0, floor_float32(threshold))
    feature = _numbers(tree, "split_feature", np.int64)
    pad = np.zeros(n_interior + 1)
    parts.add(left, right, np.concatenate([feature, pad.astype(np.int64)]),
              np.concatenate([split, pad]), np.concatenate([missing_left, pad.astype(bool)]),
              np.concatenate([np.zeros(n_interior), leaf_value]), target, sets)


def _category_sets(tree: dict, threshold: np.ndarray, categorical: np.ndarray) -> dict:
    """node -> the category codes its bitset sends left (`cat_threshold`, 32-bit words,
    between `cat_boundaries`; a categorical node's threshold is its set's number)."""
    if not categorical.any():
        return {}
    bounds = _numbers(tree, "cat_boundaries", np.int64)
    words = _numbers(tree, "cat_threshold", np.uint32)
    sets = {}
    for node in np.flatnonzero(categorical):
        k = int(threshold[node])
        bits = np.unpackbits(words[bounds[k]:bounds[k + 1]].view(np.uint8), bitorder="little")
        sets[int(node)] = np.flatnonzero(bits).astype(float).tolist()
    return sets


def _base_margin(booster, trees: list[dict], per_round: int, n_inputs: int) -> np.ndarray:
    """(1, per_round): a row of zeros' raw score less the leaf values it reaches (LightGBM
    folds its starting average into the first trees: 0 unless that changes)."""
    probe = np.zeros((1, n_inputs))
    margin = np.asarray(booster.predict(probe, raw_score=True), dtype=np.float64).reshape(1, -1)
    leaves = np.asarray(booster.predict(probe, pred_leaf=True)).ravel()
    reached = np.zeros(per_round)
    for i, (tree, leaf) in enumerate(zip(trees, leaves)):
        reached[i % per_round] += _numbers(tree, "leaf_value", np.float64)[int(leaf)]
    return (margin - reached).astype(np.float32)
