"""The `distill` stage: small students trained on the teacher's soft predictions.

Teacher: the model of the node it reads (an ensemble, or a search's best trial).
Rows: the training rows plus synthetic rows (`augment`), labelled by a teacher that never
saw the rows the students are judged on (its fold models that left the judged fold out,
where the search was cross-validated; see `teaching`).
Students, all reading the `trees` branch so the export carries its preprocessing:
- a fixed ladder of sizes (`ladder`): small xgboost and LightGBM models, shallow
  decision trees (readable rules), a linear model and small MLPs (`dense_student`);
- then, with `search`, a gbdt and an MLP student tuned on Ray Tune by the search the
  run offers its stages (`context.tune`, families `student_gbdt`/`student_mlp`), with
  `search_share` of the stage's budget;
- then a blend: the best tree student and MLP student averaged in one graph, where that
  beats both (`blend`);
- then memos: the best tree and blend students, each with the teacher's output on the
  training rows that recur, looked up in the same graph (`memo`), where the judged rows
  repeat some training row.
Each is scored on the judged rows (the validation part; under kfold, one fold),
compared with the teacher (fidelity), exported to ONNX, checked for parity and timed
there. Under kfold the best few are then judged again on every fold and refitted on all
the training rows (`crossfit`, with CROSS_FIT_SHARE of the stage's budget).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

from automl.budget import Budget
from automl.bundle import pickled_bytes, pickled_size_text
from automl.config import SearchParams
from automl.data.split import HOLDOUT, Validation
from automl.distill.blend import best_blend
from automl.distill.crossfit import cross_fit
from automl.distill.dense_student import Training
from automl.distill.families import default_xgboost_output, student_max_nodes
from automl.distill.judged import SAMPLE_ROWS, DistillResult, Scoring, Student, describe, fit_recipe
from automl.distill.ladder import DENSE, ladder_students
from automl.distill.memo import MIN_REPEATS, memo_students, repeat_share
from automl.distill.size_limit import size_limit_kb
from automl.distill.teaching import Teaching, lessons
from automl.errors import first_line
from automl.metrics import get_metric
from automl.models.dense_code import DenseCode
from automl.models.dense_net import DenseNet
from automl.preprocess.stage import BranchData
from automl.runfolder import loaded

MIN_SEARCH_SECONDS = 4.0  # a student search with less than this is skipped (Tune's start-up)
UNBUDGETED_SEARCH_TRIALS = 8
REFERENCE_SHARE = 0.1  # of the stage's budget, at most, for the reference model
# of the stage's budget, kept for the cross-fit in kfold runs: less reached too few folds
# (docs/results/2026-11-30-student-ladder.md)
CROSS_FIT_SHARE = 0.4
TUNING_ROWS = 20_000  # rows kept for fine-tuning a pruned student in the compress stage


def run(node, inputs, context) -> DistillResult:
    params, settings = node.params, context.settings
    teacher_output = inputs.one("ensemble", "search")
    dataset, trees = inputs.one("ingest"), inputs.one("preprocess")
    schema, branch = dataset.schema, trees.branch
    metric = get_metric(teacher_output.metric, schema.task)
    started = time.time()
    lesson = lessons(dataset, trees, teacher_output, params, settings.seed)
    lesson_seconds = time.time() - started
    context.log(f"{node.name}: {lesson.n_real} training + {len(lesson.Z) - lesson.n_real} "
                f"synthetic rows ({params.augment}); real rows labelled by {lesson.labels}")
    scoring = Scoring(branch, lesson.valid, lesson.y_valid, lesson.teacher_valid, metric,
                      schema.task, lesson.Z_valid)
    teacher_score = metric.score(lesson.y_valid, lesson.teacher_valid)
    teacher_bytes = pickled_bytes(teacher_output.predictor())
    aim_kb = size_limit_kb(params.max_student_kb, params.max_student_share, teacher_bytes)
    max_nodes = student_max_nodes(aim_kb)
    if aim_kb is not None:
        context.log(f"{node.name}: students aimed at {aim_kb:.0f} KB (the teacher: "
                    f"{pickled_size_text(teacher_bytes)})")
    training = None
    if set(params.students) & set(DENSE):  # the encoding learns from the real rows only
        code = DenseCode.fit(lesson.Z[:lesson.n_real], branch.categorical)
        training = Training.make(code, lesson.Z, lesson.targets, lesson.Z_valid,
                                 lesson.teacher_valid, schema.task)
    # a kfold run keeps CROSS_FIT_SHARE of the stage for judging the finalists on every fold
    budget = context.budget
    screening = budget.until(1 - CROSS_FIT_SHARE) if lesson.fold is not None else budget
    reference = _reference_score(lesson, schema.task, metric, budget.share(REFERENCE_SHARE),
                                 settings.seed, node.name, context)
    searched = _searched_families(params.students) if params.search else []
    search_share = params.search_share if searched and budget.limited else 0.0
    result = DistillResult(schema, metric.name, teacher_score, [], lesson.valid.head(SAMPLE_ROWS),
                           scoring, tuning=training and training.sample(TUNING_ROWS, settings.seed),
                           reference_score=reference, judged_on=lesson.judged_on,
                           teacher_bytes=teacher_bytes)
    ladder = screening.share(1 - search_share)
    for student, net in ladder_students(node, params.students, lesson.Z, lesson.targets,
                                        lesson.n_real, training, scoring, schema, max_nodes,
                                        ladder, context):
        _add(result, student, net, node.name, context)
    if searched:
        data = BranchData(branch, schema, lesson.Z, lesson.targets, scoring.Z_valid,
                          scoring.y_valid, Validation(HOLDOUT))
        for student, model in _tuned_students(node, searched, data, scoring, max_nodes,
                                              screening, context):
            _add(result, student, getattr(model, "net_", None), node.name, context)
    if "blend" in params.students:
        _add_blend(result, aim_kb, node.name, context)
    if "memo" in params.students:
        _add_memos(result, lesson, aim_kb, node.name, context)
    if lesson.fold is None:
        return result
    return cross_fit(result, Teaching(dataset, trees, teacher_output, params, settings.seed,
                                      lesson_seconds), budget, node.name, context)


def _add_blend(result: DistillResult, aim_kb: float | None, label: str, context) -> None:
    """The best blend of a tree and an MLP student within the size aim (`blend`), where
    one beats both its parts on the judged rows."""
    try:
        blend = best_blend(result.students, result.nets, result.scoring,
                           None if aim_kb is None else aim_kb * 1024)
    except Exception as err:  # noqa: BLE001 - as a student of the ladder
        context.log(f"{label}: the blend student failed and is left out: "
                    f"{first_line(err) or type(err).__name__}")
        return
    if blend is None:
        context.log(f"{label}: no blend of a tree and an MLP student beat both its parts"
                    + ("" if aim_kb is None else f" within {aim_kb:.0f} KB"))
    else:
        _add(result, blend, None, label, context)


def _add_memos(result: DistillResult, lesson, aim_kb: float | None, label: str, context) -> None:
    """The best tree and blend students with a memo of the recurring rows (`memo`),
    where the judged rows repeat some training row."""
    try:
        memos = memo_students(result.students, lesson, result.scoring,
                              None if aim_kb is None else aim_kb * 1024)
    except Exception as err:  # noqa: BLE001 - as a student of the ladder
        context.log(f"{label}: the memo students failed and are left out: "
                    f"{first_line(err) or type(err).__name__}")
        return
    if not memos:
        context.log(f"{label}: no memo student ({repeat_share(lesson.Z_valid, lesson.Z[:lesson.n_real]):.1%} "
                    f"of the judged rows repeat a training row, under {MIN_REPEATS:.0%}; "
                    "or no tree student has room for one)")
    for student in memos:
        _add(result, student, None, label, context)


def _reference_score(lesson, task: str, metric, budget: Budget, seed: int, label: str,
                     context) -> float | None:
    """xgboost's defaults, learning the true labels of the real rows the students learn
    from, scored on the rows they are judged on; None (logged) if it cannot be fitted."""
    try:  # a class missing from the learning rows, say
        output = default_xgboost_output(lesson.Z[:lesson.n_real], lesson.y_real, lesson.Z_valid,
                                        task, budget, seed, n_jobs=os.cpu_count() or 1)
        score = metric.score(lesson.y_valid, output)
    except Exception as err:  # noqa: BLE001 - the reference informs a constraint, no more
        context.log(f"{label}: no reference model ({first_line(err) or type(err).__name__})")
        return None
    context.log(f"{label}: reference, xgboost's defaults on the same rows' true labels: "
                f"{metric.name} {metric.from_score(score):.4f}")
    return score


def _add(result: DistillResult, student: Student, net: DenseNet | None, label: str, context) -> None:
    result.students.append(student)
    if net is not None:
        result.nets[student.name] = net
    context.log(f"{label}: {describe(student, get_metric(result.metric, result.schema.task), result.teacher_score)}")


# student kinds the Ray Tune search can tune, and the family that does
SEARCHED = {"gbdt": "student_gbdt", "mlp": "student_mlp"}


def _searched_families(kinds: list[str]) -> list[str]:
    return [family for kind, family in SEARCHED.items() if kind in kinds]


def _tuned_students(node, families: list[str], data: BranchData, scoring: Scoring,
                    max_nodes: int | None, budget: Budget, context):
    """The best trial of each student family, tuned on Ray Tune like the search's
    families (the trials land in <node>/students/), in what the stage's budget has left
    after the ladder; nothing when that is too short."""
    left = budget.remaining()
    if left is not None and left < MIN_SEARCH_SECONDS:
        context.log(f"{node.name}: {left:.1f}s left for the student search, under "
                    f"{MIN_SEARCH_SECONDS:g}s; skipped")
        return
    trials = node.params.search_trials or (UNBUDGETED_SEARCH_TRIALS if left is None else None)
    # every student trial learns from all the lessons: a sample would teach it less, and
    # the tuned students are not fitted again
    params = SearchParams(families=families, searcher="tpe", scheduler="fifo",
                          max_trials=trials, keep_models=len(families) * 3, sample_rows=None)
    fixed = {"student_gbdt": {"max_nodes": max_nodes}} if max_nodes else None
    searched = context.tune(params, {"trees": data}, scoring.metric, budget,
                            f"{node.name} (students)", context.node_dir / "students", fixed)
    finished = searched.finished()
    context.log(f"{node.name}: student search: {len(searched.trials)} trials, "
                f"{len(finished)} finished")
    for family in families:
        best = next((t for t in finished if t.family == family and t.model is not None), None)
        if best is None:
            continue
        model, kind = loaded(best.model), next(k for k, f in SEARCHED.items() if f == family)
        params = {**best.params, **model.size_params(), "trial": best.trial_id}
        recipe = fit_recipe(family, {**best.params, **(fixed or {}).get(family, {})})
        try:
            yield replace(scoring.student(f"{kind}-tuned", kind, params,
                                          model.predict_raw(data.X_valid),
                                          model.onnx_bytes(scoring.branch, scoring.valid)),
                          recipe=recipe), model
        except Exception as err:  # noqa: BLE001 - as in the ladder
            context.log(f"{node.name}: the tuned {kind} student failed and is left out: "
                        f"{first_line(err) or type(err).__name__}")


