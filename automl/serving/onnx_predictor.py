"""An exported model as a predictor: model/ensemble.onnx or compact/compact.onnx in
onnxruntime (one thread), answering as the run's `Predictor` does
(`interface.ServedModel`), with no pickle: the schema comes from the file's own metadata.
Both files take the table's raw columns (`inputs`) and share this one class.

A row given as a dict goes value by value into the session (`inputs.row_feed`), with
no pandas on the way; a one-row DataFrame is read into such a dict first, value by value
too. Larger frames are converted column by column, as `predict` converts them for the
ensemble.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from automl.data.schema import Schema, check_columns, unused_columns
from automl.errors import RunError
from automl.metrics import REGRESSION
from automl.serving.answers import Answers, check_table, warn_unused
from automl.serving.inputs import feed_columns, frame_feeds, raw_rows, row_feed
from automl.serving.session import OnnxModel
from automl.serving.timing import median_call_ms


class OnnxPredictor(Answers):
    """An ONNX file with the raw-column contract (`raw_front`), read from `path`, as a
    predictor; `description`: what `describe` returns (default: the file's target, task,
    classes and path)."""

    def __init__(self, path: str | Path, description: dict | None = None):
        self.path = Path(path)
        self.description = description
        self.model = OnnxModel(self.path)
        self.session = self.model.session
        metadata = self.session.get_modelmeta().custom_metadata_map
        if "automl.schema" not in metadata:
            raise RunError(f"{self.path} takes model-ready columns (it was written before "
                           "exported models took the table's own columns); refit the run to "
                           "get one that does")
        self.schema = Schema.model_validate_json(metadata["automl.schema"])
        self.columns = feed_columns(self.schema)
        self.outputs = ["variable" if self.schema.task == REGRESSION else "probabilities"]

    # ---- the Predictor's interface ---------------------------------------------------

    def predict_raw(self, X) -> np.ndarray:
        """Probabilities (n, k) or values (n,) for a dict (one row) or a DataFrame."""
        return self.predict_feed(self.feed(X))

    def predict_feed(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        """`predict_raw` for inputs already made (`inputs.row_feed`, `rows_feed`)."""
        output = np.asarray(self.session.run(self.outputs, feed)[0], dtype=np.float64)
        return output.reshape(-1) if self.schema.task == REGRESSION else output

    def predict_features(self, features: pd.DataFrame) -> np.ndarray:
        """From model-ready rows (`prepare_features`' output), as the report's
        permutation importance hands them. A date is put back together from its year,
        month, day and hour (`raw_rows`), so its weekday follows from them, and parts
        shuffled apart may make no date at all (missing): an exported model's importance
        of a date's parts is rough."""
        return self.predict_raw(raw_rows(features, self.schema))

    def describe(self) -> dict:
        if self.description is not None:
            return self.description
        return {"target": self.schema.target, "task": self.schema.task,
                "classes": self.schema.classes, "model": str(self.path)}

    # ---- inputs ----------------------------------------------------------------------

    def feed(self, X) -> dict[str, np.ndarray]:
        if isinstance(X, Mapping):
            if len(X) > len(self.columns):
                warn_unused([name for name in X if name not in self.schema_names])
            return row_feed(X, self.columns)
        check_table(X)
        if len(X) == 1:  # the fast path: the row's values, read one by one
            return row_feed(self._one_row(X), self.columns)
        check_columns(X, self.schema)
        warn_unused(unused_columns(X, self.schema))
        return frame_feeds(X, self.schema)

    def _one_row(self, frame: pd.DataFrame) -> dict:
        """The model's columns of a one-row frame as a dict, read with `iat`: `iloc[0]`,
        `to_dict` or `check_columns` each cost more than the model itself."""
        positions = {name: i for i, name in enumerate(frame.columns)}
        if len(positions) < len(frame.columns):  # a name twice: the frame path says which
            check_columns(frame, self.schema)
        if len(positions) > len(self.columns):
            warn_unused([name for name in positions if name not in self.schema_names])
        # a column missing from the frame is left out here, for row_feed to name
        return {name: frame.iat[0, positions[name]] for name, _, _ in self.columns
                if name in positions}

    @property
    def schema_names(self) -> set[str]:
        return {name for name, _, _ in self.columns}


def one_row_latency(predictor: OnnxPredictor, rows: list[dict], calls: int = 1000) -> dict:
    """Median milliseconds of one-row calls, after a warm-up: the file alone in its
    session (the feed made beforehand), and `predict` from a dict end to end in Python.
    The rows are taken in turn, so the calls do not all take one path through the trees."""
    feeds = [row_feed(row, predictor.columns) for row in rows]
    run = predictor.session.run
    warmup = min(100, calls)  # first calls allocate
    return {"onnxruntime_ms": median_call_ms(lambda i: run(predictor.outputs, feeds[i % len(feeds)]),
                                             calls, warmup),
            "python_ms": median_call_ms(lambda i: predictor.predict(rows[i % len(rows)]), calls, warmup),
            "calls": calls}
