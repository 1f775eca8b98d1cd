"""The cross-fit of a kfold distillation: its finalists judged on every fold, against the
teacher's and the reference's out-of-fold output on the same rows, then refitted."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from automl.budget import Budget
from automl.config import DistillParams
from automl.data.split import KFOLD
from automl.students.blend import blend_student
from automl.distill.classroom import Classroom, fit_cpus
from automl.distill.crossfit import Costs, FINALISTS, _memo_seconds, _refitted, cross_fit
from automl.students.families import StudentMLP, default_xgboost_output
from automl.students.judged import DistillResult, Scoring
from automl.distill.kinds import boosted
from automl.students.memo import MIN_REPEATS, build_memo, memo_student, memo_students, repeat_share
from automl.distill.policy import Rung
from automl.distill.refits import Refits, fitted
from automl.distill.teaching import Teaching, lessons
from automl.offload import InProcess
from automl.onnx.parity import check_parity, run_onnx
from tests.unit.distill.test_teaching import AUC, _teacher

RUNGS = [{"n_estimators": trees, "max_depth": depth, "learning_rate": 0.3}
         for trees, depth in [(10, 2), (20, 3), (40, 3), (60, 4)]]
FAMILIES = {"gbdt": "student_gbdt", "lgbm": "student_lgbm"}


class Log:
    """The stage's context as the cross-fit uses it: a log, and the run's offload."""

    offload = InProcess()

    def __init__(self):
        self.lines = []

    def log(self, message: str) -> None:
        self.lines.append(message)


def _tree_student(kind: str, params: dict, lesson, scoring: Scoring, schema):
    """A boosted rung's student, fitted as the ladder fits one."""
    classroom = Classroom(lesson, scoring, schema, None, 0, None, fit_cpus(InProcess()))
    return boosted.fit(classroom, Rung(kind, FAMILIES[kind], params), Budget.unlimited())


def _screened(params: DistillParams):
    """A distillation judged on fold 1, as the distill stage leaves it before the cross-fit."""
    dataset, trees, search, trial = _teacher(KFOLD)
    lesson = lessons(dataset, trees, search, params, seed=0)
    scoring = Scoring(trees.branch, lesson.valid, lesson.y_valid, lesson.teacher_valid, AUC,
                      dataset.task, lesson.Z_valid)
    students = [_tree_student("gbdt", rung, lesson, scoring, dataset.schema) for rung in RUNGS]
    result = DistillResult(dataset.schema, "roc_auc", AUC.score(lesson.y_valid, lesson.teacher_valid),
                           students, lesson.valid.head(200), scoring, judged_on=lesson.judged_on)
    return result, Teaching(dataset, trees, search, params, 0), trial


def test_finalists_are_judged_out_of_fold_on_every_row_and_refitted():
    params = DistillParams(multiplier=0.0)
    result, teaching, trial = _screened(params)
    log = Log()
    crossed = cross_fit(result, teaching, Budget.unlimited(), "distill", log)
    dataset = teaching.dataset
    assert crossed.judged_on.startswith(f"out of fold over {len(dataset.y_train)} training rows "
                                        "(5 of 5 folds")
    # the teacher is scored on its out-of-fold output, the reference fold by fold
    assert crossed.teacher_score == pytest.approx(AUC.score(dataset.y_train, trial.valid_prediction))
    reference = np.zeros(len(dataset.y_train))
    for fold in range(5):
        learn, held = dataset.validation.fold_rows(fold)
        reference[held] = default_xgboost_output(teaching.trees.X_train[learn], dataset.y_train[learn],
                                                 teaching.trees.X_train[held], dataset.task,
                                                 Budget.unlimited())[:, 1]
    assert crossed.reference_score == pytest.approx(AUC.score(dataset.y_train, reference))
    # the best FINALISTS on fold 1 are judged again; the others are marked and kept
    best = sorted(result.students, key=lambda s: -s.score)[:FINALISTS]
    finalists = [s for s in crossed.students if s.judged_on is None]
    assert {s.name for s in finalists} == {s.name for s in best}
    others = [s for s in crossed.students if s.judged_on is not None]
    assert all(s.judged_on.startswith("fold 1 only") for s in others)
    assert len(finalists) + len(others) == len(result.students)
    for student in finalists:
        before = next(s for s in best if s.name == student.name)
        assert student.score != before.score  # all the rows, not fold 1's
        # the file is the model refitted on all the rows: not fold 1's, and it agrees with Python
        assert student.onnx != before.onnx and student.params["refit"] == "all training rows"
        assert check_parity(student.onnx, student.sample_output, crossed.sample) <= 1e-4
    assert any("finalists judged out of fold" in line for line in log.lines)


def test_a_blend_finalist_is_fitted_again_part_by_part():
    """A blend's recipe names its two parts' recipes: on each fold, and on all the rows,
    both are fitted and averaged, and the refitted graph agrees with the Python blend."""
    params = DistillParams(multiplier=0.0)
    result, teaching, _ = _screened(params)
    lesson = lessons(teaching.dataset, teaching.trees, teaching.teacher_output, params, seed=0)
    dataset, scoring = teaching.dataset, result.scoring
    mlp = StudentMLP(task=dataset.task, n_classes=2, params={"width": 16, "max_epochs": 20},
                     categorical=tuple(teaching.trees.branch.categorical))
    mlp.fit(lesson.Z, lesson.targets, lesson.Z_valid, lesson.teacher_valid)
    dense = replace(scoring.dense_student(mlp.net_, "mlp-16", "mlp"), recipe={
        "family": "student_mlp", "params": {"width": 16, "max_epochs": 20}, "synthetic": True})
    tree = result.students[-1]
    blend = blend_student(tree, dense, mlp.net_, 0.5, scoring)
    result.students = [blend, tree, dense]
    crossed = cross_fit(result, teaching, Budget.unlimited(), "distill", Log())
    refitted = next(s for s in crossed.students if s.kind == "blend")
    assert refitted.judged_on is None and refitted.params["refit"] == "all training rows"
    assert refitted.onnx != blend.onnx
    assert check_parity(refitted.onnx, refitted.sample_output, crossed.sample) <= 1e-4


def test_a_rung_with_extra_params_names_them_and_is_refitted_with_them():
    """The ladder's second LightGBM rung (search/students.yaml) grows leaves of 5 rows:
    its name says so, and the cross-fit's refit (from the recipe) grows the same."""
    params = DistillParams(multiplier=0.0)
    result, teaching, _ = _screened(params)
    lesson = lessons(teaching.dataset, teaching.trees, teaching.teacher_output, params, seed=0)
    rung = {"n_estimators": 30, "num_leaves": 7, "learning_rate": 0.1, "min_child_samples": 5}
    student = _tree_student("lgbm", rung, lesson, result.scoring, teaching.dataset.schema)
    assert student.name == "lgbm-30x7-leaf5"
    assert student.recipe["params"]["min_child_samples"] == 5
    settings = Refits(teaching, InProcess()).settings
    refitted = fitted(student.recipe, lesson, settings, Budget.unlimited())
    assert refitted.model_.get_params()["min_child_samples"] == 5


def test_no_time_for_a_second_fold_leaves_the_choice_on_fold_one():
    result, teaching, _ = _screened(DistillParams(multiplier=0.0))
    log = Log()
    crossed = cross_fit(result, teaching, Budget(0.0), "distill", log)
    assert crossed is result
    assert any("choice stays on fold 1" in line for line in log.lines)


def test_finalists_keep_their_fold_models_when_the_refit_would_not_fit_in_time():
    result, teaching, _ = _screened(DistillParams(multiplier=0.0))
    log = Log()
    costs = Costs(lesson=100.0, fits=100.0)  # as measured on a fold of a large table
    kept = _refitted(result.students, result, teaching, Budget(30.0), costs, "distill", log)
    assert [s.onnx for s in kept] == [s.onnx for s in result.students]
    assert any("no time to refit the finalists" in line for line in log.lines)
    # with the time, each is refitted (its file changes)
    refitted = _refitted(result.students, result, teaching, Budget.unlimited(), costs,
                         "distill", log)
    assert all(a.onnx != b.onnx for a, b in zip(sorted(refitted, key=lambda s: s.name),
                                                 sorted(result.students, key=lambda s: s.name)))


def _memo_finalist():
    """The screened result, its largest gbdt student, and that student with a memo of the
    fold-1 lesson's rows (every one of them kept)."""
    params = DistillParams(multiplier=0.0)
    result, teaching, _ = _screened(params)
    lesson = lessons(teaching.dataset, teaching.trees, teaching.teacher_output, params, seed=0)
    tree = result.students[-1]
    memo = build_memo(lesson.Z[:lesson.n_real], lesson.targets[:lesson.n_real],
                      run_onnx(tree.onnx, lesson.real), max_rows=10**6)
    return result, teaching, tree, memo_student(tree, memo, result.scoring, max_rows=10**6), memo


def test_a_memo_finalist_is_refitted_with_the_whole_teachers_output_on_every_row():
    """A memo's recipe names its base's: on each fold, and on all the rows, the base is
    fitted and the memo made from that lesson's rows; the refitted memo holds every
    training row, the judged fold's too, answered by the whole teacher."""
    result, teaching, tree, student, memo = _memo_finalist()
    assert student.score == tree.score  # no judged row of fold 1 recurs in this table
    result.students = [student, tree]
    crossed = cross_fit(result, teaching, Budget.unlimited(), "distill", Log())
    refitted = next(s for s in crossed.students if s.kind == "memo")
    assert refitted.params["refit"] == "all training rows"
    assert check_parity(refitted.onnx, refitted.sample_output, crossed.sample) <= 1e-4
    whole = teaching.teacher_output.predictor().predict_features(crossed.sample)
    np.testing.assert_allclose(refitted.sample_output, whole, atol=1e-6)


def test_memo_students_come_where_judged_rows_repeat_training_rows():
    params = DistillParams(multiplier=0.0)
    result, teaching, _ = _screened(params)
    lesson = lessons(teaching.dataset, teaching.trees, teaching.teacher_output, params, seed=0)
    assert memo_students(result.students, lesson, result.scoring, 1024 * 1024) == []
    # judged on 100 of the rows the students learn from: each recurs
    repeated = Scoring(result.scoring.branch, lesson.real.iloc[:100], lesson.y_real[:100],
                       lesson.targets[:100], AUC, teaching.dataset.task, lesson.Z[:100])
    trees = [_tree_student("gbdt", rung, lesson, repeated, teaching.dataset.schema)
             for rung in RUNGS]
    memos = memo_students(trees, lesson, repeated, 1024 * 1024)
    assert [s.name for s in memos] == [s.name + "+memo"
                                       for s in sorted(trees, key=lambda s: -s.score)[:2]]
    for memo_of in memos:
        assert memo_of.kind == "memo" and memo_of.fidelity == pytest.approx(1.0)
        assert memo_of.recipe["base"]["family"] == "student_gbdt"
    # no room beside the base: no memo
    assert memo_students(trees, lesson, repeated, min(s.size_bytes for s in trees)) == []
    # too few judged rows repeat one (1 of 100, under MIN_REPEATS): no memo
    Z_once = np.vstack([lesson.Z_valid[:99], lesson.Z[:1]])
    assert repeat_share(Z_once, lesson.Z[:lesson.n_real]) == 0.01 < MIN_REPEATS
    once = replace(repeated, Z_valid=Z_once)
    assert memo_students(trees, lesson, once, 1024 * 1024) == []


def test_a_memo_finalist_without_time_to_refit_gets_its_memo_from_every_row():
    """No time to refit (a refit is n_folds lessons and the fits) but time to label the
    real rows once: the memo finalist keeps its fold model, with a memo of every
    training row by the whole teacher; the other finalists keep theirs as they are."""
    result, teaching, tree, student, memo = _memo_finalist()
    log = Log()
    kept = _refitted([student, tree], result, teaching, Budget(30.0),
                     Costs(lesson=1.0, fits=100.0), "distill", log)
    assert any("memos of gbdt-60x4+memo made again" in line for line in log.lines)
    remade, same = kept
    assert same is tree and remade.score == student.score
    assert remade.params["memo"] == "all training rows"
    assert remade.params["memo_rows"] == len(teaching.dataset.y_train) > len(memo.keys)
    assert check_parity(remade.onnx, remade.sample_output, result.sample) <= 1e-4
    whole = teaching.teacher_output.predictor().predict_features(result.sample)
    np.testing.assert_allclose(remade.sample_output, whole, atol=1e-6)
    # nor the time for that: as judged
    log = Log()
    kept = _refitted([student, tree], result, teaching, Budget(3.0),
                     Costs(lesson=1.0, fits=100.0), "distill", log)
    assert kept[0] is student and any("no time to make the memos again" in line for line in log.lines)


def test_the_judging_leaves_a_memo_finalist_the_time_to_remake_its_memo():
    """Where a finalist is a memo, the time its memo's remaking takes (the whole teacher
    labelling every real row: n_folds lessons' worth, less their synthetic rows) is what
    the cross-fit keeps from the judging of more folds; nothing without a memo."""
    params = DistillParams(multiplier=2.0)
    result, teaching, _ = _screened(params)
    tree = result.students[-1]
    assert _memo_seconds([tree], teaching, 3.0) == 0.0
    memo = build_memo(teaching.trees.X_train[:10], np.full((10, 2), 0.5),
                      np.zeros((10, 2)), max_rows=10)
    student = memo_student(tree, memo, result.scoring, max_rows=10)
    assert _memo_seconds([student, tree], teaching, 3.0) == pytest.approx(5 * 3.0 / 3)
