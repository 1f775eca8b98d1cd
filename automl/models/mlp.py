"""A multilayer perceptron in torch (CPU) on the trees branch, through the one dense
encoding (`DenseCode`) and the one trainer (`nets.train_network`) that the distillation's
MLP students use too.

After each epoch the validation loss decides early stopping (with patience), and at
evenly spread epochs the validation prediction goes to `report` (see
automl.models.reporting). The weights of the best epoch are kept.

The fitted state is the encoding, the architecture and the weights as numpy arrays, never
a live optimizer or module: joblib pickles stay small and hold no training state, and
the network is rebuilt on first use after loading.
"""

from __future__ import annotations

import numpy as np
import torch

from automl.errors import ConfigError
from automl.models.base import Family, ReportFn, as_budget, writable
from automl.models.dense_code import DenseCode
from automl.models.nets import (ACTIVATIONS, Schedule, build_network, forward_in_batches,
                                torch_threads, train_network)
from automl.models.reporting import ProgressReports
from automl.models import memory


class MLPFamily(Family):
    key = "mlp"
    fit_memory = memory.MLP
    branch = "trees"  # encoded for the network by DenseCode, as the MLP students are
    iterative = True
    allowed_params = ("n_layers", "width", "activation", "dropout", "learning_rate",
                      "weight_decay", "batch_size", "max_epochs", "patience")

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report: ReportFn | None = None,
            sample_weight=None, valid_weight=None):
        config = self._params_with_defaults()
        self.code_ = DenseCode.fit(writable(X, np.float32), tuple(self.categorical))
        self.arch_ = self._architecture(config, self.code_.width,
                                        self.n_classes if self.is_classifier else 1)
        if not self.is_classifier:  # a standardised target: one learning rate fits every scale
            self.y_mean_ = float(np.average(y, weights=sample_weight))
            spread = np.average((np.asarray(y) - self.y_mean_) ** 2, weights=sample_weight)
            self.y_scale_ = float(np.sqrt(spread)) or 1.0
        self._net = None
        schedule = self._schedule(config)
        reports = ProgressReports(schedule.max_epochs, report)
        # fork_rng: seeding must not change the caller's random stream
        with torch_threads(self.n_jobs), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = self._build()
            valid = (None, None) if X_valid is None else (self._inputs(X_valid), self._targets(y_valid))
            trained = train_network(
                net, self._inputs(X), self._targets(y), *valid, self._loss(), schedule,
                as_budget(budget), self.seed,
                on_epoch=lambda epoch, output: reports.send(epoch, lambda: self._shape_output(output)),
                weights=(_tensor(sample_weight), _tensor(valid_weight)))
        self.n_epochs_, self.best_epoch_ = trained.epochs, trained.best_epoch
        self.weights_ = {name: t.detach().numpy().copy() for name, t in net.state_dict().items()}
        return self

    def _architecture(self, config: dict, n_inputs: int, n_outputs: int) -> dict:
        """What `_build` makes, from the params: kept with the weights."""
        if config["activation"] not in ACTIVATIONS:
            raise ConfigError(f"family 'mlp': activation must be one of "
                              f"{', '.join(ACTIVATIONS)}, got {config['activation']!r}")
        return {"n_inputs": n_inputs, "n_outputs": n_outputs,
                "hidden": [int(config["width"])] * int(config["n_layers"]),
                "activation": config["activation"], "dropout": float(config["dropout"])}

    def _schedule(self, config: dict) -> Schedule:
        return Schedule(float(config["learning_rate"]), float(config["weight_decay"]),
                        int(config["batch_size"]), int(config["max_epochs"]),
                        int(config["patience"]))

    def _build(self) -> torch.nn.Module:
        """The untrained network of `arch_` (its weights are then learned or loaded)."""
        return build_network(self.arch_)

    def _loss(self) -> torch.nn.Module:
        return torch.nn.CrossEntropyLoss() if self.is_classifier else torch.nn.MSELoss()

    def _inputs(self, X) -> torch.Tensor:
        return torch.from_numpy(self.code_.encode(X))

    def _targets(self, y) -> torch.Tensor:
        y = np.asarray(y)
        if self.is_classifier:
            return torch.from_numpy(writable(y, np.int64))
        return torch.from_numpy(((y - self.y_mean_) / self.y_scale_).astype(np.float32).reshape(-1, 1))

    def _shape_output(self, output: torch.Tensor) -> np.ndarray:
        if not self.is_classifier:
            return output[:, 0].numpy().astype(np.float64) * self.y_scale_ + self.y_mean_
        proba = torch.softmax(output.double(), dim=1).numpy()
        return proba / proba.sum(axis=1, keepdims=True)

    # ---- prediction, also after a joblib round trip ---------------------------------------

    def _network(self) -> torch.nn.Sequential:
        if getattr(self, "_net", None) is None:
            with torch.random.fork_rng(devices=[]):  # the initial values are overwritten anyway
                net = self._build()
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
        with torch_threads(self.n_jobs):
            return self._shape_output(forward_in_batches(self._network(), self._inputs(X)))


def _tensor(weight) -> torch.Tensor | None:
    return None if weight is None else torch.from_numpy(np.asarray(weight, dtype=np.float32))
