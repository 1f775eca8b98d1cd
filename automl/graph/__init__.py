"""The pipeline graph: spec models, YAML loading and validation, executor, run store."""
