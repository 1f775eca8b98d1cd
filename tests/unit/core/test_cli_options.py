"""Every option of every command, given a value outside its bounds, is one line
`automl: error: ...` and exit 2, before anything trains.

The options are found by walking the argparse actions, so an option added later fails
`test_every_option_is_walked` until it has a case here.
"""

from __future__ import annotations

import argparse

import pytest

from automl.cli import build_parser, main, subparsers
from tests.conftest import make_table

# (command, option dest) -> [(arguments after the command, what the error line says)].
# {csv} is a small table, {file} a plain file, {empty} a folder that is no run folder.
# A fit case also gets a short budget and bench cases an unknown dataset where they may,
# so that a check that went missing costs seconds, not a real run.
CASES: dict[tuple[str, str], list[tuple[list[str], str]]] = {
    ("fit", "data"): [(["{empty}/missing.csv", "--target", "y"], "file not found")],
    ("fit", "target"): [(["{csv}", "--target", "nope"], "target column 'nope' not found"),
                        (["{csv}", "--target", " "], "--target is empty")],
    ("fit", "pipeline"): [(["{csv}", "--target", "y", "--pipeline", "fastest"],
                           "no pipeline preset 'fastest' (did you mean 'fast'?)")],
    ("fit", "time_budget"): [
        (["{csv}", "--target", "y", "--time-budget", "-5s"],
         "--time-budget '-5s' is negative; allowed: 5s to 7d"),
        (["{csv}", "--target", "y", "--time-budget", "2s"], "--time-budget '2s' is too short"),
        (["{csv}", "--target", "y", "--time-budget", "8d"], "--time-budget '8d' is too long"),
        (["{csv}", "--target", "y", "--time-budget", "soon"], "--time-budget 'soon' is not a duration"),
    ],
    ("fit", "max_trials"): [
        (["{csv}", "--target", "y", "--max-trials", "0"],
         "--max-trials '0' is not a number of trials; allowed: a whole number from 1 to 100000"),
        (["{csv}", "--target", "y", "--max-trials", "many"], "--max-trials 'many' is not a number"),
    ],
    ("fit", "metric"): [(["{csv}", "--target", "y", "--metric", "auc"], "unknown metric 'auc'")],
    ("fit", "weight"): [(["{csv}", "--target", "y", "--weight", "nope"],
                         "weight column 'nope' not found"),
                        (["{csv}", "--target", "y", "--weight", ""], "--weight is empty")],
    ("fit", "class_weight"): [(["{csv}", "--target", "y", "--class-weight", "even"],
                               "argument --class-weight: invalid choice: 'even'")],
    ("fit", "task"): [(["{csv}", "--target", "y", "--task", "binar"],
                       "argument --task: invalid choice: 'binar'")],
    ("fit", "holdout"): [
        (["{csv}", "--target", "y", "--holdout", "0.95"],
         "--holdout 0.95 is out of range; allowed: a number in [0, 0.9)"),
        (["{csv}", "--target", "y", "--holdout", "-0.1"], "--holdout -0.1 is out of range"),
        (["{csv}", "--target", "y", "--holdout", "half"], "--holdout 'half' is not a number"),
    ],
    ("fit", "out"): [(["{csv}", "--target", "y", "--out", "{file}"], "is a file; give a folder"),
                     # a file on its path: to_csv's user meets it as a one-line error too
                     (["{csv}", "--target", "y", "--out", "{file}/runs"],
                      "cannot be made: ")],
    ("fit", "mlflow"): [(["{csv}", "--target", "y", "--mlflow", " "], "--mlflow is empty")],
    ("fit", "seed"): [
        (["{csv}", "--target", "y", "--seed", "-1"],
         "--seed '-1' is out of range; allowed: an integer from 0 to 4294967295"),
        (["{csv}", "--target", "y", "--seed", str(2**32)], "is out of range"),
        (["{csv}", "--target", "y", "--seed", "1.5"], "--seed '1.5' is not an integer"),
    ],
    ("fit", "address"): [
        (["{csv}", "--target", "y", "--address", "head"], "--address 'head' is not a Ray address"),
        (["{csv}", "--target", "y", "--address", "head:0"], "has port 0, out of range; ports are 1 to 65535"),
        (["{csv}", "--target", "y", "--address", "head:70000"], "has port 70000, out of range"),
    ],
    ("fit", "resume"): [(["--resume", "{empty}"], "is not a run folder (no run.json)"),
                        (["--resume", "{empty}/gone"], "it does not exist")],
    ("fit", "encoding"): [(["{csv}", "--target", "y", "--encoding", "utf9"],
                           "unknown encoding 'utf9'")],
    ("fit", "refit_full"): [(["--resume", "{empty}", "--refit-full"],
                             "--refit-full changes the graph, and a resumed run keeps its own")],
    ("fit", "max_model_size"): [
        (["{csv}", "--target", "y", "--max-model-size", "50 parsecs"],
         "--max-model-size '50 parsecs' is not understood; allowed: 1KB to 64GB"),
        (["{csv}", "--target", "y", "--max-model-size", "100B"],
         "--max-model-size '100B' is out of range"),
        (["{csv}", "--target", "y", "--max-model-size", "-5MB"], "is not understood"),
    ],
    ("fit", "max_latency"): [
        (["{csv}", "--target", "y", "--max-latency", "fast"],
         "--max-latency 'fast' is not understood; allowed: 1us to 60s"),
        (["{csv}", "--target", "y", "--max-latency", "2m"], "--max-latency '2m' is not understood"),
        (["{csv}", "--target", "y", "--max-latency", "90s"], "--max-latency '90s' is out of range"),
    ],
    ("predict", "run_dir"): [(["{empty}", "{csv}"], "holds no finished model")],
    ("predict", "data"): [(["{empty}", "{empty}/missing.csv"], "file not found")],
    ("predict", "out"): [(["{empty}", "{csv}", "--out", "{empty}/no/such/folder/p.csv"],
                          "does not exist; create it"),
                         (["{empty}", "{csv}", "--out", "{empty}"], "is a folder; give a file name")],
    ("predict", "model"): [(["{empty}", "{csv}", "--model", "tiny"],
                            "argument --model: invalid choice: 'tiny'")],
    ("predict", "encoding"): [(["{empty}", "{csv}", "--encoding", "utf9"], "unknown encoding 'utf9'")],
    ("explain", "run_dir"): [(["{empty}/gone", "{csv}"], "cannot explain"),
                             (["{empty}", "{csv}"], "is not a run folder (no run.json)")],
    ("explain", "data"): [(["{empty}", "{empty}/missing.csv"], "file not found")],
    ("explain", "out"): [(["{empty}", "{csv}", "--out", "{empty}/no/such/folder/e.csv"],
                          "does not exist; create it"),
                         (["{empty}", "{csv}", "--out", "{empty}"], "is a folder; give a file name")],
    ("explain", "target_class"): [(["{empty}", "{csv}", "--class", " "], "--class is empty")],
    ("explain", "model"): [(["{empty}", "{csv}", "--model", "tiny"],
                            "argument --model: invalid choice: 'tiny'"),
                           (["{empty}", "{csv}", "--model", "compact"],
                            "the compact model is an ONNX graph")],
    ("explain", "encoding"): [(["{empty}", "{csv}", "--encoding", "utf9"], "unknown encoding 'utf9'")],
    ("serve", "run_dir"): [(["{empty}/gone"], "is not a run folder (no such folder)"),
                           (["{empty}"], "holds no model/ensemble.onnx")],
    ("serve", "model"): [(["{empty}", "--model", "python"], "argument --model: invalid choice")],
    ("serve", "port"): [(["{empty}", "--port", "70000"], "--port must be between 1 and 65535"),
                        (["{empty}", "--port", "eighty"], "argument --port: invalid int value")],
    ("serve", "host"): [(["{empty}", "--host", "no-such-host.invalid"],
                         "--host 'no-such-host.invalid' is not an address of this machine")],
    ("report", "run_dir"): [(["{empty}/gone"], "cannot report on"),
                            (["{empty}"], "is not a run folder (no run.json)")],
    ("validate", "file"): [(["{empty}/missing.yaml"], "pipeline file not found"),
                           (["fastest"], "no pipeline preset 'fastest'")],
    ("bench", "data"): [(["--data", "{empty}/gone", "--datasets", "nope"],
                         "benchmark data folder")],
    ("bench", "datasets"): [(["--data", "{manifest}", "--datasets", "nope"],
                             "unknown dataset 'nope'"),
                            (["--datasets", " , "], "--datasets got ' , '")],
    ("bench", "systems"): [(["--systems", "autom", "--datasets", "nope"],
                            "unknown system 'autom' (did you mean 'automl'?)")],
    ("bench", "time_budget"): [(["--time-budget", "-1m", "--datasets", "nope"],
                                "--time-budget '-1m' is negative"),
                               (["--time-budget", "30d", "--datasets", "nope"], "is too long")],
    ("bench", "hard_timeout"): [(["--hard-timeout", "30s", "--datasets", "nope"],
                                 "--hard-timeout '30s' would kill every system before its "
                                 "--time-budget of 1m ends"),
                                (["--hard-timeout", "0", "--datasets", "nope"], "is too short")],
    ("bench", "pipeline"): [(["--pipeline", "fastest", "--datasets", "nope"],
                             "no pipeline preset 'fastest'")],
    ("bench", "out"): [(["--out", "{file}", "--datasets", "nope"], "is a file; give a folder")],
    ("bench", "weight"): [(["--weight", " ", "--datasets", "nope"], "--weight is empty")],
}


def walked_options() -> set[tuple[str, str]]:
    """(command, dest) of every option and argument that takes a value."""
    found = set()
    for command, parser in subparsers(build_parser()).items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if action.nargs == 0 and isinstance(action, argparse._StoreTrueAction):
                continue  # a flag: nothing to be out of range
            assert action.nargs != 0 or isinstance(action, argparse.BooleanOptionalAction), \
                (command, action.dest)
            found.add((command, action.dest))
    return found


def test_every_option_is_walked():
    missing = walked_options() - set(CASES)
    assert not missing, f"options without an out-of-range case here: {sorted(missing)}"
    assert not set(CASES) - walked_options(), "cases for options that are gone"


@pytest.fixture
def places(tmp_path):
    csv, file, empty = tmp_path / "small.csv", tmp_path / "plain.txt", tmp_path / "empty"
    make_table().to_csv(csv, index=False)
    file.write_text("not a folder\n")
    empty.mkdir()
    manifest = tmp_path / "bench_data"  # a data folder of its own: ../shared need not be there
    manifest.mkdir()
    (manifest / "MANIFEST.csv").write_text("name,task,target\nsmall,binary,y\n")
    return {"csv": str(csv), "file": str(file), "empty": str(empty), "manifest": str(manifest)}


@pytest.mark.parametrize("command, dest, args, message",
                         [(c, d, args, m) for (c, d), cases in CASES.items() for args, m in cases],
                         ids=lambda v: v if isinstance(v, str) and len(v) < 25 else "")
def test_a_value_out_of_bounds_is_one_line_and_exit_2(command, dest, args, message, places,
                                                       capsys):
    argv = [command] + [a.format(**places) for a in args]
    if command == "fit":  # should a check go missing, the fit that follows is short
        argv += ["--time-budget", "5s", "--pipeline", "fast", "--out", places["empty"]] \
            if "--time-budget" not in args and "--out" not in args and "--pipeline" not in args \
            else []
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("automl: error: ") and err.count("\n") == 1, err
    assert message in err, err
