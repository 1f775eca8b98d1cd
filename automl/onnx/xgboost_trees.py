"""An xgboost member as a graph X -> raw (`member_graphs`' contract), written straight from
the booster's JSON into ONNX's `TreeEnsemble` (ai.onnx.ml opset 5) with numpy.

onnxmltools' converter walks every node in Python and writes the older opset-3 operators,
which `tree_ensemble` then walks again to compact: 3.3 s of a 14.5 s ensemble export for
eight fold models on the adult sample. Here each tree is a few array operations.

xgboost sends `x < t` left, float32 against a float32 threshold, and a missing value where
the node learned to (`default_left`). The trees used are those `predict_proba` uses: up
to the best round where early stopping ran. The margin's base (`base_score`, kept in
probability or margin space depending on the objective and the version) is not parsed:
it is read off the booster, as its margin for one row less the leaves that row reaches.
Then the objective's link: the logistic for binary, the softmax for several classes,
none for squared error. Another objective, or native categorical splits, is refused.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import xgboost as xgb

from automl.onnx.member_graphs import (ConversionError)
from automl.onnx.op_graph import OpGraph
from automl.onnx.tree_writer import TreeParts, boosted_member

LINKS = {"binary:logistic": "logistic", "multi:softprob": "softmax", "multi:softmax": "softmax",
         "reg:squarederror": None}


def xgboost_graph(family, n_inputs: int) -> onnx.ModelProto:
    estimator = family.model_
    if estimator.get_params().get("enable_categorical"):
        raise ConversionError("an xgboost member with native categorical splits has no ONNX "
                              "converter here (its trees are written with numeric splits only)")
    booster = estimator.get_booster()
    learner = json.loads(booster.save_raw("json"))["learner"]
    objective = learner["objective"]["name"]
    if objective not in LINKS or learner["gradient_booster"]["name"] != "gbtree":
        raise ConversionError(f"an xgboost member with objective {objective!r} has no ONNX "
                              f"converter here (known: {', '.join(LINKS)})")
    model = learner["gradient_booster"]["model"]
    n_groups = max(1, int(learner["learner_model_param"]["num_class"]))
    rounds = _rounds_used(estimator, booster)
    per_round = n_groups * int(model["gbtree_model_param"]["num_parallel_tree"])
    trees = model["trees"][:rounds * per_round]
    groups = model["tree_info"][:rounds * per_round]

    g = OpGraph("xgboost/")
    parts = TreeParts()
    for tree, group in zip(trees, groups):
        parts.add(tree["left_children"], tree["right_children"], tree["split_indices"],
                  np.asarray(tree["split_conditions"], dtype=np.float32), tree["default_left"],
                  tree["split_conditions"], group)
    margin = g.op("Add", [parts.op(g, "X", n_groups, "BRANCH_LT"),
                          g.const(_base_margin(booster, trees, groups, n_groups, rounds, n_inputs))])
    link = LINKS[objective]
    return boosted_member(g, margin, link, family, n_inputs, "xgboost")


def _rounds_used(estimator, booster) -> int:
    """The rounds `predict_proba` / `predict` use: up to the best one where early stopping ran."""
    best = getattr(estimator, "best_iteration", None)
    return booster.num_boosted_rounds() if best is None else int(best) + 1


def _base_margin(booster, trees: list[dict], groups: list[int], n_groups: int, rounds: int,
                 n_inputs: int) -> np.ndarray:
    """(1, n_groups): the booster's margin for a row of zeros less the leaf values it reaches."""
    probe = xgb.DMatrix(np.zeros((1, n_inputs), dtype=np.float32))
    margin = booster.predict(probe, output_margin=True, iteration_range=(0, rounds))
    leaves = booster.predict(probe, pred_leaf=True, iteration_range=(0, rounds))
    reached = np.zeros(n_groups)
    for tree, group, leaf in zip(trees, groups, np.asarray(leaves).ravel()):
        reached[group] += tree["split_conditions"][int(leaf)]
    return (np.asarray(margin, dtype=np.float64).reshape(1, -1) - reached).astype(np.float32)
