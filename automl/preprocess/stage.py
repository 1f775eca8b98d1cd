"""The `preprocess` stage: fit the branch on the training part, transform every part."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.data.schema import Schema, prepare_features
from automl.preprocess.branches import Branch, build_branch


@dataclass
class BranchData:
    """One branch's fitted transformer and the parts it produced, ready for the families."""

    branch: Branch
    schema: Schema
    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None


def run(node, inputs, context) -> BranchData:
    data = inputs[0]

    def features(raw):
        return None if raw is None else prepare_features(raw, data.schema)

    train = features(data.X_train)
    branch, X_train = build_branch(node.params, data.schema, train, data.y_train)
    X_test = None if data.X_test is None else branch.transform(features(data.X_test))
    out = BranchData(branch, data.schema, X_train, data.y_train,
                     branch.transform(features(data.X_valid)), data.y_valid, X_test, data.y_test)
    context.log(f"{node.name}: branch {node.params.branch!r} gives {out.X_train.shape[1]} columns")
    return out
