"""The `export` stage: compact.onnx, the rules, and the model card, in <run>/compact/.

compact.onnx is the chosen student's graph with the raw-column front of `raw_front`: the
table's own columns in (the forms of `automl.serving.inputs`), what `predict_raw` returns
out. The written file is checked against the Python student's output on the stored
validation rows, fed as raw columns, at the stage's `parity_tolerance`, and a failure
stops the run loudly. Then it is timed as it is served: one row in onnxruntime alone, and
one row through `CompactPredictor` (what `AutoML.load(run, model="compact").predict` runs).

The stage reads the compress stage's output (`automl.distill.compress.CompressResult`,
its students `automl.students.judged.Student`) by their fields, without importing them:
the distill package measures its students with this package's converters, and an
import back would close a loop.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from automl.atomic import atomic_write_bytes, atomic_write_text
from automl.data.schema import Schema
from automl.metrics import get_metric
from automl.onnx.card import markdown, serving_card
from automl.onnx.parity import check_parity
from automl.onnx.raw_front import raw_model
from automl.serving.compact import CompactPredictor, one_row_latency
from automl.serving.inputs import frame_feeds, raw_rows

LATENCY_CALLS = 1000


@dataclass
class ExportResult:
    folder: Path
    card: dict


def run(node, inputs, context) -> ExportResult:
    compressed = inputs.one("compress")
    result, chosen, params = compressed.distill, compressed.chosen, node.params
    folder = context.run_dir / "compact"
    metric = get_metric(result.metric, result.schema.task)
    card = {"teacher": {metric.name: metric.from_score(result.teacher_score)},
            "chosen": None, "reason": compressed.reason, "metric": metric.name,
            "scored_on": "validation part" if result.judged_on is None else result.judged_on}
    if result.reference_score is not None:  # xgboost's defaults on the same rows
        card["reference"] = {metric.name: metric.from_score(result.reference_score)}
    if result.teacher_bytes is not None:
        card["teacher_size_bytes"] = result.teacher_bytes
    _remove_stale(folder, keep_onnx=chosen is not None,
                  keep_rules=params.rules and any(s.rules is not None for s in result.students))
    if chosen is not None:
        written = write_compact_model(folder / "compact.onnx", chosen.onnx, result.schema,
                                      result.sample, chosen.sample_output, params.parity_tolerance)
        card["chosen"] = {**_student_card(chosen, result.teacher_score, metric), **written,
                          "meets_score_constraint": compressed.meets_score,
                          "score_shortfall": compressed.shortfall}
        card["serving"] = serving_card(result.schema)
    if params.rules:
        _write_rules(folder, result.students, chosen)
    atomic_write_text(folder / "compact.json", json.dumps(card, indent=2, default=str) + "\n")
    atomic_write_text(folder / "compact.md", markdown(card, result.schema.target))
    context.log(f"{node.name}: wrote {folder}" + _log_note(card["chosen"]))
    return ExportResult(folder, card)


def _log_note(chosen: dict | None) -> str:
    if chosen is None:
        return " (no compact model)"
    note = (f" (compact.onnx: {chosen['size_bytes'] / 1024:.1f} KB, one row "
            f"{chosen['latency_ms_one_row']:.3f} ms in onnxruntime, "
            f"{chosen['python_ms_one_row']:.3f} ms from Python")
    if not chosen["meets_score_constraint"]:
        note += f"; short of the score constraint by {chosen['score_shortfall']:.4g}"
    return note + ")"


def write_compact_model(path: Path, student_onnx: bytes, schema: Schema, sample: pd.DataFrame,
                        sample_output: np.ndarray, tolerance: float) -> dict:
    """Write the student's graph (over model-ready columns) as compact.onnx taking raw
    columns, check the written file against the Python student's `sample_output` on the
    model-ready `sample` rows (fed as raw columns), time it, and return the card's figures."""
    atomic_write_bytes(path, raw_model(student_onnx, schema))
    written = path.read_bytes()
    rows = raw_rows(sample, schema)
    feed = frame_feeds(rows, schema)
    parity = check_parity(written, sample_output, feed, tolerance)
    predictor = CompactPredictor(path)
    latency = one_row_latency(predictor, rows.to_dict("records"), LATENCY_CALLS)
    return {"size_bytes": len(written), "parity_max_diff": parity,
            "parity_rows": len(rows), "latency_ms_one_row": latency["onnxruntime_ms"],
            "python_ms_one_row": latency["python_ms"],
            "rows_per_second": _throughput(predictor, feed, len(rows)),
            "timing": {"calls": latency["calls"], "statistic": "median after 100 warm-up calls",
                       "onnxruntime_threads": 1, "cpus": os.cpu_count(),
                       "load_average_1min": round(os.getloadavg()[0], 2)},
            "inputs": [c.name for c in schema.columns]}


def _student_card(student, teacher_score: float, metric) -> dict:
    return {"name": student.name, "kind": student.kind, "params": student.params,
            metric.name: metric.from_score(student.score),
            "score_drop": teacher_score - student.score, "fidelity": student.fidelity}


def _throughput(predictor: CompactPredictor, feed: dict, n_rows: int) -> float:
    """Rows a second, batches of the stored sample through one session (one thread)."""
    run = predictor.session.run
    run(predictor.outputs, feed)
    started, repeats = time.perf_counter(), 0
    while repeats < 200 and (repeats == 0 or time.perf_counter() - started < 0.2):
        run(predictor.outputs, feed)
        repeats += 1
    return repeats * n_rows / (time.perf_counter() - started)


def _remove_stale(folder: Path, keep_onnx: bool, keep_rules: bool) -> None:
    """A re-run that now exports less must not leave an earlier run's files to be shipped."""
    stale = ([] if keep_onnx else ["compact.onnx"]) + \
        ([] if keep_rules else ["rules.txt", "rules.py", "rules.sql"])
    for name in stale:
        (folder / name).unlink(missing_ok=True)


def _write_rules(folder: Path, students: list, chosen) -> None:
    """The chosen student's rules, or else the best-scoring rules student's."""
    rules = [s for s in students if s.rules is not None]
    if not rules:
        return
    pick = chosen if chosen is not None and chosen.rules is not None else \
        max(rules, key=lambda s: s.score)
    atomic_write_text(folder / "rules.txt", f"# {pick.name}\n" + pick.rules.text())
    atomic_write_text(folder / "rules.py", pick.rules.python())
    atomic_write_text(folder / "rules.sql", pick.rules.sql() + "\n")
