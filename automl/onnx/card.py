"""The model card's text: how to serve compact.onnx, and compact.md.

`serving_card` is the contract a production engineer needs and nothing of this package:
each input (name, ONNX type, what a missing value is, how to feed it), the outputs, and
the preconditions the graph does not check (what `predict` does in Python before a
model sees a row, where the graph cannot).
"""

from __future__ import annotations

from automl.bundle import pickled_size_text
from automl.data.schema import Schema
from automl.onnx.raw_front import output_contract
from automl.serving.inputs import input_contract

PRECONDITIONS = [
    "A runtime with the file's opsets (its opset_import): ONNX 17 and ai.onnx.ml up to 5, "
    "whose TreeEnsemble operator (a gbdt student's trees) onnxruntime runs from 1.20 on.",
    "One input per column the model reads, named as the column, of shape (n, 1), of the "
    "type listed; columns the model does not read are not inputs (onnxruntime refuses them).",
    "Numbers as numbers: text such as '3.5' is read by automl's Python predict, not by the "
    "graph; convert it first. Booleans in a numeric column as 0 and 1.",
    "Missing values: NaN for numbers and dates, the empty string for categories. Text that "
    "automl reads as missing in a numeric or date column ('', 'NA', 'N/A', 'nan', 'null', "
    "'none') must be fed as NaN.",
    "Categories as the exact text seen in training (case and spaces count): booleans as "
    "True / False, whole numbers as 3 (not 3.0). Any other text counts as missing.",
    "Dates as float64 seconds since 1970-01-01T00:00:00 of the wall-clock date and time "
    "(Unix time when the dates carry no time zone; a date with a zone as its local time, "
    "e.g. pyarrow.compute.local_timestamp, then cast to int64 and divided by the unit). "
    "Text dates are parsed by the caller (ISO 8601, as automl reads them).",
]

SERVE_EXAMPLE = '''import json
import numpy as np
import onnxruntime as ort
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

session = ort.InferenceSession("compact.onnx")
inputs = json.loads(session.get_modelmeta().custom_metadata_map["automl.inputs"])
table = pq.read_table("rows.parquet")
feed = {}
for spec in inputs:
    column = table[spec["name"]]
    if spec["onnx_type"] == "float32":      # numbers; null -> NaN
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype("float32")
    elif spec["onnx_type"] == "string":     # categories; null -> ""
        if pa.types.is_boolean(column.type):
            column = pc.if_else(column, "True", "False")
        values = pc.fill_null(pc.cast(column, pa.string()), "").to_numpy(zero_copy_only=False)
    else:                                   # dates: wall-clock seconds since the epoch; null -> NaN
        if not pa.types.is_timestamp(column.type):  # a date, or ISO 8601 text
            column = pc.cast(column, pa.timestamp("us"))
        if column.type.tz is not None:      # a date with a zone counts as its local time
            column = pc.local_timestamp(column)
        unit = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[column.type.unit]
        values = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False) / unit
    feed[spec["name"]] = np.asarray(values).reshape(-1, 1)
outputs = session.run(None, feed)   # label and probabilities, or the value
'''


def serving_card(schema: Schema) -> dict:
    return {"inputs": input_contract(schema), "outputs": output_contract(schema),
            "classes": schema.classes, "preconditions": PRECONDITIONS,
            "metadata": "the file's metadata holds the same: automl.inputs, automl.outputs, "
                        "automl.classes, automl.schema (JSON)",
            "from_automl": "automl predict RUN_DIR DATA --model compact; in Python "
                           "AutoML.load(RUN_DIR, model='compact') (the ensemble stays the "
                           "default model of both)",
            "example_python": SERVE_EXAMPLE}


def markdown(card: dict, target: str) -> str:
    metric = card["metric"]
    lines = [f"# Compact model for `{target}`", "",
             f"Teacher (the ensemble): {metric} {card['teacher'][metric]:.4f} on the "
             f"{card['scored_on']}" + (f"; xgboost's defaults on the same rows' true labels, "
                                       f"the reference: {card['reference'][metric]:.4f}"
                                       if card.get("reference") else "") + ".", ""]
    chosen = card["chosen"]
    if chosen is None:
        return "\n".join(lines + [f"No compact model: {card['reason']}.", ""])
    timing = chosen["timing"]
    verdict = ("It meets the score constraint." if chosen["meets_score_constraint"] else
               f"**It does not meet the score constraint**: it misses it by "
               f"{chosen['score_shortfall']:.4g} {metric}. The ensemble stays the model "
               "`automl predict` uses; this one is used when asked for (`--model compact`).")
    decided = ([f"Labels: {card['decision']['rule']} (its `label` output; the "
                f"probabilities are as learned).", ""] if card.get("decision") else [])
    lines += [f"Chosen: **{chosen['name']}** ({card['reason']}).", "", verdict, "",
              *decided, *_memo_lines(chosen),
              "| figure | value |", "|---|---:|",
              f"| {metric} | {chosen[metric]:.4f} |",
              f"| score drop vs teacher | {chosen['score_drop']:.4f} |",
              f"| fidelity (agreement with the teacher) | {chosen['fidelity']:.3f} |",
              f"| size | {chosen['size_bytes'] / 1024:.1f} KB |",
              *_size_share_row(chosen["size_bytes"], card.get("teacher_size_bytes")),
              f"| one row, compact.onnx in onnxruntime (1 thread) | {chosen['latency_ms_one_row']:.3f} ms |",
              f"| one row, `AutoML.load(run, model=\"compact\").predict(dict)` | "
              f"{chosen['python_ms_one_row']:.3f} ms |",
              f"| batch throughput | {chosen['rows_per_second']:,.0f} rows/s |",
              f"| ONNX (raw columns) vs Python, max difference (regression: relative) | "
              f"{chosen['parity_max_diff']:.2g} |",
              "", f"Latencies: median of {timing['calls']} one-row calls after 100 warm-up "
              f"calls, measured by the export stage on {timing['cpus']} CPU(s) at a 1-minute "
              f"load average of {timing['load_average_1min']} (a busy machine slows them).",
              "", *_serving_lines(card["serving"])]
    return "\n".join(lines)


def _memo_lines(chosen: dict) -> list[str]:
    """What a memo student holds, and what that tells whoever has the file."""
    if chosen["kind"] != "memo":
        return []
    return [f"It holds a memo of {chosen['params']['memo_rows']:,} training rows: a 42-bit "
            "key of each row's values and the teacher's output there, which answers a row "
            "that repeats one of them exactly. Whoever has the file can tell whether a given "
            "row was among them; where that matters, drop `memo` from the distill node's "
            "`students`.", ""]


def _size_share_row(size_bytes: int, teacher_bytes: int | None) -> list[str]:
    if not teacher_bytes:
        return []
    return [f"| size ÷ teacher's (its predictor, {pickled_size_text(teacher_bytes)}) | "
            f"{size_bytes / teacher_bytes:.3f} |"]


def _serving_lines(serving: dict) -> list[str]:
    lines = ["## Serving compact.onnx", "",
             "The table's own columns in, one (n, 1) input each:", "",
             "| input | kind | ONNX type | missing |", "|---|---|---|---|"]
    lines += [f"| `{i['name']}` | {i['kind']} | {i['onnx_type']} | {i['missing']} |"
              for i in serving["inputs"]]
    feeds = {i["kind"]: i["feed"] for i in serving["inputs"]}
    lines += ["", "How to feed each kind:", ""] + [f"- {kind}: {feed}" for kind, feed in feeds.items()]
    lines += ["", "Outputs: " + "; ".join(f"`{name}`: {what}" for name, what in
                                         serving["outputs"].items())]
    if serving["classes"] is not None:
        lines += ["", "Classes, in the order of the probability columns: "
                  + ", ".join(f"`{c}`" for c in serving["classes"])]
    lines += ["", "Preconditions (what the graph does not do for you):", ""]
    lines += [f"- {text}" for text in serving["preconditions"]]
    lines += ["", f"From automl: {serving['from_automl']}.", "",
              "With onnxruntime alone (Python; any language's binding takes the same inputs):",
              "", "```python", serving["example_python"].rstrip(), "```", ""]
    return lines
