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


def test_the_run_options_are_checked_once_by_one_function_in_the_callers_names(tmp_path):
    from automl.options import check_run_options

    with pytest.raises(ConfigError, match=r"^--seed '-1' is out of range"):
        check_run_options(seed="-1", labels={"seed": "--seed"})
    with pytest.raises(ConfigError, match=r"^time budget 'soon' is not a duration"):
        check_run_options(time_budget="soon")
    options = check_run_options(time_budget="2m", seed="7", holdout="0.2", max_trials="3",
                                out=tmp_path, encoding="windows-1252")
    assert (options.time_budget, options.seed, options.holdout, options.max_trials,
            options.encoding) == (120.0, 7, 0.2, 3, "cp1252")


def test_automl_fit_builds_an_automl_and_checks_its_options_once(tmp_path, monkeypatch, capsys):
    """The CLI checks its options (before the heavy imports), then hands them to
    AutoML.fit_checked as they are: no second check."""
    from automl import api, options
    from automl.cli import main

    calls, fitted = [], {}
    checked = options.check_run_options
    monkeypatch.setattr(options, "check_run_options",
                        lambda **kw: calls.append(kw) or checked(**kw))
    monkeypatch.setattr(api.AutoML, "_checked_options",
                        lambda self: pytest.fail("the options were checked twice"))

    def fit_checked(self, opts, X=None, y=None, *, target=None, resume=None, started=None,
                    sample_weight=None):
        fitted.update(model=self, options=opts, X=X, target=target, graph=self._graph(opts, resume))
        self.run_dir_, self.metrics_ = tmp_path / "run", {"test": None, "valid": {"roc_auc": 0.9}}
        return self

    monkeypatch.setattr(api.AutoML, "fit_checked", fit_checked)
    table = tmp_path / "t.csv"
    make_table(n=50).to_csv(table, index=False)
    assert main(["fit", str(table), "--target", "y", "--seed", "3", "--holdout", "0.1",
                 "--max-trials", "4", "--compact", "--out", str(tmp_path)]) == 0
    assert len(calls) == 1 and calls[0]["labels"]["seed"] == "--seed"
    model, opts = fitted["model"], fitted["options"]
    assert (opts.seed, opts.holdout, opts.max_trials) == (3, 0.1, 4)
    assert model.get_params()["compact"] is True and model.get_params()["pipeline"] == "default"
    assert fitted["X"] == str(table) and fitted["target"] == "y"
    graph = fitted["graph"]  # --holdout, --compact and --max-trials applied by the API
    assert graph.by_kind("ingest")[0].params.test_fraction == 0.1
    assert graph.by_kind("export") and graph.by_kind("search")[0].params.max_trials == 4
    assert "validation score: roc_auc 0.9000" in capsys.readouterr().out


def test_a_pipeline_of_none_is_only_for_a_resumed_run(tmp_path):
    with pytest.raises(ConfigError, match=r"^pipeline is None, which stands for a resumed run's "
                                          r"own graph; give a preset name"):
        AutoML(pipeline=None, out=tmp_path).fit(make_table(), target="y")
