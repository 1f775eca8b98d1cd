"""The `preprocess` stage: fit the branch on the training rows, encode every part.

`branch_data` is the stage's work on a `Dataset`; `table_branch_data` does all a run does
from a table to a family's input (ingest, split, branch), for studies and tests that fit
families without a run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.config import PreprocessParams
from automl.data.schema import Schema
from automl.data.split import HOLDOUT, KFOLD, Dataset, Validation, table_dataset
from automl.data.weights import fit_weights
from automl.preprocess.branches import Branch, build_branch

TREES = PreprocessParams(branch="trees")


@dataclass
class BranchData:
    """One branch's fitted transformer and the parts it produced, ready for the families.

    Under kfold validation there is no validation part (X_valid is None) and a trial is
    scored out of fold on the training rows (`validation.folds`). The branch is fitted
    on all training rows either way: its encoding learns nothing from the target.
    """

    branch: Branch
    schema: Schema
    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray | None
    y_valid: np.ndarray | None
    validation: Validation
    # sample weights of the parts and the classes' factors (automl/data/weights.py)
    w_train: np.ndarray | None = None
    w_valid: np.ndarray | None = None
    class_factors: np.ndarray | None = None

    @property
    def y_scored(self) -> np.ndarray:
        """The labels every trial's predictions are scored against."""
        return self.y_train if self.validation.method == KFOLD else self.y_valid

    @property
    def w_scored(self) -> np.ndarray | None:
        """Their sample weights (None: rows count alike)."""
        return self.w_train if self.validation.method == KFOLD else self.w_valid

    def fit_weight(self, part: str = "train", rows: np.ndarray | None = None) -> np.ndarray | None:
        """The weights a family fits with on `part`'s `rows` (None: all of them): sample
        weights times the class factors; None where the rows count alike."""
        y, w = (self.y_train, self.w_train) if part == "train" else (self.y_valid, self.w_valid)
        if rows is not None:
            y, w = y[rows], None if w is None else w[rows]
        return fit_weights(y, w, self.class_factors)


def weight_keywords(sample_weight: np.ndarray | None, valid_weight: np.ndarray | None) -> dict:
    """A family's fit keywords for these weights, none where rows count alike: a plugin
    family that takes no weights still fits an unweighted table."""
    given = {"sample_weight": sample_weight, "valid_weight": valid_weight}
    return {name: w for name, w in given.items() if w is not None}


def run(node, inputs, context) -> BranchData:
    out = branch_data(inputs.one("ingest"), node.params)
    if node.params.branch != node.params.fitted_branch:
        context.log(f"{node.name}: branch {node.params.branch!r} is the "
                    f"{node.params.fitted_branch!r} branch now (linear and mlp encode it "
                    "themselves); this node can go, its readers reading the trees node")
    context.log(f"{node.name}: branch {out.branch.name!r} gives {out.X_train.shape[1]} columns")
    return out


def branch_data(data: Dataset, params: PreprocessParams = TREES) -> BranchData:
    """The branch `params` names fitted on `data`'s training rows, and every part through it."""
    branch, X_train = build_branch(params, data.schema, data.X_train, data.y_train)
    X_valid = None if data.X_valid is None else branch.transform(data.X_valid)
    return BranchData(branch, data.schema, X_train, data.y_train, X_valid, data.y_valid,
                      data.validation, data.w_train, data.w_valid, data.class_factors)


def table_branch_data(frame: pd.DataFrame, target: str, task: str | None = None, *,
                      valid_fraction: float = 0.2, method: str = HOLDOUT, n_folds: int = 5,
                      seed: int = 0, weight: str | None = None,
                      class_weight: str | None = None) -> BranchData:
    """A table with its `target` column as the families' input, the way a run makes it:
    the schema inferred, the features model-ready, the rows split (a validation part, or
    folds over all of them), the trees branch fitted on the training rows; `weight` and
    `class_weight` as `table_dataset` takes them."""
    return branch_data(table_dataset(frame, target, task, valid_fraction=valid_fraction,
                                     seed=seed, method=method, n_folds=n_folds, weight=weight,
                                     class_weight=class_weight))
