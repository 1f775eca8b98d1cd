"""The family registry: a key maps to a lazily imported class (automl.registry).

Built-ins are registered in one explicit list; `register` refuses a duplicate key and
names both classes. The distill stage's student families register themselves from
automl/students/families.py (the models layer knows nothing of the stages above it).
"""

from __future__ import annotations

from pathlib import Path

from automl.registry import Registry
from automl.space import Space, load_space

FAMILIES = Registry("family", "families", {
    "xgboost": "automl.models.xgboost_family:XGBoostFamily",
    "lightgbm": "automl.models.lightgbm_family:LightGBMFamily",
    "catboost": "automl.models.catboost_family:CatBoostFamily",
    "random_forest": "automl.models.random_forest:RandomForestFamily",
    "extra_trees": "automl.models.extra_trees:ExtraTreesFamily",
    "linear": "automl.models.linear:LinearFamily",
    "mlp": "automl.models.mlp:MLPFamily",
    "tabm": "automl.models.tabm_family:TabMFamily",
})


def register(key: str, cls: type | str) -> None:
    """Add a family: a class, or its 'module:Class' path (imported on first use)."""
    FAMILIES.register(key, cls)


def import_path(key: str) -> str:
    """'module:Class' of a family: how a Ray worker, importing afresh, finds the same class."""
    return FAMILIES.path(key)


def family_keys() -> list[str]:
    return list(FAMILIES)


def family_class(key: str) -> type:
    return FAMILIES[key]


def family_space(key: str) -> Space:
    """The family's search space: search/<key>.yaml, or the family's own folder (plugins)."""
    folder = family_class(key).space_folder
    return load_space(key, Path(folder) if folder else None)
