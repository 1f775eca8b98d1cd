"""The students as model families, so the search stage's Ray Tune machinery tunes them.

They follow the family contract (tests/conformance/) and add one thing: `y` may be the
teacher's output instead of labels, probabilities (n, k) for classes, values for
regression. Hard labels work too (as one-hot targets), which is how the conformance
suite and a plain search use them. Both read the `trees` branch, whose ONNX export they
extend (`onnx_bytes`).

- `student_gbdt`: a small xgboost classifier on the soft rows of `students.soft_rows`
  (or a regressor on the teacher's values);
- `student_lgbm`: the same with LightGBM's leaf-wise trees;
- `student_mlp`: a `DenseNet` (`dense_student`), 0 to 2 hidden layers: 0 is a linear
  model.
"""

from __future__ import annotations

import copy

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

from automl.budget import Budget
from automl.students.soft import soft_rows
from automl.metrics import REGRESSION
from automl.models import memory
from automl.models.base import Family, ReportFn, as_budget, writable
from automl.models.dense_code import DenseCode
from automl.models.registry import register
from automl.onnx.dense_graph import export_dense_model
from automl.onnx.member_trees import float32_thresholds
from automl.onnx.trees_graph import export_trees_model
from automl.preprocess.branches import Branch


def teacher_targets(y, task: str, n_classes: int) -> np.ndarray:
    """The teacher's output as given, or hard labels (codes 0..k-1) as one-hot rows."""
    y = np.asarray(y, dtype=np.float64)
    if task == REGRESSION or y.ndim == 2:
        return y
    return np.eye(n_classes)[y.astype(int)]


class _StopAt(xgb.callback.TrainingCallback):
    def __init__(self, budget: Budget):
        super().__init__()
        self.budget = budget

    def after_iteration(self, model, epoch, evals_log) -> bool:
        return self.budget.expired()


def default_xgboost_output(X, y, X_valid, task: str, budget: Budget, seed: int = 0,
                           n_jobs: int = 1) -> np.ndarray:
    """xgboost with its default params, fitted on the true labels `y`: the distillation's
    reference (a student keeps the teacher's gain over it), as the bench's xgb_default."""
    estimator = xgb.XGBRegressor if task == REGRESSION else xgb.XGBClassifier
    model = estimator(n_jobs=n_jobs, random_state=seed, callbacks=[_StopAt(budget)]).fit(X, y)
    return model.predict(X_valid) if task == REGRESSION else model.predict_proba(X_valid)


# ONNX bytes per tree node (`automl.onnx.tree_ensemble`), for sizing a student as it grows:
# a little above what was measured, so a student aimed at a size stays under it
# (docs/results/2026-11-30-student-ladder.md)
BYTES_PER_NODE = 14


def student_max_nodes(max_kb: float | None) -> int | None:
    """The tree nodes a gbdt student may hold to stay under `max_kb` in ONNX."""
    return None if max_kb is None else int(max_kb * 1024 // BYTES_PER_NODE)


class _NodeCap(xgb.callback.TrainingCallback):
    """Stops boosting before the next round would take the trees past `max_nodes`
    (guessing that round as large as the last): sparse trees (small tables, multiclass)
    get the rounds their real size allows, not what full trees of their depth would."""

    def __init__(self, max_nodes: int):
        super().__init__()
        self.max_nodes, self.nodes = max_nodes, 0

    def after_iteration(self, model, epoch, evals_log) -> bool:
        last_round = sum(tree.count("\n") for tree in model[epoch:epoch + 1].get_dump())
        self.nodes += last_round
        return self.nodes + last_round > self.max_nodes


class StudentGBDT(Family):
    """A small xgboost model fitted to the teacher's output. The learning rate defaults to
    xgboost's own 0.3: a student of a few dozen trees needs big steps (on adult, 60 trees
    of depth 4 reach ROC AUC 0.920 at 0.3 and 0.915 at 0.1).

    `max_nodes` (optional) caps the student's size: boosting stops before its trees
    (one per class and round for multiclass) would hold more nodes than that."""

    key = "student_gbdt"
    branch = "trees"
    fit_memory = memory.XGBOOST  # the closest measured family (automl/models/memory.py)
    shape_param = "max_depth"  # the ladder's rungs: (trees, this, learning rate)
    allowed_params = ("n_estimators", "max_depth", "learning_rate", "reg_lambda",
                      "min_child_weight", "subsample", "colsample_bytree", "max_nodes")

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report: ReportFn | None = None):
        params = {"n_estimators": 60, "max_depth": 4, "learning_rate": 0.3, **self._checked_params()}
        max_nodes = params.pop("max_nodes", None)
        callbacks = [_StopAt(as_budget(budget))]
        if max_nodes is not None:
            callbacks.append(_NodeCap(int(max_nodes)))
        target = teacher_targets(y, self.task, self.n_classes)
        estimator = xgb.XGBRegressor if self.task == REGRESSION else xgb.XGBClassifier
        self.model_ = estimator(**params, tree_method="hist", n_jobs=self.n_jobs,
                                random_state=self.seed, callbacks=callbacks)
        if self.task == REGRESSION:
            self.model_.fit(X, target)
        else:
            X_soft, labels, weights = soft_rows(np.asarray(X), target)
            self.model_.fit(X_soft, labels, sample_weight=weights)
        self.model_.set_params(callbacks=None)  # keep the stopwatch out of pickles
        return self

    def predict_raw(self, X) -> np.ndarray:
        if self.task == REGRESSION:
            return self.model_.predict(X)
        return self.model_.predict_proba(X)

    def onnx_bytes(self, branch: Branch, features: pd.DataFrame) -> bytes:
        return export_trees_model(branch, self.model_, features)

    def size_params(self) -> dict:
        booster = self.model_.get_booster()
        return {"n_estimators": booster.num_boosted_rounds(),
                "max_depth": int(self.model_.get_params()["max_depth"])}


class _StopAtLGBM:
    """A LightGBM callback: stops boosting when `budget` runs out, keeping every round."""

    def __init__(self, budget: Budget):
        self.budget = budget

    def __call__(self, env) -> None:
        if self.budget.expired():
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list or [])


def _as_float32(X) -> np.ndarray:
    """Rows as ONNX sees them: LightGBM compares in float64, the exported graph in float32."""
    return np.asarray(X, dtype=np.float32)


class StudentLGBM(Family):
    """A LightGBM student: leaf-wise trees, as the search's strongest members grow them.
    At 1 MB it came closer to the teacher than xgboost's 600×6 on two tables of three, and
    its default, 600 trees at 0.2, scored as 1,200 at 0.1 in half the time and size
    (docs/results/2026-11-30-student-ladder.md).

    Categoricals arrive as the branch's ordinal codes and are split as numbers, which keeps
    the ONNX graph to plain comparisons. `max_nodes` cuts the rounds so that full trees of
    `num_leaves` leaves (one per class and round for multiclass) hold at most that many."""

    key = "student_lgbm"
    branch = "trees"
    fit_memory = memory.LIGHTGBM
    shape_param = "num_leaves"
    allowed_params = ("n_estimators", "num_leaves", "learning_rate", "min_child_samples",
                      "reg_lambda", "subsample", "colsample_bytree", "max_nodes")

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report: ReportFn | None = None):
        params = {"n_estimators": 600, "num_leaves": 31, "learning_rate": 0.2,
                  **self._checked_params()}
        max_nodes = params.pop("max_nodes", None)
        if max_nodes is not None:
            nodes_per_round = (2 * int(params["num_leaves"]) - 1) * self._trees_per_round
            params["n_estimators"] = min(int(params["n_estimators"]),
                                         max(1, int(max_nodes) // nodes_per_round))
        if params.get("subsample", 1.0) < 1.0:
            params["subsample_freq"] = 1  # LightGBM bags rows only with a frequency
        target = teacher_targets(y, self.task, self.n_classes)
        estimator = lgb.LGBMRegressor if self.task == REGRESSION else lgb.LGBMClassifier
        self.model_ = estimator(**params, n_jobs=self.n_jobs, random_state=self.seed, verbose=-1)
        stop = [_StopAtLGBM(as_budget(budget))]
        X = _as_float32(X)
        if self.task == REGRESSION:
            self.model_.fit(X, target, callbacks=stop)
        else:
            X_soft, labels, weights = soft_rows(X, target)
            self.model_.fit(X_soft, labels, sample_weight=weights, callbacks=stop)
        return self

    @property
    def _trees_per_round(self) -> int:
        return self.n_classes if self.n_classes > 2 else 1  # one tree per class past two

    def predict_raw(self, X) -> np.ndarray:
        if self.task == REGRESSION:
            return self.model_.predict(_as_float32(X))
        return self.model_.predict_proba(_as_float32(X))

    def onnx_bytes(self, branch: Branch, features: pd.DataFrame) -> bytes:
        """Exported with its thresholds lowered to float32 (`float32_thresholds`): on the
        float32 rows `predict_raw` feeds it, the same trees decide alike, and the export
        (not every fit: rewriting 1,000 trees takes a second) pays for it."""
        exported = copy.copy(self.model_)
        exported._Booster = float32_thresholds(self.model_.booster_)
        return export_trees_model(branch, exported, features)

    def size_params(self) -> dict:
        return {"n_estimators": self.model_.booster_.num_trees() // self._trees_per_round,
                "num_leaves": int(self.model_.get_params()["num_leaves"])}


class StudentMLP(Family):
    key = "student_mlp"
    branch = "trees"
    fit_memory = memory.MLP
    allowed_params = ("n_layers", "width", "learning_rate", "max_epochs")

    def fit(self, X, y, X_valid=None, y_valid=None, budget=None, report: ReportFn | None = None):
        from automl.students.dense import Training, fit_dense_student  # torch: 3 s to import

        params = {"n_layers": 1, "width": 32, "learning_rate": 3e-3, "max_epochs": 200,
                  **self._checked_params()}
        X = writable(X, np.float32)
        if X_valid is None:  # nothing held out: stop on the training loss
            X_valid, y_valid = X, y
        code = DenseCode.fit(X, tuple(self.categorical))
        data = Training.make(code, X, teacher_targets(y, self.task, self.n_classes),
                             writable(X_valid, np.float32),
                             teacher_targets(y_valid, self.task, self.n_classes), self.task)
        hidden = [int(params["width"])] * int(params["n_layers"])
        self.net_ = fit_dense_student(data, hidden, as_budget(budget), seed=self.seed,
                                      n_jobs=self.n_jobs, max_epochs=int(params["max_epochs"]),
                                      learning_rate=float(params["learning_rate"]))
        return self

    def predict_raw(self, X) -> np.ndarray:
        return self.net_.predict(np.asarray(X, dtype=np.float32))

    def onnx_bytes(self, branch: Branch, features: pd.DataFrame) -> bytes:
        return export_dense_model(branch, self.net_, features)

    def size_params(self) -> dict:
        return {"hidden": self.net_.hidden, "weights": self.net_.n_weights()}


register("student_gbdt", StudentGBDT)
register("student_lgbm", StudentLGBM)
register("student_mlp", StudentMLP)
