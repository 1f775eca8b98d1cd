"""The `compress` stage: shrink the best MLP student, then pick the compact model.

First pruning, low-rank and int8 make new students from the best MLP (see `shrink`).
Then the chosen student is the smallest that keeps the score within the allowed drop
of the teacher's (`max_score_drop` in the metric's units, `max_relative_drop` as a
share of its value, `min_gain_kept` as a share of the teacher's gain over the
distillation's reference, xgboost's defaults; all that are set apply) and meets the size
and latency caps.
When none keeps the score, the best-scoring student within the caps is chosen anyway,
marked as missing the score constraint and by how much: a compact run always leaves a
compact model unless the caps rule out every student. The ensemble stays the model
`automl predict` uses either way. Every student tried goes on the Pareto front file
(size, latency, score, which constraints it meets), the chosen one marked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from automl.atomic import atomic_write_text
from automl.budget import Budget
from automl.students.judged import DistillResult, Student, describe
from automl.distill.shrink import STEPS, shrunk_students
from automl.students.size_limit import size_limit_kb
from automl.metrics import get_metric


FINE_TUNE_SECONDS = 10.0  # for fine-tuning the pruned MLP, at most (the stage's budget is its share)


@dataclass
class CompressResult:
    distill: DistillResult
    chosen: Student | None
    reason: str  # why this one, or why none
    # False: `chosen` is the best student within the size and latency caps, but its score
    # falls `shortfall` (metric units) short of the score constraint
    meets_score: bool = True
    shortfall: float = 0.0


def run(node, inputs, context) -> CompressResult:
    # a copy: the shrunk students are this node's, and distill's output stays as it was
    distilled = inputs.one("distill")
    result = replace(distilled, students=list(distilled.students), nets=dict(distilled.nets))
    params = node.params
    metric = get_metric(result.metric, result.schema.task)
    _shrink(node, result, metric, context)
    allowed = allowed_drop(params, metric.from_score(result.teacher_score), _gain(result))
    judged = [s for s in result.students if s.judged_on is None]  # on the teacher's rows
    chosen = choose(judged, result.teacher_score, allowed, params, metric, result.teacher_bytes)
    context.log(f"{node.name}: " + (f"chose {chosen.chosen.name}: " if chosen.chosen else "")
                + chosen.reason)
    _write_front(result, chosen.chosen, allowed, params, metric,
                 context.run_dir / "compact" / "pareto.csv")
    return CompressResult(result, chosen.chosen, chosen.reason, chosen.meets_score,
                          chosen.shortfall)


@dataclass
class Choice:
    chosen: Student | None
    reason: str
    meets_score: bool
    shortfall: float


def choose(students: list[Student], teacher_score: float, allowed: float | None, params,
           metric, teacher_bytes: int | None = None) -> Choice:
    """The smallest student that meets every constraint; else the best-scoring one within
    the size and latency caps, marked as short of the score constraint; else none."""
    capped = [s for s in students if not _cap_failures(s, params, teacher_bytes)]
    meeting = [s for s in capped if not shortfall(s, teacher_score, allowed)]
    within = "" if allowed is None else f" within {allowed:.4g} {metric.name} of the teacher"
    if meeting:
        chosen = min(meeting, key=lambda s: (s.size_bytes, s.latency_ms, -s.score))
        return Choice(chosen, f"smallest of {len(meeting)} student(s){within}", True, 0.0)
    if capped:
        best = max(capped, key=lambda s: s.score)
        short = shortfall(best, teacher_score, allowed)
        return Choice(best, (
            f"no student is{within}: this one, the best within the size and latency caps, "
            f"misses the score constraint by {short:.4g} {metric.name} "
            f"({teacher_score - best.score:.4g} below the teacher, {allowed:.4g} allowed); it is "
            "exported anyway, and the ensemble stays the model `automl predict` uses (ask for "
            "this one with --model compact)"), False, short)
    closest = max(students, key=lambda s: s.score)
    failed = _cap_failures(closest, params, teacher_bytes)
    if shortfall(closest, teacher_score, allowed):
        failed.insert(0, f"score {teacher_score - closest.score:.4g} below the teacher's, over "
                         f"the {allowed:.4g} allowed")
    return Choice(None, (f"no student meets the constraints (closest, {closest.name}: "
                         f"{'; '.join(failed)}); the ensemble stays the model: relax "
                         "max_size_kb / max_size_share / max_latency_ms or add students"),
                  False, 0.0)


def _shrink(node, result: DistillResult, metric, context) -> None:
    params = node.params
    steps = {step: getattr(params, step) for step in STEPS}
    if not any(steps.values()):
        return
    if not any(s.kind == "mlp" and s.name in result.nets for s in result.students):
        context.log(f"{node.name}: no MLP student to shrink (none, or each is a finalist the "
                    "cross-fit judged on every fold), so pruning / low-rank / int8 do not apply")
        return
    left = context.budget.remaining()
    fine_tune = Budget(FINE_TUNE_SECONDS if left is None else max(1.0, min(left, FINE_TUNE_SECONDS)))
    for student in shrunk_students(result, steps, fine_tune, context.settings.seed,
                                   context.offload):
        result.students.append(student)
        context.log(f"{node.name}: {describe(student, metric, result.teacher_score)}")


def allowed_drop(params, teacher_value: float, gain: float | None = None) -> float | None:
    """The largest score drop the constraints allow (None: no score constraint). `gain`:
    the teacher's score over the reference's (min_gain_kept applies only where it is > 0)."""
    drops = [params.max_score_drop] if params.max_score_drop is not None else []
    if params.max_relative_drop is not None:
        drops.append(params.max_relative_drop * abs(teacher_value))
    if params.min_gain_kept is not None and gain is not None and gain > 0:
        drops.append((1 - params.min_gain_kept) * gain)
    return min(drops) if drops else None


def _gain(result: DistillResult) -> float | None:
    reference = result.reference_score
    return None if reference is None else result.teacher_score - reference


def shortfall(student: Student, teacher_score: float, allowed: float | None) -> float:
    """How far the student's score falls short of the score constraint (0: it meets it)."""
    if allowed is None:
        return 0.0
    return max(0.0, teacher_score - student.score - allowed)


def _cap_failures(student: Student, params, teacher_bytes: int | None) -> list[str]:
    failed = []
    limit_kb = size_limit_kb(params.max_size_kb, params.max_size_share, teacher_bytes)
    if limit_kb is not None and student.size_bytes / 1024 > limit_kb:
        failed.append(f"{student.size_bytes / 1024:.1f} KB over the {limit_kb:.4g} KB allowed "
                      "(max_size_kb, max_size_share of the teacher's size)")
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


def _score_columns(student: Student, result: DistillResult, allowed: float | None) -> dict:
    """Whether it meets the score constraint; blank for a student judged on other rows
    than the teacher's score (a cross-fit's non-finalists), which no constraint compares."""
    if student.judged_on is not None:
        return {"meets_score": None, "score_shortfall": None}
    short = shortfall(student, result.teacher_score, allowed)
    return {"meets_score": not short, "score_shortfall": short}


def _write_front(result: DistillResult, chosen: Student | None, allowed: float | None, params,
                 metric, path) -> None:
    front = pareto_front(result.students)
    rows = [{"student": s.name, "kind": s.kind, metric.name: metric.from_score(s.score),
             "fidelity": s.fidelity, "size_bytes": s.size_bytes, "latency_ms": s.latency_ms,
             "on_front": s.name in front, "chosen": chosen is not None and s.name == chosen.name,
             "meets_caps": not _cap_failures(s, params, result.teacher_bytes),
             **_score_columns(s, result, allowed),
             "judged_on": s.judged_on or result.judged_on}
            for s in result.students]
    teacher = {"student": "teacher (ensemble)", "kind": "teacher",
               metric.name: metric.from_score(result.teacher_score)}
    atomic_write_text(path, pd.DataFrame([teacher] + rows).to_csv(index=False))
