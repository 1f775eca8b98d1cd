"""Fit small students to a teacher's soft predictions.

A classifier student learns the teacher's probabilities, not its labels: each row is
repeated once per class, labelled with that class and weighted by the teacher's
probability of it. Weighted log loss over those rows is the cross-entropy to the
teacher's distribution, which any classifier that takes sample weights can minimise
(xgboost, sklearn trees), and the fitted model stays a plain classifier that exports
to ONNX as it is. A regression student fits the teacher's values.
"""

from __future__ import annotations

import numpy as np
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from automl.metrics import REGRESSION

# Classes the teacher gives less than this probability add rows that teach nothing.
MIN_WEIGHT = 1e-4


def soft_rows(X: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X repeated per class, class labels, teacher probabilities as weights)."""
    n, k = proba.shape
    rows = np.repeat(np.arange(n), k)
    labels = np.tile(np.arange(k), n)
    weights = proba.reshape(-1)
    keep = weights >= MIN_WEIGHT
    # every class must appear at least once, or the classifier shrinks its output
    for label in range(k):
        if not keep[labels == label].any():
            keep[np.flatnonzero(labels == label)[np.argmax(weights[labels == label])]] = True
    return X[rows[keep]], labels[keep], weights[keep]


def fit_tree_student(X: np.ndarray, teacher: np.ndarray, task: str, max_depth: int,
                     min_samples_leaf: int = 20, seed: int = 0):
    """A shallow decision tree fitted to the teacher's output: the source of the rules."""
    # a leaf holds at least `min_samples_leaf` rows' worth of weight (each row's repeats
    # carry a total weight of 1), so repeating rows per class does not shrink leaves
    leaf = min(0.5, min_samples_leaf / max(len(X), 1))
    if task == REGRESSION:
        return DecisionTreeRegressor(max_depth=max_depth, min_weight_fraction_leaf=leaf,
                                     random_state=seed).fit(X, teacher)
    X_soft, y_soft, w_soft = soft_rows(X, teacher)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_weight_fraction_leaf=leaf,
                                  random_state=seed)
    return tree.fit(X_soft, y_soft, sample_weight=w_soft)


def student_output(model, X: np.ndarray, task: str) -> np.ndarray:
    """What `predict_raw` would give: probabilities (n, k) or values (n,)."""
    return model.predict(X) if task == REGRESSION else model.predict_proba(X)
