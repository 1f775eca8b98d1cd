"""The `ingest` stage: read, infer the schema, prepare the features once, split.

The features come out model-ready (`prepare_features`: numbers as floats, categories as
text, dates in parts); every later stage starts from them, none prepares them again.
"""

from __future__ import annotations

from automl.data.facts import write_facts
from automl.data.schema import infinite_counts
from automl.data.split import HOLDOUT, KFOLD, Dataset, table_dataset


def run(node, inputs, context) -> Dataset:
    settings, params = context.settings, node.params
    frame = context.table()
    schema = context.schema()
    frame = frame.loc[frame[settings.target].notna()]
    if params.max_rows is not None and len(frame) > params.max_rows:
        frame = frame.sample(params.max_rows, random_state=0)
        context.log(f"ingest: sampled {params.max_rows} of {schema.n_rows} rows (max_rows)")
    _log_schema(schema, frame.shape[1] - 1 - (settings.weight is not None), context)
    _tell_infinite(frame, schema, context)
    method, reason = validation_method(params, len(frame))
    dataset = table_dataset(frame, settings.target, schema=schema,
                            valid_fraction=valid_share(params, len(frame)),
                            test_fraction=params.test_fraction, seed=settings.seed,
                            method=method, n_folds=params.folds, reason=reason,
                            weight=settings.weight, class_weight=settings.class_weight)
    context.log(f"ingest: validation by {dataset.validation.describe()} ({reason})")
    _log_weights(dataset, settings, context)
    write_facts(dataset, context.node_dir, settings.seed)
    return dataset


def validation_method(params, n_rows: int) -> tuple[str, str]:
    """(holdout or kfold, why): `validation: auto` decides by the table's size."""
    if params.validation != "auto":
        return params.validation, f"validation: {params.validation} in the graph"
    rows = int(n_rows * (1 - params.test_fraction))
    if rows <= params.kfold_max_rows:
        return KFOLD, f"auto: {rows} rows <= kfold_max_rows {params.kfold_max_rows}"
    return HOLDOUT, f"auto: {rows} rows > kfold_max_rows {params.kfold_max_rows}"


def valid_share(params, n_rows: int) -> float:
    """The holdout's share of the rows left after the test part: `valid_fraction`, smaller
    where it would hold more than `max_valid_rows`."""
    rest = n_rows * (1 - params.test_fraction)
    if params.max_valid_rows is None or params.valid_fraction * rest <= params.max_valid_rows:
        return params.valid_fraction
    return params.max_valid_rows / rest


def _log_weights(dataset: Dataset, settings, context) -> None:
    if dataset.w_train is not None:
        w = dataset.w_train
        context.log(f"ingest: rows weighted by {settings.weight!r} (training rows: mean "
                    f"{w.mean():.4g}, min {w.min():.4g}, max {w.max():.4g}, "
                    f"{int((w == 0).sum())} at 0); every metric scores with these weights")
    if dataset.class_factors is not None:
        factors = ", ".join(f"{label} x{f:.3g}" for label, f in
                            zip(dataset.schema.classes, dataset.class_factors))
        context.log(f"ingest: classes balanced in the families' fits ({factors})")


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
