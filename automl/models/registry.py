"""The family registry: a key maps to a lazily imported class (Ray Tune's pattern).

Built-ins are registered in one explicit list; `register` refuses a duplicate key and
names both classes.
"""

from __future__ import annotations

import importlib

from automl.errors import ConfigError, did_you_mean, listing

_BUILTIN = {
    "xgboost": "automl.models.xgboost_family:XGBoostFamily",
}
_registry: dict[str, str | type] = dict(_BUILTIN)


def register(key: str, cls: type) -> None:
    if key in _registry:
        existing = _registry[key]
        name = existing if isinstance(existing, str) else f"{existing.__module__}:{existing.__name__}"
        raise ConfigError(f"family key {key!r} is taken by {name}; cannot register {cls.__name__}")
    _registry[key] = cls


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
