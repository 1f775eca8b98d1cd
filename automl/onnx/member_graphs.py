"""One ensemble member as an ONNX graph: the per-member contract, the family registry,
and the pieces every converter shares.

Every member's graph reads input `X` (float32, (n, d): the `trees` branch's output) and
writes output `raw`: the member's `predict_raw`, probabilities (n, k) over all the run's
classes, or values (n, 1). The ensemble's graph (`ensemble_graph`) splices one such graph
per member behind the branch, so a converter knows nothing of the table or the others.

A family key maps to its converter by name, imported on use (the libraries are heavy);
an unknown key lists the known ones. `catboost` is `automl.onnx.catboost_graph`, with the
same contract. A `BaggedModel` is the mean of its fold models' graphs.
"""

from __future__ import annotations

import importlib

import numpy as np
import onnx
from onnx import TensorProto, helper

from automl.errors import AutoMLError
from automl.onnx.op_graph import OpGraph

OPSET = 17  # the default domain's opset of every member graph (and of the ensemble's)
IR_VERSION = 8  # what onnx writes for opset 17; onnxruntime reads it
INPUT, OUTPUT = "X", "raw"

# family key -> "module:function", each function (model, n_inputs) -> onnx.ModelProto
CONVERTERS = {
    "xgboost": "automl.onnx.xgboost_trees:xgboost_graph",
    "lightgbm": "automl.onnx.lightgbm_trees:lightgbm_graph",
    "random_forest": "automl.onnx.forest_trees:forest_graph",
    "extra_trees": "automl.onnx.forest_trees:forest_graph",
    "linear": "automl.onnx.member_dense:linear_graph",
    "mlp": "automl.onnx.member_dense:mlp_graph",
    "tabm": "automl.onnx.member_dense:tabm_graph",
    "catboost": "automl.onnx.catboost_graph:catboost_graph",
}


class ConversionError(AutoMLError):
    """A member the ensemble's graph cannot hold (a family without a converter, a model
    feature a converter does not write); the run keeps its pickled model."""


def member_graph(model, n_inputs: int) -> onnx.ModelProto:
    """`model` (a family model or a BaggedModel of them) as a graph X -> raw."""
    folds = getattr(model, "models_", None)
    if folds is not None:
        return _mean_graph([member_graph(fold, n_inputs) for fold in folds], n_inputs)
    key = getattr(model, "key", type(model).__name__)
    if key not in CONVERTERS:
        raise ConversionError(f"no ONNX converter for family {key!r}; the converters are "
                              + ", ".join(sorted(CONVERTERS)))
    module, function = CONVERTERS[key].split(":")
    converter = getattr(importlib.import_module(module), function)
    return at_opset(converter(model, n_inputs))


def at_opset(model: onnx.ModelProto, opset: int = OPSET) -> onnx.ModelProto:
    """`model` with the default domain at `opset`: one graph holds one opset per domain."""
    current = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), opset)
    if current < opset:
        model = onnx.version_converter.convert_version(model, opset)
    return model


# ---- what the converters share --------------------------------------------------------


def single_output_model(g: OpGraph, output: str, n_inputs: int, ml_opset: int | None = None,
                        name: str = "member") -> onnx.ModelProto:
    """The nodes written into `g` as a model with input X (n, n_inputs) and output `output`
    renamed `raw`."""
    g.op("Identity", [output], OUTPUT)
    graph = helper.make_graph(
        g.nodes, name, [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [None, n_inputs])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [None, None])],
        initializer=g.constants)
    opsets = [helper.make_opsetid("", OPSET)]
    if ml_opset is not None:
        opsets.append(helper.make_opsetid("ai.onnx.ml", ml_opset))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = IR_VERSION
    return model


def with_tail(model: onnx.ModelProto, output: str, tail) -> onnx.ModelProto:
    """A converted model whose `output` edge `tail(g, edge) -> edge` finishes, as X -> raw:
    the converter's other outputs dropped, its input renamed X."""
    model = at_opset(model)
    graph = model.graph
    g = OpGraph("tail/")
    source = graph.input[0].name
    end = tail(g, output)
    g.op("Identity", [end], OUTPUT)
    graph.node.extend(g.nodes)
    graph.initializer.extend(g.constants)
    rename_edge(graph, source, INPUT)
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [None, None]))
    return _pruned(model)


def rename_edge(graph, old: str, new: str) -> None:
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
    for value in graph.input:
        if value.name == old:
            value.name = new


def _pruned(model: onnx.ModelProto) -> onnx.ModelProto:
    """Without the nodes no output needs (a converter's label, a zipmap)."""
    graph = model.graph
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    used = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(used)
    return model


def full_proba(g: OpGraph, proba: str, seen: np.ndarray, n_classes: int) -> str:
    """`Family._full_proba`: the seen classes' probabilities in their columns of all
    n_classes, zeros elsewhere (a 0/1 matrix product: exact)."""
    seen = np.asarray(seen).astype(int)
    if len(seen) == n_classes:
        return proba
    placement = np.zeros((len(seen), n_classes), dtype=np.float32)
    placement[np.arange(len(seen)), seen] = 1.0
    return g.op("MatMul", [proba, g.const(placement)])


def as_column(g: OpGraph, values: str) -> str:
    """Values as an (n, 1) column, whatever shape a converter gave them."""
    return g.op("Reshape", [values, g.const(np.array([-1, 1], dtype=np.int64))])


def _mean_graph(folds: list[onnx.ModelProto], n_inputs: int) -> onnx.ModelProto:
    """The fold models' graphs side by side on one X, their outputs averaged."""
    nodes, constants, outputs, opsets = [], [], [], {}
    for i, fold in enumerate(folds):
        fold = onnx.compose.add_prefix(fold, f"fold{i}/")
        for node in fold.graph.node:
            node.input[:] = [INPUT if name == f"fold{i}/{INPUT}" else name for name in node.input]
        nodes += list(fold.graph.node)
        constants += list(fold.graph.initializer)
        outputs.append(f"fold{i}/{OUTPUT}")
        for o in fold.opset_import:
            opsets[o.domain] = max(opsets.get(o.domain, 0), o.version)
    g = OpGraph("bag/")
    mean = g.op("Mean", outputs)
    g.nodes = nodes + g.nodes
    g.constants = constants + g.constants
    ml = opsets.get("ai.onnx.ml")
    return single_output_model(g, mean, n_inputs, ml, "bagged_member")
