"""Tree members as graphs X -> raw (`member_graphs`' contract): xgboost and LightGBM by
onnxmltools (sklearn's forests: `forest_trees`).

onnxmltools writes at most opset 15 on its own; the graph is lifted to the ensemble's
opset afterwards. Each library learned on codes of the classes it saw, so probabilities
go back to all of the run's classes as `Family._full_proba` puts them.
"""

from __future__ import annotations

import onnx

from automl.onnx.member_graphs import ConversionError, as_column, full_proba, with_tail

ONNXMLTOOLS_OPSET = 15  # the highest opset onnxmltools' own convert functions write


def xgboost_graph(family, n_inputs: int) -> onnx.ModelProto:
    from onnxmltools import convert_xgboost

    estimator = family.model_
    if estimator.get_params().get("enable_categorical"):
        raise ConversionError("an xgboost member with native categorical splits has no ONNX "
                              "converter (onnxmltools writes numeric splits only)")
    model = convert_xgboost(estimator, initial_types=_mltools_types(n_inputs),
                            target_opset=ONNXMLTOOLS_OPSET)
    return _boosted(family, model)


def lightgbm_graph(family, n_inputs: int) -> onnx.ModelProto:
    """The booster up to the round `predict_raw` stops at (early stopping's best)."""
    import lightgbm as lgb
    from onnxmltools import convert_lightgbm

    booster = lgb.Booster(model_str=family.booster_.model_to_string(num_iteration=family.n_rounds_))
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
