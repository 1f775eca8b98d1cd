"""The `preprocess` stage: fit the branch on the training rows, encode every part."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.data.schema import Schema
from automl.data.split import KFOLD, Validation
from automl.preprocess.branches import Branch, build_branch


@dataclass
class BranchData:
    """One branch's fitted transformer and the parts it produced, ready for the families.

    Under kfold validation there is no validation part (X_valid is None) and a trial is
    scored out of fold on the training rows (`validation.folds`). The branch is fitted
    on all training rows either way: its encodings are unsupervised, except the target
    encoder, which cross-fits the training rows (see build_branch).
    """

    branch: Branch
    schema: Schema
    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray | None
    y_valid: np.ndarray | None
    validation: Validation

    @property
    def y_scored(self) -> np.ndarray:
        """The labels every trial's predictions are scored against."""
        return self.y_train if self.validation.method == KFOLD else self.y_valid


def run(node, inputs, context) -> BranchData:
    data = inputs.one("ingest")
    branch, X_train = build_branch(node.params, data.schema, data.X_train, data.y_train)
    X_valid = None if data.X_valid is None else branch.transform(data.X_valid)
    out = BranchData(branch, data.schema, X_train, data.y_train, X_valid, data.y_valid,
                     data.validation)
    context.log(f"{node.name}: branch {node.params.branch!r} gives {out.X_train.shape[1]} columns")
    return out
