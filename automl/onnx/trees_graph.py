"""A tree student's graph, with the preprocessing inside: the `trees` branch followed by an
xgboost or LightGBM model or an sklearn decision tree (skl2onnx converts the branch's
ColumnTransformer and the tree, onnxmltools the booster), as DESIGN.md's route
describes; `tree_ensemble` then rewrites the trees in ONNX's compact `TreeEnsemble`
operator where they convert.

A student's graph takes one input per model-ready column (`automl.data.prepare_features`):
a float tensor per number, a string tensor per category (a missing category is fed as
the empty string, which the encoder treats as unseen, i.e. missing). Datetime columns
arrive as their parts (`<col>__year`, ...), as the schema names them. The exported
compact.onnx puts the rest of `prepare_features` in front (`raw_front`), so it takes the
table's own columns.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import pandas as pd

from automl.serving.session import is_text

if TYPE_CHECKING:  # sklearn loads in a second: serving compact.onnx needs none of it
    from automl.preprocess.branches import Branch

OPSETS = {"": 17, "ai.onnx.ml": 3}


def export_trees_model(branch: Branch, estimator, features: pd.DataFrame,
                       compact_trees: bool = True) -> bytes:
    """The serialized ONNX model of `branch` + a fitted xgboost or LightGBM model or an
    sklearn tree; `compact_trees=False` leaves the trees in the opset-3 operators."""
    from skl2onnx import convert_sklearn
    from sklearn.pipeline import Pipeline

    from automl.onnx.tree_ensemble import compact_tree_ensembles

    _register_boosters()
    pipeline = Pipeline([("preprocess", branch.transformer), ("model", estimator)])
    options = {id(estimator): {"zipmap": False}} if hasattr(estimator, "predict_proba") else None
    with warnings.catch_warnings():  # skl2onnx warns about opset choices we make on purpose
        warnings.simplefilter("ignore")
        model = convert_sklearn(pipeline, initial_types=input_types(features),
                                options=options, target_opset=OPSETS)
    if hasattr(estimator, "tree_"):
        _route_missing(model, estimator.tree_)
    if compact_trees:
        compact_tree_ensembles(model)
    restore_input_names(model, list(features.columns))
    return model.SerializeToString()


def restore_input_names(model, columns: list[str]) -> None:
    """Give the graph's inputs the columns' own names again.

    skl2onnx rewrites names it finds unfit (`1stFlrSF` becomes `_1stFlrSF`), so a caller
    feeding the columns by name would be refused. Any inner edge that already holds a
    column's name (a column called `variable`, say) is renamed out of the way first.
    """
    renames = {i.name: column for i, column in zip(model.graph.input, columns) if i.name != column}
    if not renames:
        return
    inner = {name for node in model.graph.node for name in [*node.input, *node.output]}
    inner |= {o.name for o in model.graph.output} | {t.name for t in model.graph.initializer}
    clashes = {name: f"{name}__inner" for name in renames.values() if name in inner - set(renames)}
    mapping = {**clashes, **renames}
    for node in model.graph.node:
        node.input[:] = [mapping.get(n, n) for n in node.input]
        node.output[:] = [mapping.get(n, n) for n in node.output]
    for value in [*model.graph.input, *model.graph.output]:
        value.name = mapping.get(value.name, value.name)
    for tensor in model.graph.initializer:
        tensor.name = mapping.get(tensor.name, tensor.name)


def _route_missing(model, tree) -> None:
    """Send a missing value down the side sklearn sends it (`missing_go_to_left`).

    skl2onnx leaves ONNX's `nodes_missing_value_tracks_true` at 0, so a NaN would take
    the false branch everywhere; sklearn learned a side per node. In BRANCH_LEQ mode the
    true branch is sklearn's left child.
    """
    import onnx

    for node in model.graph.node:
        if not node.op_type.startswith("TreeEnsemble"):
            continue
        attrs = {a.name: a for a in node.attribute}
        routes = [int(tree.missing_go_to_left[i]) for i in attrs["nodes_nodeids"].ints]
        node.attribute.remove(attrs["nodes_missing_value_tracks_true"])
        node.attribute.append(onnx.helper.make_attribute("nodes_missing_value_tracks_true", routes))


def input_types(features: pd.DataFrame) -> list:
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    return [(name, StringTensorType([None, 1]) if is_text(features[name])
             else FloatTensorType([None, 1])) for name in features.columns]


_registered = False


def _register_boosters() -> None:
    """skl2onnx converts sklearn; onnxmltools' converters for xgboost's and LightGBM's
    sklearn models are registered with it, so a pipeline of the branch and either converts."""
    global _registered
    if _registered:
        return
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (calculate_linear_classifier_output_shapes,
                                                  calculate_linear_regressor_output_shapes)
    from xgboost import XGBClassifier, XGBRegressor

    classifier_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for model, alias, convert in ((XGBClassifier, "XGBoostXGBClassifier", convert_xgboost),
                                  (LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm)):
        update_registered_converter(model, alias, calculate_linear_classifier_output_shapes,
                                    convert, options=classifier_options)
    for model, alias, convert in ((XGBRegressor, "XGBoostXGBRegressor", convert_xgboost),
                                  (LGBMRegressor, "LightGbmLGBMRegressor", convert_lightgbm)):
        update_registered_converter(model, alias, calculate_linear_regressor_output_shapes, convert)
    _registered = True
