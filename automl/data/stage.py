"""The `ingest` stage: read, infer the schema, drop unusable rows, split."""

from __future__ import annotations

from automl.data.schema import infer_schema, infinite_counts, prepare_features
from automl.data.split import Dataset, split_dataset


def run(node, inputs, context) -> Dataset:
    settings, params = context.settings, node.params
    frame = context.table()
    schema = infer_schema(frame, settings.target, settings.task)
    frame = frame.loc[frame[settings.target].notna()]
    if params.max_rows is not None and len(frame) > params.max_rows:
        frame = frame.sample(params.max_rows, random_state=0)
        context.log(f"ingest: sampled {params.max_rows} of {schema.n_rows} rows (max_rows)")
    _log_schema(schema, frame.shape[1] - 1, context)
    _tell_infinite(frame, schema, context)
    prepare_features(frame, schema)  # fails early on a column that cannot be read as inferred
    X = frame[[c.name for c in schema.columns]]  # raw columns: predictors start from these too
    y = schema.encode_target(frame[settings.target])
    return split_dataset(X, y, schema, params.valid_fraction, params.test_fraction, settings.seed)


def _log_schema(schema, n_columns: int, context) -> None:
    kinds = {}
    for col in schema.columns:
        kinds[col.kind] = kinds.get(col.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    classes = f", {len(schema.classes)} classes" if schema.classes else ""
    context.log(f"ingest: {schema.n_rows} rows, {n_columns} feature columns ({summary}); "
                f"task {schema.task}{classes}")
    if schema.n_missing_target:
        context.log(f"ingest: dropped {schema.n_missing_target} rows with a missing target")
    for name, reason in schema.dropped.items():
        context.log(f"ingest: dropped column {name!r}: {reason}")


def _tell_infinite(frame, schema, context) -> None:
    infinite = infinite_counts(frame, schema)
    if infinite:
        counts = [f"{name!r} ({n} row{'s' * (n != 1)})" for name, n in infinite.items()]
        context.notice(f"ingest: infinite values (inf, -inf) are taken as missing in {', '.join(counts)}")
