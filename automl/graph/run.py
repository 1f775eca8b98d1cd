"""One `fit` from start to finish: a run folder, the graph executed, the model bundled."""

from __future__ import annotations

import importlib
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from automl.budget import Budget, resolve_time_budget
from automl.bundle import save_bundle
from automl.atomic import atomic_write_json, atomic_write_text, disk_full, full_disk_cause
from automl.decisions import choose_decision
from automl.errors import AutoMLError, DiskFullError, RunError
from automl.data.files import pinned
from automl.graph.context import RunContext, Settings
from automl.graph.executor import execute
from automl.graph.load import dump_graph, execution_order, load_graph, parse_graph
from automl.graph.spec import GraphSpec
from automl.runfolder import RunStore, read_json
from automl.options import make_out_dir
from automl.metrics import REGRESSION, default_metric, evaluate, get_metric
from automl.options import check_run_dir

MODEL_KINDS = ("ensemble", "search")  # kinds whose output can be the run's model
ENSEMBLE_EXPORT = "automl.onnx.ensemble_export:export_run_model"
COMPACT_DECISION = "automl.onnx.decision_graph:decide_compact"


@dataclass
class RunResult:
    run_dir: Path
    predictor: object
    metrics: dict
    outputs: dict


def new_run_dir(out: str | Path, source) -> Path:
    stem = "frame" if isinstance(source, pd.DataFrame) else Path(str(source)).name.split(".")[0]
    base = Path(out) / f"{time.strftime('%Y%m%d-%H%M%S')}-{stem}"
    run_dir, n = base, 1
    while run_dir.exists():
        n += 1
        run_dir = base.with_name(f"{base.name}-{n}")
    return run_dir


def fit_run(source, settings: Settings, pipeline: str | Path | GraphSpec = "default",
            out: str | Path = "runs", resume: str | Path | None = None,
            verbose: bool = True, report: bool = True, started: float | None = None) -> RunResult:
    """Fit `pipeline` on `source` into a new run folder (or `resume` one). The time budget
    counts from `started` (time.time(); default now): the CLI passes its own start, so the
    budget holds for the whole command as its user times it."""
    source, out, resume = pinned(source), pinned(out), pinned(resume)  # before joining (files.pinned)
    if resume is not None:
        source, settings, spec, run_dir = _resumed(resume, source, settings, pipeline)
    else:
        spec = pipeline if isinstance(pipeline, GraphSpec) else load_graph(pipeline)
        run_dir = new_run_dir(out, source)
    seconds, budget_line = resolve_time_budget(settings.time_budget)
    settings = replace(settings, time_budget=seconds)  # run.json and node keys hold seconds
    context = RunContext(source, settings, run_dir, Budget(seconds, start=started), verbose)
    if settings.address:
        context.join_cluster()
    if resume is None:
        context.preflight(budget_line)  # bad input fails here, before a run folder exists
    else:
        context.log(budget_line)
    make_out_dir(run_dir, "the run folder")  # a disk that refuses: one line, not a traceback
    context.log(f"run folder: {run_dir}")
    atomic_write_text(run_dir / "graph.yaml", dump_graph(spec))
    meta = {"source": "<DataFrame>" if isinstance(source, pd.DataFrame) else str(Path(source).resolve()),
            "settings": asdict(settings), "pipeline": spec.name, "started": time.time()}
    atomic_write_json(run_dir / "run.json", {**meta, "status": "running"})
    try:
        outputs = execute(spec, context, RunStore(run_dir))
        predictor, metrics = _finish(spec, outputs, context)
    except BaseException as err:
        _mark_failed(run_dir, meta, err)
        full = None if isinstance(err, AutoMLError) else full_disk_cause(err)
        if full is not None:  # a write not ours (Ray Tune's) found the disk full
            raise disk_full(Path(full.filename or run_dir), full) from None
        raise
    early = {"stopped_early": context.stopped} if context.stopped else {}
    atomic_write_json(run_dir / "run.json", {**meta, "status": "done", **early,
                                             "seconds": round(context.run_budget.elapsed(), 2)})
    if report:
        _write_report(spec, outputs, context)
    return RunResult(run_dir, predictor, metrics, outputs)


def _mark_failed(run_dir: Path, meta: dict, err: BaseException) -> None:
    """run.json says the run failed and why; if even that cannot be written (a full disk),
    the run's own error is the one to tell, and run.json keeps saying 'running'."""
    try:
        if isinstance(err, KeyboardInterrupt):  # the user's Ctrl-C: resumable, not a failure
            atomic_write_json(run_dir / "run.json", {**meta, "status": "interrupted",
                                                     "error": "stopped by Ctrl-C"})
        else:
            atomic_write_json(run_dir / "run.json", {**meta, "status": "failed",
                                                     "error": str(err)[:500]})
    except DiskFullError:
        pass


def _resumed(resume, source, settings: Settings, pipeline):
    run_dir = check_run_dir(resume, "resume")
    meta = read_json(run_dir / "run.json")
    if source is None:
        if meta["source"] == "<DataFrame>":
            raise RunError(f"{run_dir} was fitted on a DataFrame; pass the same frame to resume it")
        source = meta["source"]
    saved = Settings(**meta["settings"])
    if settings is None or settings.target is None:
        settings = saved
    if pipeline is None:
        spec = parse_graph((run_dir / "graph.yaml").read_text(), str(run_dir / "graph.yaml"))
    else:
        spec = pipeline if isinstance(pipeline, GraphSpec) else load_graph(pipeline)
    return source, settings, spec, run_dir


def _finish(spec: GraphSpec, outputs: dict, context: RunContext):
    order = execution_order(spec)
    model_node = [n for n in order if spec.node(n).kind in MODEL_KINDS][-1]
    predictor = outputs[model_node].predictor()
    dataset = outputs[spec.by_kind("ingest")[0].name]
    run_dir = context.run_dir
    decision = _choose_decision(dataset, predictor, outputs[model_node], context)
    _by_name(COMPACT_DECISION)(run_dir, decision, context.log,
                               dataset.X_valid if dataset.X_valid is not None else dataset.X_train)
    save_bundle(run_dir, predictor)
    served = _export_ensemble(predictor, dataset, context)
    atomic_write_json(run_dir / "schema.json", dataset.schema.model_dump(mode="json"))
    _write_leaderboard(spec, outputs, run_dir, {model_node: served})
    metrics = {"task": dataset.task, "model_node": model_node,
               "validation": dataset.validation.describe(),
               "valid": _valid_scores(dataset, predictor, outputs[model_node], context),
               # refitted on train + validation: the validation score above is in-sample
               "valid_in_sample": bool(getattr(outputs[model_node], "refit", False)),
               "test": None, "fit_seconds": round(context.run_budget.elapsed(), 2),
               "model": served,
               "decision": None if decision is None else decision.model_dump(mode="json")}
    if dataset.X_test is not None:
        metrics["test"] = _scores(dataset, predictor, dataset.y_test,
                                  predictor.predict_features(dataset.X_test), dataset.w_test, context)
    atomic_write_json(run_dir / "metrics.json", metrics)
    shown = metrics["test"] or metrics["valid"]
    part = "test" if metrics["test"] else "validation"
    context.log(f"{part} score: " + ", ".join(f"{k} {v:.4f}" for k, v in shown.items()))
    return predictor, metrics


def _export_ensemble(predictor, dataset, context: RunContext) -> dict:
    """model/ensemble.onnx, what `automl predict` and `AutoML.load` serve, checked against
    the predictor on the stored rows (the validation part; under kfold, training rows):
    its figures for metrics.json. Reached by name, as the executor reaches the stages, so
    the facades that import this module reach the ONNX code through serving only."""
    rows = dataset.X_valid if dataset.X_valid is not None else dataset.X_train
    return _by_name(ENSEMBLE_EXPORT)(context.run_dir, predictor, rows, context.log)


def _by_name(path: str):
    module, function = path.split(":")
    return getattr(importlib.import_module(module), function)


def _choose_decision(dataset, predictor, model_output, context: RunContext):
    """Where the run's metric scores labels (f1, mcc, ...), the label rule that scores it
    best on the model's out-of-fold or validation predictions (never in-sample ones), put
    into the predictor's schema so every served model applies it; None otherwise."""
    if dataset.task == REGRESSION:
        return None
    metric = get_metric(context.settings.metric or default_metric(dataset.task), dataset.task)
    if not metric.decides:
        return None
    y, proba, rows = _held_out(dataset, model_output)
    decision = choose_decision(metric, y, proba, rows, _held_out_weight(dataset))
    if decision is not None:
        predictor.schema = predictor.schema.model_copy(update={"decision": decision})
        context.log(f"decision: {decision.describe()}")
    return decision


def _held_out(dataset, model_output) -> tuple:
    """The labels and the model's predictions of the rows it did not learn from: the
    validation part, or under k-fold every training row out of fold; and which rows."""
    blend = getattr(model_output, "valid_prediction", None)
    if blend is None:  # a search's best trial
        blend = model_output.best().valid_prediction
    if dataset.X_valid is not None:
        return dataset.y_valid, blend, f"validation part ({len(dataset.y_valid)} rows)"
    return dataset.y_train, blend, f"out-of-fold predictions ({len(dataset.y_train)} rows)"


def _held_out_weight(dataset):
    """The sample weights of `_held_out`'s rows (None: rows count alike)."""
    return dataset.w_valid if dataset.X_valid is not None else dataset.w_train


def _valid_scores(dataset, predictor, model_output, context: RunContext) -> dict:
    """The model's scores on the validation part, or (kfold) on its out-of-fold predictions."""
    if dataset.X_valid is not None:
        return _scores(dataset, predictor, dataset.y_valid,
                       predictor.predict_features(dataset.X_valid), dataset.w_valid, context)
    y, blend, _ = _held_out(dataset, model_output)
    return _scores(dataset, predictor, y, blend, dataset.w_train, context)


def _scores(dataset, predictor, y, prediction, weight, context: RunContext) -> dict:
    """The protocol's metrics, and the run's own where it is another (f1, mcc, ...): of
    labels as the model gives them, by its decision where it has one."""
    scores = evaluate(dataset.task, y, prediction, weight)
    metric = get_metric(context.settings.metric or default_metric(dataset.task), dataset.task)
    if metric.name not in scores:
        given = predictor.schema.label_codes(prediction) if metric.decides else prediction
        scores[metric.name] = metric.value(y, given, weight)
    return scores


def _write_leaderboard(spec: GraphSpec, outputs: dict, run_dir: Path, served: dict) -> None:
    """Each ensemble as a row of its own next to every trial of every search, best first;
    the served model's row with its file's size and one-row latency (`served`, by node)."""
    rows = [{**outputs[node.name].leaderboard_row(), **_served_columns(served.get(node.name))}
            for node in spec.by_kind("ensemble")]
    frames = [pd.DataFrame(rows)] if rows else []  # first: a tie ranks the run's model on top
    for node in spec.by_kind("search"):
        board = outputs[node.name].leaderboard()
        board.insert(0, "search_node", node.name)
        frames.append(board)
    if frames:
        board = pd.concat(frames, ignore_index=True)
        board = board.sort_values("score", ascending=False, na_position="last", kind="stable",
                                  ignore_index=True)
        if "onnx_bytes" in board:  # a count, though only the served row has one
            board["onnx_bytes"] = board["onnx_bytes"].astype("Int64")
        atomic_write_text(run_dir / "leaderboard.csv", board.to_csv(index=False))


def _served_columns(served: dict | None) -> dict:
    if not served or served.get("format") != "onnx":
        return {}
    return {"onnx_bytes": served["size_bytes"], "one_row_ms": served["one_row_ms"]}


def _write_report(spec: GraphSpec, outputs: dict, context: RunContext) -> None:
    """report.html, with a report node's params where the graph has one; a failure costs
    the report, never the run it describes."""
    from automl.report.write import report_run_dir

    nodes = spec.by_kind("report")
    importance = outputs[nodes[-1].name].permutation_importance if nodes else True
    try:
        report_run_dir(context.run_dir, importance, log=context.log, budget=context.run_budget)
    except Exception as err:
        context.log(f"report: not written ({type(err).__name__}: {str(err)[:200]}); "
                    f"try again with 'automl report {context.run_dir}'")
