"""Rows on the way to the members without pandas: one raw row's model-ready columns
(`row_features`), and the trees branch's codes to look them up by (`trees_plan`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from automl.data.schema import DATETIME_PARTS, Schema
from automl.errors import PredictError


def row_features(row: Mapping, schema: Schema) -> dict[str, np.ndarray]:
    """One raw row's model-ready columns (column -> a 1-element array), value by value as
    `prepare_features` makes them from a frame: numbers as float64 (numeric text read,
    missing-value text and inf as NaN), categories as text (NaN where missing), a date as
    its parts. The values are read by the ONNX fast path's own readers (`inputs`)."""
    import datetime as dt

    from automl.serving.inputs import EPOCH, _category, _date_seconds, _is_missing, _number

    missing = [c.name for c in schema.columns if c.name not in row]
    if missing:
        raise PredictError(f"input lacks {len(missing)} column(s) the model was fitted on: "
                           + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else ""))
    features = {}
    for column in schema.columns:
        value = row[column.name]
        if column.kind == "numeric":
            features[column.name] = np.array([_number(value, column.name)], dtype=np.float64)
        elif column.kind == "categorical":
            text = np.nan if _is_missing(value) else _category(value)
            features[column.name] = np.array([text], dtype=object)
        else:
            seconds = _date_seconds(value, column.name, column.date_format)
            stamp = None if np.isnan(seconds) else EPOCH + dt.timedelta(seconds=seconds)
            for part in DATETIME_PARTS:  # the weekday as pandas counts it: Monday 0
                number = (np.nan if stamp is None else
                          stamp.weekday() if part == "weekday" else getattr(stamp, part))
                features[f"{column.name}__{part}"] = np.array([number], dtype=np.float64)
    return features



def trees_plan(branch) -> list | None:
    """The trees branch's output columns in order, each (model-ready column, its codes
    {category: code}, or None for a number), when the branch is the one
    `automl.preprocess.branches` builds (ordinal codes, then numbers passed through);
    else None, and the branch's own transform is used."""
    from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

    plan = []
    for name, step, columns in branch.transformer.transformers_:
        if name == "remainder" and step == "drop":
            continue
        if isinstance(step, OrdinalEncoder) and step.handle_unknown == "use_encoded_value" \
                and np.isnan(step.unknown_value) and np.isnan(step.encoded_missing_value) \
                and not getattr(step, "_infrequent_enabled", False):
            plan += [(column, {value: float(code) for code, value in enumerate(categories)
                               if not pd.isna(value)})
                     for column, categories in zip(columns, step.categories_)]
        elif isinstance(step, str) and step == "passthrough" or (
                isinstance(step, FunctionTransformer) and step.func is None):  # as fitted
            plan += [(column, None) for column in columns]
        else:
            return None
    return plan
