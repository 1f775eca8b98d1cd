"""A multilayer perceptron in torch (CPU) on the dense branch.

Trained with AdamW on mini-batches. After each epoch the validation loss decides early
stopping (with patience), and at evenly spread epochs the validation prediction goes to
`report` (see automl.models.reporting). The weights of the best epoch are kept.

The fitted state is the architecture and the weights as numpy arrays, never a live
optimizer or module: joblib pickles stay small and hold no training state, and the
network is rebuilt on first use after loading.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager

import numpy as np
import torch
# The first optimizer a process builds imports torch._dynamo (2 s here): importing it with
# this module keeps that one-off cost out of the first fit's time limit.
import torch._dynamo  # noqa: F401
from torch import nn

from automl.errors import ConfigError
from automl.budget import Budget
from automl.models.base import Family, ReportFn, as_budget, writable
from automl.models.reporting import ProgressReports

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh}
DEFAULTS = {"n_layers": 2, "width": 128, "activation": "relu", "dropout": 0.1,
            "learning_rate": 1e-3, "weight_decay": 1e-4, "batch_size": 256,
            "max_epochs": 30, "patience": 5}
PREDICT_BATCH = 8192  # rows per forward pass at predict time; bounds memory


def build_network(arch: dict) -> nn.Sequential:
    """The network `arch` describes: n_inputs, n_outputs, n_layers, width, activation, dropout."""
    layers: list[nn.Module] = []
    width_in = arch["n_inputs"]
    for _ in range(arch["n_layers"]):
        layers += [nn.Linear(width_in, arch["width"]), ACTIVATIONS[arch["activation"]]()]
        if arch["dropout"] > 0:
            layers.append(nn.Dropout(arch["dropout"]))
        width_in = arch["width"]
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


class MLPFamily(Family):
    key = "mlp"
    branch = "dense"
    iterative = True
    allowed_params = tuple(DEFAULTS)

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report: ReportFn | None = None):
        config = {**DEFAULTS, **self._checked_params()}
        if config["activation"] not in ACTIVATIONS:
            raise ConfigError(f"family 'mlp': activation must be one of "
                              f"{', '.join(ACTIVATIONS)}, got {config['activation']!r}")
        self.arch_ = {"n_inputs": int(X.shape[1]),
                      "n_outputs": self.n_classes if self.is_classifier else 1,
                      "n_layers": int(config["n_layers"]), "width": int(config["width"]),
                      "activation": config["activation"], "dropout": float(config["dropout"])}
        if not self.is_classifier:  # a standardised target: one learning rate fits every scale
            self.y_mean_, self.y_scale_ = float(np.mean(y)), float(np.std(y)) or 1.0
        budget, self._net = as_budget(budget), None
        # fork_rng: seeding must not change the caller's random stream
        with torch_threads(self.n_jobs), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = build_network(self.arch_)
            valid = None if X_valid is None else (self._inputs(X_valid), self._targets(y_valid))
            self._train(net, self._inputs(X), self._targets(y), valid, config, budget, report)
        return self

    def _train(self, net, X, y, valid, config, budget: Budget, report) -> None:
        optimizer = torch.optim.AdamW(net.parameters(), lr=float(config["learning_rate"]),
                                      weight_decay=float(config["weight_decay"]))
        order_rng = torch.Generator().manual_seed(self.seed)
        max_epochs, batch_size = int(config["max_epochs"]), int(config["batch_size"])
        reports, best = ProgressReports(max_epochs, report), _BestEpoch(int(config["patience"]))
        for epoch in range(1, max_epochs + 1):
            finished = self._epoch(net, optimizer, X, y, batch_size, order_rng, budget)
            self.n_epochs_ = epoch
            if not finished:
                break
            if valid is not None:
                loss, output = self._evaluate(net, *valid)
                reports.send(epoch, lambda: self._shape_output(output))
                if best.update(epoch, loss, net):
                    break
            if budget.expired():
                break
        if best.state is not None:
            net.load_state_dict(best.state)
        self.best_epoch_ = best.epoch
        self.weights_ = {name: t.detach().numpy().copy() for name, t in net.state_dict().items()}

    def _epoch(self, net, optimizer, X, y, batch_size: int, order_rng, budget: Budget) -> bool:
        """One pass over shuffled mini-batches; False when the time limit cut it short."""
        net.train()
        loss_fn = self._loss()
        order = torch.randperm(len(X), generator=order_rng)
        for start in range(0, len(X), batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad()
            loss_fn(self._head(net(X[rows])), y[rows]).backward()
            optimizer.step()
            # checked per batch, not per epoch: one epoch on a large table can outlast the limit
            if budget.expired():
                return False
        return True

    def _evaluate(self, net, X, y) -> tuple[float, torch.Tensor]:
        net.eval()
        with torch.no_grad():
            output = self._head(net(X))
            return float(self._loss()(output, y)), output

    def _loss(self) -> nn.Module:
        return nn.CrossEntropyLoss() if self.is_classifier else nn.MSELoss()

    def _head(self, output: torch.Tensor) -> torch.Tensor:
        return output if self.is_classifier else output[:, 0]

    def _inputs(self, X) -> torch.Tensor:
        return torch.from_numpy(writable(X, np.float32))

    def _targets(self, y) -> torch.Tensor:
        y = np.asarray(y)
        if self.is_classifier:
            return torch.from_numpy(writable(y, np.int64))
        return torch.from_numpy(((y - self.y_mean_) / self.y_scale_).astype(np.float32))

    def _shape_output(self, output: torch.Tensor) -> np.ndarray:
        if not self.is_classifier:
            return output.numpy().astype(np.float64) * self.y_scale_ + self.y_mean_
        proba = torch.softmax(output.double(), dim=1).numpy()
        return proba / proba.sum(axis=1, keepdims=True)

    # ---- prediction, also after a joblib round trip ---------------------------------------

    def _network(self) -> nn.Sequential:
        if getattr(self, "_net", None) is None:
            with torch.random.fork_rng(devices=[]):  # the initial values are overwritten anyway
                net = build_network(self.arch_)
            net.load_state_dict({name: torch.from_numpy(writable(w)) for name, w in self.weights_.items()})
            self._net = net.eval()
        return self._net

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_net", None)  # rebuilt from arch_ and weights_ after loading
        return state

    def trained_length(self) -> dict:
        # the epoch whose weights were kept; without a validation part, the epochs run
        return {"max_epochs": int(self.best_epoch_ or self.n_epochs_)}

    def predict_raw(self, X) -> np.ndarray:
        X = self._inputs(X)
        with torch_threads(self.n_jobs), torch.no_grad():
            net = self._network()
            outputs = [self._head(net(X[start:start + PREDICT_BATCH]))
                       for start in range(0, max(len(X), 1), PREDICT_BATCH)]
        return self._shape_output(torch.cat(outputs))
