"""Extra trees (sklearn): random split points, so faster per tree and smoother than a forest."""

from __future__ import annotations

from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

from automl.models.forest_base import ForestFamily
from automl.models import memory


class ExtraTreesFamily(ForestFamily):
    key = "extra_trees"
    fit_memory = memory.EXTRA_TREES
    classifier_cls = ExtraTreesClassifier
    regressor_cls = ExtraTreesRegressor
