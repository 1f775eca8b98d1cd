"""`automl fit`: its options, their checks before the slow imports, the run, MLflow.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from automl.budget import DEFAULT_TIME_BUDGET, MAX_TIME_BUDGET, MIN_TIME_BUDGET, format_duration
from automl.cli.shared import check_weight_name
from automl.data.notices import DataNotice
from automl.options import MAX_SEED


def add(commands) -> None:
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
    check_weight_name(args.weight)
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
