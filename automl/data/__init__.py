"""Tables in: reading files, inferring the schema and task, splitting.

The names below are imported on first use, so that `automl.data.files` (standard library
only) stays cheap for the CLI's early checks.
"""

from importlib import import_module

_EXPORTS = {
    "read_table": "automl.data.ingest",
    "Schema": "automl.data.schema",
    "infer_schema": "automl.data.schema",
    "prepare_features": "automl.data.schema",
    "Dataset": "automl.data.split",
    "split_dataset": "automl.data.split",
}


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'automl.data' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)


__all__ = sorted(_EXPORTS)
