"""compact.onnx labels by the run's decision, as model/ensemble.onnx does.

The compact model is written by its export stage, before the run has chosen its decision
(`automl.decisions`, on the final model's held-out predictions, at the run's end). Then
its `label` output is re-made from its `probabilities` by that decision (a threshold on
class 1, or weights on the classes: `ensemble_graph.label_output`), and the schema in its
metadata gains the decision, so that the Python side of `CompactPredictor` labels rows
the same way. The probabilities do not change.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from automl.atomic import atomic_write_bytes, atomic_write_text
from automl.data.schema import Schema
from automl.onnx.card import markdown
from automl.onnx.ensemble_graph import label_output
from automl.onnx.op_graph import OpGraph
from automl.onnx.raw_front import output_contract
from automl.serving.inputs import frame_feeds, raw_rows

COMPACT_FILE = Path("compact") / "compact.onnx"
PREFIX = "decision/"


def decide_compact(run_dir: Path, decision, log, rows=None) -> None:
    """Re-label <run_dir>/compact/compact.onnx by `decision` where both exist; `rows`
    (model-ready, optional): a check that its labels follow the decision there."""
    path = Path(run_dir) / COMPACT_FILE
    if decision is None or not path.is_file():
        return
    relabelled = with_decision(path.read_bytes(), decision)
    if rows is not None:
        _check(relabelled, decision, rows.head(500))
    atomic_write_bytes(path, relabelled)
    _card_with_decision(path.parent, decision)
    log("model: compact/compact.onnx labels by the decision too")


def _card_with_decision(folder: Path, decision) -> None:
    """compact.json and compact.md say how the label follows (the card was written first)."""
    card_file = folder / "compact.json"
    if not card_file.is_file():
        return
    card = json.loads(card_file.read_text())
    schema = _metadata_schema(onnx.load(str(folder / "compact.onnx"), load_external_data=False))
    card["decision"] = {**decision.model_dump(mode="json"), "rule": decision.describe()}
    if card.get("serving"):
        card["serving"]["outputs"] = output_contract(schema)
    atomic_write_text(card_file, json.dumps(card, indent=2, default=str) + "\n")
    atomic_write_text(folder / "compact.md", markdown(card, schema.target))


def with_decision(onnx_bytes: bytes, decision) -> bytes:
    model = onnx.load_from_string(onnx_bytes)
    graph = model.graph
    for node in graph.node:  # the old label: an edge nobody reads (a multi-output node keeps it)
        node.output[:] = [f"{PREFIX}replaced_label" if name == "label" else name
                          for name in node.output]
    kept = [n for n in graph.node if not (list(n.output) == [f"{PREFIX}replaced_label"])]
    g = OpGraph(PREFIX)
    label_output(g, "probabilities", decision)
    del graph.node[:]
    graph.node.extend(kept + g.nodes)
    graph.initializer.extend(g.constants)
    schema = _metadata_schema(model).model_copy(update={"decision": decision})
    _set_metadata(model, {"automl.schema": schema.model_dump_json(),
                          "automl.outputs": _outputs_json(schema)})
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _metadata_schema(model: onnx.ModelProto) -> Schema:
    metadata = {p.key: p.value for p in model.metadata_props}
    return Schema.model_validate_json(metadata["automl.schema"])


def _outputs_json(schema: Schema) -> str:
    return json.dumps(output_contract(schema))


def _set_metadata(model: onnx.ModelProto, values: dict[str, str]) -> None:
    for entry in model.metadata_props:
        if entry.key in values:
            entry.value = values.pop(entry.key)
    for key, value in values.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def _check(onnx_bytes: bytes, decision, rows) -> None:
    """The file's labels are the decision's labels of its own probabilities."""
    model = onnx.load_from_string(onnx_bytes)
    schema = _metadata_schema(model)
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    label, proba = session.run(["label", "probabilities"],
                               frame_feeds(raw_rows(rows, schema), schema))
    if not np.array_equal(label, decision.labels(proba)):
        raise AssertionError("compact.onnx's relabelled output does not follow the decision")
