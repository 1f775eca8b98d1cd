"""The `compress` stage: pick the compact model under the graph's constraints.

The chosen student is the smallest that keeps the score within `max_score_drop` of the
teacher's and meets the size and latency caps. Every student tried goes on the Pareto
front file (size, latency, score), the chosen one marked. When none qualifies, the run
says which constraint failed and the ensemble stays the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from automl.atomic import atomic_write_text
from automl.compress.distill import DistillResult, Student
from automl.metrics import get_metric


@dataclass
class CompressResult:
    distill: DistillResult
    chosen: Student | None
    reason: str  # why this one, or why none


def run(node, inputs, context) -> CompressResult:
    result, params = inputs[0], node.params
    metric = get_metric(result.metric, result.schema.task)
    failures = {s.name: _failures(s, result.teacher_score, params) for s in result.students}
    passing = [s for s in result.students if not failures[s.name]]
    if passing:
        chosen = min(passing, key=lambda s: (s.size_bytes, s.latency_ms, -s.score))
        reason = (f"smallest of {len(passing)} student(s) within {params.max_score_drop:g} "
                  f"{metric.name} of the teacher")
    else:
        chosen = None
        closest = max(result.students, key=lambda s: s.score)
        reason = (f"no student meets the constraints (closest, {closest.name}: "
                  f"{'; '.join(failures[closest.name])}); the ensemble stays the model: "
                  "relax max_score_drop / max_size_kb / max_latency_ms or add students")
    context.log(f"{node.name}: " + (f"chose {chosen.name}: {reason}" if chosen else reason))
    if not any(s.kind == "mlp" for s in result.students) and (params.prune or params.int8):
        context.log(f"{node.name}: no MLP student, so pruning / low-rank / int8 do not apply")
    _write_front(result, chosen, metric, context.run_dir / "compact" / "pareto.csv")
    return CompressResult(result, chosen, reason)


def _failures(student: Student, teacher_score: float, params) -> list[str]:
    failed = []
    drop = teacher_score - student.score
    if drop > params.max_score_drop:
        failed.append(f"score {drop:.4g} below the teacher's, over max_score_drop "
                      f"{params.max_score_drop:g}")
    if params.max_size_kb is not None and student.size_bytes / 1024 > params.max_size_kb:
        failed.append(f"{student.size_bytes / 1024:.1f} KB over max_size_kb {params.max_size_kb:g}")
    if params.max_latency_ms is not None and student.latency_ms > params.max_latency_ms:
        failed.append(f"{student.latency_ms:.3f} ms over max_latency_ms {params.max_latency_ms:g}")
    return failed


def pareto_front(students: list[Student]) -> set[str]:
    """Names of the students no other beats on size, latency and score at once."""
    def dominates(a: Student, b: Student) -> bool:
        no_worse = a.size_bytes <= b.size_bytes and a.latency_ms <= b.latency_ms and a.score >= b.score
        better = a.size_bytes < b.size_bytes or a.latency_ms < b.latency_ms or a.score > b.score
        return no_worse and better

    return {s.name for s in students if not any(dominates(o, s) for o in students if o is not s)}


def _write_front(result: DistillResult, chosen: Student | None, metric, path) -> None:
    front = pareto_front(result.students)
    rows = [{"student": s.name, "kind": s.kind, metric.name: metric.from_score(s.score),
             "fidelity": s.fidelity, "size_bytes": s.size_bytes, "latency_ms": s.latency_ms,
             "on_front": s.name in front, "chosen": chosen is not None and s.name == chosen.name}
            for s in result.students]
    teacher = {"student": "teacher (ensemble)", "kind": "teacher",
               metric.name: metric.from_score(result.teacher_score)}
    atomic_write_text(path, pd.DataFrame([teacher] + rows).to_csv(index=False))
