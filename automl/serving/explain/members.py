"""Each member's contributions to its own output (every class's probability, or the value)
per model-ready column (`Members`), by its family's exactly additive method: TreeSHAP
through lightgbm, xgboost and catboost themselves, Saabas paths for the forests,
coef x (x - reference) for linear, DeepLIFT's rescale rule for mlp; a bagged member is
the mean of its fold models."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import erf, expit

from automl.errors import ConfigError, RunError
from automl.metrics import REGRESSION
from automl.models.bagging import BaggedModel
from automl.serving.ensemble import Predictor
from automl.serving.explain.flow import Flow, from_margins, probabilities, weighted
from automl.serving.explain.forest import Forest, saabas

ACTIVATIONS = {"relu": lambda x: np.maximum(x, 0.0),
               "gelu": lambda x: 0.5 * x * (1.0 + erf(x / np.sqrt(2.0))),
               "silu": lambda x: x * expit(x),
               "tanh": np.tanh}
# Up to this many rows the tree libraries explain on one thread: starting a pool of
# threads cost 8-16 ms a call on a busy 2-core machine, against 0.1-0.4 ms for the work.
SMALL_BATCH = 256


class Members:
    """The members of a `Predictor`, explained one at a time: `flow(model, branch, X)` for
    a member's model on its branch's output `X`. What each needs (a forest's trees as
    arrays, a reference row, the branch's columns' positions) is built once, on first use.
    `background`: model-ready rows whose mean encoded row is the linear and MLP members'
    reference (None: every number at its training mean, no flag, no category)."""

    def __init__(self, predictor: Predictor, background: pd.DataFrame | None):
        self.predictor = predictor
        self.schema = predictor.schema
        self.features = self.schema.feature_names
        self.background = background
        self._cache: dict[tuple, object] = {}  # (what, id(model)) -> what a member needs
        self._positions: dict[str, np.ndarray] = {}
        self._encoded_background: dict[str, np.ndarray] = {}

    @property
    def n_outputs(self) -> int:
        return 1 if self.schema.task == REGRESSION else len(self.schema.classes)

    def flow(self, model, branch: str, X: np.ndarray) -> Flow:
        """The member's contributions to its output (probabilities over every class, or the
        value), per model-ready column."""
        if isinstance(model, BaggedModel):
            return weighted([self.flow(m, branch, X) for m in model.models_],
                            np.full(len(model.models_), 1.0 / len(model.models_)))
        key = getattr(model, "key", None)
        explain = {"lightgbm": self._lightgbm, "xgboost": self._xgboost, "catboost": self._catboost,
                   "random_forest": self._forest, "extra_trees": self._forest,
                   "linear": self._linear, "mlp": self._mlp, "tabm": self._tabm}.get(key)
        if explain is None:
            raise ConfigError(f"no explanation method for a member of family "
                              f"{key or type(model).__name__!r}; explanations cover lightgbm, "
                              "xgboost, catboost, random_forest, extra_trees, linear, mlp and tabm")
        return explain(model, branch, np.asarray(X))

    def _on_features(self, branch: str, c: np.ndarray) -> np.ndarray:
        """Contributions per branch column (n, d, p) as per model-ready column (n, f, p)."""
        positions = self._branch_positions(branch)
        out = np.zeros((c.shape[0], len(self.features), c.shape[2]))
        np.add.at(out, (slice(None), positions), c)
        return out

    def _branch_positions(self, branch: str) -> np.ndarray:
        """For each output column of the branch, its model-ready column: the one of that
        name, else the longest whose name starts its name (an encoding's pieces)."""
        if branch not in self._positions:
            names = self.predictor.branches[branch].feature_names
            index = {name: i for i, name in enumerate(self.features)}
            positions = []
            for name in names:
                if name not in index:
                    owners = [f for f in self.features if name.startswith(f)]
                    if not owners:
                        raise RunError(f"the branch {branch!r} makes a column {name!r} that is "
                                       "none of the model's columns")
                    name = max(owners, key=len)
                positions.append(index[name])
            self._positions[branch] = np.asarray(positions, dtype=np.int64)
        return self._positions[branch]

    def _classes_out(self, model, flow: Flow) -> Flow:
        """A model's output over the classes it saw as its output over every class."""
        if self.schema.task == REGRESSION:
            return flow
        return flow.to_classes(model.classes_seen_, self.n_outputs)

    # ---- trees --------------------------------------------------------------------------

    def _trees_out(self, model, branch: str, contributions: np.ndarray, bias: np.ndarray) -> Flow:
        """TreeSHAP's margins (n, d, p) and bias (n, p) as the member's output."""
        margin = from_margins(self._on_features(branch, contributions), bias)
        if self.schema.task == REGRESSION:
            return margin
        return self._classes_out(model, probabilities(margin))

    def _lightgbm(self, model, branch: str, X: np.ndarray) -> Flow:
        # a re-encoded many-level column keeps its place: its share goes to that column
        raw = model.booster_.predict(model.booster_input(X), pred_contrib=True,
                                     num_iteration=model.n_rounds_, num_threads=_threads(X, 0))
        raw = np.asarray(raw, dtype=np.float64).reshape(len(X), -1, X.shape[1] + 1)  # (n, p, d + 1)
        return self._trees_out(model, branch, raw[:, :, :-1].transpose(0, 2, 1), raw[:, :, -1])

    def _xgboost(self, model, branch: str, X: np.ndarray) -> Flow:
        import xgboost as xgb

        booster = model.model_.get_booster()
        types = booster.feature_types
        matrix = xgb.DMatrix(X, missing=np.nan, feature_types=types, nthread=_threads(X, -1),
                             enable_categorical=bool(types and "c" in types))
        try:
            rounds = (0, model.model_.best_iteration + 1)
        except AttributeError:  # no early stopping: every round, as predict_proba takes
            rounds = (0, 0)
        raw = booster.predict(matrix, pred_contribs=True, iteration_range=rounds)
        raw = np.asarray(raw, dtype=np.float64).reshape(len(X), -1, X.shape[1] + 1)
        return self._trees_out(model, branch, raw[:, :, :-1].transpose(0, 2, 1), raw[:, :, -1])

    def _catboost(self, model, branch: str, X: np.ndarray) -> Flow:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = model.model_.get_feature_importance(model._pool(X), type="ShapValues",
                                                      thread_count=_threads(X, -1))
        raw = np.asarray(raw, dtype=np.float64).reshape(len(X), -1, X.shape[1] + 1)
        return self._trees_out(model, branch, raw[:, :, :-1].transpose(0, 2, 1), raw[:, :, -1])

    def _forest(self, model, branch: str, X: np.ndarray) -> Flow:
        """Saabas path attribution (`forest.saabas`), from the mean root value."""
        trees = self._forest_arrays(model)
        flow = from_margins(self._on_features(branch, saabas(trees, X)),
                            np.tile(trees.root_value, (len(X), 1)))
        return self._classes_out(model, flow)

    def _forest_arrays(self, model) -> Forest:
        cached = self._cache.get(("forest", id(model)))
        if cached is None:
            cached = self._cache[("forest", id(model))] = Forest.of(model.model_)
        return cached

    # ---- dense members: linear, mlp -----------------------------------------------------

    def _reference(self, model, branch: str) -> np.ndarray:
        """The dense members' reference: the mean encoded background row, else zeros (every
        number at its training mean, no missing flag, no category)."""
        key = ("reference", id(model))
        if key not in self._cache:
            reference = np.zeros(model.code_.width)
            if self.background is not None and len(self.background):
                if branch not in self._encoded_background:
                    self._encoded_background[branch] = self.predictor.branches[branch].transform(
                        self.background)
                encoded = model.code_.encode(self._encoded_background[branch])
                reference = encoded.astype(np.float64).mean(axis=0)
            self._cache[key] = reference
        return self._cache[key]

    def _dense_input(self, model, branch: str, X: np.ndarray, W: np.ndarray, b: np.ndarray) -> Flow:
        """The first linear layer (outputs h @ W + b) of a model on the dense encoding h:
        each encoded column's (h - reference) @ W credited to its model-ready column."""
        code = model.code_
        if ("groups", id(model)) not in self._cache:
            source = np.concatenate([code.numeric, code.indicators, code.onehot_source]).astype(np.int64)
            features = self._branch_positions(branch)[source]
            self._cache[("groups", id(model))] = [(f, np.flatnonzero(features == f))
                                                  for f in np.unique(features)]
        h = code.encode(X).astype(np.float64)
        reference = self._reference(model, branch)
        delta = h - reference
        c = np.zeros((len(X), len(self.features), W.shape[1]))
        for feature, encoded in self._cache[("groups", id(model))]:
            c[:, feature, :] = delta[:, encoded] @ W[encoded]
        x0 = np.tile(reference @ W + b, (len(X), 1))
        return Flow(c, x0, x0 + c.sum(axis=1))

    def _linear(self, model, branch: str, X: np.ndarray) -> Flow:
        if not hasattr(model, "code_"):
            raise RunError("this linear member was fitted by an automl that did not encode its "
                           "input itself; refit the run to explain it")
        estimator = model.model_
        coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
        margin = self._dense_input(model, branch, X, coef.T, np.atleast_1d(estimator.intercept_))
        if self.schema.task == REGRESSION:
            return margin.linear(np.array([[model.y_scale_]]), model.y_mean_)
        return self._classes_out(model, probabilities(margin))

    def _mlp(self, model, branch: str, X: np.ndarray) -> Flow:
        weights = model.weights_
        layers = sorted({int(name.split(".")[0]) for name in weights})
        act = ACTIVATIONS[model.arch_.get("activation", "relu")]
        flow = None
        for i, layer in enumerate(layers):
            W = np.asarray(weights[f"{layer}.weight"], dtype=np.float64).T
            b = np.asarray(weights[f"{layer}.bias"], dtype=np.float64)
            flow = self._dense_input(model, branch, X, W, b) if flow is None else flow.linear(W, b)
            if i < len(layers) - 1:
                flow = flow.elementwise(act)
        if self.schema.task == REGRESSION:
            return flow.linear(np.array([[model.y_scale_]]), model.y_mean_)
        return flow.softmax()  # the network's outputs are every class's logits

    def _tabm(self, model, branch: str, X: np.ndarray) -> Flow:
        """TabM: the mean of its k members' outputs, each member an MLP of its own
        (`member_layers`), explained as the `mlp` family's network is."""
        from automl.models.tabm_family import member_layers

        flows = []
        for layers in member_layers(model):
            flow = self._dense_input(model, branch, X, *layers[0])
            for W, b in layers[1:]:
                flow = flow.elementwise(ACTIVATIONS["relu"]).linear(W, b)
            flows.append(flow.linear(np.array([[model.y_scale_]]), model.y_mean_)
                         if self.schema.task == REGRESSION else flow.softmax())
        return weighted(flows, np.full(len(flows), 1.0 / len(flows)))


def _threads(X: np.ndarray, every: int) -> int:
    """One thread for a few rows; else `every` (the library's word for all cores)."""
    return 1 if len(X) <= SMALL_BATCH else every
