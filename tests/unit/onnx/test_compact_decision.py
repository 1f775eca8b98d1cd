"""compact.onnx labels rows by the run's decision (`automl.onnx.decision_graph`): its
`label` output in plain onnxruntime, `CompactPredictor` from Python, and the card say the
same; the probabilities are untouched. A small student made in seconds (no search)."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from automl.decisions import Decision
from automl.onnx.card import serving_card
from automl.onnx.decision_graph import decide_compact
from automl.serving.compact import CompactPredictor
from automl.serving.inputs import frame_feeds
from tests.compact_helpers import compact_run
from tests.conftest import make_table


def _session_outputs(path, rows, schema):
    session = ort.InferenceSession(str(path))
    return session.run(["label", "probabilities"], frame_feeds(rows, schema))


@pytest.mark.parametrize("task, decision", [
    ("binary", {"threshold": 0.8}),
    ("multiclass", {"class_weights": [1.0, 4.0, 1.0, 0.25]}),
])
def test_compact_onnx_labels_by_the_decision(tmp_path, task, decision):
    frame = make_table(400, task=task, seed=5)
    run = compact_run(frame, "y", tmp_path)
    path = run.run_dir / "compact" / "compact.onnx"
    card = {"teacher": {"f1": 0.9}, "chosen": None, "reason": "a test", "metric": "f1",
            "scored_on": "validation part", "serving": serving_card(run.schema)}
    (path.parent / "compact.json").write_text(json.dumps(card))
    rows = frame.drop(columns="y")
    label_before, proba_before = _session_outputs(path, rows, run.schema)
    rule = Decision(metric="f1", chosen_on="validation part", score=0.9,
                    score_at_most_probable=0.8, **decision)
    lines = []
    decide_compact(run.run_dir, rule, lines.append, rows=None)

    label, proba = _session_outputs(path, rows, run.schema)
    np.testing.assert_array_equal(proba, proba_before)
    np.testing.assert_array_equal(label, rule.labels(proba))
    assert (label != label_before).any()  # the rule changes some labels here
    served = CompactPredictor(path)
    assert served.schema.decision == rule
    np.testing.assert_array_equal(served.predict(rows), served.schema.class_array()[label])
    card = json.loads((path.parent / "compact.json").read_text())
    assert card["decision"]["metric"] == "f1" and "decision" in card["serving"]["outputs"]["label"]
    assert lines == ["model: compact/compact.onnx labels by the decision too"]


def test_no_decision_leaves_the_file_as_it_is(tmp_path):
    run = compact_run(make_table(200, seed=6), "y", tmp_path)
    path = run.run_dir / "compact" / "compact.onnx"
    before = path.read_bytes()
    decide_compact(run.run_dir, None, print)
    assert path.read_bytes() == before
