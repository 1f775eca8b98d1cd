"""Dense students: a linear model or a small MLP on a one-hot/standardised encoding.

They read the `trees` branch's output (numbers as they are, categories as ordinal codes,
NaN for missing or unseen), so the ONNX export reuses that branch and adds only the few
operators of `DenseCode` and the layers (see `automl.onnx.dense_graph`). The fitted student is plain
arrays (`automl.models.dense_net.DenseNet`), whose numpy forward pass is the Python side
of the parity check; torch is only the trainer.

Compression works on those arrays, each step a new student:
- `prune_units`: drop the hidden units with the smallest weight magnitude, then fine-tune
  (structured, so the matrices really shrink, in bytes and in time);
- `low_rank`: replace a matrix by two thin ones from its truncated SVD;
- `int8`: store each matrix as int8 with one scale per output column; the graph
  dequantizes it, so outputs stay deterministic per row (unlike dynamic activation
  quantization, whose result depends on the other rows of the batch).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import torch
from torch import nn

from automl.budget import Budget
from automl.metrics import REGRESSION
from automl.models.dense_code import DenseCode
from automl.models.dense_net import DenseNet, Layer
from automl.models.nets import Schedule, build_network, torch_threads, train_network

LOW_RANK_ENERGY = 0.95  # share of the squared singular values a factored matrix keeps
PRUNE_KEEP = 0.5  # share of hidden units pruning keeps


@dataclass
class Training:
    """What the trainer needs: the branch's rows (Z) and the teacher's targets (T), train
    and valid, and the encoding that turns rows into the network's inputs (H)."""

    code: DenseCode
    Z: np.ndarray
    T: torch.Tensor
    Z_valid: np.ndarray
    T_valid: torch.Tensor
    task: str
    target_mean: float = 0.0
    target_scale: float = 1.0

    @classmethod
    def make(cls, code: DenseCode, Z, teacher, Z_valid, teacher_valid, task: str) -> "Training":
        mean, scale = 0.0, 1.0
        if task == REGRESSION:  # standardised targets: one learning rate for every scale
            mean, scale = float(np.mean(teacher)), float(np.std(teacher)) or 1.0

        def target(t):
            t = np.asarray(t, dtype=np.float32)
            return torch.from_numpy(((t - mean) / scale).reshape(-1, 1) if task == REGRESSION else t)

        return cls(code, np.asarray(Z, dtype=np.float32), target(teacher),
                   np.asarray(Z_valid, dtype=np.float32), target(teacher_valid), task, mean, scale)

    @cached_property
    def H(self) -> torch.Tensor:
        return torch.from_numpy(self.code.encode(self.Z))

    @cached_property
    def H_valid(self) -> torch.Tensor:
        return torch.from_numpy(self.code.encode(self.Z_valid))

    def recoded(self, code: DenseCode) -> "Training":
        """The same rows and targets under another network's encoding."""
        return self if code is self.code else replace(self, code=code)

    def sample(self, rows: int, seed: int = 0) -> "Training":
        """At most `rows` training rows and a quarter as many validation rows: small
        enough to keep in the stage's stored output for fine-tuning later."""
        rng = np.random.default_rng(seed)

        def pick(n: int, cap: int):
            return slice(None) if n <= cap else np.sort(rng.choice(n, cap, replace=False))

        train, valid = pick(len(self.Z), rows), pick(len(self.Z_valid), max(1, rows // 4))
        as_index = lambda rows: rows if isinstance(rows, slice) else torch.from_numpy(rows)  # noqa: E731
        return replace(self, Z=self.Z[train], T=self.T[as_index(train)],
                       Z_valid=self.Z_valid[valid], T_valid=self.T_valid[as_index(valid)])

    def __getstate__(self) -> dict:  # the encoded copies are rebuilt on use, not stored
        return {k: v for k, v in self.__dict__.items() if k not in ("H", "H_valid")}


def fit_dense_student(data: Training, hidden: list[int], budget: Budget, seed: int = 0,
                      n_jobs: int | None = None, max_epochs: int = 200,
                      learning_rate: float = 3e-3) -> DenseNet:
    """A network with `hidden` widths (none: a linear model) fitted to the teacher."""
    arch = {"n_inputs": data.code.width, "n_outputs": data.T.shape[1], "hidden": list(hidden)}
    with torch_threads(n_jobs or os.cpu_count() or 1), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_network(arch)
        _train(net, data, budget, Schedule(learning_rate, 0.0, 512, max_epochs, 8), seed)
    return _from_torch(net, data)


def _train(net: nn.Sequential, data: Training, budget: Budget, schedule: Schedule, seed: int) -> None:
    """The package's one trainer, to the teacher's outputs; the best validation epoch wins."""
    loss_fn = nn.MSELoss() if data.task == REGRESSION else nn.CrossEntropyLoss()
    train_network(net, data.H, data.T, data.H_valid, data.T_valid, loss_fn, schedule, budget, seed)


def _from_torch(net: nn.Sequential, data: Training) -> DenseNet:
    linears = [m for m in net if isinstance(m, nn.Linear)]
    layers = [Layer([m.weight.detach().numpy().T.copy()], m.bias.detach().numpy().copy())
              for m in linears]
    last = layers[-1]  # undo the target's standardisation inside the last layer
    last.matrices[0] = (last.matrices[0] * data.target_scale).astype(np.float32)
    last.bias = (last.bias * data.target_scale + data.target_mean).astype(np.float32)
    return DenseNet(data.code, layers, data.task)


def _to_torch(student: DenseNet, data: Training) -> nn.Sequential:
    """The (unfactored, float) student as a torch network in standardised target units."""
    modules: list[nn.Module] = []
    for i, layer in enumerate(student.layers):
        weight, bias = layer.matrices[0], layer.bias
        if i == len(student.layers) - 1:
            weight = weight / data.target_scale
            bias = (bias - data.target_mean) / data.target_scale
        linear = nn.Linear(*weight.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight.T)))
            linear.bias.copy_(torch.from_numpy(bias))
        modules += [linear, nn.ReLU()]
    return nn.Sequential(*modules[:-1])


def prune_units(student: DenseNet, data: Training, budget: Budget, seed: int = 0,
                keep: float = PRUNE_KEEP, n_jobs: int | None = None) -> DenseNet:
    """Keep the `keep` share of each hidden layer's units with the largest weight
    magnitude (incoming times outgoing L2 norm), then fine-tune briefly on `n_jobs`
    threads (None: this machine's cores)."""
    layers = [replace(layer, matrices=list(layer.matrices)) for layer in student.layers]
    for i in range(len(layers) - 1):
        incoming, outgoing = layers[i].matrices[0], layers[i + 1].matrices[0]
        magnitude = np.linalg.norm(incoming, axis=0) * np.linalg.norm(outgoing, axis=1)
        kept = np.sort(np.argsort(-magnitude)[:max(1, int(round(keep * magnitude.size)))])
        layers[i] = Layer([incoming[:, kept]], layers[i].bias[kept])
        layers[i + 1] = Layer([outgoing[kept, :]], layers[i + 1].bias)
    pruned = DenseNet(student.code, layers, student.task)
    data = data.recoded(student.code)  # a tuned student may have learnt its own encoding
    net = _to_torch(pruned, data)
    with torch_threads(n_jobs or os.cpu_count() or 1), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _train(net, data, budget, Schedule(1e-3, 0.0, 512, 30, 8), seed)
    return _from_torch(net, data)


def low_rank(student: DenseNet, energy: float = LOW_RANK_ENERGY) -> DenseNet | None:
    """Each matrix that gets smaller as two thin ones (truncated SVD keeping `energy` of
    its squared singular values) is replaced by them; None when none gets smaller."""
    layers, changed = [], False
    for layer in student.layers:
        matrix = layer.matrices[0]
        u, s, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = int(np.searchsorted(np.cumsum(s ** 2) / np.sum(s ** 2), energy) + 1)
        if len(layer.matrices) == 1 and rank * sum(matrix.shape) < matrix.size:
            layers.append(Layer([(u[:, :rank] * s[:rank]).astype(np.float32),
                                 vt[:rank].astype(np.float32)], layer.bias))
            changed = True
        else:
            layers.append(layer)
    return DenseNet(student.code, layers, student.task) if changed else None


def int8(student: DenseNet) -> DenseNet:
    """Every matrix as int8 with a symmetric scale per output column."""
    layers = []
    for layer in student.layers:
        matrices, scales = [], []
        for matrix in layer.weights():
            scale = (np.abs(matrix).max(axis=0) / 127).astype(np.float32)
            scale[scale == 0] = 1.0
            matrices.append(np.clip(np.round(matrix / scale), -127, 127).astype(np.int8))
            scales.append(scale)
        layers.append(Layer(matrices, layer.bias, scales))
    return DenseNet(student.code, layers, student.task)
