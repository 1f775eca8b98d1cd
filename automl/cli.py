"""The `automl` command: fit, predict, validate. A deliberate error is one line, exit 2."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from automl import __version__
from automl.errors import AutoMLError

EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args) or 0
    except AutoMLError as err:
        print(f"automl: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("automl: interrupted; continue with 'automl fit --resume RUN_DIR'", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="automl", description="AutoML for tables: search, ensemble, distill, export.")
    parser.add_argument("--version", action="version", version=f"automl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_fit(commands)
    _add_predict(commands)
    _add_validate(commands)
    return parser


def _add_fit(commands) -> None:
    fit = commands.add_parser(
        "fit", help="fit a pipeline on a table",
        description="Fit a pipeline graph on a table (CSV or Parquet) and write a run folder.",
        epilog="example: automl fit data.csv --target y --time-budget 5m")
    fit.add_argument("data", nargs="?", help="table to learn from (.csv, .tsv, .parquet); "
                     "optional with --resume")
    fit.add_argument("--target", help="the column to predict")
    fit.add_argument("--pipeline", default=None,
                     help="preset name (default, fast) or a .yaml file (default: default)")
    fit.add_argument("--time-budget", default=None, help="e.g. 90s, 5m, 1h (default: no limit)")
    fit.add_argument("--metric", default=None,
                     help="metric to optimise (default: roc_auc, log_loss or rmse by task)")
    fit.add_argument("--task", choices=["binary", "multiclass", "regression"], default=None,
                     help="override the task inferred from the target")
    fit.add_argument("--holdout", type=float, default=None,
                     help="share of rows held out for a final test score (overrides the graph)")
    fit.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--address", default=os.environ.get("RAY_ADDRESS"),
                     help="join this Ray cluster instead of starting one (default: $RAY_ADDRESS)")
    fit.add_argument("--resume", default=None, metavar="RUN_DIR",
                     help="continue an interrupted run; finished nodes are reused")
    fit.add_argument("--quiet", action="store_true", help="no progress lines")
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
    predict.set_defaults(handler=_predict)


def _add_validate(commands) -> None:
    validate = commands.add_parser(
        "validate", help="check a pipeline graph without training",
        description="Validate a pipeline graph (YAML file or preset name) and print the order.")
    validate.add_argument("file", metavar="FILE")
    validate.set_defaults(handler=_validate)


def _fit(args) -> int:
    from automl.api import with_holdout
    from automl.budget import parse_duration
    from automl.errors import ConfigError
    from automl.graph.context import Settings
    from automl.graph.load import load_graph
    from automl.graph.run import fit_run

    if args.resume is None and (args.data is None or args.target is None):
        raise ConfigError("fit needs DATA and --target COLUMN (or --resume RUN_DIR)")
    settings = None
    if args.target is not None:
        budget = None if args.time_budget is None else parse_duration(args.time_budget)
        settings = Settings(target=args.target, task=args.task, metric=args.metric,
                            seed=args.seed, time_budget=budget, address=args.address)
    pipeline = args.pipeline if args.pipeline or args.resume else "default"
    spec = None if pipeline is None else with_holdout(load_graph(pipeline), args.holdout)
    result = fit_run(args.data, settings, spec, out=args.out, resume=args.resume,
                     verbose=not args.quiet)
    print(f"run folder: {result.run_dir}")
    scores = result.metrics["test"] or result.metrics["valid"]
    part = "test" if result.metrics["test"] else "validation"
    print(f"{part} score: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    return 0


def _predict(args) -> int:
    from automl.data.ingest import read_table
    from automl.graph.bundle import load_bundle

    predictor = load_bundle(Path(args.run_dir))
    frame = read_table(args.data)
    out = frame[[]].copy()
    out["prediction"] = predictor.predict(frame)
    if args.proba:
        out = out.join(predictor.predict_proba(frame).add_prefix("proba_"))
    if args.out:
        out.to_csv(args.out, index=False)
        print(f"wrote {len(out)} predictions to {args.out}", file=sys.stderr)
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


def _validate(args) -> int:
    from automl.graph.executor import unimplemented_kinds
    from automl.graph.load import execution_order, load_graph

    spec = load_graph(args.file)
    print(f"{spec.name}: valid; execution order:")
    for i, name in enumerate(execution_order(spec), 1):
        node = spec.node(name)
        print(f"  {i}. {name} ({node.kind})" + (f" <- {', '.join(node.inputs)}" if node.inputs else ""))
    for kind in unimplemented_kinds(spec):
        print(f"note: kind {kind!r} is valid but this version cannot run it yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
