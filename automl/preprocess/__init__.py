"""Preprocessing branches: sklearn transformers fitted on the training part only."""

from automl.preprocess.branches import Branch, build_branch

__all__ = ["Branch", "build_branch"]
