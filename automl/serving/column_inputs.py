"""An exported model whose inputs are columns (n,) rather than (n, 1): what MLflow's ONNX
flavour hands a model with several inputs when it predicts a DataFrame (each column's
`.values`), and so what `mlflow models serve` feeds it. Each input is unsqueezed to (n, 1)
at the top of the graph; the rest of the file is unchanged."""

from __future__ import annotations

import onnx
from onnx import helper


def with_column_inputs(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` taking each (n, 1) input as an (n,) column of the same name."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    axes = helper.make_tensor("column_inputs/axes", onnx.TensorProto.INT64, [1], [1])
    graph.initializer.append(axes)
    unsqueezes = []
    for value in graph.input:
        inner = f"column_inputs/{value.name}"
        for node in graph.node:  # the graph reads the (n, 1) edge under its new name
            node.input[:] = [inner if name == value.name else name for name in node.input]
        unsqueezes.append(helper.make_node("Unsqueeze", [value.name, axes.name], [inner]))
        dims = value.type.tensor_type.shape.dim
        del dims[1:]  # (n, 1) -> (n,)
    nodes = unsqueezes + list(graph.node)  # ahead of every node that reads them
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def with_class_outputs(model: onnx.ModelProto, classes: list) -> onnx.ModelProto:
    """`model` with its probabilities (n, k) also given as one (n,) output per class,
    `probability_<class>`, in place of the matrix: MLflow's ONNX flavour makes a column of
    each output, flattened. Regression models come back as they are."""
    names = [value.name for value in model.graph.output]
    if "probabilities" not in names:
        return model
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    columns = [f"class_outputs/{i}" for i in range(len(classes))]
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    count = {"num_outputs": len(classes)} if opset >= 18 else {}  # opset 18 wants it said
    graph.node.append(helper.make_node("Split", ["probabilities"], columns, axis=1, **count))
    axes = helper.make_tensor("class_outputs/axes", onnx.TensorProto.INT64, [1], [1])
    graph.initializer.append(axes)
    kept = [value for value in graph.output if value.name != "probabilities"]
    del graph.output[:]
    graph.output.extend(kept)
    for column, label in zip(columns, classes):
        name = f"probability_{label}"
        graph.node.append(helper.make_node("Squeeze", [column, axes.name], [name]))
        graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, [None]))
    return model
