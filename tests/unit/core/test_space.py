"""The search-space vocabulary: the optional portfolio and its validation."""

from __future__ import annotations

import pytest
import yaml

from automl.students import families as _students  # noqa: F401 - registers the student families
from automl.errors import ConfigError
from automl.models.registry import family_class, family_keys, family_space
from automl.space import Space, load_space

SPACE = """
default: {n_estimators: 100, max_depth: 6, early_stopping_rounds: 50}
params:
  n_estimators: {type: int, low: 50, high: 2000, log: true}
  max_depth: {type: int, low: 2, high: 12}
portfolio:
  - params: {n_estimators: 100, max_depth: 6}
    source: "the default"
  - params: {max_depth: 10, early_stopping_rounds: 20}
    source: "study: rank 1"
"""


def write_space(folder, text: str, key: str = "toy") -> None:
    (folder / f"{key}.yaml").write_text(text)


def test_a_portfolio_loads_in_order_with_its_sources(tmp_path):
    write_space(tmp_path, SPACE)
    space = load_space("toy", tmp_path)
    assert [e.params for e in space.portfolio] == [{"n_estimators": 100, "max_depth": 6},
                                                   {"max_depth": 10, "early_stopping_rounds": 20}]
    assert space.portfolio[1].source == "study: rank 1"


def test_the_portfolio_is_optional_and_survives_resolve():
    space = Space.model_validate(yaml.safe_load(SPACE))
    assert space.resolve(1000).portfolio == space.portfolio
    assert Space.model_validate({"default": {"C": 1.0}}).portfolio == []


def test_an_unknown_key_in_an_entry_is_refused_with_a_suggestion(tmp_path):
    write_space(tmp_path, SPACE.replace("max_depth: 10", "max_dept: 10"))
    with pytest.raises(ConfigError, match=r"portfolio entry 2 sets 'max_dept'.*did you mean "
                                          r"'max_depth'.*own parameters: 'early_stopping_rounds', "
                                          r"'max_depth', 'n_estimators'"):
        load_space("toy", tmp_path)


def test_an_all_rows_entry_is_checked_as_the_portfolio_is(tmp_path):
    write_space(tmp_path, SPACE + "all_rows_portfolio:\n"
                "  - params: {max_dept: 12}\n    source: \"deep trees\"\n")
    with pytest.raises(ConfigError, match=r"all_rows_portfolio entry 1 sets 'max_dept'.*did you "
                                          r"mean 'max_depth'"):
        load_space("toy", tmp_path)


def test_an_entry_needs_params_and_a_source(tmp_path):
    write_space(tmp_path, SPACE.replace('    source: "the default"\n', ""))
    with pytest.raises(ConfigError, match="invalid"):
        load_space("toy", tmp_path)
    write_space(tmp_path, SPACE.replace('source: "the default"', 'source: ""'))
    with pytest.raises(ConfigError, match="invalid"):
        load_space("toy", tmp_path)


def test_an_entry_with_an_unknown_field_is_refused(tmp_path):
    write_space(tmp_path, SPACE.replace('source: "the default"', 'source: "x"\n    rank: 1'))
    with pytest.raises(ConfigError, match="invalid"):
        load_space("toy", tmp_path)


@pytest.mark.parametrize("key", family_keys())
def test_every_shipped_portfolio_is_valid_and_its_entries_are_accepted(key):
    space = family_space(key)  # loading validates the entries' keys
    for entry in space.portfolio:
        assert set({**space.default, **entry.params}) <= set(family_class(key).allowed_params)


def test_a_family_fitted_without_params_takes_its_spaces_defaults():
    """The defaults live in search/<key>.yaml only; a direct fit with no params uses them."""
    import numpy as np

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(80, 3)).astype(np.float32), np.arange(80) % 2
    linear = family_class("linear")(params=None).fit(X, y)
    default = family_space("linear").default
    assert linear.model_.C == default["C"] and linear.model_.tol == default["tol"]
    mlp = family_class("mlp")(params={"max_epochs": 2}).fit(X, y)
    default = family_space("mlp").default
    assert mlp.arch_["hidden"] == [default["width"]] * default["n_layers"]
    assert mlp.arch_["activation"] == default["activation"]
