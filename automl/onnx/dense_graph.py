"""ONNX for the dense students: the `trees` branch, then `DenseCode` and the layers.

The branch converts as skl2onnx converts it for the tree students; the head is written
with plain ONNX operators (IsNaN/Where for the fill, Gather/Max/Min/Sub/Div for the numbers,
Equal/Cast for the one-hot, MatMul/Add/Relu for the layers), so no custom converter is
needed, and the two graphs are joined with `onnx.compose`. The outputs follow the tree
students': label and probabilities for classes, one value column for regression.

An int8 matrix is stored as int8 and turned back into floats by Cast and Mul, which
onnxruntime folds into a float constant when the session starts. DequantizeLinear
would look the same but is not: onnxruntime's default optimisations fuse it with the
MatMul into an integer kernel that also quantizes the activations, batch by batch, and
the outputs then differ from the Python student's (and with the batch's other rows).
"""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper

from automl.metrics import REGRESSION
from automl.models.dense_code import DenseCode
from automl.models.dense_net import DenseNet
from automl.onnx.op_graph import OpGraph
from automl.onnx.trees_graph import OPSETS, input_types, restore_input_names
from automl.preprocess.branches import Branch

HEAD_OPSET = 13  # the head's operators (Softmax on one axis, ...) as it writes them


def export_dense_model(branch: Branch, student: DenseNet, features: pd.DataFrame) -> bytes:
    """The serialized ONNX model of `branch` + the dense student."""
    from skl2onnx import convert_sklearn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        front = convert_sklearn(branch.transformer, initial_types=input_types(features),
                                target_opset=OPSETS)
    restore_input_names(front, list(features.columns))
    # the branch's names get a prefix (its output is "variable", as is a regressor's),
    # all but its inputs, which are the raw columns' names
    front = onnx.compose.add_prefix(front, "branch_", rename_inputs=False)
    branch_out = front.graph.output[0].name
    opset = next(o.version for o in front.opset_import if o.domain in ("", "ai.onnx"))
    if opset < HEAD_OPSET:  # skl2onnx picks the lowest opset the branch needs (11 for categories only)
        front = onnx.version_converter.convert_version(front, HEAD_OPSET)
        opset = HEAD_OPSET
    head = dense_head(student, front.ir_version, opset)
    model = onnx.compose.merge_models(front, head, io_map=[(branch_out, "dense_in")])
    onnx.checker.check_model(model)
    return model.SerializeToString()


def dense_head(student: DenseNet, ir_version: int, opset: int) -> onnx.ModelProto:
    """The encoding and the layers, at the branch's opset (merging needs one per domain)."""
    g = OpGraph()
    h = encode(g, student.code, "dense_in")
    for i, layer in enumerate(student.layers):
        for matrix, scale in zip(layer.matrices, layer.scales or [None] * len(layer.matrices)):
            weight = g.const(matrix)
            if scale is not None:  # Cast and Mul, not DequantizeLinear: see the module's note
                weight = g.op("Mul", [g.op("Cast", [weight], to=TensorProto.FLOAT), g.const(scale)])
            h = g.op("MatMul", [h, weight])
        h = g.op("Add", [h, g.const(layer.bias.astype(np.float32))])
        if i < len(student.layers) - 1:
            h = g.op("Relu", [h])
    outputs = _outputs(g, h, student.task)
    graph = helper.make_graph(g.nodes, "dense_student",
                              [helper.make_tensor_value_info("dense_in", TensorProto.FLOAT, [None, None])],
                              outputs, initializer=g.constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version
    return model


def encode(g: OpGraph, code: DenseCode, source: str) -> str:
    """`DenseCode.encode` of the edge `source` (the trees branch's output), as operators;
    the ensemble's linear and MLP members read it too."""
    missing = g.op("IsNaN", [source])
    filled = g.op("Where", [missing, g.const(code.fill.reshape(1, -1)), source])
    parts = []
    if code.numeric.size:
        numbers = g.op("Gather", [filled, g.const(code.numeric)], axis=1)
        clipped = g.op("Min", [g.op("Max", [numbers, g.const(code.low)]), g.const(code.high)])
        parts.append(g.op("Div", [g.op("Sub", [clipped, g.const(code.mean)]), g.const(code.std)]))
    if code.indicators.size:
        flags = g.op("Gather", [missing, g.const(code.indicators)], axis=1)
        parts.append(g.op("Cast", [flags], to=TensorProto.FLOAT))
    if code.onehot_source.size:
        codes = g.op("Gather", [filled, g.const(code.onehot_source)], axis=1)
        match = g.op("Equal", [codes, g.const(code.onehot_code.reshape(1, -1))])
        parts.append(g.op("Cast", [match], to=TensorProto.FLOAT))
    return parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)


def _outputs(g: OpGraph, logits: str, task: str) -> list:
    if task == REGRESSION:
        g.op("Identity", [logits], "variable")
        return [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])]
    g.op("Softmax", [logits], "probabilities", axis=1)
    g.op("ArgMax", ["probabilities"], "label", axis=1, keepdims=0)
    return [helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, None])]
