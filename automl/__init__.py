"""automl: tabular AutoML with a declarative pipeline graph."""

from automl.version import __version__

_ESTIMATORS = ("AutoML", "AutoMLClassifier", "AutoMLRegressor")


def __getattr__(name: str):
    # `from automl import AutoML` without importing pandas/sklearn for `automl --version`.
    if name in _ESTIMATORS:
        from automl import api

        return getattr(api, name)
    raise AttributeError(f"module 'automl' has no attribute {name!r}")


__all__ = [*_ESTIMATORS, "__version__"]
