"""The raw-column front of compact.onnx: what `prepare_features` does in Python, in the graph.

A student's graph (`export_trees_model`, `export_dense_model`) reads model-ready
columns: a float per number, a string per category, a date as its five parts
(`<col>__year`, ...). `raw_model` puts in front of it what turns the table's own columns
(`automl.serving.inputs` has the forms, and why) into those:
- numbers: inf and -inf become NaN, as `prepare_features` makes them missing; one
  Concat, IsInf, Where and Split for all the numbers together, as every node costs about
  a microsecond a call whatever its width;
- dates: float64 seconds since the epoch become year, month, day, weekday and hour by
  whole-number arithmetic on doubles (Floor of Div; days to a civil date as in Howard
  Hinnant's `civil_from_days`), all date columns at once; NaN stays NaN in every part;
- categories pass as they are (the branch's encoder reads "" as unseen, i.e. missing).
It also writes the contract where any onnxruntime user can read it: each input's doc
string, and the model's metadata (`automl.inputs`, `automl.outputs`, `automl.schema`:
JSON).
"""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import TensorProto, helper

from automl.data.schema import DATETIME_PARTS, Schema
from automl.errors import AutoMLError
from automl.metrics import REGRESSION
from automl.onnx.op_graph import OpGraph
from automl.serving.inputs import FORMS, input_contract

PREFIX = "raw/"  # the front's own edges; a column's cleaned copy is raw/finite/<column>
ELEMENT_TYPES = {"numeric": TensorProto.FLOAT, "categorical": TensorProto.STRING,
                 "datetime": TensorProto.DOUBLE}
SECONDS_PER_DAY, SECONDS_PER_HOUR = 86_400.0, 3_600.0
THURSDAY = 3  # 1970-01-01, day 0, counting Monday as 0 as pandas does
DAYS_0000_TO_1970 = 719_468.0  # from 0000-03-01, where the civil_from_days eras start


def raw_model(onnx_bytes: bytes, schema: Schema) -> bytes:
    """The student's graph (`onnx_bytes`, over model-ready columns) taking raw columns."""
    model = onnx.load_from_string(onnx_bytes)
    graph = model.graph
    ready = {i.name for i in graph.input}
    if ready != set(schema.feature_names):
        raise AutoMLError(f"the student's graph reads {sorted(ready)}, not the schema's "
                          f"model-ready columns {schema.feature_names}")
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    g = OpGraph(PREFIX)
    numbers = [c.name for c in schema.columns if c.kind == "numeric"]
    dates = [c.name for c in schema.columns if c.kind == "datetime"]
    cleaned = _finite(g, numbers, opset) if numbers else {}
    if dates:
        _date_parts(g, dates, opset)
    for node in graph.node:
        node.input[:] = [cleaned.get(name, name) for name in node.input]
    nodes = g.nodes + list(graph.node)  # the front first: nodes must come in order
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(g.constants)
    del graph.input[:]
    graph.input.extend(_input(col.name, col.kind) for col in schema.columns)
    _describe(model, schema)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _finite(g: OpGraph, names: list[str], opset: int) -> dict[str, str]:
    """The edges that carry each number with inf as NaN, by column."""
    block = g.op("Concat", names, axis=1) if len(names) > 1 else names[0]
    nan = g.const(np.array(np.nan, dtype=np.float32))
    finite = g.op("Where", [g.op("IsInf", [block]), nan, block])
    if len(names) == 1:
        return {names[0]: finite}
    outputs = [f"{PREFIX}finite/{name}" for name in names]
    _split(g, finite, outputs, opset)
    return dict(zip(names, outputs))


def _date_parts(g: OpGraph, dates: list[str], opset: int) -> None:
    """Nodes whose outputs are the model-ready `<date>__<part>` edges the student reads."""
    x = _Arithmetic(g)
    seconds = g.op("Concat", dates, axis=1) if len(dates) > 1 else dates[0]
    days = x.floordiv(seconds, SECONDS_PER_DAY)
    hour = x.floordiv(x.sub(seconds, x.mul(days, SECONDS_PER_DAY)), SECONDS_PER_HOUR)
    weekday = x.mod(x.add(days, THURSDAY), 7)
    # civil_from_days: 400-year eras of 146097 days starting on March 1st, so that the
    # leap day is the last day of a year
    z = x.add(days, DAYS_0000_TO_1970)
    era = x.floordiv(z, 146_097)
    day_of_era = x.sub(z, x.mul(era, 146_097))
    year_of_era = x.floordiv(x.sub(x.add(x.sub(day_of_era, x.floordiv(day_of_era, 1_460)),
                                         x.floordiv(day_of_era, 36_524)),
                                   x.floordiv(day_of_era, 146_096)), 365)
    day_of_year = x.sub(day_of_era, x.sub(x.add(x.mul(year_of_era, 365), x.floordiv(year_of_era, 4)),
                                          x.floordiv(year_of_era, 100)))
    month_from_march = x.floordiv(x.add(x.mul(day_of_year, 5), 2), 153)
    day = x.add(x.sub(day_of_year, x.floordiv(x.add(x.mul(month_from_march, 153), 2), 5)), 1)
    month = x.add(month_from_march, g.op("Where", [x.less(month_from_march, 10), x.c(3), x.c(-9)]))
    january_or_february = g.op("Cast", [x.less(month, 3)], to=TensorProto.DOUBLE)
    year = x.add(x.add(year_of_era, x.mul(era, 400)), january_or_february)
    parts = {"year": year, "month": month, "day": day, "weekday": weekday, "hour": hour}
    stacked = g.op("Concat", [parts[part] for part in DATETIME_PARTS], axis=1)
    as_float = g.op("Cast", [stacked], to=TensorProto.FLOAT)  # the model's precision
    _split(g, as_float, [f"{date}__{part}" for part in DATETIME_PARTS for date in dates], opset)


class _Arithmetic:
    """Element-wise double arithmetic with constants, written as ONNX nodes."""

    def __init__(self, g: OpGraph):
        self.g = g

    def c(self, value: float) -> str:
        return self.g.const(np.array(value, dtype=np.float64))

    def _binary(self, op: str, a: str, b) -> str:
        return self.g.op(op, [a, b if isinstance(b, str) else self.c(b)])

    def add(self, a, b):
        return self._binary("Add", a, b)

    def sub(self, a, b):
        return self._binary("Sub", a, b)

    def mul(self, a, b):
        return self._binary("Mul", a, b)

    def less(self, a, b):
        return self._binary("Less", a, b)

    def floordiv(self, a, b):
        """floor(a / b): exact for the whole numbers here, as a double quotient of whole
        numbers below 2**53 lands on the right side of every whole number."""
        return self.g.op("Floor", [self._binary("Div", a, b)])

    def mod(self, a, b):
        return self.sub(a, self.mul(self.floordiv(a, b), b))


def _split(g: OpGraph, tensor: str, outputs: list[str], opset: int) -> None:
    """Columns of `tensor` as (n, 1) edges; opset 18 wants their number said."""
    attrs = {"num_outputs": len(outputs)} if opset >= 18 else {}
    g.op("Split", [tensor], outputs, axis=1, **attrs)


def _input(name: str, kind: str):
    form = FORMS[kind]
    info = helper.make_tensor_value_info(name, ELEMENT_TYPES[kind], [None, 1])
    info.doc_string = f"{kind} column {name!r}: {form.feed}; missing: {form.missing}"
    return info


def output_contract(schema: Schema) -> dict[str, str]:
    if schema.task == REGRESSION:
        return {"variable": f"float32 (n, 1): the predicted {schema.target}"}
    decision = schema.decision
    label = ("int64 (n,): the index of the most probable class in automl.classes"
             if decision is None else
             f"int64 (n,): the index in automl.classes of the class by the run's decision "
             f"({decision.describe().split(', chosen')[0]}; automl.schema's 'decision')")
    return {"label": label,
            "probabilities": "float32 (n, k): one column per class, in the order of "
                             "automl.classes"}


def _describe(model: onnx.ModelProto, schema: Schema) -> None:
    outputs = output_contract(schema)
    for value in model.graph.output:
        value.doc_string = outputs.get(value.name, "")
    metadata = {"automl.inputs": json.dumps(input_contract(schema)),
                "automl.outputs": json.dumps(outputs),
                "automl.task": schema.task, "automl.target": schema.target,
                "automl.classes": json.dumps(schema.classes),
                "automl.schema": schema.model_dump_json()}
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.doc_string = ("automl compact model: the table's own columns in, one (n, 1) input "
                        "each (numbers float32, NaN for missing; categories as strings, \"\" "
                        "for missing; dates as float64 seconds since 1970-01-01T00:00:00 of "
                        "the wall-clock time, NaN for missing); see automl.inputs.")
