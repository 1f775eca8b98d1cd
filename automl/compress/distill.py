"""The `distill` stage: small students trained on the teacher's soft predictions.

Teacher: the model of the node it reads (an ensemble, or a search's best trial).
Rows: the training rows plus synthetic rows (`augment`), labelled by a teacher that never
saw the rows the students are judged on (its fold models that left the judged fold out,
where the search was cross-validated; see `teaching`).
Students, all reading the `trees` branch so the export carries its preprocessing:
- a fixed ladder of sizes (LADDER): small xgboost models, shallow decision trees
  (readable rules), a linear model and small MLPs (`dense_student`);
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
from automl.compress.blend import best_blend
from automl.compress.crossfit import cross_fit
from automl.compress.dense_student import Training, fit_dense_student
from automl.compress.families import (StudentGBDT, StudentLGBM, default_xgboost_output,
                                      student_max_nodes)
from automl.compress.judged import SAMPLE_ROWS, DistillResult, Scoring, Student, describe
from automl.compress.memo import MIN_REPEATS, memo_students, repeat_share
from automl.compress.size_limit import size_limit_kb
from automl.compress.students import fit_tree_student, student_output
from automl.compress.teaching import Teaching, lessons
from automl.config import SearchParams
from automl.data.schema import Schema
from automl.data.split import HOLDOUT, Validation
from automl.errors import first_line
from automl.metrics import REGRESSION, get_metric
from automl.models.dense_code import DenseCode
from automl.models.dense_net import DenseNet
from automl.onnx.rules import tree_rules
from automl.onnx.trees_graph import export_trees_model
from automl.preprocess.stage import BranchData
from automl.runfolder import loaded

# The sizes tried, smallest first: (trees, depth, learning rate) for gbdt (the largest, at
# a rate a full-size GBDT would use, stays near 1 MB in ONNX), depth for rules, hidden
# widths for the dense students (a linear model has none).
# The tuned gbdt and MLP (the student search) cover the larger end.
# 300×6 at 0.3 beat 300×5 at 0.1 on the validation parts of adult, hotel_bookings and
# diamonds (ROC AUC +0.0003, +0.006; RMSE 532 against 536); 600×6 at 0.3 (about 0.7 MB
# in the TreeEnsemble operator, cut to the size aim where there is one) beat 258×6, what
# 1 MB held in the older operators: hotel_bookings 0.9565 against 0.9546, diamonds 528.6
# against 531.6, adult 0.9230 against 0.9232 (2026-11-30, same lessons).
# (300×5 at 0.1 is gone: it won nowhere, and its time let the ladder reach the top rung.)
# The LightGBM students, (trees, leaves, rate): see StudentLGBM; the size aim cuts their
# trees. 1,200 at 0.1 where time is left: on diamonds' validation part RMSE 521.5 against
# 523.0 for 600 at 0.2 (the teacher 514.3).
# The MLP's second rung, two layers of 128 (60-90 KB, by the inputs; 92 KB on satellite):
# taught on 80% of ames_housing's and satellite's training parts, it kept all the ensemble's gain on the other 20% of
# ames_housing (RMSE 15,524 against 15,559; no tree student of 1 MB passed 0.80 of it) and
# 0.82 on satellite (trees 0.69-0.78), where one layer of 64 kept 0.94 and 0.54 (README,
# "What a student can reach").
# The second LightGBM rung grows smaller leaves (5 rows, not LightGBM's 20): on 80% of the
# training parts (in-sample labels + 2x synthetic, scored on the other 20%) it scored
# RMSE 0.6273 against 0.6383 on wine_quality and log loss 0.1338 against 0.1376 on
# cardiotocography, where the teacher memorises repeated rows; elsewhere within 0.003 of
# the 20-row leaves (ames_housing 18,313 against 18,405; magic_telescope ROC AUC 0.9424
# against 0.9427; credit_g 0.8028 against 0.8054; satellite 0.2432 against 0.2403),
# which the first rung still grows.
LADDER = {"gbdt": [(20, 3, 0.3), (60, 4, 0.3), (150, 5, 0.3), (600, 6, 0.3)],
          "lgbm": [(600, 31, 0.2), (1200, 31, 0.1, {"min_child_samples": 5})],
          "rules": [3, 4, 5], "linear": [()], "mlp": [(32,), (128, 128)]}
SHORT_NAMES = {"min_child_samples": "leaf"}  # a rung's extra params, in its student's name
DENSE = ("linear", "mlp")
BOOSTED = {"gbdt": StudentGBDT, "lgbm": StudentLGBM}  # (trees, shape, rate) rungs; shape: depth / leaves
# Within a round of the ladder: the LightGBM student last, as the slowest (1,200 trees took
# 13 s on adult's 190,000 soft rows in the compact bench of 2026-11-30, where it came first
# and the ladder's time ran out after four students: no rules, linear model or MLP). It learns from the
# synthetic rows only (no `-real` twin): on adult and bank_marketing the twin scored within
# 0.0001 ROC AUC of it and took as long.
KIND_ORDER = ("gbdt", "rules", "linear", "mlp", "lgbm")
MIN_STUDENT_SECONDS = 1.0  # a dense student's training time, at least
MIN_SEARCH_SECONDS = 4.0  # a student search with less than this is skipped (Tune's start-up)
UNBUDGETED_SEARCH_TRIALS = 8
UNBUDGETED_STUDENT_SECONDS = 30.0  # ... and at most, in a run with no time budget
REFERENCE_SHARE = 0.1  # of the stage's budget, at most, for the reference model
CROSS_FIT_SHARE = 0.4  # of the stage's budget, kept for the cross-fit in kfold runs (at 0.3
# wine_quality, satellite and cardiotocography reached two folds of five at 120 s)
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
    for student, net in _ladder_students(node, params.students, lesson.Z, lesson.targets,
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


def _ladder_students(node, kinds, X, target, n_real: int, training, scoring: Scoring,
                     schema: Schema, max_nodes: int | None, budget: Budget, context):
    """(student, its DenseNet or None) for each size of LADDER the budget allows; a
    student whose fit or export fails is logged and skipped, never the stage. Each gbdt
    rung also learns from the real rows alone (named '-real'), where there are synthetic
    ones: they helped on some tables' validation parts and hurt on others (README)."""
    jobs = list(_ladder(kinds, synthetic=len(X) > n_real))
    for done, (kind, size, real_only) in enumerate(jobs):
        if done and budget.expired():
            context.log(f"{node.name}: the ladder's budget is spent; {done} students tried")
            return
        try:
            if kind in DENSE:
                net = fit_dense_student(training, list(size), _slice(budget, len(jobs) - done),
                                        seed=context.settings.seed)
                name = "linear" if kind == "linear" else "mlp-" + "x".join(map(str, size))
                recipe = _recipe("student_mlp", {"n_layers": len(size), "width": (size or (1,))[0]})
                yield replace(scoring.dense_student(net, name, kind), recipe=recipe), net
            else:
                rows = slice(n_real) if real_only else slice(None)
                student = _tree_student(kind, size, X[rows], target[rows], scoring, schema,
                                        context.settings.seed, max_nodes, budget)
                if real_only:
                    student = replace(student, name=student.name + "-real",
                                      recipe={**student.recipe, "synthetic": False})
                yield student, None
        except Exception as err:  # noqa: BLE001 - one student is optional, the stage is not
            context.log(f"{node.name}: the {kind} student {size} failed and is left out: "
                        f"{first_line(err) or type(err).__name__}")


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
        recipe = _recipe(family, {**best.params, **(fixed or {}).get(family, {})})
        try:
            yield replace(scoring.student(f"{kind}-tuned", kind, params,
                                          model.predict_raw(data.X_valid),
                                          model.onnx_bytes(scoring.branch, scoring.valid)),
                          recipe=recipe), model
        except Exception as err:  # noqa: BLE001 - as in the ladder
            context.log(f"{node.name}: the tuned {kind} student failed and is left out: "
                        f"{first_line(err) or type(err).__name__}")


def _slice(budget: Budget, jobs_left: int) -> Budget:
    """The next trainable student's time: a fair slice of what is left, at least
    MIN_STUDENT_SECONDS (a run without a time budget still caps it)."""
    left = budget.remaining()
    if left is None:
        return Budget(UNBUDGETED_STUDENT_SECONDS)
    return Budget(max(MIN_STUDENT_SECONDS, left / max(jobs_left, 1)))


def _ladder(kinds: list[str], synthetic: bool = False):
    """(kind, size, real rows only) round by round, the smallest size of each kind first:
    a budget that runs out mid-ladder still leaves one student of every kind, the
    LightGBM one last in its round (KIND_ORDER). With `synthetic` rows in the lessons,
    each gbdt rung comes twice: with them, and without."""
    kinds = sorted((k for k in kinds if k in LADDER), key=KIND_ORDER.index)  # not "blend": made of these
    for rank in range(max(len(LADDER[kind]) for kind in kinds)):
        for kind in (kind for kind in kinds if rank < len(LADDER[kind])):
            yield kind, LADDER[kind][rank], False
            if kind == "gbdt" and synthetic:
                yield kind, LADDER[kind][rank], True


def _tree_student(kind, size, X, target, scoring: Scoring, schema: Schema, seed: int,
                  max_nodes: int | None = None, budget: Budget | None = None) -> Student:
    """A rung of the ladder. A boosted one stops adding trees when `budget` (the ladder's)
    runs out, and is kept with the trees it has (1,200 LightGBM trees took 23 s on
    hotel_bookings' 190,000 soft rows in the stage, past the ladder's end)."""
    task, branch, valid = schema.task, scoring.branch, scoring.valid
    if kind in BOOSTED:
        n_trees, shape, rate, *rest = size
        extra = rest[0] if rest else {}  # the family's other params, where a rung sets some
        family = BOOSTED[kind]
        params = {"n_estimators": n_trees, family.shape_param: shape, "learning_rate": rate,
                  **extra}
        student = family(task=task, n_classes=len(schema.classes or []),
                         params={**params, **({"max_nodes": max_nodes} if max_nodes else {})},
                         seed=seed, n_jobs=os.cpu_count() or 1)  # the stage has the machine
        student.fit(X, target, budget=budget)
        kept = student.size_params()["n_estimators"]  # fewer, where max_nodes or time cut them
        # two rungs cut to the same size differ by their rate, which the name then says
        name = f"{kind}-{n_trees}x{shape}" if kept == n_trees else f"{kind}-{kept}x{shape}-lr{rate:g}"
        name += "".join(f"-{SHORT_NAMES[key]}{value:g}" for key, value in extra.items())
        params["n_estimators"] = kept
        return replace(scoring.student(name, kind, params, student.predict_raw(scoring.Z_valid),
                                       student.onnx_bytes(branch, valid)),
                       recipe=_recipe(family.key, params))
    model = fit_tree_student(X, target, task, max_depth=size, seed=seed)
    rules = tree_rules(model, branch, schema.target, None if task == REGRESSION else schema.classes)
    output = student_output(model, scoring.Z_valid, task)
    return scoring.student(f"rules-depth{size}", kind, {"max_depth": size}, output,
                           export_trees_model(branch, model, valid), rules)


def _recipe(family: str, params: dict, synthetic: bool = True) -> dict:
    """How `crossfit` fits a student again: its family, params, and whether it learns
    from the synthetic rows too."""
    return {"family": family, "params": dict(params), "synthetic": synthetic}
