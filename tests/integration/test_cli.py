"""The CLI end to end on small tables: fit, predict, validate, resume, and bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from automl import AutoML
from automl.cli import main
from automl.resources import preset_summaries
from tests.conftest import REPO, SAMPLE, make_table


def automl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl.cli", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=300)


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "automl.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)


@pytest.fixture(scope="module")
def fitted_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    here = os.getcwd()
    os.chdir(home)  # a relative --out, as `make demo` gives it
    try:
        # the default graph, ended by its trial count (seven: about one per family) rather
        # than its budget: a complete run folder is what these tests read
        code = main(["fit", str(SAMPLE), "--target", "income", "--time-budget", "30s",
                     "--max-trials", "7", "--holdout", "0.2", "--out", "runs", "--quiet"])
    finally:
        os.chdir(here)
    assert code == 0
    (run_dir,) = (home / "runs").iterdir()
    return run_dir


def test_fit_writes_a_complete_run_folder(fitted_run):
    for name in ("graph.yaml", "run.json", "schema.json", "metrics.json", "leaderboard.csv",
                 "model/predictor.joblib", "model/ensemble.onnx", "model/schema.json",
                 "model/versions.json", "report.html"):
        assert (fitted_run / name).is_file(), name
    metrics = json.loads((fitted_run / "metrics.json").read_text())
    assert metrics["task"] == "binary"
    served = metrics["model"]  # the file predict serves: checked and timed as it was written
    assert served["format"] == "onnx" and served["parity_max_diff"] <= 1e-4
    assert served["size_bytes"] == (fitted_run / "model" / "ensemble.onnx").stat().st_size
    assert served["one_row_ms"] > 0 and served["parity_rows"] > 0
    board = pd.read_csv(fitted_run / "leaderboard.csv")
    assert board.loc[board["family"] == "ensemble", "onnx_bytes"].tolist() == [served["size_bytes"]]
    assert "Served as model/ensemble.onnx" in (fitted_run / "report.html").read_text()
    assert 0.75 < metrics["test"]["roc_auc"] <= 1.0  # the sample is learnable: a real model
    assert json.loads((fitted_run / "run.json").read_text())["status"] == "done"


def test_predict_writes_one_row_per_input_row(fitted_run, tmp_path):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(fitted_run), str(SAMPLE), "--out", str(out), "--proba"]) == 0
    predictions = pd.read_csv(out)
    assert len(predictions) == len(pd.read_csv(SAMPLE))
    # one column per class, headed by the class name (the sample's classes are 0 and 1)
    assert list(predictions.columns) == ["prediction", "0", "1"]
    assert set(predictions["prediction"]) <= {0, 1}
    assert (predictions[["0", "1"]].sum(axis=1) - 1).abs().max() < 1e-6
    assert (predictions["prediction"] == (predictions["1"] > predictions["0"])).all()


def test_predict_serves_the_onnx_file_with_the_pickle_gone(fitted_run, tmp_path):
    python = tmp_path / "python.csv"
    assert main(["predict", str(fitted_run), str(SAMPLE), "--model", "python", "--out", str(python),
                 "--proba"]) == 0
    run_dir = tmp_path / "run"
    shutil.copytree(fitted_run, run_dir)
    (run_dir / "model" / "predictor.joblib").unlink()  # nothing left to unpickle
    served = tmp_path / "served.csv"
    assert main(["predict", str(run_dir), str(SAMPLE), "--out", str(served), "--proba"]) == 0
    before, after = pd.read_csv(python), pd.read_csv(served)
    assert (before["prediction"] == after["prediction"]).all()
    assert (before[["0", "1"]] - after[["0", "1"]]).abs().max().max() < 1e-5
    model = AutoML.load(run_dir)
    row = pd.read_csv(SAMPLE).drop(columns="income").iloc[7].to_dict()
    assert model.predict(row).tolist() == [after["prediction"][7]]
    assert model.predictor_.describe()["members"]  # model/model.json, read without a pickle


def test_resume_reuses_finished_nodes(fitted_run, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(fitted_run, run_dir)
    # An interrupted run: the search never finished, so neither did the model.
    for done in (run_dir / "nodes" / "search").glob("*/done.json"):
        done.unlink()
    shutil.rmtree(run_dir / "model")
    assert main(["fit", "--resume", str(run_dir)]) == 0
    log = capsys.readouterr().err
    assert "data (ingest): reused the stored output" in log
    assert "trees (preprocess): reused the stored output" in log
    assert "search (search): running" in log
    assert "ensemble (ensemble): running" in log  # built on the new search, not reused
    assert (run_dir / "model" / "predictor.joblib").is_file()


def test_validate_prints_the_order(capsys):
    assert main(["validate", "default"]) == 0
    assert "1. data (ingest)" in capsys.readouterr().out


def test_version_and_help():
    result = automl("--version")
    assert result.returncode == 0 and result.stdout.startswith("automl ")
    for command in ("fit", "predict", "validate"):
        assert "usage: automl " + command in automl(command, "--help").stdout
    fit_help = automl("fit", "--help").stdout
    for name, summary in preset_summaries().items():  # every preset, with its one line
        assert f"  {name}" in fit_help and summary in fit_help and summary
    assert "--compact" in fit_help
    assert "--model {ensemble,compact,python}" in automl("predict", "--help").stdout


@pytest.fixture
def small_csv(tmp_path):
    path = tmp_path / "small.csv"
    make_table().to_csv(path, index=False)
    return path


def _bad_inputs(tmp_path, small_csv):
    """Bad tables and graphs, through the installed command; every option's out-of-range
    value is walked in-process by tests/unit/core/test_cli_options.py."""
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "dups.csv").write_text("a,a,y\n" + "1,2,3\n" * 30)
    (tmp_path / "data.json").write_text("{}")
    single = make_table()
    single["y"] = "only"
    single.to_csv(tmp_path / "single.csv", index=False)
    few = make_table().head(10)
    few.to_csv(tmp_path / "few.csv", index=False)
    nan_target = make_table()
    nan_target["y"] = None
    nan_target.to_csv(tmp_path / "nan.csv", index=False)
    (tmp_path / "broken.yaml").write_text("nodes:\n  - {name: d, kind: ingest}\n  - {name: s, kind: serch}\n")
    return [
        (["fit", str(tmp_path / "nope.csv"), "--target", "y"], "file not found"),
        (["fit", str(tmp_path / "empty.csv"), "--target", "y"], "is empty (0 bytes)"),
        (["fit", str(small_csv), "--target", "z"], "target column 'z' not found"),
        (["fit", str(small_csv), "--target", "colur"], "did you mean 'colour'"),
        (["fit", str(tmp_path / "single.csv"), "--target", "y"], "single value"),
        (["fit", str(tmp_path / "nan.csv"), "--target", "y"], "has no values"),
        (["fit", str(tmp_path / "dups.csv"), "--target", "y"], "duplicate column names: a"),
        (["fit", str(tmp_path / "few.csv"), "--target", "y"], "only 10 rows"),
        (["fit", str(tmp_path / "data.json"), "--target", "y"], "unsupported file type '.json'"),
        (["fit", str(small_csv), "--target", "y", "--metric", "auc"], "unknown metric 'auc'"),
        (["validate", str(tmp_path / "broken.yaml")], "unknown kind 'serch'"),
    ]


@pytest.mark.slow
def test_each_bad_input_is_one_line_and_exit_2(tmp_path, small_csv, capsys):
    out = ["--out", str(tmp_path / "runs")]
    cases = [([*args, *out] if args[0] == "fit" else args, message)
             for args, message in _bad_inputs(tmp_path, small_csv)]
    # a data error and a graph error through the installed command, at once (a process
    # spends seconds importing); the others through its entry point here, which is the same
    # code path less the imports (eleven processes took 38 s of a loaded suite)
    through_the_command = (cases[1], cases[-1])
    started = [_start(*args) for args, _ in through_the_command]
    for (args, message), process in zip(through_the_command, started):
        stdout, stderr = process.communicate(timeout=300)
        _says_one_line(args, process.returncode, stderr, message)
    for args, message in cases:
        code = main(args)
        _says_one_line(args, code, capsys.readouterr().err, message)


def _says_one_line(args: list[str], code: int, stderr: str, message: str) -> None:
    assert code == 2, (args, stderr)
    assert message in stderr, (args, stderr)
    assert "Traceback" not in stderr, (args, stderr)
    assert stderr.startswith("automl: error: ") and stderr.count("\n") == 1, (args, stderr)


HEAVY = ("pandas", "sklearn", "torch", "ray", "xgboost", "pyarrow")


@pytest.mark.parametrize("args", [["fit", "missing.csv", "--target", "y"],
                                  ["fit", "missing.csv", "--target", "y", "--time-budget", "soon"],
                                  ["predict", "runs/x", "missing.csv"],
                                  ["fit", "--resume", "runs/x", "--compact"],
                                  ["fit", "missing.csv", "--target", "y", "--max-latency", "fast"],
                                  ["fit", "missing.csv", "--target", "y", "--max-model-size", "9"]])
def test_argument_and_file_errors_come_before_the_heavy_imports(tmp_path, args):
    """The error line, and none of the libraries that take seconds to import loaded."""
    script = ("import sys; from automl.cli import main; code = main(sys.argv[1:]); "
              f"print(code, sorted(m for m in {HEAVY!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert result.stderr.startswith("automl: error: ") and result.stderr.count("\n") == 1
    assert result.stdout == "2 []\n", result.stdout


def test_fit_missing_file_in_a_subprocess(tmp_path):
    result = subprocess.run([sys.executable, "-m", "automl.cli", "fit", "missing.csv", "--target", "y"],
                            capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (f"automl: error: file not found: missing.csv; check the path "
                             f"(relative to {tmp_path})\n")


def _as_excel_in_europe(frame: pd.DataFrame, path) -> None:
    """The table as a German Excel saves it: Windows-1252, ';' between fields, decimal commas."""
    frame.to_csv(path, index=False, sep=";", decimal=",", encoding="cp1252")


def test_fit_reads_a_european_excel_csv_and_says_how(tmp_path, capsys):
    frame = make_table(n=300, task="regression")
    frame["colour"] = frame["colour"].replace({"red": "rötlich"})
    _as_excel_in_europe(frame, tmp_path / "table.csv")
    code = main(["fit", str(tmp_path / "table.csv"), "--target", "y", "--pipeline", "fast",
                 "--time-budget", "15s", "--out", str(tmp_path / "runs"), "--no-report"])
    assert code == 0
    log = capsys.readouterr().err
    for note in ("ingest: " + str(tmp_path / "table.csv") + ": fields are separated by ';', not ','",
                 "read as cp1252 (not UTF-8: byte 0xf6 in line ",
                 "read decimal commas (1,5 as 1.5) in 'x1', 'x2', 'y', as fields are separated by ';'"):
        assert note in log, log
    (run_dir,) = (tmp_path / "runs").iterdir()
    schema = json.loads((run_dir / "schema.json").read_text())
    assert {c["name"]: c["kind"] for c in schema["columns"]}["x1"] == "numeric"
    assert json.loads((run_dir / "run.json").read_text())["settings"]["encoding"] is None


def test_predict_with_a_given_encoding_and_its_notes(fitted_run, tmp_path):
    sample = pd.read_csv(SAMPLE)
    sample.loc[0, "native_country"] = "Côte-d'Ivoire"
    _as_excel_in_europe(sample, tmp_path / "in.csv")
    out = tmp_path / "pred.csv"
    result = automl("predict", str(fitted_run), str(tmp_path / "in.csv"), "--out", str(out),
                    "--encoding", "cp1252")
    assert result.returncode == 0, result.stderr
    assert f"automl: note: {tmp_path / 'in.csv'}: fields are separated by ';', not ','" in result.stderr
    assert "read as" not in result.stderr  # the encoding was given, not guessed
    assert len(pd.read_csv(out)) == len(sample)
    wrong = automl("predict", str(fitted_run), str(tmp_path / "in.csv"), "--encoding", "utf-8")
    assert wrong.returncode == 2
    assert wrong.stderr.startswith(f"automl: error: {tmp_path / 'in.csv'} is not utf-8 (byte 0xf4 "
                                   "in line 2 is not); give the file's encoding with --encoding")
