"""The `distill` stage: small students trained on the teacher's soft predictions.

Teacher: the model of the node it reads (an ensemble, or a search's best trial).
Rows: the training rows plus synthetic rows (`augment`), labelled by a teacher that never
saw the rows the students are judged on (its fold models that left the judged fold out,
where the search was cross-validated; see `teaching`).
Students, all reading the `trees` branch so the export carries its preprocessing, of the
kinds the node lists; what each kind is, its sizes and their order are data
(search/students.yaml, `policy`), its code a module (`kinds`):
- the ladder of sizes (`ladder`): small xgboost and LightGBM models, shallow decision
  trees (readable rules), a linear model and small MLPs (`dense_student`);
- then, with `search`, the kinds the file marks tuned (a gbdt and an MLP student) on Ray
  Tune by the search the run offers its stages (`context.tune`, their families
  `student_gbdt`/`student_mlp`), with `search_share` of the stage's budget;
- then the derived kinds, made from those: a blend, the best tree student and MLP
  student averaged in one graph, where that beats both (`blend`); memos, the best tree
  and blend students each with the teacher's output on the training rows that recur,
  looked up in the same graph (`memo`), where the judged rows repeat some training row.
Each is fitted through the run's offload (a Ray task on a joined cluster's node, this
process otherwise: `classroom`), scored on the judged rows (the validation part; under
kfold, one fold), compared with the teacher (fidelity), exported to ONNX, checked for
parity and timed there. Under kfold the best few are then judged again on every fold and
refitted on all the training rows (`crossfit`, with the file's cross_fit_share of the
stage's budget).
"""

from __future__ import annotations

import time
from dataclasses import replace

from automl.budget import Budget
from automl.bundle import pickled_bytes, pickled_size_text
from automl.config import SearchParams
from automl.data.split import HOLDOUT, Validation
from automl.distill.classroom import Classroom, Fits, fit_cpus
from automl.distill.crossfit import cross_fit
from automl.students.families import student_max_nodes
from automl.students.judged import SAMPLE_ROWS, DistillResult, Scoring, Student, describe, fit_recipe
from automl.distill.kinds import check_students
from automl.distill.ladder import ladder_students
from automl.distill.policy import DerivedKind, student_policy
from automl.students.size_limit import size_limit_kb
from automl.distill.teaching import Teaching, lessons
from automl.errors import first_line
from automl.metrics import get_metric
from automl.models.dense_code import DenseCode
from automl.models.registry import family_class
from automl.preprocess.stage import BranchData
from automl.runfolder import loaded

MIN_SEARCH_SECONDS = 4.0  # a student search with less than this is skipped (Tune's start-up)
UNBUDGETED_SEARCH_TRIALS = 8
TUNING_ROWS = 20_000  # rows kept for fine-tuning a pruned student in the compress stage


def run(node, inputs, context) -> DistillResult:
    params, settings, policy = node.params, context.settings, student_policy()
    check_students(params.students)
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
                      schema.task, lesson.Z_valid, lesson.w_valid)
    teacher_score = metric.score(lesson.y_valid, lesson.teacher_valid, lesson.w_valid)
    teacher_bytes = pickled_bytes(teacher_output.predictor())
    aim_kb = size_limit_kb(params.max_student_kb, params.max_student_share, teacher_bytes)
    if aim_kb is not None:
        context.log(f"{node.name}: students aimed at {aim_kb:.0f} KB (the teacher: "
                    f"{pickled_size_text(teacher_bytes)})")
    training = _training(lesson, scoring) if policy.dense(params.students) else None
    fits = Fits(context.offload, Classroom(lesson, scoring, schema, training, settings.seed,
                                           student_max_nodes(aim_kb), fit_cpus(context.offload)))
    # a kfold run keeps cross_fit_share of the stage for judging the finalists on every fold
    budget = context.budget
    screening = budget.until(1 - policy.cross_fit_share) if lesson.fold is not None else budget
    reference = _reference_score(fits, metric, budget.share(policy.reference_share),
                                 node.name, context)
    searched = policy.searched(params.students) if params.search else {}
    search_share = params.search_share if searched and budget.limited else 0.0
    result = DistillResult(schema, metric.name, teacher_score, [], lesson.valid.head(SAMPLE_ROWS),
                           scoring, tuning=training and training.sample(TUNING_ROWS, settings.seed),
                           reference_score=reference, judged_on=lesson.judged_on,
                           teacher_bytes=teacher_bytes)
    for student in ladder_students(policy, params.students, fits, screening.share(1 - search_share),
                                   node.name, context.log):
        _add(result, student, node.name, context)
    if searched:
        for student in _tuned_students(node, searched, fits.classroom, screening, context):
            _add(result, student, node.name, context)
    for kind in policy.derived_kinds(params.students):
        _add_derived(kind, policy.derived[kind], result, fits, screening, aim_kb, node.name,
                     context)
    if lesson.fold is None:
        return result
    return cross_fit(result, Teaching(dataset, trees, teacher_output, params, settings.seed,
                                      lesson_seconds), budget, node.name, context)


def _training(lesson, scoring: Scoring):
    """The dense kinds' rows (a `Training`): the lesson's, one-hot encoded and
    standardised by an encoding that learns from the real rows only."""
    # torch (3 s to import) only where a dense student is fitted
    from automl.students.dense import Training

    code = DenseCode.fit(lesson.Z[:lesson.n_real], scoring.branch.categorical)
    return Training.make(code, lesson.Z, lesson.targets, lesson.Z_valid, lesson.teacher_valid,
                         scoring.task)


def _add_derived(name: str, kind: DerivedKind, result: DistillResult, fits: Fits,
                 budget: Budget, aim_kb: float | None, label: str, context) -> None:
    """The students of a derived kind (a blend, memos) its module makes from those so far
    within the size aim; a line saying why where it makes none."""
    module, max_bytes = kind.code(), None if aim_kb is None else aim_kb * 1024
    made = []
    try:
        for spec in module.candidates(result.students, fits.classroom, max_bytes):
            made.append(fits.derived(kind, spec, budget))
    except Exception as err:  # noqa: BLE001 - as a student of the ladder
        context.log(f"{label}: the {name} student failed and is left out: "
                    f"{first_line(err) or type(err).__name__}")
        return
    made = [student for student in made if student is not None]
    if not made:
        context.log(f"{label}: {module.none_made(fits.classroom, max_bytes)}")
    for student in made:
        _add(result, student, label, context)


def _reference_score(fits: Fits, metric, budget: Budget, label: str, context) -> float | None:
    """xgboost's defaults, learning the true labels of the real rows the students learn
    from, scored on the rows they are judged on; None (logged) if it cannot be fitted."""
    try:  # a class missing from the learning rows, say
        lesson = fits.classroom.lesson
        score = metric.score(lesson.y_valid, fits.reference(budget), lesson.w_valid)
    except Exception as err:  # noqa: BLE001 - the reference informs a constraint, no more
        context.log(f"{label}: no reference model ({first_line(err) or type(err).__name__})")
        return None
    context.log(f"{label}: reference, xgboost's defaults on the same rows' true labels: "
                f"{metric.name} {metric.from_score(score):.4f}")
    return score


def _add(result: DistillResult, student: Student, label: str, context) -> None:
    result.students.append(student)
    if student.net is not None:
        result.nets[student.name] = student.net
    metric = get_metric(result.metric, result.schema.task)
    context.log(f"{label}: {describe(student, metric, result.teacher_score)}")


def _tuned_students(node, searched: dict[str, str], classroom: Classroom, budget: Budget, context):
    """The best trial of each student family (`searched`: kind -> family), tuned on Ray
    Tune like the search's families (the trials land in <node>/students/; each trial's
    process fitted its student), in what the stage's budget has left after the ladder;
    nothing when that is too short."""
    left = budget.remaining()
    if left is not None and left < MIN_SEARCH_SECONDS:
        context.log(f"{node.name}: {left:.1f}s left for the student search, under "
                    f"{MIN_SEARCH_SECONDS:g}s; skipped")
        return
    lesson, scoring = classroom.lesson, classroom.scoring
    data = BranchData(scoring.branch, classroom.schema, lesson.Z, lesson.targets,
                      scoring.Z_valid, scoring.y_valid, Validation(HOLDOUT),
                      w_valid=scoring.w_valid)
    families = list(searched.values())
    trials = node.params.search_trials or (UNBUDGETED_SEARCH_TRIALS if left is None else None)
    # every student trial learns from all the lessons: a sample would teach it less, and
    # the tuned students are not fitted again
    params = SearchParams(families=families, searcher="tpe", scheduler="fifo",
                          max_trials=trials, keep_models=len(families) * 3, sample_rows=None)
    fixed = _size_aimed(families, classroom.max_nodes)
    result = context.tune(params, {"trees": data}, scoring.metric, budget,
                          f"{node.name} (students)", context.node_dir / "students", fixed)
    finished = result.finished()
    context.log(f"{node.name}: student search: {len(result.trials)} trials, "
                f"{len(finished)} finished")
    for kind, family in searched.items():
        best = next((t for t in finished if t.family == family and t.model is not None), None)
        if best is None:
            continue
        model = loaded(best.model)
        params = {**best.params, **model.size_params(), "trial": best.trial_id}
        recipe = fit_recipe(family, {**best.params, **(fixed or {}).get(family, {})})
        try:
            yield replace(scoring.student(f"{kind}-tuned", kind, params,
                                          model.predict_raw(data.X_valid),
                                          model.onnx_bytes(scoring.branch, scoring.valid)),
                          recipe=recipe, net=getattr(model, "net_", None),
                          fitted_by=best.fitted_by)
        except Exception as err:  # noqa: BLE001 - as in the ladder
            context.log(f"{node.name}: the tuned {kind} student failed and is left out: "
                        f"{first_line(err) or type(err).__name__}")


def _size_aimed(families: list[str], max_nodes: int | None) -> dict[str, dict] | None:
    """The size aim, fixed in each searched family that takes one (a boosted student's
    `max_nodes`)."""
    if not max_nodes:
        return None
    return {family: {"max_nodes": max_nodes} for family in families
            if "max_nodes" in family_class(family).allowed_params} or None
