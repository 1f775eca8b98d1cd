"""Tables in: reading files, inferring the schema and task, splitting."""

from automl.data.ingest import read_table
from automl.data.schema import Schema, infer_schema, prepare_features
from automl.data.split import Dataset, split_dataset

__all__ = ["Dataset", "Schema", "infer_schema", "prepare_features", "read_table", "split_dataset"]
