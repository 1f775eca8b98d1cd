"""Explanations: how much each of the table's columns moved the run's model's output for
one row, away from a base value: base + sum(contributions) = the model's output.

The output explained is what `Predictor.predict_raw` gives: for regression the value; for
classification one class's probability (the positive class of a binary task; for
multiclass the predicted class, or the class asked for). Contributions are per raw column
as the user knows it: a date's parts (`when__year`, ...) are summed into `when`, and the
pieces an encoding made of a column (a one-hot's levels, a missing-value flag) into that
column.

Each member of the ensemble is explained by an exactly additive method in its own
output space (its margin, where it has one):

- lightgbm, xgboost, catboost: TreeSHAP, through the libraries' own APIs
  (`Booster.predict(pred_contrib=True)`, `Booster.predict(pred_contribs=True)`,
  `get_feature_importance(type="ShapValues")`), in margin space (log-odds, softmax logits
  or the value); the base is the model's expected margin over its training rows.
- random_forest, extra_trees: Saabas path attribution. Each split on a row's path moves
  the tree's output from the node's value to the child's; that move is credited to the
  split's column. Summed over the path it is leaf value - root value, so over the forest
  it adds up exactly to predict_proba (or the value) minus the mean root value (the
  path is the one `decision_path` gives; every tree is walked at once, in numpy).
- linear: coef x (x - reference), in margin space (log-odds, logits, or the standardised
  value), on the dense encoding's columns: exact for a linear model.
- mlp: DeepLIFT's rescale rule (Shrikumar et al., 2017) from the reference row to the row:
  through each linear layer contributions map linearly, through each activation every
  unit's contributions are scaled by (f(x) - f(x0)) / (x - x0), so they sum to the
  unit's change exactly; this gives the network's logits (or value) exactly additively.
  For linear and mlp the reference is the mean encoded row of background rows (the
  run's scored rows, where `load_explainer` finds them), else every number at its
  training mean with no missing flag and no category.
- a bagged member (k fold models): the mean of its fold models' contributions, as its
  output is the mean of theirs.

From margins to probabilities, and through the combination: each step is a map of the
outputs alone, and contributions go through it so that they still sum to the step's
change in output (the model's output for the row minus its output at the base):

- an elementwise map (the sigmoid of a binary margin, a log, an activation) scales each
  output's contributions by (f(x1) - f(x0)) / (x1 - x0): proportional, exact;
- a linear map (the ensemble's weighted mean, a stacker's linear layer, 1/T) maps them
  linearly: exact;
- a softmax (multiclass margins, temperature scaling, a stacker's logistic regression)
  gets the Jacobian integrated along the straight line from the base's logits to the
  row's (composite Gauss-Legendre): by the fundamental theorem of calculus it adds up to
  the change in probabilities, and the quadrature's small remainder is shared out in
  proportion to the contributions' sizes (its largest is `Explanation.remainder`).

For a binary margin the result is exactly the proportional rescale of the margin
contributions to (p_member - p_member_base). The ensemble's probability contributions
are the members' ones averaged by the ensemble's weights, then taken through the
temperature or the stacker the same way. This is an approximation of SHAP values in
probability space (SHAP of the probability itself is not the rescaled SHAP of the
margin), but it is exactly additive, it agrees with each member's native TreeSHAP up to
a per-row positive scale for a binary task, and it costs one pass over each member.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import erf, expit, softmax

from automl.data.schema import DATETIME_PARTS, Schema, prepare_features, unused_columns
from automl.errors import ConfigError, PredictError, RunError, did_you_mean
from automl.metrics import LOG_LOSS_FLOOR, REGRESSION
from automl.models.bagging import BaggedModel
from automl.serving.answers import check_table, warn_unused
from automl.serving.ensemble import Predictor

BACKGROUND_ROWS = 500  # background rows read for the linear and MLP members' reference
_TINY = 1e-6  # below this change an elementwise map's slope is taken at the midpoint
# composite Gauss-Legendre on [0, 1]: the softmax path's integral
_PANELS, _ORDER = 8, 6
_LEGENDRE_X, _LEGENDRE_W = np.polynomial.legendre.leggauss(_ORDER)
_NODES = np.concatenate([(p + (_LEGENDRE_X + 1) / 2) / _PANELS for p in range(_PANELS)])
_WEIGHTS = np.tile(_LEGENDRE_W / 2 / _PANELS, _PANELS)
_ACTIVATIONS = {"relu": lambda x: np.maximum(x, 0.0),
                "gelu": lambda x: 0.5 * x * (1.0 + erf(x / np.sqrt(2.0))),
                "silu": lambda x: x * expit(x),
                "tanh": np.tanh}
# rows at a time: the dense members' contributions hold rows x columns x layer width
_CELLS_AT_ONCE = 2_000_000
# Up to this many rows the tree libraries explain on one thread: starting a pool of
# threads cost 8-16 ms a call on a busy 2-core machine, against 0.1-0.4 ms for the work.
SMALL_BATCH = 256


# ---- contributions through maps of the outputs ------------------------------------------


@dataclass
class _Flow:
    """Contributions `c` (n, f, p) of f columns to p outputs that move from `x0` (n, p)
    (the base) to `x1` (n, p) (the row's): c.sum(axis=1) == x1 - x0."""

    c: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    remainder: float = 0.0  # the largest share of a change a quadrature left, shared out

    def linear(self, W: np.ndarray, b=0.0) -> "_Flow":
        """Outputs x @ W + b."""
        return _Flow(self.c @ W, self.x0 @ W + b, self.x1 @ W + b, self.remainder)

    def elementwise(self, f) -> "_Flow":
        """Outputs f(x), output by output: the rescale rule."""
        y0, y1 = f(self.x0), f(self.x1)
        dx = self.x1 - self.x0
        small = np.abs(dx) < _TINY
        middle = (self.x0 + self.x1) / 2
        step = 1e-5 * np.maximum(1.0, np.abs(middle))
        slope = (f(middle + step) - f(middle - step)) / (2 * step)
        ratio = np.where(small, slope, (y1 - y0) / np.where(small, 1.0, dx))
        return _Flow(self.c * ratio[:, None, :], y0, y1, self.remainder)

    def softmax(self) -> "_Flow":
        """Outputs softmax(x): the Jacobian integrated along the line from x0 to x1."""
        s = softmax(self.x0[:, None, :] + _NODES[None, :, None] * (self.x1 - self.x0)[:, None, :],
                    axis=2)  # (n, q, p)
        weighted = s * _WEIGHTS[None, :, None]
        jacobian = (np.einsum("nqk,kl->nkl", weighted, np.eye(s.shape[2]))
                    - np.einsum("nqk,nql->nkl", weighted, s))
        return _Flow(np.einsum("nkl,nfl->nfk", jacobian, self.c), softmax(self.x0, axis=1),
                     softmax(self.x1, axis=1), self.remainder).closed()

    def closed(self) -> "_Flow":
        """The contributions made to add up to x1 - x0 exactly, the remainder shared out in
        proportion to their sizes (evenly where all are 0); `remainder` keeps its largest."""
        remainder = (self.x1 - self.x0) - self.c.sum(axis=1)
        size = np.abs(self.c)
        total = size.sum(axis=1, keepdims=True)
        share = np.where(total > 0, size / np.where(total > 0, total, 1.0), 1.0 / max(self.c.shape[1], 1))
        return _Flow(self.c + share * remainder[:, None, :], self.x0, self.x1,
                     max(self.remainder, float(np.abs(remainder).max(initial=0.0))))

    def to_classes(self, seen, n_classes: int) -> "_Flow":
        """Outputs over the classes a model saw, placed among all `n_classes` (0 elsewhere)."""
        seen = np.asarray(seen, dtype=np.int64)
        if len(seen) == n_classes and (seen == np.arange(n_classes)).all():
            return self
        place = np.zeros((len(seen), n_classes))
        place[np.arange(len(seen)), seen] = 1.0
        return self.linear(place)


def _from_margins(contributions: np.ndarray, bias: np.ndarray) -> _Flow:
    """A flow from per-column margins (n, f, p) and the bias (n, p) they start from."""
    return _Flow(contributions, bias, bias + contributions.sum(axis=1))


def _weighted(flows: list[_Flow], weights) -> _Flow:
    weights = np.asarray(weights, dtype=np.float64)
    return _Flow(sum(w * f.c for w, f in zip(weights, flows)),
                 sum(w * f.x0 for w, f in zip(weights, flows)),
                 sum(w * f.x1 for w, f in zip(weights, flows)),
                 max(f.remainder for f in flows))


def _stacked(flows: list[_Flow]) -> _Flow:
    """The members' outputs side by side, as a stacker reads them."""
    return _Flow(np.concatenate([f.c for f in flows], axis=2),
                 np.concatenate([f.x0 for f in flows], axis=1),
                 np.concatenate([f.x1 for f in flows], axis=1),
                 max(f.remainder for f in flows))


def _binary(margin: _Flow) -> _Flow:
    """A binary model's log-odds (n, 1) as its two probabilities (1 - p, p)."""
    return margin.elementwise(expit).linear(np.array([[-1.0, 1.0]]), np.array([1.0, 0.0]))


def _probabilities(margin: _Flow) -> _Flow:
    """Margins as probabilities: one column of log-odds, or logits of a softmax."""
    return _binary(margin) if margin.c.shape[2] == 1 else margin.softmax()


def _log_clipped(floor: float):
    return lambda p: np.log(np.clip(p, floor, 1.0))


# ---- the explanation --------------------------------------------------------------------


@dataclass
class Explanation:
    """Contributions of the model-ready columns (`features`) to each output: the value
    (regression, one output) or every class's probability. base[k] + contributions[i, :,
    k].sum() == output[i, k]."""

    schema: Schema
    features: list[str]
    base: np.ndarray  # (k,)
    contributions: np.ndarray  # (n, features, k)
    output: np.ndarray  # (n, k)
    index: pd.Index
    # the largest part of a row's change the quadrature of a softmax left over, shared out
    remainder: float = 0.0
    columns: list[str] = field(init=False)  # the raw columns, in the schema's order

    def __post_init__(self):
        self.columns = [c.name for c in self.schema.columns]

    def by_column(self) -> np.ndarray:
        """Contributions summed per raw column (n, columns, k)."""
        owner = _raw_owners(self.schema)
        position = {name: i for i, name in enumerate(self.columns)}
        summed = np.zeros((self.contributions.shape[0], len(self.columns), self.contributions.shape[2]))
        for j, feature in enumerate(self.features):
            summed[:, position[owner[feature]], :] += self.contributions[:, j, :]
        return summed

    def explained_codes(self, target_class=None) -> np.ndarray:
        """Per row, the output explained: 0 for regression; the class asked for; else the
        positive class (binary) or the predicted class (multiclass)."""
        n = len(self.output)
        if self.schema.task == REGRESSION:
            if target_class is not None:
                raise PredictError(f"target_class is for classification; this model does "
                                   f"regression (target {self.schema.target!r})")
            return np.zeros(n, dtype=np.int64)
        if target_class is not None:
            return np.full(n, class_code(self.schema, target_class), dtype=np.int64)
        if len(self.schema.classes) == 2:
            return np.ones(n, dtype=np.int64)
        return self.schema.label_codes(self.output) if n else np.zeros(0, dtype=np.int64)

    def explained(self, target_class=None, by_column: bool = True) -> np.ndarray:
        """(n, columns) contributions to each row's explained output."""
        codes = self.explained_codes(target_class)
        values = self.by_column() if by_column else self.contributions
        return np.take_along_axis(values, codes[:, None, None], axis=2)[:, :, 0]

    def frame(self, target_class=None) -> pd.DataFrame:
        """One row per input row: `explained_class` (classification: whose probability is
        explained), `base`, then one column per raw column; base + the columns' sum is the
        model's output (a value, or that class's probability). Where a raw column is named
        `base` or `explained_class`, that name gets a leading underscore."""
        codes = self.explained_codes(target_class)
        names = _meta_names(self.columns)
        parts = {}
        if self.schema.task != REGRESSION:
            parts[names["explained_class"]] = self.schema.class_array()[codes]
        parts[names["base"]] = self.base[codes]
        contributions = self.explained(target_class)
        parts.update({name: contributions[:, i] for i, name in enumerate(self.columns)})
        return pd.DataFrame(parts, index=self.index)

    def explained_output(self, target_class=None) -> np.ndarray:
        """The model's output each row's explanation adds up to."""
        codes = self.explained_codes(target_class)
        return np.take_along_axis(self.output, codes[:, None], axis=1)[:, 0]


def class_code(schema: Schema, target_class) -> int:
    """The index of `target_class` among the schema's classes; a label given as text
    (from the command line) matches a class written the same way."""
    classes = list(schema.classes)
    for i, label in enumerate(classes):
        if label == target_class or str(label) == str(target_class):
            return i
    names = [str(c) for c in classes]
    raise PredictError(f"{target_class!r} is not a class of this model"
                       f"{did_you_mean(str(target_class), names)}; its classes are: {', '.join(names)}")


def _meta_names(columns: list[str]) -> dict[str, str]:
    taken = set(columns)
    names = {}
    for name in ("explained_class", "base"):
        chosen = name
        while chosen in taken:
            chosen = "_" + chosen
        names[name] = chosen
    return names


def _raw_owners(schema: Schema) -> dict[str, str]:
    """Each model-ready column's raw column: a date's parts belong to the date."""
    owners = {}
    for column in schema.columns:
        if column.kind == "datetime":
            owners.update({f"{column.name}__{part}": column.name for part in DATETIME_PARTS})
        else:
            owners[column.name] = column.name
    return owners


# ---- the explainer ----------------------------------------------------------------------


class Explainer:
    """Explains a Python `Predictor` (model/predictor.joblib): `explain(frame)` for raw
    rows, `explain_features(features)` for model-ready ones (`prepare_features`' output).

    `background`: model-ready rows whose mean encoded row is the linear and MLP members'
    reference (None: every number at its training mean, no flag, no category). What each
    member needs (a forest's trees as arrays, a reference row, the branch's codes) is
    built once, on first use.
    """

    def __init__(self, predictor: Predictor, background: pd.DataFrame | None = None):
        if not isinstance(predictor, Predictor):
            raise ConfigError(f"explanations need the run's Python predictor "
                              f"(model/predictor.joblib), got {type(predictor).__name__}")
        self.predictor = predictor
        self.schema = predictor.schema
        self.features = self.schema.feature_names
        # the model-ready columns of the background rows (a run's scored rows hold the target too)
        usable = background is not None and set(self.features) <= set(background.columns)
        self.background = background[self.features] if usable else None
        self._cache: dict[tuple, object] = {}  # (what, id(model)) -> what a member needs
        self._positions: dict[str, np.ndarray] = {}
        self._encoded_background: dict[str, np.ndarray] = {}
        self._plans: dict[str, list | None] = {}
        self._column_names = {c.name for c in self.schema.columns}

    @property
    def n_outputs(self) -> int:
        return 1 if self.schema.task == REGRESSION else len(self.schema.classes)

    def explain(self, frame: pd.DataFrame | Mapping) -> Explanation:
        """Contributions for raw rows: a DataFrame of the table's columns, or one row as a
        dict (column -> value). Input is checked as `predict` checks it. One row (a dict, or
        a one-row frame) is read value by value, as model/ensemble.onnx's fast path reads
        it, with no pandas on the way: `prepare_features` alone takes 5-10 ms a call."""
        check_table(frame)
        if self._reads_rows():
            if isinstance(frame, Mapping):
                return self._explain_row(frame, pd.RangeIndex(1))
            if len(frame) == 1 and frame.columns.is_unique:
                return self._explain_row({name: frame.iat[0, i] for i, name in enumerate(frame.columns)},
                                         frame.index)
        frame = pd.DataFrame([frame]) if isinstance(frame, Mapping) else frame
        warn_unused(unused_columns(frame, self.schema))
        return self.explain_features(prepare_features(frame, self.schema))

    def _reads_rows(self) -> bool:
        """Whether every branch the members read is one `_transform` does without pandas."""
        return all(self._plan(m.branch) is not None for m in self.predictor.members)

    def _explain_row(self, row: Mapping, index: pd.Index) -> Explanation:
        names = self._column_names
        if len(row) > len(names) or any(name not in names for name in row):
            warn_unused([name for name in row if name not in names], stacklevel=3)
        flow = self._explain_rows(_row_features(row, self.schema), 1)
        return Explanation(self.schema, self.features, flow.x0[0].copy(), flow.c, flow.x1, index,
                           remainder=flow.remainder)

    def explain_features(self, features: pd.DataFrame) -> Explanation:
        """Contributions for model-ready rows, such as a run's scored rows."""
        n, k = len(features), self.n_outputs
        if n == 0:
            return Explanation(self.schema, self.features, np.zeros(k), np.zeros((0, len(self.features), k)),
                               np.zeros((0, k)), features.index)
        step = max(1, _CELLS_AT_ONCE // max(1, len(self.features) * self._widest()))
        flows = [self._explain_rows(features.iloc[start:start + step], min(step, n - start))
                 for start in range(0, n, step)]
        return Explanation(self.schema, self.features, flows[0].x0[0].copy(),
                           np.concatenate([f.c for f in flows]), np.concatenate([f.x1 for f in flows]),
                           features.index, remainder=max(f.remainder for f in flows))

    def _explain_rows(self, features, n: int) -> _Flow:
        """The flow of `n` model-ready rows: a DataFrame, or column -> values."""
        predictor = self.predictor
        encoded = {name: self._transform(name, features, n) for name in predictor.branches
                   if any(m.branch == name for m in predictor.members)}
        flows = [self._member(m.model, m.branch, encoded[m.branch]) for m in predictor.members]
        if predictor.stacker is not None:
            flow = self._stacker(predictor.stacker, flows)
        else:
            total = sum(m.weight for m in predictor.members)
            flow = _weighted(flows, [m.weight / total for m in predictor.members])
        if self.schema.task != REGRESSION and predictor.temperature != 1.0:
            flow = (flow.elementwise(_log_clipped(LOG_LOSS_FLOOR))
                    .linear(np.eye(flow.c.shape[2]) / predictor.temperature).softmax())
        return flow.closed()

    # ---- members --------------------------------------------------------------------

    def _member(self, model, branch: str, X: np.ndarray) -> _Flow:
        """The member's contributions to its output (probabilities over every class, or the
        value), per model-ready column."""
        if isinstance(model, BaggedModel):
            return _weighted([self._member(m, branch, X) for m in model.models_],
                             np.full(len(model.models_), 1.0 / len(model.models_)))
        key = getattr(model, "key", None)
        explain = {"lightgbm": self._lightgbm, "xgboost": self._xgboost, "catboost": self._catboost,
                   "random_forest": self._forest, "extra_trees": self._forest,
                   "linear": self._linear, "mlp": self._mlp}.get(key)
        if explain is None:
            raise ConfigError(f"no explanation method for a member of family "
                              f"{key or type(model).__name__!r}; explanations cover lightgbm, "
                              "xgboost, catboost, random_forest, extra_trees, linear and mlp")
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

    def _classes_out(self, model, flow: _Flow) -> _Flow:
        """A model's output over the classes it saw as its output over every class."""
        if self.schema.task == REGRESSION:
            return flow
        return flow.to_classes(model.classes_seen_, self.n_outputs)

    def _trees_out(self, model, branch: str, contributions: np.ndarray, bias: np.ndarray) -> _Flow:
        """TreeSHAP's margins (n, d, p) and bias (n, p) as the member's output."""
        margin = _from_margins(self._on_features(branch, contributions), bias)
        if self.schema.task == REGRESSION:
            return margin
        return self._classes_out(model, _probabilities(margin))

    def _transform(self, name: str, features, n: int) -> np.ndarray:
        """`Branch.transform` of `n` model-ready rows, for the trees branch without the
        ColumnTransformer's per-call checks (6 ms a row): its ordinal codes looked up, its
        numbers as they are. Codes equal the encoder's: unseen and missing values are NaN
        alike. `features`: a DataFrame, or column -> values."""
        plan = self._plan(name)
        if plan is None:
            return self.predictor.branches[name].transform(pd.DataFrame(features))
        out = np.empty((n, len(plan)), dtype=np.float32)
        for j, (column, codes) in enumerate(plan):
            values = np.asarray(features[column])
            out[:, j] = values if codes is None else [codes.get(v, np.nan) for v in values]
        return out

    def _plan(self, name: str) -> list | None:
        if name not in self._plans:
            self._plans[name] = _trees_plan(self.predictor.branches[name])
        return self._plans[name]

    def _lightgbm(self, model, branch: str, X: np.ndarray) -> _Flow:
        raw = model.booster_.predict(X, pred_contrib=True, num_iteration=model.n_rounds_,
                                     num_threads=_threads(X, 0))
        raw = np.asarray(raw, dtype=np.float64).reshape(len(X), -1, X.shape[1] + 1)  # (n, p, d + 1)
        return self._trees_out(model, branch, raw[:, :, :-1].transpose(0, 2, 1), raw[:, :, -1])

    def _xgboost(self, model, branch: str, X: np.ndarray) -> _Flow:
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

    def _catboost(self, model, branch: str, X: np.ndarray) -> _Flow:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = model.model_.get_feature_importance(model._pool(X), type="ShapValues",
                                                      thread_count=_threads(X, -1))
        raw = np.asarray(raw, dtype=np.float64).reshape(len(X), -1, X.shape[1] + 1)
        return self._trees_out(model, branch, raw[:, :, :-1].transpose(0, 2, 1), raw[:, :, -1])

    def _forest(self, model, branch: str, X: np.ndarray) -> _Flow:
        """Saabas: every tree walked at once, level by level (numpy, no per-tree call: 100
        trees' `decision_path` cost 15 ms a row), each step's change of value credited to
        the column split on."""
        trees = self._forest_arrays(model)
        n, d = X.shape
        p = trees.values.shape[1]
        node = np.tile(trees.roots, (n, 1))  # (n, trees)
        row = np.repeat(np.arange(n), len(trees.roots)).reshape(n, -1)
        X = np.asarray(X, dtype=np.float32).astype(np.float64)  # as sklearn compares: float32
        c = np.zeros((n * d, p))
        inner = trees.left[node] >= 0
        while inner.any():
            at, rows = node[inner], row[inner]
            feature = trees.feature[at]
            value = X[rows, feature]
            left = np.where(np.isnan(value), trees.nan_left[at], value <= trees.threshold[at])
            child = np.where(left, trees.left[at], trees.right[at])
            step = trees.values[child] - trees.values[at]
            cell = rows * d + feature
            for k in range(p):
                c[:, k] += np.bincount(cell, weights=step[:, k], minlength=n * d)
            node[inner] = child
            inner = trees.left[node] >= 0
        c = c.reshape(n, d, p) / len(trees.roots)
        flow = _from_margins(self._on_features(branch, c), np.tile(trees.root_value, (n, 1)))
        return self._classes_out(model, flow)

    def _forest_arrays(self, model) -> "_Forest":
        cached = self._cache.get(("forest", id(model)))
        if cached is None:
            cached = self._cache[("forest", id(model))] = _Forest.of(model.model_)
        return cached

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

    def _dense_input(self, model, branch: str, X: np.ndarray, W: np.ndarray, b: np.ndarray) -> _Flow:
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
        return _Flow(c, x0, x0 + c.sum(axis=1))

    def _linear(self, model, branch: str, X: np.ndarray) -> _Flow:
        if not hasattr(model, "code_"):
            raise RunError("this linear member was fitted by an automl that did not encode its "
                           "input itself; refit the run to explain it")
        estimator = model.model_
        coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
        margin = self._dense_input(model, branch, X, coef.T, np.atleast_1d(estimator.intercept_))
        if self.schema.task == REGRESSION:
            return margin.linear(np.array([[model.y_scale_]]), model.y_mean_)
        return self._classes_out(model, _probabilities(margin))

    def _mlp(self, model, branch: str, X: np.ndarray) -> _Flow:
        weights = model.weights_
        layers = sorted({int(name.split(".")[0]) for name in weights})
        act = _ACTIVATIONS[model.arch_.get("activation", "relu")]
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

    def _widest(self) -> int:
        """The most outputs of any layer of a dense member (1 where there is none)."""
        widest = 1
        for member in self.predictor.members:
            models = member.model.models_ if isinstance(member.model, BaggedModel) else [member.model]
            for model in models:
                if getattr(model, "key", None) == "mlp":
                    widest = max([widest, *model.arch_["hidden"]])
                elif getattr(model, "key", None) == "linear":
                    widest = max(widest, self.n_outputs)
        return widest

    # ---- a stacker --------------------------------------------------------------------

    def _stacker(self, stacker, flows: list[_Flow]) -> _Flow:
        """The members' contributions through a `LinearStacker`: least squares on their
        values, or logistic regression on their log probabilities."""
        estimator = stacker.model_
        coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
        flow = _stacked(flows)
        if self.schema.task == REGRESSION:
            return flow.linear(coef.T, np.asarray(estimator.intercept_, dtype=np.float64))
        logits = flow.elementwise(_log_clipped(stacker.min_proba)).linear(coef.T, estimator.intercept_)
        return _probabilities(logits).to_classes(estimator.classes_, self.n_outputs)


@dataclass
class _Forest:
    """Every tree of a fitted sklearn forest in one set of arrays, nodes numbered across
    trees (a leaf's children are -1)."""

    roots: np.ndarray
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    nan_left: np.ndarray  # where a missing value goes, as the tree learned
    values: np.ndarray  # (nodes, p): class fractions, or the value
    root_value: np.ndarray  # (p,): the mean over trees of the root's value

    @classmethod
    def of(cls, forest) -> "_Forest":
        parts, offset = [], 0
        for estimator in forest.estimators_:
            tree = estimator.tree_
            missing = getattr(tree, "missing_go_to_left", np.zeros(tree.node_count, dtype=np.uint8))
            parts.append((offset, _shifted(tree.children_left, offset),
                          _shifted(tree.children_right, offset),
                          tree.feature.astype(np.int64), tree.threshold.astype(np.float64),
                          np.asarray(missing).astype(bool), tree.value[:, 0, :].astype(np.float64)))
            offset += tree.node_count
        columns = list(zip(*parts))
        values = np.concatenate(columns[6])
        roots = np.asarray(columns[0], dtype=np.int64)
        return cls(roots, *(np.concatenate(column) for column in columns[1:6]), values,
                   values[roots].mean(axis=0))


def _shifted(children: np.ndarray, offset: int) -> np.ndarray:
    return np.where(children >= 0, children + offset, -1).astype(np.int64)


def _row_features(row: Mapping, schema: Schema) -> dict[str, np.ndarray]:
    """One raw row's model-ready columns (column -> a 1-element array), value by value as
    `prepare_features` makes them from a frame: numbers as float64 (numeric text read,
    missing-value text and inf as NaN), categories as text (NaN where missing), a date as
    its parts. The values are read by the ONNX fast path's own readers (`inputs`)."""
    import datetime as dt

    from automl.serving.inputs import EPOCH, _category, _date_seconds, _is_missing, _number

    missing = [c.name for c in schema.columns if c.name not in row]
    if missing:
        raise PredictError(f"input lacks {len(missing)} column(s) the model was fitted on: "
                           + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else ""))
    features = {}
    for column in schema.columns:
        value = row[column.name]
        if column.kind == "numeric":
            features[column.name] = np.array([_number(value, column.name)], dtype=np.float64)
        elif column.kind == "categorical":
            text = np.nan if _is_missing(value) else _category(value)
            features[column.name] = np.array([text], dtype=object)
        else:
            seconds = _date_seconds(value, column.name, column.date_format)
            stamp = None if np.isnan(seconds) else EPOCH + dt.timedelta(seconds=seconds)
            for part in DATETIME_PARTS:  # the weekday as pandas counts it: Monday 0
                number = (np.nan if stamp is None else
                          stamp.weekday() if part == "weekday" else getattr(stamp, part))
                features[f"{column.name}__{part}"] = np.array([number], dtype=np.float64)
    return features


def _threads(X: np.ndarray, every: int) -> int:
    """One thread for a few rows; else `every` (the library's word for all cores)."""
    return 1 if len(X) <= SMALL_BATCH else every


def _trees_plan(branch) -> list | None:
    """The trees branch's output columns in order, each (model-ready column, its codes
    {category: code}, or None for a number), when the branch is the one
    `automl.preprocess.branches` builds (ordinal codes, then numbers passed through);
    else None, and the branch's own transform is used."""
    from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

    plan = []
    for name, step, columns in branch.transformer.transformers_:
        if name == "remainder" and step == "drop":
            continue
        if isinstance(step, OrdinalEncoder) and step.handle_unknown == "use_encoded_value" \
                and np.isnan(step.unknown_value) and np.isnan(step.encoded_missing_value) \
                and not getattr(step, "_infrequent_enabled", False):
            plan += [(column, {value: float(code) for code, value in enumerate(categories)
                               if not pd.isna(value)})
                     for column, categories in zip(columns, step.categories_)]
        elif isinstance(step, str) and step == "passthrough" or (
                isinstance(step, FunctionTransformer) and step.func is None):  # as fitted
            plan += [(column, None) for column in columns]
        else:
            return None
    return plan


# ---- from a run folder ------------------------------------------------------------------


def load_explainer(run_dir: str | Path, model: str = "ensemble") -> Explainer:
    """The explainer of a run folder's final model, unpickled from model/predictor.joblib
    (the Python form of model/ensemble.onnx: load only run folders you trust), with the
    run's scored rows as background. `model`: "ensemble" or "python" (the same model);
    "compact" is refused: compact.onnx has no contributions to read."""
    from automl.bundle import load_bundle
    from automl.serving.load import MODELS

    if model not in MODELS:
        raise ConfigError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    if model == "compact":
        raise ConfigError("explanations are of the run's final model (the ensemble): the "
                          "compact model is an ONNX graph with no Python form to explain; "
                          "use --model ensemble")
    run_dir = Path(run_dir)
    return Explainer(load_bundle(run_dir), background_rows(run_dir))


def explainer_for(predictor, run_dir: str | Path | None) -> Explainer:
    """The explainer of a served model: a Python `Predictor` as it is; model/ensemble.onnx
    through its run folder's predictor.joblib; the compact model is refused."""
    from automl.serving.compact import CompactPredictor

    if isinstance(predictor, CompactPredictor):
        raise ConfigError("explain covers the run's final model (the ensemble), not the compact "
                          "model; load it with AutoML.load(run) or AutoML.load(run, "
                          "model='python')")
    background = None if run_dir is None else background_rows(Path(run_dir))
    if isinstance(predictor, Predictor):
        return Explainer(predictor, background)
    if run_dir is None:
        raise ConfigError("this model has no run folder to read its Python predictor from")
    return load_explainer(run_dir)


def background_rows(run_dir: Path, rows: int = BACKGROUND_ROWS) -> pd.DataFrame | None:
    """Up to `rows` of the run's scored rows (model-ready, the ingest node's
    scored.parquet), or None where the folder has none (a bare model/ folder)."""
    from automl.runfolder import SCORED_FILE

    found = sorted(Path(run_dir).glob(f"nodes/*/*/{SCORED_FILE}"), key=lambda p: p.stat().st_mtime)
    if not found:
        return None
    scored = pd.read_parquet(found[-1])
    if len(scored) > rows:
        scored = scored.sample(rows, random_state=0)
    return scored
