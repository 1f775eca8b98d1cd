"""Writing into an ONNX graph: nodes and constants under fresh names (`OpGraph`), and the
edits a student's graph takes when a head, a memo or a raw-column front joins it.
"""

from __future__ import annotations

import numpy as np
from onnx import AttributeProto, helper, numpy_helper


class OpGraph:
    """Nodes and constants being written, with fresh names (after `prefix`, which keeps
    them apart from the names of a graph they join)."""

    def __init__(self, prefix: str = ""):
        self.nodes, self.constants, self.count, self.prefix = [], [], 0, prefix

    def const(self, array: np.ndarray) -> str:
        name = f"{self.prefix}c{len(self.constants)}"
        self.constants.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], output: str | list[str] | None = None,
           **attrs) -> str | list[str]:
        """The node's output name (or names, when `output` is a list). An attribute given
        as a numpy array of integers is written straight (onnx's helper checks each value
        of a list in Python: 1.7 s of an 89 MB forest's graph)."""
        self.count += 1
        outputs = output if isinstance(output, list) else [output or f"{self.prefix}t{self.count}"]
        arrays = {k: v for k, v in attrs.items() if isinstance(v, np.ndarray) and v.dtype.kind in "iub"}
        node = helper.make_node(op_type, inputs, outputs,
                                **{k: v for k, v in attrs.items() if k not in arrays})
        for name, values in arrays.items():
            attribute = AttributeProto(name=name, type=AttributeProto.INTS)
            attribute.ints.extend(values.astype(np.int64).tolist())
            node.attribute.append(attribute)
        self.nodes.append(node)
        return outputs if isinstance(output, list) else outputs[0]


def tree_input(graph) -> str:
    """The branch's output, which every tree node of the graph reads."""
    inputs = {node.input[0] for node in graph.node if node.op_type.startswith("TreeEnsemble")}
    if len(inputs) != 1:
        raise ValueError(f"a blend needs a graph with one tree input, not {sorted(inputs)}")
    return inputs.pop()


def rename_outputs(graph, renames: dict[str, str]) -> None:
    """The tree nodes' final edges renamed; the graph's outputs keep their names, for the
    blend's nodes to write."""
    for node in graph.node:
        node.output[:] = [renames.get(name, name) for name in node.output]
        node.input[:] = [renames.get(name, name) for name in node.input]
