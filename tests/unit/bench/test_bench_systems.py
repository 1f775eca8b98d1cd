"""The system registry, the skip rule for peers not installed, and the baselines' encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.bench.baselines import ordinal_encoding
from automl.bench.runner import runnable_systems
from automl.bench.systems import (BASELINE, SYSTEMS, SystemSpec, get_system, load_runner,
                                  register_system)
from automl.errors import ConfigError


@pytest.fixture
def absent_peer():
    spec = register_system(SystemSpec("absent_peer", "no_such_module:fit", "peer", ("best",),
                                      ("no_such_module_here",), "pip install no-such-module"))
    yield spec
    SYSTEMS.pop(spec.key)


def test_built_in_systems_in_report_order():
    assert list(SYSTEMS)[:5] == ["automl", "xgb_default", "random_forest", "flaml", "autogluon"]
    assert callable(load_runner(get_system("xgb_default").runner))


def test_unknown_system_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown system 'flam' \(did you mean 'flaml'\?\); "
                                          r"valid systems: automl, xgb_default, random_forest"):
        get_system("flam")


def test_a_taken_key_is_refused_naming_both_runners():
    with pytest.raises(ConfigError, match=r"system key 'automl' is taken by "
                                          r"automl.bench.ours:fit_automl; cannot register x:y"):
        register_system(SystemSpec("automl", "x:y", BASELINE, ("default",)))
    with pytest.raises(ConfigError, match=r"kind 'rival'; use one of 'baseline', 'ours', 'peer'"):
        register_system(SystemSpec("new_one", "x:y", "rival", ("default",)))
    assert "new_one" not in SYSTEMS


def test_a_peer_not_installed_is_skipped_with_a_notice(absent_peer):
    specs, notices = runnable_systems(["xgb_default", "absent_peer"])
    assert [s.key for s in specs] == ["xgb_default"]
    assert notices == ["skipped absent_peer: no_such_module_here not installed; "
                       "pip install no-such-module to include it"]
    with pytest.raises(ConfigError, match="none of the chosen systems can run here: "
                                          "skipped absent_peer"):
        runnable_systems(["absent_peer"])


def test_ordinal_encoding_codes_categories_and_dates_and_keeps_missing():
    train = pd.DataFrame({"colour": ["red", "blue", None, "red"], "flag": [True, False, True, True],
                          "x": [1.5, np.nan, 0.0, 2.0],
                          "when": pd.to_datetime(["1970-01-01", "1970-01-02", None, "2024-01-01"])})
    encoder = ordinal_encoding(train).fit(train)
    test = pd.DataFrame({"colour": ["green", "blue"], "flag": [False, True], "x": [3.0, np.nan],
                         "when": pd.to_datetime(["1970-01-01 00:00:10", None])})
    encoded = encoder.transform(test)
    # columns: colour, flag (categories), when (seconds), x (as is)
    assert np.isnan(encoded[0, 0]) and encoded[1, 0] == 0  # unseen -> NaN; 'blue' sorts first
    assert encoded[:, 1].tolist() == [0, 1]
    assert encoded[0, 2] == 10 and np.isnan(encoded[1, 2])
    assert encoded[0, 3] == 3.0 and np.isnan(encoded[1, 3])


def test_a_system_may_run_in_another_python(monkeypatch):
    import shutil
    import sys

    from automl.bench.systems import get_system, interpreter, missing_requirements

    other = shutil.which("python3")
    if other is None or other == sys.executable:
        pytest.skip("no second Python on this machine")
    monkeypatch.setenv("AUTOML_BENCH_PYTHON_AUTOGLUON", other)
    assert interpreter("autogluon") == other
    # its other presets run in the same environment
    assert interpreter("autogluon_best") == interpreter("autogluon_distill") == other
    assert interpreter("flaml") == sys.executable
    # the check asks that interpreter, not this one: the system python has no autogluon
    assert missing_requirements(get_system("autogluon")) == ["autogluon.tabular"]
