"""automl: tabular AutoML with a declarative pipeline graph."""

__version__ = "0.1.0"
