"""Blend students: a tree student and an MLP student averaged, in one ONNX graph.

No single student of either kind kept 0.97 of the ensemble's gain on satellite, where
trees and the MLP err differently: taught on 80% of its training part and scored on the
other 20%, a 1 MB LightGBM student kept 0.70 of the gain, a two-layer MLP 0.82, and a
340 KB LightGBM averaged with that MLP 0.88 (diamonds: 0.83, 0.76, 0.92); on adult the
same average fell to 0.08 where the LightGBM alone kept 0.96
(docs/results/2026-11-30-student-reach.md). So a blend is one more student, judged like
the others: after the ladder and the student search, the best pair of a tree student and
an MLP student that fits the size aim together, at the tree weight that scores best on
the judged rows, joins the students where it beats both its parts there; under kfold the
cross-fit then judges it on every fold like any finalist, which is where a pair chosen on
one fold's luck falls back.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.students.judged import Scoring, Student
from automl.models.dense_net import DenseNet
from automl.onnx.blend_graph import export_blend
from automl.preprocess.branches import Branch

TREE_KINDS = ("gbdt", "lgbm")
TREE_WEIGHTS = (0.25, 0.5, 0.75)  # the tree student's share of the blend


@dataclass
class Blend:
    """Two fitted students (families' models: a gbdt or LightGBM one, an MLP one),
    averaged with `tree_weight`; what `crossfit` fits from a blend's recipe."""

    trees: object
    mlp: object
    tree_weight: float

    def predict_raw(self, X) -> np.ndarray:
        return mix(self.trees.predict_raw(X), self.mlp.predict_raw(X), self.tree_weight)

    def onnx_bytes(self, branch: Branch, features: pd.DataFrame) -> bytes:
        return export_blend(self.trees.onnx_bytes(branch, features), self.mlp.net_,
                            self.tree_weight)


def mix(trees: np.ndarray, mlp: np.ndarray, tree_weight: float) -> np.ndarray:
    return tree_weight * trees + (1.0 - tree_weight) * mlp


def best_blend(students: list[Student], nets: dict[str, DenseNet], scoring: Scoring,
               max_bytes: float | None) -> Student | None:
    """The best-scoring blend of a tree student and an MLP student whose sizes add up
    to at most `max_bytes`, as a student; None where none beats both its parts."""
    best = best_pair(students, nets, scoring, max_bytes)
    if best is None:
        return None
    tree, mlp, weight = best
    return blend_student(tree, mlp, nets[mlp.name], weight, scoring)


def best_pair(students: list[Student], nets: dict[str, DenseNet], scoring: Scoring,
              max_bytes: float | None) -> tuple[Student, Student, float] | None:
    """(tree student, MLP student, tree weight) of the best blend `best_blend` makes;
    scored from the students' outputs on the judged rows, nothing fitted."""
    trees = [s for s in students if s.kind in TREE_KINDS and s.recipe is not None]
    mlps = [s for s in students if s.kind == "mlp" and s.name in nets and s.recipe is not None]
    best, best_score = None, -np.inf
    for tree, mlp, weight in itertools.product(trees, mlps, TREE_WEIGHTS):
        if max_bytes is not None and tree.size_bytes + mlp.size_bytes > max_bytes:
            continue
        score = scoring.metric.score(scoring.y_valid, mix(tree.valid_output, mlp.valid_output, weight),
                                     scoring.w_valid)
        if score > max(best_score, tree.score, mlp.score):
            best, best_score = (tree, mlp, weight), score
    return best


def blend_student(tree: Student, mlp: Student, net: DenseNet, tree_weight: float,
                  scoring: Scoring) -> Student:
    """`tree` and `mlp` (whose net is `net`) averaged, measured as a student, with the
    recipe that fits it again (each part by its own)."""
    params = {"trees": tree.name, "mlp": mlp.name, "tree_weight": tree_weight}
    student = scoring.student(f"blend-{tree.name}+{mlp.name}-w{tree_weight:g}", "blend",
                              params, mix(tree.valid_output, mlp.valid_output, tree_weight),
                              export_blend(tree.onnx, net, tree_weight))
    student.recipe = {"family": "blend", "parts": [tree.recipe, mlp.recipe],
                      "tree_weight": tree_weight,
                      "synthetic": tree.recipe["synthetic"] or mlp.recipe["synthetic"]}
    return student
