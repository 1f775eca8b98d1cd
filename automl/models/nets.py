"""One trainer for every network in the package: the `mlp` family and the distillation's
dense students (and the fine-tuning of a pruned one).

AdamW on shuffled mini-batches; after each epoch the loss on the validation rows decides
early stopping (with patience) and the weights of the best epoch are kept. Targets are
class codes or class probabilities (a teacher's soft labels: cross-entropy takes both),
or standardised values for regression. The time budget is checked per batch, not per
epoch: one epoch on a large table can outlast it.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import torch
# The first optimizer a process builds imports torch._dynamo (2 s here): importing it with
# this module keeps that one-off cost out of the first fit's time limit.
import torch._dynamo  # noqa: F401
from torch import nn

from automl.budget import Budget

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh}
PREDICT_BATCH = 8192  # rows per forward pass at predict time; bounds memory


def build_network(arch: dict) -> nn.Sequential:
    """The network `arch` describes: n_inputs, n_outputs, hidden (widths), activation, dropout."""
    layers: list[nn.Module] = []
    width_in = arch["n_inputs"]
    for width in arch["hidden"]:
        layers += [nn.Linear(width_in, width), ACTIVATIONS[arch.get("activation", "relu")]()]
        if arch.get("dropout", 0.0) > 0:
            layers.append(nn.Dropout(arch["dropout"]))
        width_in = width
    layers.append(nn.Linear(width_in, arch["n_outputs"]))
    return nn.Sequential(*layers)


@contextmanager
def torch_threads(n_jobs: int):
    """Use exactly the trial's CPUs, and leave the process's setting as it was."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n_jobs)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class Schedule:
    """How to train: the optimizer's settings and when to stop."""

    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 256
    max_epochs: int = 100
    patience: int = 8
    clip_norm: float | None = None  # the gradients' largest norm per step (None: unclipped)


@dataclass
class Trained:
    epochs: int  # epochs run (the last one possibly cut short by the budget)
    best_epoch: int  # the epoch whose weights were kept (0: no validation rows)


# Called after each epoch with the epoch and the validation output (logits or values).
EpochFn = Callable[[int, torch.Tensor], None]


def train_network(net: nn.Module, H: torch.Tensor, T: torch.Tensor, H_valid: torch.Tensor | None,
                  T_valid: torch.Tensor | None, loss_fn: nn.Module, schedule: Schedule,
                  budget: Budget, seed: int, on_epoch: EpochFn | None = None,
                  weights: tuple[torch.Tensor | None, torch.Tensor | None] = (None, None)) -> Trained:
    """Train `net` in place; it ends with the weights of its best validation epoch.
    `weights`: the training rows' and validation rows' sample weights (None: alike)."""
    W, W_valid = weights
    optimizer = torch.optim.AdamW(net.parameters(), lr=schedule.learning_rate,
                                  weight_decay=schedule.weight_decay)
    order_rng = torch.Generator().manual_seed(seed)
    best = _BestEpoch(schedule.patience)
    epochs = 0
    for epoch in range(1, schedule.max_epochs + 1):
        epochs = epoch
        if not _epoch(net, optimizer, loss_fn, (H, T, W), schedule, order_rng, budget):
            break
        if H_valid is not None:
            loss, output = _evaluate(net, loss_fn, H_valid, T_valid, W_valid)
            if on_epoch is not None:
                on_epoch(epoch, output)
            if best.update(epoch, loss, net):
                break
        if budget.expired():
            break
    if best.state is not None:
        net.load_state_dict(best.state)
    return Trained(epochs, best.epoch)


def _epoch(net, optimizer, loss_fn, rows_of, schedule: Schedule, order_rng, budget: Budget) -> bool:
    """One pass over shuffled mini-batches of `rows_of` (inputs, targets, weights or None);
    False when the budget cut it short."""
    H, T, W = rows_of
    net.train()
    order = torch.randperm(len(H), generator=order_rng)
    for start in range(0, len(H), schedule.batch_size):
        rows = order[start:start + schedule.batch_size]
        optimizer.zero_grad()
        _loss(loss_fn, net(H[rows]), T[rows], None if W is None else W[rows]).backward()
        if schedule.clip_norm is not None:
            nn.utils.clip_grad_norm_(net.parameters(), schedule.clip_norm)
        optimizer.step()
        if budget.expired():
            return False
    return True


def _evaluate(net, loss_fn, H, T, W=None) -> tuple[float, torch.Tensor]:
    net.eval()
    with torch.no_grad():
        output = net(H)
        return float(_loss(loss_fn, output, T, W)), output


def _loss(loss_fn: nn.Module, output: torch.Tensor, target: torch.Tensor,
          weight: torch.Tensor | None) -> torch.Tensor:
    """The batch's mean loss, or its mean weighted by the rows' sample weights."""
    if weight is None:
        return loss_fn(output, target)
    per_row = copy.copy(loss_fn)
    per_row.reduction = "none"
    losses = per_row(output, target).reshape(len(output), -1).mean(dim=1)
    return (losses * weight).sum() / weight.sum().clamp_min(1e-12)


def forward_in_batches(net: nn.Module, H: torch.Tensor) -> torch.Tensor:
    net.eval()
    with torch.no_grad():
        return torch.cat([net(H[start:start + PREDICT_BATCH])
                          for start in range(0, max(len(H), 1), PREDICT_BATCH)])


class _BestEpoch:
    """Keeps the weights of the epoch with the lowest validation loss; says when to stop."""

    def __init__(self, patience: int):
        self.patience, self.loss, self.state = patience, float("inf"), None
        self.epoch = self.waited = 0

    def update(self, epoch: int, loss: float, net: nn.Module) -> bool:
        """Record one epoch's loss; True once `patience` epochs went by without progress."""
        if loss < self.loss:
            self.loss, self.epoch, self.waited = loss, epoch, 0
            self.state = copy.deepcopy(net.state_dict())
        else:
            self.waited += 1
        return self.waited >= self.patience
