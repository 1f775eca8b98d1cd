"""Preprocessing: the trees branch (an sklearn transformer fitted on the training part
only), and a table made into the families' input as a run makes it (`stage`)."""

from automl.preprocess.branches import Branch, build_branch

__all__ = ["Branch", "build_branch"]
