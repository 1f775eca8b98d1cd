"""Search spaces: every value a searcher samples stays inside the declared inclusive
bounds, integers stay integers, and bounds that depend on the rows resolve as declared."""

from __future__ import annotations

import optuna
import pytest

from automl.students import families as _students  # noqa: F401 - registers the student families
from automl.errors import ConfigError
from automl.models.registry import family_keys, family_space
from automl.space import ChoiceParam, NumberParam, RowsBound, Space, load_space
from automl.search.portfolio import points
from automl.search.tune_space import DefineByRun, flat_name, tune_space

FAMILIES = family_keys()
ROWS = (50, 5_000, 500_000)


def _inside(param, value) -> bool:
    if isinstance(param, ChoiceParam):
        return value in param.values
    if param.type == "int" and not float(value).is_integer():
        return False
    return param.low <= value <= param.high


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("key", FAMILIES)
def test_tune_domains_sample_inside_the_inclusive_bounds(key, rows):
    space = family_space(key).resolve(rows)
    domains = tune_space({key: space})
    for name, param in space.params.items():
        domain = domains[flat_name(key, name)]
        values = [domain.sample() if hasattr(domain, "sample") else domain for _ in range(300)]
        assert all(_inside(param, v) for v in values), (name, param, min(values), max(values))


@pytest.mark.parametrize("key", FAMILIES)
def test_optuna_define_by_run_samples_inside_the_bounds(key):
    space = family_space(key).resolve(5_000)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    define = DefineByRun({key: space})
    for _ in range(100):
        trial = study.ask()
        define(trial)
        for name, param in space.params.items():
            assert _inside(param, trial.params[flat_name(key, name)]), name
        study.tell(trial, 0.0)


def test_integer_upper_bounds_are_reached():
    # tune.randint's upper bound is exclusive; ours are inclusive
    space = Space(params={"depth": NumberParam(type="int", low=1, high=2),
                          "leaves": NumberParam(type="int", low=2, high=4, log=True)})
    domains = tune_space({"f": space})
    assert {domains["f__depth"].sample() for _ in range(200)} == {1, 2}
    assert {domains["f__leaves"].sample() for _ in range(300)} == {2, 3, 4}


def test_row_dependent_bounds_resolve_clipped_and_ordered():
    param = NumberParam(type="int", low=1, high=RowsBound(rows=0.01, min=3, max=40))
    assert param.resolve(100).high == 3  # 1 row's worth, clipped up to min
    assert param.resolve(2_000).high == 20
    assert param.resolve(10**7).high == 40
    squeezed = NumberParam(type="int", low=RowsBound(rows=0.5, min=1, max=10), high=5)
    assert squeezed.resolve(100).low == 10 and squeezed.resolve(100).high == 10  # high >= low


def test_defaults_are_clipped_into_the_resolved_bounds():
    space = Space(default={"leaf": 50, "kind": "x"},
                  params={"leaf": NumberParam(type="int", low=1,
                                              high=RowsBound(rows=0.01, min=1, max=100)),
                          "kind": ChoiceParam(type="choice", values=["a", "b"])})
    resolved = space.resolve(1_000)
    assert resolved.default == {"leaf": 10, "kind": "a"}


@pytest.mark.parametrize("key", FAMILIES)
def test_each_shipped_default_lies_inside_its_space(key):
    for rows in ROWS:
        space = family_space(key).resolve(rows)
        for name, param in space.params.items():
            if name in space.default:
                assert _inside(param, space.default[name]), (key, rows, name)


@pytest.mark.parametrize("flat", [False, True])
def test_a_family_without_a_portfolio_starts_from_its_default(flat):
    spaces = {key: Space(default=family_space(key).resolve(1_000).default,
                         params=family_space(key).resolve(1_000).params)
              for key in ("xgboost", "linear")}
    first = points(spaces, flat=flat)
    assert [p["family"] for p in first] == ["xgboost", "linear"]
    assert first[0]["xgboost__max_depth"] == spaces["xgboost"].default["max_depth"]
    assert ("linear__C" in first[0]) == flat  # flat searchers need every key


def test_a_broken_space_file_is_one_clear_error(tmp_path):
    (tmp_path / "odd.yaml").write_text("params:\n  depth: {type: int, low: 5, high: 2}\n")
    with pytest.raises(ConfigError,
                       match="search space .*odd.yaml is invalid: .*low \\(5.0\\) is above high"):
        load_space("odd", tmp_path)
