"""The dense branch stays within what skl2onnx converts (oracle: the sklearn transform).

The export (a later stage) drops the "fill" steps, which read NaN in text columns, and
feeds MISSING_LEVEL for a missing category instead; this test does the same by hand.
Two pieces have no stock converter yet, so the table here avoids them: the frequency
encoding (target encoding is used) and the missing indicators (no number has gaps in
training; it still has some at predict time).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from automl.data import prepare_features
from automl.preprocess.dense import MISSING_LEVEL

from .test_dense import _branch, _frame

onnx_runtime = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")


def _without_fill_steps(transformer):
    fitted = copy.deepcopy(transformer)
    fitted.transformers_ = [
        (name, Pipeline(part.steps[1:]) if _starts_with_fill(part) else part, columns)
        for name, part, columns in fitted.transformers_
    ]
    return fitted


def _starts_with_fill(part) -> bool:
    return isinstance(part, Pipeline) and part.steps[0][0] == "fill"


def test_dense_branch_converts_to_onnx_with_the_same_output():
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    frame = _frame("binary")
    frame["a"] = frame["a"].fillna(5.0)
    branch, schema = _branch(frame, high_cardinality="target", rare_min_fraction=0.01)
    new = frame.head(6).copy()
    new.loc[new.index[0], ["colour", "city"]] = ["ultraviolet", "nowhere"]  # unseen levels
    new.loc[new.index[1], ["a", "shape"]] = [np.nan, np.nan]
    X = prepare_features(new, schema)
    text = set(schema.categorical)
    types = [(c, StringTensorType([None, 1]) if c in text else FloatTensorType([None, 1]))
             for c in X.columns]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skl2onnx's own deprecation notices
        model = skl2onnx.convert_sklearn(_without_fill_steps(branch.transformer),
                                         initial_types=types, target_opset=17)
    session = onnx_runtime.InferenceSession(model.SerializeToString())
    feeds = {c: X[[c]].fillna(MISSING_LEVEL).to_numpy().astype(str) if c in text
             else X[[c]].to_numpy().astype(np.float32) for c in X.columns}
    assert not any(name.startswith("missingindicator") for name in branch.feature_names)
    np.testing.assert_allclose(session.run(None, feeds)[0], branch.transform(X), atol=1e-5)
