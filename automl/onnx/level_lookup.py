"""A member's many-level categories re-encoded in the graph, before its trees.

A family that re-encodes a category of many levels (`automl.models.many_levels`: its
frequency, or its target mean) reads each such column through a table, code -> value.
Here each table is a Gather over the column's codes, with the Python lookup's steps: a
missing code stays missing, a code past the table reads its last entry (a level the
member's training rows never had). The other columns pass as they are.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto

from automl.onnx.member_graphs import INPUT
from automl.onnx.op_graph import OpGraph


def with_level_lookup(model: onnx.ModelProto, coding, n_inputs: int) -> onnx.ModelProto:
    """The member graph `model` (X -> raw) reading X through `coding`'s tables (a
    `LevelCoding`; None or one without tables: `model` as it is)."""
    if coding is None or not coding.tables:
        return model
    g = OpGraph("levels/")
    encoded = _encoded(g, INPUT, dict(zip(coding.columns, coding.tables)), n_inputs)
    graph = model.graph
    for node in graph.node:
        node.input[:] = [encoded if name == INPUT else name for name in node.input]
    nodes = list(g.nodes) + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(g.constants)
    return model


def _encoded(g: OpGraph, X: str, tables: dict[int, np.ndarray], n_inputs: int) -> str:
    """X's columns side by side again, each one with a table read through it."""
    pieces, start = [], 0
    for column in sorted(tables):
        if column > start:
            pieces.append(_columns(g, X, start, column))
        pieces.append(_looked_up(g, _columns(g, X, column, column + 1), tables[column]))
        start = column + 1
    if start < n_inputs:
        pieces.append(_columns(g, X, start, n_inputs))
    return g.op("Concat", pieces, axis=1) if len(pieces) > 1 else pieces[0]


def _columns(g: OpGraph, X: str, start: int, stop: int) -> str:
    return g.op("Slice", [X, g.const(np.array([start], np.int64)),
                          g.const(np.array([stop], np.int64)), g.const(np.array([1], np.int64))])


def _looked_up(g: OpGraph, codes: str, table: np.ndarray) -> str:
    """`many_levels.lookup` on an (n, 1) column of codes."""
    missing = g.op("IsNaN", [codes])
    safe = g.op("Where", [missing, g.const(np.zeros((1, 1), np.float32)), codes])
    last = g.const(np.full((1, 1), len(table) - 1, np.float32))
    index = g.op("Cast", [g.op("Min", [safe, last])], to=TensorProto.INT64)
    values = g.op("Gather", [g.const(np.asarray(table, np.float32)), index])
    return g.op("Where", [missing, g.const(np.full((1, 1), np.nan, np.float32)), values])
