"""automl: tabular AutoML with a declarative pipeline graph."""

from automl.version import __version__


def __getattr__(name: str):
    # `from automl import AutoML` without importing pandas/sklearn for `automl --version`.
    if name == "AutoML":
        from automl.api import AutoML

        return AutoML
    raise AttributeError(f"module 'automl' has no attribute {name!r}")


__all__ = ["AutoML", "__version__"]
