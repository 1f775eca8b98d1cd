"""The family registry: a key maps to a lazily imported class (Ray Tune's pattern).

Built-ins are registered in one explicit list; `register` refuses a duplicate key and
names both classes. The distill stage's student families register themselves from
automl/distill/families.py (the models layer knows nothing of the stages above it).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from automl.errors import ConfigError, did_you_mean, listing
from automl.space import Space, load_space

_BUILTIN = {
    "xgboost": "automl.models.xgboost_family:XGBoostFamily",
    "lightgbm": "automl.models.lightgbm_family:LightGBMFamily",
    "catboost": "automl.models.catboost_family:CatBoostFamily",
    "random_forest": "automl.models.random_forest:RandomForestFamily",
    "extra_trees": "automl.models.extra_trees:ExtraTreesFamily",
    "linear": "automl.models.linear:LinearFamily",
    "mlp": "automl.models.mlp:MLPFamily",
}
_registry: dict[str, str | type] = dict(_BUILTIN)


def register(key: str, cls: type | str) -> None:
    """Add a family: a class, or its 'module:Class' path (imported on first use)."""
    if key in _registry and import_path(key) != _path_of(cls):
        name = cls if isinstance(cls, str) else cls.__name__
        raise ConfigError(f"family key {key!r} is taken by {import_path(key)}; cannot register {name}")
    _registry[key] = cls


def _path_of(entry: str | type) -> str:
    return entry if isinstance(entry, str) else f"{entry.__module__}:{entry.__qualname__}"


def import_path(key: str) -> str:
    """'module:Class' of a family: how a Ray worker, importing afresh, finds the same class."""
    return _path_of(_registry[key])


def family_keys() -> list[str]:
    return list(_registry)


def family_class(key: str) -> type:
    if key not in _registry:
        raise ConfigError(f"unknown family {key!r}{did_you_mean(key, _registry)}; "
                          f"families are {listing(_registry)}")
    entry = _registry[key]
    if isinstance(entry, str):
        module, name = entry.split(":")
        entry = getattr(importlib.import_module(module), name)
        _registry[key] = entry
    return entry


def family_space(key: str) -> Space:
    """The family's search space: search/<key>.yaml, or the family's own folder (plugins)."""
    folder = family_class(key).space_folder
    return load_space(key, Path(folder) if folder else None)
