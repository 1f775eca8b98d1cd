"""ONNX for a blend student: a tree student's graph with an MLP head beside its trees.

Both students read the `trees` branch, so the blend's graph holds it once: the dense
head (`dense_graph.dense_head`: the encoding and the layers) reads the same edge the
trees read, and the two outputs are averaged with the blend's weight (probabilities for
classes, then the label of the largest; values for regression). The outputs keep the
tree graph's names, so compact.onnx's front and every reader treat a blend like any
other student.
"""

from __future__ import annotations

import numpy as np
import onnx

from automl.metrics import REGRESSION
from automl.models.dense_net import DenseNet
from automl.onnx.dense_graph import HEAD_OPSET, dense_head
from automl.onnx.op_graph import OpGraph, rename_outputs, tree_input

TREES_PREFIX, HEAD_PREFIX = "blend_trees/", "blend_mlp/"


def export_blend(tree_onnx: bytes, net: DenseNet, tree_weight: float) -> bytes:
    """The serialized blend: `tree_weight` × the tree student + the rest × the MLP."""
    model = onnx.load_from_string(tree_onnx)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < HEAD_OPSET:  # the head's operators as it writes them
        model, opset = onnx.version_converter.convert_version(model, HEAD_OPSET), HEAD_OPSET
    graph = model.graph
    features = tree_input(graph)
    head = onnx.compose.add_prefix(dense_head(net, model.ir_version, opset), HEAD_PREFIX)
    head_in = head.graph.input[0].name
    for node in head.graph.node:
        node.input[:] = [features if name == head_in else name for name in node.input]
    outputs = [o.name for o in graph.output]
    rename_outputs(graph, {name: TREES_PREFIX + name for name in outputs})
    g = OpGraph("blend/")
    mixed = _weighted_sum(g, [TREES_PREFIX + outputs[-1], HEAD_PREFIX + outputs[-1]],
                          [tree_weight, 1.0 - tree_weight])
    if net.task == REGRESSION:
        g.op("Identity", [mixed], outputs[0])
    else:
        g.op("Identity", [mixed], outputs[1])
        g.op("ArgMax", [mixed], outputs[0], axis=1, keepdims=0)
    # the head's own label is not needed: the blend's comes from the mixed probabilities
    head_nodes = [n for n in head.graph.node if HEAD_PREFIX + outputs[0] not in n.output
                  or net.task == REGRESSION]
    graph.node.extend(head_nodes + g.nodes)
    graph.initializer.extend(list(head.graph.initializer) + g.constants)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _weighted_sum(g: OpGraph, edges: list[str], weights: list[float]) -> str:
    scaled = [g.op("Mul", [edge, g.const(np.array(w, dtype=np.float32))])
              for edge, w in zip(edges, weights)]
    return g.op("Add", scaled)
