"""LightGBM members as graphs X -> raw (`member_graphs`' contract), by onnxmltools
(xgboost's: `xgboost_trees`; sklearn's forests: `forest_trees`).

onnxmltools writes at most opset 15 on its own; the graph is lifted to the ensemble's
opset afterwards. Each library learned on codes of the classes it saw, so probabilities
go back to all of the run's classes as `Family._full_proba` puts them.
"""

from __future__ import annotations

import numpy as np
import onnx

from automl.onnx.member_graphs import as_column, full_proba, with_tail

ONNXMLTOOLS_OPSET = 15  # the highest opset onnxmltools' own convert functions write


def lightgbm_graph(family, n_inputs: int) -> onnx.ModelProto:
    """The booster up to the round `predict_raw` stops at (early stopping's best)."""
    import lightgbm as lgb
    from onnxmltools import convert_lightgbm


    # thresholds lowered to float32 as the students' are: onnxmltools rounds them to the
    # nearest float32, which can cross a row's value (a wine_quality member's export differed
    # by 1% of the scale)
    booster = float32_thresholds(lgb.Booster(
        model_str=family.booster_.model_to_string(num_iteration=family.n_rounds_)))
    model = convert_lightgbm(booster, initial_types=_mltools_types(n_inputs),
                             target_opset=ONNXMLTOOLS_OPSET, zipmap=False)
    return _boosted(family, model)


def _boosted(family, model: onnx.ModelProto) -> onnx.ModelProto:
    outputs = [o.name for o in model.graph.output]
    if not family.is_classifier:
        return with_tail(model, outputs[0], as_column)
    return with_tail(model, outputs[1], lambda g, proba: full_proba(
        g, proba, family.classes_seen_, family.n_classes))


def _mltools_types(n_inputs: int) -> list:
    from onnxmltools.convert.common.data_types import FloatTensorType

    return [("X", FloatTensorType([None, n_inputs]))]


def float32_thresholds(booster):
    """`booster` with each split threshold lowered to the largest float32 not above it.

    LightGBM splits at float64 midpoints; ONNX stores float32 thresholds, rounded to the
    nearest, which can cross a float32 input (on wine_quality a student's ONNX output
    differed from its own by 1.6% of the scale). For a float32 x, x <= t exactly when x <=
    floor32(t), so on float32 inputs the lowered trees decide as the originals, in float32
    as in float64. A categorical split's threshold is the index of its set, a small
    integer that float32 holds exactly.
    """
    import lightgbm as lgb

    # the header's byte size of each tree no longer holds: without it LightGBM parses in order
    lines = [line for line in booster.model_to_string().split("\n")
             if not line.startswith("tree_sizes=")]
    for i, line in enumerate(lines):
        if line.startswith("threshold="):
            exact = np.array(line.split("=", 1)[1].split(), dtype=np.float64)
            lowered = exact.astype(np.float32)
            above = lowered.astype(np.float64) > exact
            lowered[above] = np.nextafter(lowered[above], np.float32(-np.inf))
            lines[i] = "threshold=" + " ".join(repr(float(t)) for t in lowered)
    return lgb.Booster(model_str="\n".join(lines))
