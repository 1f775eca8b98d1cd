"""The run's whole `Predictor` as one ONNX graph: the table's raw columns in, what
`predict_raw` returns out (`probabilities` and `label`, or `variable`), with the same
inputs, outputs and metadata contract as compact.onnx (`raw_front.raw_model`).

Inside: each branch the members read, converted once by skl2onnx; each member's graph
(`member_graphs`: input X, output raw) spliced behind its branch's output; the members
combined as `Predictor._combine` combines them (the weighted mean, or the
`LinearStacker`'s logistic or least-squares model over their outputs); then the
temperature (`calibration.temper`). Where every tree node converts, the trees are then
rewritten in the compact `TreeEnsemble` operator (`tree_ensemble`), as compact.onnx's are.
"""

from __future__ import annotations

import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper

from automl.metrics import LOG_LOSS_FLOOR, REGRESSION
from automl.onnx.member_graphs import INPUT, IR_VERSION, OPSET, at_opset, full_proba, member_graph
from automl.onnx.op_graph import OpGraph
from automl.onnx.raw_front import raw_model
from automl.onnx.tree_ensemble import OLD_OPS, compact_tree_ensembles, expand_tree_ensembles
from automl.onnx.trees_graph import OPSETS, restore_input_names

EXTERNAL_DATA_AT = 2**31 - 2**24  # protobuf's 2 GB limit, less room for the rest of the file


def ensemble_graph(predictor) -> onnx.ModelProto:
    """`predictor` (`serving.ensemble.Predictor`) as a model taking the raw columns."""
    ready = ready_graph(predictor)
    return onnx.load_from_string(raw_model(ready.SerializeToString(), predictor.schema))


def ready_graph(predictor) -> onnx.ModelProto:
    """The predictor over model-ready columns (`prepare_features`' output), one input each."""
    schema = predictor.schema
    parts = _Parts()
    used = {m.branch for m in predictor.members}
    branch_out = {name: _add_branch(parts, b, schema) for name, b in predictor.branches.items()
                  if name in used}
    outputs = []
    for i, member in enumerate(predictor.members):
        edge, width = branch_out[member.branch]
        outputs += parts.splice(member_graph(member.model, width), f"member{i}/", {INPUT: edge})
    g = OpGraph("combine/")
    combined = _combined(g, predictor, outputs)
    model = parts.model(schema, g, _outputs(g, combined, schema, predictor.temperature))
    # all trees compact or none: a graph holds one ai.onnx.ml opset
    compact_tree_ensembles(model)
    if any(node.op_type in OLD_OPS for node in model.graph.node):
        expand_tree_ensembles(model)
    if model.ByteSize() < EXTERNAL_DATA_AT:  # the checker takes no larger model in memory
        onnx.checker.check_model(model)
    return model


class _Parts:
    """Nodes, constants and opsets of graphs spliced into one."""

    def __init__(self):
        self.nodes, self.constants, self.opsets = [], [], {"": OPSET}

    def splice(self, model: onnx.ModelProto, prefix: str, feeds: dict[str, str]) -> list[str]:
        """Add `model`'s nodes under `prefix`, its inputs read from the `feeds` edges (by
        input name); the names of its outputs here."""
        model = onnx.compose.add_prefix(model, prefix)
        edges = {prefix + name: edge for name, edge in feeds.items()}
        for node in model.graph.node:
            node.input[:] = [edges.get(name, name) for name in node.input]
        self.nodes += list(model.graph.node)
        self.constants += list(model.graph.initializer)
        for o in model.opset_import:
            domain = "" if o.domain == "ai.onnx" else o.domain
            self.opsets[domain] = max(self.opsets.get(domain, 0), o.version)
        return [o.name for o in model.graph.output]

    def model(self, schema, g: OpGraph, outputs: list) -> onnx.ModelProto:
        inputs = [helper.make_tensor_value_info(
            name, TensorProto.STRING if name in set(schema.categorical) else TensorProto.FLOAT,
            [None, 1]) for name in schema.feature_names]
        graph = helper.make_graph(self.nodes + g.nodes, "automl_ensemble", inputs, outputs,
                                  initializer=self.constants + g.constants)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v)
                                                        for d, v in self.opsets.items()])
        model.ir_version = IR_VERSION
        return model


def _add_branch(parts: _Parts, branch, schema) -> tuple[str, int]:
    """The branch's ColumnTransformer by skl2onnx, reading the model-ready inputs by name;
    (its output edge, its width)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    categorical = set(schema.categorical)
    types = [(name, StringTensorType([None, 1]) if name in categorical else FloatTensorType([None, 1]))
             for name in schema.feature_names]
    with warnings.catch_warnings():  # skl2onnx warns about opset choices made on purpose
        warnings.simplefilter("ignore")
        model = convert_sklearn(branch.transformer, initial_types=types, target_opset=OPSETS)
    restore_input_names(model, schema.feature_names)
    width = len(branch.transformer.get_feature_names_out())
    [edge] = parts.splice(at_opset(model), f"branch/{branch.name}/",
                          {name: name for name in schema.feature_names})
    return edge, width


def _combined(g: OpGraph, predictor, outputs: list[str]) -> str:
    if predictor.stacker is not None:
        return _stacked(g, predictor.stacker, outputs)
    total = sum(m.weight for m in predictor.members)
    scaled = [g.op("Mul", [edge, g.const(np.array(m.weight / total, dtype=np.float32))])
              for m, edge in zip(predictor.members, outputs)]
    return scaled[0] if len(scaled) == 1 else g.op("Sum", scaled)


def _stacked(g: OpGraph, stacker, outputs: list[str]) -> str:
    """`LinearStacker.predict_raw`: least squares over the values, or a logistic model
    over the log probabilities, its classes put among all classes."""
    if stacker.task != REGRESSION:
        # the stacker's own floor (a class attribute: pickles of any age have it)
        low, high = g.const(np.array(stacker.min_proba, np.float32)), g.const(np.array(1.0, np.float32))
        outputs = [g.op("Log", [g.op("Clip", [edge, low, high])]) for edge in outputs]
    features = outputs[0] if len(outputs) == 1 else g.op("Concat", outputs, axis=1)
    meta = stacker.model_
    coef = np.asarray(meta.coef_, dtype=np.float32)
    weights = coef.T if coef.ndim == 2 else coef.reshape(-1, 1)
    z = g.op("Add", [g.op("MatMul", [features, g.const(weights)]),
                     g.const(np.asarray(meta.intercept_, dtype=np.float32).reshape(1, -1))])
    if stacker.task == REGRESSION:
        return z
    if weights.shape[1] == 1:  # two classes: sklearn's [1 - p, p]
        positive = g.op("Sigmoid", [z])
        proba = g.op("Concat", [g.op("Sub", [g.const(np.ones((1, 1), np.float32)), positive]),
                                positive], axis=1)
    else:
        proba = g.op("Softmax", [z], axis=1)
    return full_proba(g, proba, meta.classes_, stacker.n_classes)


def _outputs(g: OpGraph, combined: str, schema, temperature: float) -> list:
    if schema.task == REGRESSION:
        g.op("Identity", [combined], "variable")
        return [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])]
    if temperature != 1.0:  # temper(): p ** (1/T), normalised, as a softmax of log p / T
        low, high = g.const(np.array(LOG_LOSS_FLOOR, np.float32)), g.const(np.array(1.0, np.float32))
        log_p = g.op("Log", [g.op("Clip", [combined, low, high])])
        combined = g.op("Softmax", [g.op("Div", [log_p, g.const(np.array(temperature, np.float32))])],
                        axis=1)
    g.op("Identity", [combined], "probabilities")
    label_output(g, "probabilities", schema.decision)
    return [helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, None])]


def label_output(g: OpGraph, probabilities: str, decision) -> None:
    """`label` (n,) int64 from `probabilities` (n, k): the most probable class, or the run's
    decision (`automl.decisions`): a threshold on class 1, or weights on the classes."""
    if decision is None:
        g.op("ArgMax", [probabilities], "label", axis=1, keepdims=0)
    elif decision.threshold is not None:
        positive = g.op("Gather", [probabilities, g.const(np.array(1, np.int64))], axis=1)
        above = g.op("GreaterOrEqual", [positive, g.const(np.array(decision.threshold, np.float32))])
        g.op("Cast", [above], "label", to=TensorProto.INT64)
    else:
        weights = g.const(np.asarray(decision.class_weights, np.float32).reshape(1, -1))
        g.op("ArgMax", [g.op("Mul", [probabilities, weights])], "label", axis=1, keepdims=0)
