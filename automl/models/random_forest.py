"""Random forest (sklearn): bootstrap rows, best split on a random subset of columns."""

from __future__ import annotations

from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from automl.models.forest_base import ForestFamily
from automl.models import memory


class RandomForestFamily(ForestFamily):
    key = "random_forest"
    fit_memory = memory.RANDOM_FOREST
    classifier_cls = RandomForestClassifier
    regressor_cls = RandomForestRegressor
