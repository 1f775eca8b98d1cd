"""The distillation's policy as data: search/students.yaml, checked when read (a bad entry
is one error naming the file and the key), and the student-kind registry it feeds (a new
kind is one module and one entry)."""

from __future__ import annotations

import itertools
import typing
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from automl.budget import Budget
from automl.config import DistillParams
from automl.data.split import HOLDOUT
from automl.distill.classroom import Classroom, Fits
from automl.students.judged import Scoring
from automl.distill.kinds import check_students, kind_module, rules
from automl.distill.ladder import ladder_students
from automl.distill.policy import FILE, load_policy, student_policy
from automl.distill.teaching import lessons
from automl.errors import ConfigError
from automl.offload import InProcess
from automl.provenance import here
from automl.resources import resource_dir
from tests.unit.distill.test_teaching import AUC, _teacher

SHIPPED = resource_dir("search") / FILE


def _written(tmp_path: Path, edit) -> Path:
    """The shipped file with `edit` applied to its data, written to a file of its own."""
    raw = yaml.safe_load(SHIPPED.read_text())
    edit(raw)
    path = tmp_path / FILE
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_the_shipped_policy_holds_the_kinds_a_distill_node_may_list():
    policy = student_policy()
    assert policy.kinds() == ["gbdt", "rules", "linear", "mlp", "lgbm", "blend", "memo"]
    assert policy.searched(policy.kinds()) == {"gbdt": "student_gbdt", "mlp": "student_mlp"}
    assert (policy.reference_share, policy.cross_fit_share) == (0.1, 0.4)
    # the param's own choices, until its validation reads the registry (automl/config.py)
    listed = typing.get_args(typing.get_args(DistillParams.model_fields["students"].annotation)[0])
    assert sorted(listed) == sorted(policy.kinds())


def test_the_registry_and_the_params_agree_on_which_students_go_together():
    """Every set of kinds the param's validator refuses, the registry refuses too."""
    policy = student_policy()
    for size in range(1, len(policy.kinds()) + 1):
        for kinds in itertools.combinations(policy.kinds(), size):
            try:
                DistillParams(students=list(kinds))
                accepted = True
            except ValueError:
                accepted = False
            assert accepted == (not policy.problems(list(kinds))), kinds


def test_a_students_param_the_registry_refuses_says_what_to_change():
    with pytest.raises(ConfigError, match=r"no student kind 'memoo' \(did you mean 'memo'\?\); "
                                          r"kinds are 'blend', 'gbdt', "):
        check_students(["gbdt", "memoo"])
    with pytest.raises(ConfigError, match=r"a blend student is made from mlp and gbdt or lgbm "
                                          r"students: list mlp and gbdt or lgbm in students too, "
                                          r"or drop blend"):
        check_students(["rules", "blend"])
    with pytest.raises(ConfigError, match=r"no student kind 'tabnet'"):
        kind_module("tabnet")
    assert kind_module("lgbm") is kind_module("gbdt")  # two kinds of one module


@pytest.mark.parametrize("edit, message", [
    (lambda raw: raw["ladder"]["gbdt"].update(rungz=[]), r"ladder\.gbdt\.rungz: unknown key"),
    (lambda raw: raw["ladder"]["rules"]["rungs"].append({"max_depht": 6}),
     r"ladder\.rules\.rungs\.3: a rules rung is \{max_depth: N\}"),
    (lambda raw: raw["ladder"]["gbdt"]["rungs"][1].update(max_depth=0),
     r"ladder\.gbdt\.rungs\.1: max_depth must be a whole number >= 1, got 0"),
    (lambda raw: raw["ladder"]["lgbm"]["rungs"][0].update(max_leaves=8),
     r"ladder\.lgbm\.rungs\.0: student_lgbm has no param 'max_leaves'"),
    (lambda raw: raw["ladder"]["mlp"]["rungs"].append({"hidden": [64, 32]}),
     r"ladder\.mlp\.rungs\.2: a dense rung is \{hidden: \[widths\]\}, at most 4 layers of one width"),
    (lambda raw: raw["ladder"]["gbdt"].update(family="student_gbd"),
     r"ladder\.gbdt\.family: no family 'student_gbd' \(did you mean 'student_gbdt'\?\); "
     r"families are [^;]*"),
    (lambda raw: raw["ladder"]["rules"].update(memory="forest"),
     r"ladder\.rules\.memory: no family 'forest'"),
    (lambda raw: raw["ladder"]["rules"].update(module="automl.distill.kinds.trees"),
     r"ladder\.rules\.module: cannot import 'automl\.distill\.kinds\.trees'"),
    (lambda raw: raw["derived"]["memo"].update(module="automl.distill.kinds.rules"),
     r"derived\.memo\.module: automl\.distill\.kinds\.rules has no candidates, none_made"),
    (lambda raw: raw["derived"]["blend"].update(needs=[["mpl"]]),
     r"derived\.blend\.needs: no kind 'mpl' \(did you mean 'mlp'\?\)"),
    (lambda raw: raw["ladder"]["linear"].update(real_twin=True), r"ladder\.linear: .*drop real_twin"),
    (lambda raw: raw["ladder"]["mlp"].pop("dense"),
     r"ladder\.mlp\.rungs\.0: a dense kind .*learns from the dense encoding \(dense: true\)"),
    (lambda raw: raw["ladder"]["rules"].update(search=True),
     r"ladder\.rules: .*search: true needs the family the search tunes"),
    (lambda raw: raw.update(cross_fit_share=1.5), r"cross_fit_share: .*less than 1 \(got 1\.5\)"),
    (lambda raw: raw["ladder"]["gbdt"].update(time="all"), r"ladder\.gbdt\.time: "),
])
def test_a_bad_entry_is_one_error_naming_the_file_and_the_key(tmp_path, edit, message):
    path = _written(tmp_path, edit)
    with pytest.raises(ConfigError, match=rf"^student policy {path}: (.*; )?{message}.*fix those entries$"):
        load_policy(path)


def test_a_file_that_is_not_yaml_or_not_there_is_one_error(tmp_path):
    path = tmp_path / FILE
    with pytest.raises(ConfigError, match=rf"student policy {path} cannot be read"):
        load_policy(path)
    path.write_text("ladder: [unclosed\n")
    with pytest.raises(ConfigError, match=rf"student policy {path} is not valid YAML"):
        load_policy(path)


# ---- a new kind: one module (this one) and one entry -----------------------------------


def check_rung(kind, params: dict) -> None:
    if set(params) != {"depth"}:
        raise ValueError(f"a stump rung is {{depth: 1}}; got {params}")


def fit(classroom, rung, budget: Budget):
    """A stump: the rules kind's tree, one split deep, under this kind's name."""
    return rules.fit(classroom, replace(rung, params={"max_depth": rung.params["depth"]}), budget)


def _ladder(policy, students: list[str]) -> list:
    """The ladder of `policy` for `students`, on a small holdout distillation's lessons."""
    dataset, trees, search, _ = _teacher(HOLDOUT)
    lesson = lessons(dataset, trees, search, DistillParams(multiplier=0.5), seed=0)
    scoring = Scoring(trees.branch, lesson.valid, lesson.y_valid, lesson.teacher_valid, AUC,
                      dataset.task, lesson.Z_valid)
    fits = Fits(InProcess(), Classroom(lesson, scoring, dataset.schema, None, 0, None, 1))
    logged = []
    made = list(ladder_students(policy, students, fits, Budget.unlimited(), "distill",
                                logged.append))
    assert not [line for line in logged if "failed" in line], logged
    return made


def test_a_new_kind_is_one_module_and_one_entry(tmp_path):
    def add_stumps(raw):
        raw["ladder"] = {"stump": {"module": __name__, "memory": "random_forest",
                                   "threads": "one", "rungs": [{"depth": 1}]}, **raw["ladder"]}

    policy = load_policy(_written(tmp_path, add_stumps))
    assert policy.kinds()[0] == "stump" and kind_module("stump", policy).fit is fit
    assert [r.kind for r in policy.rounds(["stump", "rules"], synthetic=True)][:2] == ["stump", "rules"]
    made = _ladder(policy, ["stump", "rules"])
    assert [s.name for s in made] == ["stump-depth1", "rules-depth3", "rules-depth4", "rules-depth5"]
    assert made[0].kind == "stump" and made[0].fitted_by == here()
