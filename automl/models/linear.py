"""Linear models: logistic regression (classification), ridge or elastic net (regression).

One strength parameter, `C`, for every task: the inverse weight of the penalty against the
summed loss, as in sklearn's LogisticRegression. Ridge and elastic net are given the alpha
that puts the same weight on the penalty, and a regression target is standardised first,
so one search range fits every table.

`penalty`: "l2", "l1" (sparse: many weights exactly zero) or "elasticnet" (mixed by
`l1_ratio`). Iterative solvers run in chunks of iterations with a warm start, so the fit
stops on its time limit.

The input is the trees branch, through the one dense encoding (`DenseCode`) that the `mlp`
family and the distillation's linear and MLP students read too: gaps filled and flagged,
numbers clipped to their training range (a linear model extrapolates without bound) and
standardised, categories one-hot.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, LogisticRegression, Ridge

from automl.errors import ConfigError
from automl.budget import Budget
from automl.models.base import Family, ReportFn, as_budget, writable
from automl.models.dense_code import DenseCode
from automl.models import memory

PENALTIES = ("l2", "l1", "elasticnet")
ITERATIONS_PER_CHUNK = 20  # solver iterations between two looks at the budget


class LinearFamily(Family):
    key = "linear"
    fit_memory = memory.LINEAR
    branch = "trees"  # encoded for the model by DenseCode
    allowed_params = ("C", "penalty", "l1_ratio", "max_iter", "tol")

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report: ReportFn | None = None,
            sample_weight=None, valid_weight=None):
        params = self._params_with_defaults()
        C = float(params["C"])
        l1_ratio = self._l1_ratio(params["penalty"], params["l1_ratio"])
        max_iter, tol = int(params["max_iter"]), float(params["tol"])
        self.code_ = DenseCode.fit(writable(X, np.float32), tuple(self.categorical))
        X = self.code_.encode(X)
        y = np.asarray(y)
        if not self.is_classifier:
            self.y_mean_ = float(np.average(y, weights=sample_weight))
            spread = np.average((y - self.y_mean_) ** 2, weights=sample_weight)
            self.y_scale_ = float(np.sqrt(spread)) or 1.0
            y = (y - self.y_mean_) / self.y_scale_
        self.model_ = self._estimator(C, l1_ratio, tol, n_rows=len(y))
        if isinstance(self.model_, Ridge):  # a direct solve: no iterations to interrupt
            self.model_.fit(X, y, sample_weight=sample_weight)
        else:
            self._fit_in_chunks(X, y, max_iter, as_budget(budget), sample_weight)
        if self.is_classifier:
            self.classes_seen_ = self.model_.classes_
        return self

    def _l1_ratio(self, penalty: str, l1_ratio: float) -> float:
        if penalty not in PENALTIES:
            raise ConfigError(f"family 'linear': penalty must be one of {', '.join(PENALTIES)}, "
                              f"got {penalty!r}")
        # l1_ratio is a conditional parameter: it means something for elasticnet only, and
        # the search draws it for every trial, so the other penalties do not refuse it.
        return {"l2": 0.0, "l1": 1.0}.get(penalty, float(l1_ratio))

    def _estimator(self, C: float, l1_ratio: float, tol: float, n_rows: int):
        if self.is_classifier:  # lbfgs suits l2; of the multinomial solvers only saga takes l1
            return LogisticRegression(
                C=C, l1_ratio=l1_ratio, solver="lbfgs" if l1_ratio == 0 else "saga",
                tol=tol, warm_start=True, random_state=self.seed)
        if l1_ratio == 0:
            # Ridge: sum of squares + alpha |w|^2 weighs the penalty as 1 / (2C)
            return Ridge(alpha=1.0 / (2.0 * C))
        # ElasticNet averages the squared loss over rows (1 / 2n): scale alpha to match
        return ElasticNet(alpha=1.0 / (2.0 * n_rows * C), l1_ratio=l1_ratio, tol=tol,
                          warm_start=True, random_state=self.seed)

    def _fit_in_chunks(self, X, y, max_iter: int, budget: Budget, sample_weight=None) -> None:
        done = 0
        while done < max_iter:
            step = min(ITERATIONS_PER_CHUNK, max_iter - done)
            self.model_.set_params(max_iter=step)
            with warnings.catch_warnings():  # a chunk ends unconverged by design
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.model_.fit(X, y, sample_weight=sample_weight)
            done += step
            if int(np.max(self.model_.n_iter_)) < step or budget.expired():
                break
        self.model_.set_params(warm_start=False)
        self.n_iter_ = done

    def predict_raw(self, X) -> np.ndarray:
        # a model pickled before linear encoded its input reads the dense branch it was fitted on
        X = self.code_.encode(X) if hasattr(self, "code_") else X
        if self.is_classifier:
            return super().predict_raw(X)
        return self.model_.predict(X).astype(np.float64) * self.y_scale_ + self.y_mean_
