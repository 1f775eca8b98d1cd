"""The `linear` and `mlp` members as graphs X -> raw (`member_graphs`' contract): the
family's `DenseCode` as operators (`dense_graph.encode`, as the dense students write it),
then its sklearn linear model or its torch weights as MatMul and Add.

Regression members learned a standardised target: the graph scales the output back
(`y_scale_`, `y_mean_`) as `predict_raw` does.
"""

from __future__ import annotations

import math

import numpy as np
import onnx

from automl.onnx.dense_graph import encode
from automl.onnx.member_graphs import (INPUT, ConversionError, as_column, full_proba,
                                       single_output_model)
from automl.onnx.op_graph import OpGraph


def linear_graph(family, n_inputs: int) -> onnx.ModelProto:
    if not hasattr(family, "code_"):
        raise ConversionError("a linear member pickled before the family encoded its input "
                              "(no code_) has no ONNX converter; refit the run")
    g = OpGraph()
    h = encode(g, family.code_, INPUT)
    estimator = family.model_
    coef = np.asarray(estimator.coef_, dtype=np.float32)
    weights = coef.T if coef.ndim == 2 else coef.reshape(-1, 1)  # regression: one vector
    z = g.op("Add", [g.op("MatMul", [h, g.const(weights)]),
                     g.const(np.asarray(estimator.intercept_, dtype=np.float32).reshape(1, -1))])
    if not family.is_classifier:
        return single_output_model(g, _unscaled(g, z, family), n_inputs)
    if coef.shape[0] == 1:  # binary: sklearn's [1 - p, p] of the logistic of one score
        positive = g.op("Sigmoid", [z])
        proba = g.op("Concat", [g.op("Sub", [g.const(np.ones((1, 1), np.float32)), positive]),
                                positive], axis=1)
    else:
        proba = g.op("Softmax", [z], axis=1)
    return single_output_model(g, full_proba(g, proba, family.classes_seen_, family.n_classes),
                               n_inputs)


def mlp_graph(family, n_inputs: int) -> onnx.ModelProto:
    """The network's Linear layers in order (`arch_`, `weights_`), its activation between
    them; softmax over all classes (it learned on every class's code) or the value."""
    g = OpGraph()
    h = encode(g, family.code_, INPUT)
    layers = _linear_layers(family.weights_)
    for i, (weight, bias) in enumerate(layers):
        h = g.op("Add", [g.op("MatMul", [h, g.const(weight.T.astype(np.float32))]),
                         g.const(bias.astype(np.float32).reshape(1, -1))])
        if i < len(layers) - 1:
            h = _activation(g, h, family.arch_.get("activation", "relu"))
    if family.is_classifier:
        return single_output_model(g, g.op("Softmax", [h], axis=1), n_inputs)
    return single_output_model(g, _unscaled(g, h, family), n_inputs)


def _linear_layers(weights: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight, bias) of each nn.Linear of the Sequential, by its index in it."""
    indices = sorted(int(name.split(".")[0]) for name in weights if name.endswith(".weight"))
    return [(weights[f"{i}.weight"], weights[f"{i}.bias"]) for i in indices]


def _activation(g: OpGraph, x: str, name: str) -> str:
    if name == "relu":
        return g.op("Relu", [x])
    if name == "tanh":
        return g.op("Tanh", [x])
    if name == "silu":
        return g.op("Mul", [x, g.op("Sigmoid", [x])])
    if name == "gelu":  # torch's exact GELU: x/2 (1 + erf(x / sqrt 2)); opset 17 has no Gelu
        erf = g.op("Erf", [g.op("Div", [x, g.const(np.array(math.sqrt(2.0), np.float32))])])
        one_plus = g.op("Add", [erf, g.const(np.array(1.0, np.float32))])
        return g.op("Mul", [g.op("Mul", [x, one_plus]), g.const(np.array(0.5, np.float32))])
    raise ConversionError(f"the mlp member's activation {name!r} has no ONNX form here")


def _unscaled(g: OpGraph, standardised: str, family) -> str:
    """The value on the target's own scale, one column."""
    scaled = g.op("Mul", [as_column(g, standardised), g.const(np.array(family.y_scale_, np.float32))])
    return g.op("Add", [scaled, g.const(np.array(family.y_mean_, np.float32))])


def tabm_graph(family, n_inputs: int) -> onnx.ModelProto:
    """TabM's k members at once, as the network runs them: the input broadcast to (n, k, d),
    each block's shared MatMul between the members' own scalings (TabM) or after one
    per-member scaling (TabM-mini), the output layer a MatMul per member; then the mean of
    the members' probabilities or values."""
    from automl.models.tabm_family import BACKBONE, OUTPUT, block_indices, block_prefix

    arch, weights = family.arch_, family.weights_
    if arch["arch_type"] not in ("tabm", "tabm-mini"):
        raise ConversionError(f"a {arch['arch_type']} member has no ONNX converter here")
    g = OpGraph()
    h = g.op("Unsqueeze", [encode(g, family.code_, INPUT), g.const(np.array([1], np.int64))])
    if arch["arch_type"] == "tabm-mini":
        h = g.op("Mul", [h, _f32(g, weights[f"{BACKBONE}affine.weight"])])
    for i in block_indices(weights):
        at = block_prefix(i)
        if arch["arch_type"] == "tabm":
            h = g.op("Mul", [h, _f32(g, weights[at + "r"])])
        h = g.op("MatMul", [h, _f32(g, weights[at + "weight"].T)])
        if arch["arch_type"] == "tabm":
            h = g.op("Mul", [h, _f32(g, weights[at + "s"])])
        h = g.op("Relu", [g.op("Add", [h, _f32(g, weights[at + "bias"])])])
    by_member = g.op("Transpose", [h], perm=[1, 0, 2])  # (k, n, d): one MatMul per member
    out = g.op("MatMul", [by_member, _f32(g, weights[f"{OUTPUT}weight"])])
    out = g.op("Add", [g.op("Transpose", [out], perm=[1, 0, 2]), _f32(g, weights[f"{OUTPUT}bias"])])
    if family.is_classifier:
        proba = g.op("ReduceMean", [g.op("Softmax", [out], axis=2)], axes=[1], keepdims=0)
        return single_output_model(g, proba, n_inputs)
    return single_output_model(g, _unscaled(g, g.op("ReduceMean", [out], axes=[1], keepdims=0),
                                            family), n_inputs)


def _f32(g: OpGraph, values) -> str:
    return g.const(np.ascontiguousarray(values, dtype=np.float32))
