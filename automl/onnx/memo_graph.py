"""ONNX for a memo student: a student's graph that also looks each row up in a memo.

The row's key is computed from the edge the trees read (the `trees` branch's output), as
`memo_key.row_keys` computes it, and a LabelEncoder maps it to the memo's value: the kept
probability of the second class (binary) or the value (regression), NaN for a row not
kept; for more classes, to a row of a probability table whose last row is NaN. Where the
lookup is not NaN it replaces the student's output; the label is that output's largest
class. The outputs keep the student graph's names, as a blend's do.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from automl.onnx.dense_graph import HEAD_OPSET
from automl.onnx.memo_key import MISSING, PART_BITS, PRIME, SCALE, key_weights
from automl.onnx.op_graph import OpGraph, rename_outputs, tree_input

STUDENT_PREFIX = "memo_student/"


def export_memo(student_onnx: bytes, memo) -> bytes:
    """The serialized student with `memo` (an `automl.students.memo.Memo`: its `keys` and
    `values`) in front of its outputs."""
    model = onnx.load_from_string(student_onnx)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < HEAD_OPSET:  # Squeeze with its axes as an input
        model = onnx.version_converter.convert_version(model, HEAD_OPSET)
    graph = model.graph
    features = tree_input(graph)
    n_features = _width(model, features)
    g = OpGraph("memo/")
    f64 = lambda value: g.const(np.array(value, dtype=np.float64))  # noqa: E731
    floored = g.op("Floor", [g.op("Mul", [g.op("Cast", [features], to=TensorProto.DOUBLE), f64(SCALE)])])
    missing = g.op("IsNaN", [g.op("Sub", [floored, floored])])  # NaN and ±inf
    coded = g.op("Where", [missing, f64(MISSING), floored])
    terms = g.op("Mod", [coded, f64(PRIME)], fmod=1)
    sums = g.op("MatMul", [terms, g.const(key_weights(n_features))])
    parts = g.op("Add", [g.op("Mod", [sums, f64(PRIME)], fmod=1), f64(PRIME)])
    # the halves joined in float64, exact below 2^53: (n, 1), as the lookup's output is
    joined = g.op("MatMul", [parts, g.const(np.array([[1.0], [2.0 ** PART_BITS]]))])
    key = g.op("Cast", [joined], to=TensorProto.INT64)
    found = _lookup(g, key, memo)
    outputs = [o.name for o in graph.output]
    rename_outputs(graph, {name: STUDENT_PREFIX + name for name in outputs})
    student = STUDENT_PREFIX + outputs[-1]
    if len(outputs) == 1:  # regression
        g.op("Where", [g.op("IsNaN", [found]), student, found], outputs[0])
    else:
        answered = g.op("Where", [g.op("IsNaN", [found]), student, found], outputs[1])
        g.op("ArgMax", [answered], outputs[0], axis=1, keepdims=0)
    graph.node.extend(g.nodes)
    graph.initializer.extend(g.constants)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _lookup(g: OpGraph, key: str, memo) -> str:
    """The memo's answer per row, shaped as the student's output, NaN where not kept."""
    nan = np.array([np.nan], dtype=np.float32)
    values = memo.values.astype(np.float32)
    if values.ndim == 1 or values.shape[1] == 2:  # one float per key
        kept = values if values.ndim == 1 else values[:, 1]
        column = g.op("LabelEncoder", [key], domain="ai.onnx.ml",
                      keys_tensor=numpy_helper.from_array(memo.keys.astype(np.int64)),
                      values_tensor=numpy_helper.from_array(kept),
                      default_tensor=numpy_helper.from_array(nan))
        if values.ndim == 1:
            return column
        return g.op("Concat", [g.op("Sub", [g.const(np.float32(1)), column]), column], axis=1)
    table = np.vstack([values, np.full((1, values.shape[1]), np.nan, dtype=np.float32)])
    index = g.op("LabelEncoder", [key], domain="ai.onnx.ml",
                 keys_tensor=numpy_helper.from_array(memo.keys.astype(np.int64)),
                 values_tensor=numpy_helper.from_array(np.arange(len(values), dtype=np.int64)),
                 default_tensor=numpy_helper.from_array(np.array([len(values)], dtype=np.int64)))
    # (n, 1) indices gather (n, 1, k) rows
    rows = g.op("Gather", [g.const(table), index], axis=0)
    return g.op("Squeeze", [rows, g.const(np.array([1], dtype=np.int64))])


def _width(model, edge: str) -> int:
    """The number of columns on `edge`, from the graph's inferred shapes."""
    inferred = onnx.shape_inference.infer_shapes(model)
    for info in list(inferred.graph.value_info) + list(inferred.graph.output):
        if info.name == edge:
            dim = info.type.tensor_type.shape.dim[1]
            if dim.HasField("dim_value"):
                return dim.dim_value
    raise ValueError(f"the width of {edge!r} is not known to the graph; a memo needs it")
