"""The `export` stage: compact.onnx, the rules, and the model card, in <run>/compact/.

The ONNX file takes the model-ready columns (see `onnx_export`) and returns what
`predict_raw` returns; the written file is checked against the Python student's output
on the stored validation rows, at the stage's `parity_tolerance`, and a failure stops
the run loudly.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from automl.atomic import atomic_write_bytes, atomic_write_text
from automl.compress.choose import CompressResult
from automl.compress.distill import Student
from automl.compress.onnx_export import OnnxModel, check_parity, feeds
from automl.metrics import get_metric


@dataclass
class ExportResult:
    folder: Path
    card: dict


def run(node, inputs, context) -> ExportResult:
    compressed: CompressResult = inputs.one("compress")
    result, chosen, params = compressed.distill, compressed.chosen, node.params
    folder = context.run_dir / "compact"
    metric = get_metric(result.metric, result.schema.task)
    card = {"teacher": {metric.name: metric.from_score(result.teacher_score)},
            "chosen": None, "reason": compressed.reason, "metric": metric.name,
            "scored_on": "validation part"}
    _remove_stale(folder, keep_onnx=chosen is not None,
                  keep_rules=params.rules and any(s.rules is not None for s in result.students))
    if chosen is not None:
        # the file as written, against the Python student's own output on the stored rows
        atomic_write_bytes(folder / "compact.onnx", chosen.onnx)
        check_parity((folder / "compact.onnx").read_bytes(), chosen.sample_output, result.sample,
                     params.parity_tolerance)
        card["chosen"] = _student_card(chosen, result.teacher_score, metric, result.sample)
    if params.rules:
        _write_rules(folder, result.students, chosen)
    atomic_write_text(folder / "compact.json", json.dumps(card, indent=2, default=str) + "\n")
    atomic_write_text(folder / "compact.md", _markdown(card, result.schema.target))
    context.log(f"{node.name}: wrote {folder}" + ("" if chosen else " (no compact model)"))
    return ExportResult(folder, card)


def _student_card(student: Student, teacher_score: float, metric, sample) -> dict:
    return {"name": student.name, "kind": student.kind, "params": student.params,
            metric.name: metric.from_score(student.score),
            "score_drop": teacher_score - student.score, "fidelity": student.fidelity,
            "size_bytes": student.size_bytes, "latency_ms_one_row": student.latency_ms,
            "rows_per_second": _throughput(student.onnx, sample),
            "parity_max_diff": student.parity, "inputs": list(sample.columns)}


def _throughput(onnx_bytes: bytes, sample) -> float:
    """Rows a second, batches of the stored sample through one session (one thread)."""
    model, feed = OnnxModel(onnx_bytes), feeds(sample)
    model.run(feed)
    started, repeats = time.perf_counter(), 0
    while repeats < 200 and (repeats == 0 or time.perf_counter() - started < 0.2):
        model.run(feed)
        repeats += 1
    return repeats * len(sample) / (time.perf_counter() - started)


def _remove_stale(folder: Path, keep_onnx: bool, keep_rules: bool) -> None:
    """A re-run that now exports less must not leave an earlier run's files to be shipped."""
    stale = ([] if keep_onnx else ["compact.onnx"]) + \
        ([] if keep_rules else ["rules.txt", "rules.py", "rules.sql"])
    for name in stale:
        (folder / name).unlink(missing_ok=True)


def _write_rules(folder: Path, students: list[Student], chosen: Student | None) -> None:
    """The chosen student's rules, or else the best-scoring rules student's."""
    rules = [s for s in students if s.rules is not None]
    if not rules:
        return
    pick = chosen if chosen is not None and chosen.rules is not None else \
        max(rules, key=lambda s: s.score)
    atomic_write_text(folder / "rules.txt", f"# {pick.name}\n" + pick.rules.text())
    atomic_write_text(folder / "rules.py", pick.rules.python())
    atomic_write_text(folder / "rules.sql", pick.rules.sql() + "\n")


def _markdown(card: dict, target: str) -> str:
    metric = card["metric"]
    lines = [f"# Compact model for `{target}`", "",
             f"Teacher (the ensemble): {metric} {card['teacher'][metric]:.4f} on the "
             f"{card['scored_on']}.", ""]
    chosen = card["chosen"]
    if chosen is None:
        return "\n".join(lines + [f"No compact model: {card['reason']}.", ""])
    lines += [f"Chosen: **{chosen['name']}** ({card['reason']}).", "",
              "| figure | value |", "|---|---:|",
              f"| {metric} | {chosen[metric]:.4f} |",
              f"| score drop vs teacher | {chosen['score_drop']:.4f} |",
              f"| fidelity (agreement with the teacher) | {chosen['fidelity']:.3f} |",
              f"| size | {chosen['size_bytes'] / 1024:.1f} KB |",
              f"| one-row latency (onnxruntime, 1 thread) | {chosen['latency_ms_one_row']:.3f} ms |",
              f"| batch throughput | {chosen['rows_per_second']:,.0f} rows/s |",
              f"| ONNX vs Python, max difference (regression: relative) | {chosen['parity_max_diff']:.2g} |",
              "", "Inputs (one column each; a missing category as the empty string): "
              + ", ".join(f"`{c}`" for c in chosen["inputs"]), ""]
    return "\n".join(lines)

