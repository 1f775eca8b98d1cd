"""TabM (Gorishniy et al., "TabM: Advancing Tabular Deep Learning with Parameter-Efficient
Ensembling", ICLR 2025): k MLPs that share most of their weights, trained at once on the
same batches, their predictions averaged. The network is the `tabm` package's own
(`tabm.TabM.make`), not re-implemented here; what is ours is what every network of the
package shares with the `mlp` family: the dense encoding of the trees branch
(`DenseCode`), the trainer with its early stopping, time limit and progress reports
(`nets.train_network`), and the fitted state kept as numpy weights.

While training, each of the k members has its own loss on every row (their mean is what
the optimizer minimises, as the paper trains them); at predict time the network gives
the mean of the members' probabilities (as log-probabilities, which the `mlp` family's
softmax turns back) or of their values.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from tabm import TabM
from torch import nn

from automl.errors import ConfigError
from automl.models.mlp import MLPFamily
from automl.models.nets import Schedule

ARCH_TYPES = ("tabm", "tabm-mini", "tabm-packed")
CLIP_NORM = 1.0  # the package's example clips each step's gradients to this norm
# where the fitted weights (state_dict names) of the backbone and the output layer are
BACKBONE, OUTPUT = "network.backbone.", "network.output."


class TabMFamily(MLPFamily):
    key = "tabm"
    allowed_params = ("arch_type", "k", "n_blocks", "d_block", "dropout", "learning_rate",
                      "weight_decay", "batch_size", "max_epochs", "patience")

    def _architecture(self, config: dict, n_inputs: int, n_outputs: int) -> dict:
        if config["arch_type"] not in ARCH_TYPES:
            raise ConfigError(f"family 'tabm': arch_type must be one of {', '.join(ARCH_TYPES)}, "
                              f"got {config['arch_type']!r}")
        return {"n_inputs": n_inputs, "n_outputs": n_outputs, "arch_type": config["arch_type"],
                "k": int(config["k"]), "n_blocks": int(config["n_blocks"]),
                "d_block": int(config["d_block"]), "dropout": float(config["dropout"]),
                "classifier": self.is_classifier}

    def _schedule(self, config: dict) -> Schedule:
        return replace(super()._schedule(config), clip_norm=CLIP_NORM)

    def _build(self) -> nn.Module:
        arch = self.arch_
        network = TabM.make(n_num_features=arch["n_inputs"], d_out=arch["n_outputs"],
                            arch_type=arch["arch_type"], k=arch["k"], n_blocks=arch["n_blocks"],
                            d_block=arch["d_block"], dropout=arch["dropout"])
        return MembersMean(network, arch["classifier"])

    def _loss(self) -> nn.Module:
        return EachMember(super()._loss())


class MembersMean(nn.Module):
    """TabM's (rows, k, outputs): all k while training, their mean when evaluated: of the
    probabilities, as log-probabilities (a classifier), or of the values."""

    def __init__(self, network: TabM, classifier: bool):
        super().__init__()
        self.network, self.classifier = network, classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        members = self.network(x)
        if self.training:
            return members
        if self.classifier:
            return torch.log(torch.softmax(members, dim=-1).mean(dim=1).clamp_min(1e-12))
        return members.mean(dim=1)


class EachMember(nn.Module):
    """`loss` of each member's output on its row: (rows, k, outputs) is read as rows x k
    rows with the targets repeated, so the mean over them is the mean of the k members'
    losses. A per-row reduction ("none", as the trainer asks for weighted rows) gives
    rows x k losses in row order, which the trainer averages per row."""

    def __init__(self, loss: nn.Module):
        super().__init__()
        self.loss, self.reduction = loss, loss.reduction

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if output.ndim == 3:
            k = output.shape[1]
            output, target = output.flatten(0, 1), target.repeat_interleave(k, dim=0)
        self.loss.reduction = self.reduction  # the trainer sets it on a copy of this module
        return self.loss(output, target)


def member_layers(family: TabMFamily) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Each of the fitted family's k members as plain dense layers, (weight (in, out), bias
    (out,)) in float64 with a ReLU between them: a member's own scalings folded into the
    shared weights (TabM: x r_j W s_j + b_j; TabM-mini: x a_j W + b). For whoever reads the
    network outside torch one member at a time (the explanations)."""
    weights, arch = family.weights_, family.arch_
    if arch["arch_type"] not in ("tabm", "tabm-mini"):
        raise ConfigError(f"a {arch['arch_type']} member is not read layer by layer here")
    indices = block_indices(weights)
    members = []
    for j in range(arch["k"]):
        layers = []
        for i in indices:
            at = block_prefix(i)
            W = np.asarray(weights[at + "weight"], dtype=np.float64).T
            if arch["arch_type"] == "tabm":
                W = weights[at + "r"][j][:, None] * W * weights[at + "s"][j][None, :]
                bias = weights[at + "bias"][j]
            else:
                if i == indices[0]:
                    W = weights[f"{BACKBONE}affine.weight"][j][:, None] * W
                bias = weights[at + "bias"]
            layers.append((W, np.asarray(bias, dtype=np.float64)))
        layers.append((np.asarray(weights[f"{OUTPUT}weight"][j], dtype=np.float64),
                       np.asarray(weights[f"{OUTPUT}bias"][j], dtype=np.float64)))
        members.append(layers)
    return members


def block_indices(weights: dict) -> list[int]:
    """The backbone's blocks, in order, by the names of the fitted weights."""
    blocks = f"{BACKBONE}blocks."
    return sorted({int(name[len(blocks):].split(".")[0]) for name in weights
                   if name.startswith(blocks)})


def block_prefix(index: int) -> str:
    """Where block `index`'s linear layer's weights are (weight, bias; TabM's r and s)."""
    return f"{BACKBONE}blocks.{index}.0."
