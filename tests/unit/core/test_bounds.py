"""Every param of every stage and every field of a graph's nodes has bounds, and a value
outside them is one line in the project's voice: what, the value, what is allowed, the fix.

The params are found by introspection (every model of automl/config.py, every field), so
a param added later is walked too, and held to having bounds of its own.
"""

from __future__ import annotations

import copy
import inspect
import math
import typing

import pytest
from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import AfterValidator, BaseModel

from automl import config
from automl.bounds import NO_UPPER_BOUND, distinct
from automl.errors import GraphError
from automl.graph.load import validate_graph
from automl.graph.spec import NODE_TYPES, GraphSpec

# One node of every kind, each reading what it needs: the graph every case changes one value of.
GRAPH = {"name": "bounds", "nodes": [
    {"name": "data", "kind": "ingest"},
    {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
    {"name": "search", "kind": "search", "inputs": ["trees"], "params": {"families": ["xgboost"]}},
    {"name": "ensemble", "kind": "ensemble", "inputs": ["search"]},
    {"name": "distill", "kind": "distill", "inputs": ["ensemble", "data", "trees"]},
    {"name": "compress", "kind": "compress", "inputs": ["distill"]},
    {"name": "export", "kind": "export", "inputs": ["compress"]},
    {"name": "report", "kind": "report", "inputs": ["export"]},
]}
PARAMS_OF_KIND = {kind: node.model_fields["params"].annotation for kind, node in NODE_TYPES.items()}


def param_models() -> list[type[BaseModel]]:
    """Every params model of automl/config.py (the base class aside)."""
    return [obj for _, obj in inspect.getmembers(config, inspect.isclass)
            if issubclass(obj, config.Strict) and obj is not config.Strict
            and obj.__module__ == config.__name__]


def _inner(annotation):
    """The annotation without `| None`."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, __import__("types").UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _bound(metadata, kinds):
    return next((m for m in metadata if isinstance(m, kinds)), None)


def values_outside(field) -> list:
    """Values the field must refuse: past each bound, not finite, of another kind."""
    kind, meta = _inner(field.annotation), field.metadata
    origin = typing.get_origin(kind)
    if kind is bool:
        return ["maybe", 2]
    if origin is typing.Literal:
        return ["no-such-choice", 3]
    if kind in (int, float):
        return _numbers_outside(kind, meta)
    if origin is list:
        return _lists_outside(kind, meta)
    if kind is str:
        high = _bound(meta, MaxLen)
        pattern = any(getattr(m, "pattern", None) for m in meta)
        return (["x" * (high.max_length + 1)] if high else []) + (["9 not a name"] if pattern else [])
    raise AssertionError(f"no out-of-bounds values known for {kind}; teach this test the type")


def _numbers_outside(kind, meta) -> list:
    low, high = _bound(meta, (Ge, Gt)), _bound(meta, (Le, Lt))
    values = ["many"]
    if isinstance(low, Ge):
        values.append(low.ge - 1)
    if isinstance(low, Gt):
        values.append(low.gt)
    if isinstance(high, Le):
        values += [high.le + 1, high.le * 10**12 or 10**12]
    if isinstance(high, Lt):
        values.append(high.lt)
    if kind is float:
        values += [math.nan, math.inf]
    else:
        values.append(2.5)
    return values


def _lists_outside(kind, meta) -> list:
    item = typing.get_args(kind)[0]
    low, high = _bound(meta, MinLen), _bound(meta, MaxLen)
    choices = list(typing.get_args(item)) if typing.get_origin(item) is typing.Literal else None
    pool = choices or [f"name{i}" for i in range(1000)]
    values = ["not a list"]
    if low is not None and low.min_length > 0:
        values.append([])
    if high is not None:
        values.append((pool * (high.max_length + 1))[:high.max_length + 1])
    if choices:
        values.append(["no-such-choice"])
    if any(isinstance(m, AfterValidator) and m.func is distinct for m in meta):
        values.append([pool[0], pool[0]])
    return values


def _cases():
    for kind, model in PARAMS_OF_KIND.items():
        for name, field in model.model_fields.items():
            for value in values_outside(field):
                yield pytest.param(kind, name, value, id=f"{kind}.{name}={value!r}"[:80])


def _graph_with(kind: str, name: str, value) -> dict:
    graph = copy.deepcopy(GRAPH)
    node = next(n for n in graph["nodes"] if n["kind"] == kind)
    node.setdefault("params", {})[name] = value
    return graph


def test_the_base_graph_is_valid():
    validate_graph(copy.deepcopy(GRAPH), "g.yaml")


def test_every_params_model_is_some_kind_of_node():
    assert set(param_models()) == set(PARAMS_OF_KIND.values())


@pytest.mark.parametrize("kind, name, value", list(_cases()))
def test_a_param_out_of_bounds_is_one_line_saying_what_is_allowed(kind, name, value):
    with pytest.raises(GraphError) as caught:
        validate_graph(_graph_with(kind, name, value), "g.yaml")
    message = str(caught.value)
    assert "\n" not in message, message
    node = next(n["name"] for n in GRAPH["nodes"] if n["kind"] == kind)
    assert message.startswith(f"g.yaml: node {node!r}: param '{name}"), message
    assert " = " in message and "; allowed: " in message, message  # the value, what is allowed
    assert message.rsplit("; ", 1)[1].startswith(("give ", "list ", "shorten ")), message  # the fix


@pytest.mark.parametrize("model", param_models(), ids=lambda m: m.__name__)
def test_every_number_has_a_lower_and_an_upper_bound(model):
    """A param added without bounds fails here; where an upper bound would be arbitrary,
    the field says why (json_schema_extra NO_UPPER_BOUND)."""
    for name, field in model.model_fields.items():
        if _inner(field.annotation) not in (int, float):
            continue
        assert _bound(field.metadata, (Ge, Gt)) is not None, f"{model.__name__}.{name}: no lower bound"
        reason = (field.json_schema_extra or {}).get(NO_UPPER_BOUND)
        assert _bound(field.metadata, (Le, Lt)) is not None or reason, \
            f"{model.__name__}.{name}: no upper bound, and no {NO_UPPER_BOUND!r} reason"


@pytest.mark.parametrize("model", param_models() + [GraphSpec, *NODE_TYPES.values()],
                         ids=lambda m: m.__name__)
def test_every_list_has_a_length_bound_and_every_text_a_shape(model):
    for name, field in model.model_fields.items():
        kind = _inner(field.annotation)
        if typing.get_origin(kind) is list and name != "nodes":
            assert _bound(field.metadata, MaxLen), f"{model.__name__}.{name}: no max length"
        if kind is str:
            shaped = _bound(field.metadata, MaxLen) or any(getattr(m, "pattern", None)
                                                           for m in field.metadata)
            assert shaped, f"{model.__name__}.{name}: free text without a max length"


@pytest.mark.parametrize("field, value", [("name", "n" * 65), ("name", "two words"),
                                          ("inputs", ["export", "export"])])
def test_a_node_field_out_of_bounds_is_one_line(field, value):
    graph = copy.deepcopy(GRAPH)
    graph["nodes"][-1][field] = value  # the report node: no other node reads it
    with pytest.raises(GraphError, match=rf"^g.yaml: node '.*': field '{field}' = .*; allowed: "
                                         rf".*; (give|list|shorten) [^\n]*$"):
        validate_graph(graph, "g.yaml")


@pytest.mark.parametrize("key, value, allowed", [
    ("name", "n" * 101, "text, at most 100 characters"),
    ("description", "d" * 10_001, "text, at most 10000 characters"),
])
def test_a_graph_field_out_of_bounds_is_one_line(key, value, allowed):
    graph = {**copy.deepcopy(GRAPH), key: value}
    with pytest.raises(GraphError, match=rf"^g.yaml: top-level '{key}' = .* is too long; "
                                         rf"allowed: {allowed}; shorten it"):
        validate_graph(graph, "g.yaml")


def test_a_graph_of_too_many_nodes_is_refused():
    graph = copy.deepcopy(GRAPH)
    graph["nodes"] += [{"name": f"p{i}", "kind": "preprocess", "inputs": ["data"],
                        "params": {"branch": "dense"}} for i in range(100)]
    with pytest.raises(GraphError, match=r"top-level 'nodes' = .* is too long; allowed: a list "
                                         r"of 1 to 100 items"):
        validate_graph(graph, "g.yaml")


def test_the_example_of_the_issue():
    with pytest.raises(GraphError, match=r"^g.yaml: node 'ensemble': param 'size' = 1000000000000 "
                                         r"is out of range; allowed: an integer from 1 to 10000 "):
        validate_graph(_graph_with("ensemble", "size", 10**12), "g.yaml")
