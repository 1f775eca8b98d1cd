"""The explainer of a Python `Predictor` (`Explainer`): rows in, each member explained
(`members`), the members' contributions carried through the ensemble's weights or its
stacker and its temperature into the model's output (`flow`), an `Explanation` out."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from automl.data.schema import prepare_features, unused_columns
from automl.errors import ConfigError
from automl.metrics import LOG_LOSS_FLOOR, REGRESSION
from automl.models.bagging import BaggedModel
from automl.serving.answers import check_table, warn_unused
from automl.serving.ensemble import Predictor
from automl.serving.explain.explanation import Explanation
from automl.serving.explain.flow import Flow, log_clipped, probabilities, stacked, weighted
from automl.serving.explain.members import Members
from automl.serving.explain.rows import row_features, trees_plan

# rows at a time: the dense members' contributions hold rows x columns x layer width
CELLS_AT_ONCE = 2_000_000


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
        self._members = Members(predictor, self.background)
        self._plans: dict[str, list | None] = {}
        self._column_names = {c.name for c in self.schema.columns}

    @property
    def n_outputs(self) -> int:
        return self._members.n_outputs

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
        flow = self._explain_rows(row_features(row, self.schema), 1)
        return Explanation(self.schema, self.features, flow.x0[0].copy(), flow.c, flow.x1, index,
                           remainder=flow.remainder)

    def explain_features(self, features: pd.DataFrame) -> Explanation:
        """Contributions for model-ready rows, such as a run's scored rows."""
        n, k = len(features), self.n_outputs
        if n == 0:
            return Explanation(self.schema, self.features, np.zeros(k), np.zeros((0, len(self.features), k)),
                               np.zeros((0, k)), features.index)
        step = max(1, CELLS_AT_ONCE // max(1, len(self.features) * self._widest()))
        flows = [self._explain_rows(features.iloc[start:start + step], min(step, n - start))
                 for start in range(0, n, step)]
        return Explanation(self.schema, self.features, flows[0].x0[0].copy(),
                           np.concatenate([f.c for f in flows]), np.concatenate([f.x1 for f in flows]),
                           features.index, remainder=max(f.remainder for f in flows))

    def _explain_rows(self, features, n: int) -> Flow:
        """The flow of `n` model-ready rows: a DataFrame, or column -> values."""
        predictor = self.predictor
        encoded = {name: self._transform(name, features, n) for name in predictor.branches
                   if any(m.branch == name for m in predictor.members)}
        flows = [self._members.flow(m.model, m.branch, encoded[m.branch]) for m in predictor.members]
        if predictor.stacker is not None:
            flow = self._stacker(predictor.stacker, flows)
        else:
            total = sum(m.weight for m in predictor.members)
            flow = weighted(flows, [m.weight / total for m in predictor.members])
        if self.schema.task != REGRESSION and predictor.temperature != 1.0:
            flow = (flow.elementwise(log_clipped(LOG_LOSS_FLOOR))
                    .linear(np.eye(flow.c.shape[2]) / predictor.temperature).softmax())
        return flow.closed()

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
            self._plans[name] = trees_plan(self.predictor.branches[name])
        return self._plans[name]

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

    def _stacker(self, stacker, flows: list[Flow]) -> Flow:
        """The members' contributions through a `LinearStacker`: least squares on their
        values, or logistic regression on their log probabilities."""
        estimator = stacker.model_
        coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
        flow = stacked(flows)
        if self.schema.task == REGRESSION:
            return flow.linear(coef.T, np.asarray(estimator.intercept_, dtype=np.float64))
        logits = flow.elementwise(log_clipped(stacker.min_proba)).linear(coef.T, estimator.intercept_)
        return probabilities(logits).to_classes(estimator.classes_, self.n_outputs)
