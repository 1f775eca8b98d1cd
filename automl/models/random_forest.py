"""Random forest (sklearn): bootstrap rows, best split on a random subset of columns."""

from __future__ import annotations

from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from automl.models.forest_base import ForestFamily


class RandomForestFamily(ForestFamily):
    key = "random_forest"
    classifier_cls = RandomForestClassifier
    regressor_cls = RandomForestRegressor
