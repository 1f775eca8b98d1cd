"""The `automl` command: fit, predict, explain, serve, report, validate, bench.

A deliberate error is one line, exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from automl.version import __version__
from automl.budget import DEFAULT_TIME_BUDGET, MAX_TIME_BUDGET, MIN_TIME_BUDGET, format_duration
from automl.data.notices import DataNotice
from automl.errors import AutoMLError
from automl.options import MAX_SEED
from automl.serving.load import MODELS

EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    started = time.time()  # a fit's time budget holds for the whole command
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parser.parse_args(_attach_dash_values(argv, parser))
        args.started = started
        if not getattr(args, "command", None):
            parser.print_help()
            return EXIT_USAGE
        return args.handler(args) or 0
    except AutoMLError as err:
        print(f"automl: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("automl: interrupted; continue with 'automl fit --resume RUN_DIR'", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `automl predict ... | head`: the reader left, no error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


class _Parser(argparse.ArgumentParser):
    """argparse, its errors in the project's voice: raised as ConfigError, so they print
    as one line and exit 2 like every other bad input (argparse prints its usage too)."""

    def error(self, message: str):
        from automl.errors import ConfigError

        raise ConfigError(f"{message}; see '{self.prog} --help'")


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser of each command, by name."""
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(found[0].choices) if found else {}


def _attach_dash_values(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """'--time-budget -5s' as '--time-budget=-5s': argparse takes a value that starts with
    '-' for an option of its own and answers 'expected one argument', which hides the
    real problem; joined, the value reaches its check and gets its own message."""
    known, takes_value = set(), set()
    for each in (parser, *subparsers(parser).values()):
        for action in each._actions:
            known.update(action.option_strings)
            if action.option_strings and action.nargs is None:  # one value follows
                takes_value.update(action.option_strings)
    joined, tokens = [], iter(argv)
    for token in tokens:
        following = next(tokens, None) if token in takes_value else None
        if following is not None and following.startswith("-") \
                and following.split("=")[0] not in known:
            joined.append(f"{token}={following}")
        else:
            joined += [token] + ([following] if following is not None else [])
    return joined


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="automl", description="AutoML for tables: search, ensemble, distill, export.")
    parser.add_argument("--version", action="version", version=f"automl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_fit(commands)
    _add_predict(commands)
    _add_explain(commands)
    _add_serve(commands)
    _add_report(commands)
    _add_validate(commands)
    _add_bench(commands)
    return parser


def _add_fit(commands) -> None:
    from automl.resources import preset_summaries

    presets = preset_summaries()
    width = max(map(len, presets))
    fit = commands.add_parser(
        "fit", help="fit a pipeline on a table",
        description="Fit a pipeline graph on a table (CSV or Parquet) and write a run folder.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="presets (--pipeline NAME; the graphs are in pipelines/NAME.yaml):\n"
               + "".join(f"  {name:<{width}}  {summary}\n" for name, summary in presets.items())
               + "\nexamples:\n  automl fit data.csv --target y --time-budget 5m\n"
                 "  automl fit data.csv --target y --time-budget 5m --compact\n"
                 "    (also writes compact/compact.onnx and its model card)")
    fit.add_argument("data", nargs="?", help="table to learn from (.csv, .tsv, .parquet); "
                     "optional with --resume")
    fit.add_argument("--target", help="the column to predict")
    fit.add_argument("--pipeline", default=None,
                     help=f"a preset ({', '.join(presets)}; below) or a .yaml file "
                          "(default: default)")
    fit.add_argument("--compact", action="store_true",
                     help="also distil the final model into compact/compact.onnx (raw columns "
                          "in, onnxruntime anywhere) with its model card: adds the compact "
                          "preset's distill, compress and export nodes to the pipeline, which "
                          "get 30%% of the time budget")
    fit.add_argument("--time-budget", default=None,
                     help=f"wall-clock limit of the whole fit, e.g. 90s, 5m, 1h, from "
                          f"{format_duration(MIN_TIME_BUDGET)} to {format_duration(MAX_TIME_BUDGET)}; "
                          f"'none' for no limit (then max_trials bounds the search) "
                          f"(default: {format_duration(DEFAULT_TIME_BUDGET)})")
    fit.add_argument("--max-trials", default=None, metavar="N",
                     help="run N trials in each search (then --time-budget none makes the run "
                          "the same on any machine: the same seed, the same leaderboard) "
                          "(default: as the pipeline says, else as many as the budget allows)")
    fit.add_argument("--metric", default=None,
                     help="metric to optimise (default: roc_auc, log_loss or rmse by task): "
                          "roc_auc, average_precision, log_loss, accuracy, balanced_accuracy, "
                          "f1, mcc, f1_macro; rmse, mae, r2. For a metric of labels (f1, ...) "
                          "the decision threshold or class weights are chosen on held-out "
                          "predictions and kept in the model")
    fit.add_argument("--task", choices=["binary", "multiclass", "regression"], default=None,
                     help="override the task inferred from the target")
    fit.add_argument("--weight", default=None, metavar="COLUMN",
                     help="the column of sample weights (numbers >= 0): every model fits with "
                          "them and every score is weighted by them; it is no feature")
    fit.add_argument("--class-weight", choices=["balanced"], default=None,
                     help="balanced: re-weight the classes in every model's fit so that each "
                          "carries the same total weight (scores keep the sample weights only)")
    fit.add_argument("--holdout", default=None,
                     help="share of rows held out for a final test score, from 0 (none) to "
                          "below 0.9 (overrides the graph)")
    fit.add_argument("--refit-full", action=argparse.BooleanOptionalAction, default=None,
                     help="refit each bagged member of a k-fold run once on all training rows, "
                          "in place of its k fold models: k times smaller and faster "
                          "(default: as the pipeline says; default's is on)")
    fit.add_argument("--max-model-size", default=None, metavar="SIZE",
                     help="the ensemble takes a member only while its members' size stays "
                          "within SIZE, e.g. 50MB, 512KB (1 MB = 2^20 bytes) (default: no cap)")
    fit.add_argument("--max-latency", default=None, metavar="TIME",
                     help="and while their one-row predict times, summed, stay within TIME, "
                          "e.g. 10ms, 250us (default: no cap)")
    fit.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
    fit.add_argument("--seed", default=0, help=f"seed of every random choice, from 0 to "
                                                f"{MAX_SEED} (default: 0)")
    fit.add_argument("--address", default=os.environ.get("RAY_ADDRESS"),
                     help="join this Ray cluster instead of starting one (default: $RAY_ADDRESS)")
    fit.add_argument("--resume", default=None, metavar="RUN_DIR",
                     help="continue an interrupted run; finished nodes are reused")
    fit.add_argument("--encoding", default=None,
                     help="the text encoding of a CSV/TSV, e.g. utf-8, cp1252, latin-1 "
                          "(default: detected: UTF-8, else cp1252, else latin-1)")
    fit.add_argument("--mlflow", default=None, metavar="URI",
                     help="log the finished run to this MLflow tracking server (default: "
                          "MLFLOW_TRACKING_URI where set): settings, a child run per trial, "
                          "scores, report, and both ONNX models (pip install 'automl[mlflow]')")
    fit.add_argument("--quiet", action="store_true", help="no progress lines or notes")
    fit.add_argument("--no-report", action="store_true",
                     help="skip report.html at the end (make it later with 'automl report')")
    fit.set_defaults(handler=_fit)


def _add_predict(commands) -> None:
    predict = commands.add_parser(
        "predict", help="predict with a fitted run",
        description="Predict one value per row of DATA with the model in RUN_DIR.")
    predict.add_argument("run_dir", metavar="RUN_DIR")
    predict.add_argument("data", metavar="DATA")
    predict.add_argument("--out", default=None, help="CSV file to write (default: standard output)")
    predict.add_argument("--proba", action="store_true",
                         help="also write class probabilities, one column per class")
    predict.add_argument("--model", choices=list(MODELS), default="ensemble",
                         help="the run's final model (ensemble, the default: model/ensemble.onnx), "
                              "its compact/compact.onnx (compact), both in onnxruntime with no "
                              "pickle, or the pickled Python predictor (python: "
                              "model/predictor.joblib)")
    _add_data_encoding(predict)
    predict.set_defaults(handler=_predict)


def _add_data_encoding(parser) -> None:
    parser.add_argument("--encoding", default=None,
                        help="the text encoding of DATA, e.g. utf-8, cp1252, latin-1 "
                             "(default: detected)")


def _add_explain(commands) -> None:
    explain = commands.add_parser(
        "explain", help="per-row contributions of each column to the model's output",
        description="Explain the predictions of the model in RUN_DIR for each row of DATA: "
                    "one row per row, with the base value and one column per feature column; "
                    "base + the columns' sum is the model's output (a value, or the "
                    "probability of explained_class). Reads model/predictor.joblib, the "
                    "Python form of model/ensemble.onnx: explain only run folders you trust.",
        epilog="example: automl explain runs/20260101-120000-adult data.csv --out why.csv")
    explain.add_argument("run_dir", metavar="RUN_DIR")
    explain.add_argument("data", metavar="DATA")
    explain.add_argument("--out", default=None,
                         help="file to write: .parquet for Parquet, else CSV (default: CSV on "
                              "standard output)")
    explain.add_argument("--class", dest="target_class", default=None, metavar="LABEL",
                         help="classification: explain this class's probability (default: the "
                              "positive class of a binary task, each row's predicted class "
                              "for multiclass)")
    explain.add_argument("--model", choices=list(MODELS), default="ensemble",
                         help="the run's final model (ensemble, the default, or python: the "
                              "same model); the compact model has no explanations")
    _add_data_encoding(explain)
    explain.set_defaults(handler=_explain)


def _add_serve(commands) -> None:
    serve = commands.add_parser(
        "serve", help="answer predictions over HTTP",
        description="Serve the model in RUN_DIR over HTTP: POST one row as a JSON object (or "
                    "a list of them) to /predict; GET /schema for the columns it takes, "
                    "/health to check it is up. onnxruntime underneath, nothing unpickled. "
                    "Needs the serve extra: pip install 'automl[serve]'.",
        epilog="example: automl serve runs/20260101-120000-adult --port 8000, then "
               "curl -d '{\"age\": 39, \"workclass\": \"State-gov\", ...}' "
               "localhost:8000/predict with every column the model takes (curl "
               "localhost:8000/schema lists them; null for a missing value)")
    serve.add_argument("run_dir", metavar="RUN_DIR")
    serve.add_argument("--model", choices=["ensemble", "compact"], default="ensemble",
                       help="model/ensemble.onnx (the default) or compact/compact.onnx")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1, this machine only; "
                            "0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.set_defaults(handler=_serve)


def _add_report(commands) -> None:
    report = commands.add_parser(
        "report", help="write the HTML report of a run",
        description="Write RUN_DIR/report.html: the data, the search, the ensemble, the "
                    "compact model and feature importance, in one self-contained file.",
        epilog="example: automl report runs/20260101-120000-adult")
    report.add_argument("run_dir", metavar="RUN_DIR")
    report.add_argument("--no-importance", action="store_true",
                        help="skip permutation importance (the only part that predicts)")
    report.set_defaults(handler=_report)


def _add_validate(commands) -> None:
    validate = commands.add_parser(
        "validate", help="check a pipeline graph without training",
        description="Validate a pipeline graph (YAML file or preset name) and print the order.")
    validate.add_argument("file", metavar="FILE")
    validate.set_defaults(handler=_validate)


def _add_bench(commands) -> None:
    from automl.bench import defaults
    from automl.bench.systems import SYSTEMS

    bench = commands.add_parser(
        "bench", help="benchmark automl against baselines and peers on the shared tables",
        description="Run the benchmark protocol of DESIGN.md: every system on every table of "
                    "DIR/MANIFEST.csv, each in its own subprocess with a hard time-out, on one "
                    "fixed 80/20 split. Writes OUT/results.csv and OUT/bench.md. A peer that "
                    "is not installed is skipped with a notice.",
        epilog="example: automl bench --datasets credit_g,wine_quality "
               "--systems automl,xgb_default --time-budget 30s")
    bench.add_argument("--data", default=None, metavar="DIR",
                       help=f"folder with MANIFEST.csv and NAME.parquet tables "
                            f"(default: {defaults.default_data_dir()})")
    bench.add_argument("--datasets", default=None, metavar="A,B",
                       help="comma-separated dataset names from the manifest (default: all)")
    bench.add_argument("--systems", default=None, metavar="A,B",
                       help=f"comma-separated systems, of: {', '.join(SYSTEMS)} (default: all)")
    bench.add_argument("--time-budget", default=defaults.TIME_BUDGET,
                       help=f"time budget per system and dataset, e.g. 60s, 5m "
                            f"(default: {defaults.TIME_BUDGET})")
    bench.add_argument("--hard-timeout", default=None, metavar="DURATION",
                       help=f"kill a system's run after this long (default: budget x "
                            f"{defaults.HARD_TIMEOUT_FACTOR} + {defaults.HARD_TIMEOUT_MARGIN:g}s)")
    bench.add_argument("--weight", default=None, metavar="COLUMN",
                       help="each table's column of sample weights: every system fits with "
                            "them, every score is weighted (e.g. adult's fnlwgt)")
    bench.add_argument("--pipeline", default="default",
                       help="the graph automl runs (default: default; 'compact' adds the "
                            "compact model as variant 'compact')")
    bench.add_argument("--out", default=defaults.OUT,
                       help=f"folder for results.csv, bench.md, run folders "
                            f"(default: {defaults.OUT})")
    bench.set_defaults(handler=_bench)


def _fit(args) -> int:
    if args.address:  # the paths this run reads and writes, before joining (files.pinned)
        from automl.data.files import pinned

        for name in ("data", "out", "resume"):
            setattr(args, name, None if getattr(args, name) is None else pinned(getattr(args, name)))
        if args.pipeline and Path(args.pipeline).is_file():
            args.pipeline = pinned(args.pipeline)
    options = _check_fit_args(args)
    if options.address:  # before the libraries below take seconds: a cluster that cannot be
        from automl.search.runtime import connect  # joined is one line, exit 2, at once

        connect(options.address)
    # only now the libraries that take seconds to load (pandas, sklearn, torch, ray)
    from automl.api import AutoML

    model = AutoML(pipeline=args.pipeline or (None if args.resume else "default"),
                   time_budget=args.time_budget, metric=args.metric, task=args.task,
                   seed=options.seed, out=args.out, address=options.address,
                   holdout=options.holdout, verbosity=0 if args.quiet else 1,
                   report=not args.no_report, encoding=args.encoding,
                   max_trials=options.max_trials, compact=args.compact,
                   refit_full=options.refit_full, max_model_size=args.max_model_size,
                   max_latency=args.max_latency, class_weight=args.class_weight)
    with warnings.catch_warnings():
        if args.quiet:  # a quiet run's data notices come as warnings (RunContext.notice)
            warnings.simplefilter("ignore", DataNotice)
        model.fit_checked(options, args.data, target=args.target, resume=args.resume,
                          started=args.started, sample_weight=args.weight)
    print(f"run folder: {model.run_dir_}")
    scores = model.metrics_["test"] or model.metrics_["valid"]
    part = "test" if model.metrics_["test"] else "validation"
    print(f"{part} score: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    if _mlflow_uri(args):
        _log_to_mlflow(model.run_dir_, _mlflow_uri(args))
    return 0


def _mlflow_uri(args) -> str | None:
    return args.mlflow or os.environ.get("MLFLOW_TRACKING_URI") or None


def _log_to_mlflow(run_dir, uri: str) -> None:
    """The finished run in MLflow; a server that fails costs the logging, not the run."""
    from automl.errors import first_line
    from automl.tracking import log_run

    try:
        run_id = log_run(run_dir, uri)
    except Exception as err:  # the run is done and kept: say why it is not in MLflow
        print(f"automl: note: the run was not logged to MLflow at {uri} ({type(err).__name__}: "
              f"{first_line(err)}); log it later with automl.tracking.log_run", file=sys.stderr)
        return
    print(f"mlflow run: {run_id} at {uri}", file=sys.stderr)


# how `automl fit` spells the run options in its messages
FIT_LABELS = {"time_budget": "--time-budget", "seed": "--seed", "holdout": "--holdout",
              "address": "--address", "max_trials": "--max-trials", "out": "--out",
              "refit_full": "--refit-full", "max_model_size": "--max-model-size",
              "max_latency": "--max-latency"}


def _check_fit_args(args):
    """The run options (automl.options.RunOptions), once every argument is found within its
    bounds and the data path good: before the libraries that take seconds to import, so a
    typo fails at once. AutoML.fit_checked takes them as they are."""
    from automl.data.files import locate
    from automl.errors import ConfigError
    from automl.options import check_run_dir, check_run_options

    if args.resume is None and (args.data is None or args.target is None):
        raise ConfigError("fit needs DATA and --target COLUMN (or --resume RUN_DIR)")
    if args.resume is not None and args.compact:
        raise ConfigError("--compact changes the graph, and a resumed run keeps its own; fit "
                          "anew with --compact (the finished nodes of a run are reused only "
                          "within its run folder)")
    ensemble_flags = [flag for flag, value in (("--refit-full", args.refit_full),
                                               ("--max-model-size", args.max_model_size),
                                               ("--max-latency", args.max_latency))
                      if value is not None]
    if args.resume is not None and ensemble_flags:
        raise ConfigError(f"{ensemble_flags[0]} changes the graph, and a resumed run keeps its "
                          "own; fit anew with it")
    if args.mlflow is not None or _mlflow_uri(args):
        from automl.tracking import check_mlflow

        check_mlflow(args.mlflow)
    if args.target is not None and not args.target.strip():
        raise ConfigError("--target is empty; give the name of the column to predict")
    _check_weight_name(args.weight)
    options = check_run_options(time_budget=args.time_budget, seed=args.seed,
                                holdout=args.holdout, address=args.address,
                                max_trials=args.max_trials, out=args.out, encoding=args.encoding,
                                refit_full=args.refit_full, max_model_size=args.max_model_size,
                                max_latency=args.max_latency, labels=FIT_LABELS)
    if args.resume is not None:
        check_run_dir(args.resume, "resume")
    if args.data is not None:
        locate(args.data)
    return options


def _report(args) -> int:
    from automl.options import check_run_dir

    check_run_dir(args.run_dir, "report on")
    from automl.report.write import report_run_dir

    path = report_run_dir(Path(args.run_dir), importance=not args.no_importance,
                          log=lambda line: print(line, file=sys.stderr))
    print(path)
    return 0


def _predict(args) -> int:
    from automl.data.files import locate
    from automl.options import check_encoding, check_out_file

    encoding = check_encoding(args.encoding)
    locate(args.data)  # a wrong path fails before the model and its libraries load
    if args.out is not None:
        check_out_file(args.out, "--out")
    from automl.serving.load import load_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predictor = load_model(Path(args.run_dir), args.model)  # a wrong folder fails before the model loads
        from automl.data.ingest import read_table

        # a header and no rows: no predictions, written as such (prediction needs no minimum)
        frame = read_table(args.data, encoding=encoding, allow_no_rows=True)
        raw = predictor.predict_raw(frame) if len(frame) else _no_output(predictor.schema)
    _show_notices(caught)
    out = frame[[]].copy()
    out["prediction"] = predictor.labels(raw)
    if args.proba:
        # one column per class, headed by the class; one named 'prediction' is told apart
        proba = predictor.proba_frame(raw, frame.index)
        out = out.join(proba.rename(columns={"prediction": "proba_prediction"}))
    if args.out:
        from automl.atomic import atomic_write_text  # a full disk: one line, no half a file

        atomic_write_text(Path(args.out), out.to_csv(index=False))
        print(f"wrote {len(out)} predictions to {args.out}", file=sys.stderr)
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


def _explain(args) -> int:
    from automl.data.files import locate
    from automl.options import check_encoding, check_out_file, check_run_dir

    from automl.errors import ConfigError

    encoding = check_encoding(args.encoding)
    if args.model == "compact":
        raise ConfigError("--model compact: explanations are of the run's final model (the "
                          "ensemble); the compact model is an ONNX graph with no Python form "
                          "to explain")
    if args.target_class is not None and not args.target_class.strip():
        raise ConfigError("--class is empty; give a class label, or leave it out")
    locate(args.data)  # a wrong path fails before the model and its libraries load
    if args.out is not None:
        check_out_file(args.out, "--out")
    if not (Path(args.run_dir) / "model" / "predictor.joblib").is_file():
        check_run_dir(args.run_dir, "explain")  # no such folder, or not a run folder
    from automl.serving.explain import load_explainer

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        explainer = load_explainer(Path(args.run_dir), args.model)  # "holds no finished model"
        from automl.data.ingest import read_table

        frame = read_table(args.data, encoding=encoding, allow_no_rows=True)
        table = explainer.explain(frame).frame(args.target_class)
    _show_notices(caught)
    if args.out is None:
        table.to_csv(sys.stdout, index=False)
        return 0
    from automl.atomic import atomic_write_bytes, atomic_write_text

    if Path(args.out).suffix.lower() in (".parquet", ".pq"):
        atomic_write_bytes(Path(args.out), table.to_parquet(index=False))
    else:
        atomic_write_text(Path(args.out), table.to_csv(index=False))
    print(f"wrote {len(table)} explanations to {args.out}", file=sys.stderr)
    return 0


def _serve(args) -> int:
    import importlib.util

    from automl.errors import ConfigError

    missing = [name for name in ("starlette", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"automl serve needs {' and '.join(missing)}: "
                          "pip install 'automl[serve]'")
    from automl.serving.web import serve

    serve(args.run_dir, args.model, args.host, args.port,
          log=lambda line: print(line, file=sys.stderr, flush=True))
    return 0


def _no_output(schema):
    """The model's output for no rows: no values, or no rows of one column per class."""
    import numpy as np

    return np.empty(0) if schema.classes is None else np.empty((0, len(schema.classes)))


def _show_notices(caught: list) -> None:
    """Our own warnings (ignored columns, other library versions) as one 'note' line each,
    once; anything else back to Python's filters, as if it had not been caught."""
    seen = set()
    for item in caught:
        if item.filename.startswith(str(Path(__file__).parent)):
            if str(item.message) not in seen:
                seen.add(str(item.message))
                print(f"automl: note: {item.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


def _check_weight_name(weight: str | None) -> None:
    from automl.errors import ConfigError

    if weight is not None and not weight.strip():
        raise ConfigError("--weight is empty; give the name of the column of sample weights, "
                          "or leave it out")


def _bench(args) -> int:
    from automl.bench.defaults import default_data_dir
    from automl.bench.report import summary_lines
    from automl.bench.runner import BenchConfig, run_bench
    from automl.graph.load import load_graph
    from automl.options import check_out_dir

    _check_weight_name(args.weight)
    budget, timeout = _bench_times(args.time_budget, args.hard_timeout)
    check_out_dir(args.out, "--out")
    load_graph(args.pipeline)  # a bad graph fails here, not in every worker
    config = BenchConfig(data_dir=Path(args.data) if args.data else default_data_dir(),
                         datasets=_names(args.datasets, "--datasets"),
                         systems=_names(args.systems, "--systems"),
                         time_budget=budget, out=Path(args.out),
                         hard_timeout=timeout, pipeline=args.pipeline, weight=args.weight)
    try:
        result = run_bench(config)
    except KeyboardInterrupt:
        print(f"automl: bench interrupted; what it measured is in {config.out / 'results.csv'}",
              file=sys.stderr)
        return 130
    for line in summary_lines(result.results):
        print(line)
    print(f"results: {result.csv_path}")
    print(f"report: {result.md_path}")
    return 0


def _bench_times(budget_text: str, timeout_text: str | None) -> tuple[float, float | None]:
    """The bench's time budget and hard time-out in seconds; a time-out shorter than the
    budget would kill every system before its budget ends."""
    from automl.bench.defaults import HARD_TIMEOUT_FACTOR, HARD_TIMEOUT_MARGIN
    from automl.budget import MAX_TIME_BUDGET, format_duration, parse_duration
    from automl.errors import ConfigError

    budget = parse_duration(budget_text, "--time-budget")
    if timeout_text is None:
        return budget, None
    timeout = parse_duration(timeout_text, "--hard-timeout",
                             high=MAX_TIME_BUDGET * HARD_TIMEOUT_FACTOR)
    if timeout <= budget:
        raise ConfigError(f"--hard-timeout {timeout_text!r} would kill every system before its "
                          f"--time-budget of {format_duration(budget)} ends; give more, or leave "
                          f"it out for budget x {HARD_TIMEOUT_FACTOR} + "
                          f"{HARD_TIMEOUT_MARGIN:g}s")
    return budget, timeout


def _names(value: str | None, flag: str) -> list[str] | None:
    """'a, b,' -> ['a', 'b']; None when the flag was not given."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        from automl.errors import ConfigError

        raise ConfigError(f"{flag} got {value!r}; give comma-separated names, e.g. a,b")
    return names


def _validate(args) -> int:
    from automl.graph.load import execution_order, load_graph

    spec = load_graph(args.file)
    print(f"{spec.name}: valid; execution order:")
    for i, name in enumerate(execution_order(spec), 1):
        node = spec.node(name)
        print(f"  {i}. {name} ({node.kind})" + (f" <- {', '.join(node.inputs)}" if node.inputs else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
