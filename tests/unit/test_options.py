"""The Python API holds its arguments to the bounds the CLI's options have, before it
reads or trains anything: the same checks (automl/options.py), in the API's names."""

from __future__ import annotations

import pytest

from automl import AutoML
from automl.errors import ConfigError
from automl.options import check_out_file
from tests.conftest import make_table


@pytest.mark.parametrize("argument, value, message", [
    ("time_budget", "-5s", r"^time budget '-5s' is negative; allowed: 5s to 7d"),
    ("time_budget", 10**9, r"^time budget 1000000000 is too long"),
    ("time_budget", "soon", r"^time budget 'soon' is not a duration"),
    ("seed", -1, r"^seed -1 is out of range; allowed: an integer from 0 to 4294967295"),
    ("seed", 1.5, r"^seed 1.5 is not an integer"),
    ("holdout", 0.9, r"^holdout 0.9 is out of range; allowed: a number in \[0, 0.9\)"),
    ("address", "head:99999", r"^address 'head:99999' has port 99999, out of range"),
    ("address", "just-a-host", r"^address 'just-a-host' is not a Ray address; allowed: HOST:PORT"),
    ("max_trials", 0, r"^max_trials 0 is not a number of trials; allowed: a whole number from 1"),
])
def test_an_argument_out_of_bounds_fails_before_the_run(tmp_path, argument, value, message):
    model = AutoML(pipeline="fast", out=tmp_path / "runs", **{argument: value})
    with pytest.raises(ConfigError, match=message):
        model.fit(make_table(), target="y")
    assert not (tmp_path / "runs").exists()


def test_out_must_be_a_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"^out '.*file' is a file; give a folder"):
        AutoML(out=tmp_path / "file").fit(make_table(), target="y")


def test_an_output_file_needs_its_folder(tmp_path):
    with pytest.raises(ConfigError, match=r"the folder '.*nowhere' does not exist; create it"):
        check_out_file(tmp_path / "nowhere" / "p.csv")
    assert check_out_file(tmp_path / "p.csv") == tmp_path / "p.csv"
