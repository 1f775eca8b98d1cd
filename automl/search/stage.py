"""The `search` stage: Ray Tune over the declared families within the stage's budget."""

from __future__ import annotations

from automl.metrics import default_metric, get_metric
from automl.models.registry import family_class
from automl.search import runtime
from automl.search.result import SearchResult
from automl.search.trainable import TrialInputs
from automl.search.tuner import SearchPlan, run_search
from automl.space import load_space


def run(node, inputs, context) -> SearchResult:
    params, settings = node.params, context.settings
    schema = inputs[0].schema
    metric = get_metric(settings.metric or default_metric(schema.task), schema.task)
    data_by_branch = {data.branch.name: data for data in inputs}
    family_branch = {key: family_class(key).branch for key in params.families}
    n_rows = len(inputs[0].y_train)
    spaces = {key: load_space(key).resolve(n_rows) for key in params.families}
    context.log(f"{node.name}: {runtime.connect(settings.address)}")
    iterative = any(family_class(key).iterative for key in params.families)
    plan = SearchPlan(
        spaces=spaces, searcher=params.searcher,
        scheduler=params.scheduler if iterative else "fifo",
        budget=context.deadline.share(params.budget_share), max_trials=params.max_trials,
        cpus_per_trial=params.cpus_per_trial, concurrency=params.concurrency,
        keep_models=params.keep_models, seed=settings.seed,
    )
    trial_inputs = TrialInputs(
        data=data_by_branch, family_branch=family_branch,
        defaults={key: space.default for key, space in spaces.items()}, task=schema.task,
        metric=metric.name, seed=settings.seed, n_jobs=max(1, int(params.cpus_per_trial)),
        deadline=None, sink=None,
    )
    folder = context.node_dir
    trials, wall = run_search(plan, trial_inputs, folder, context.log)
    for trial in trials:
        trial.trial_seconds = wall.get(trial.trial_id)
    result = SearchResult(schema, metric.name, {b: d.branch for b, d in data_by_branch.items()},
                          family_branch, trials, inputs[0].y_valid)
    _log_summary(node.name, result, metric, context)
    return result


def _log_summary(name, result: SearchResult, metric, context) -> None:
    counts = {}
    for trial in result.trials:
        counts[trial.status] = counts.get(trial.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    best = result.best()
    context.log(f"{name}: {len(result.trials)} trials ({summary}); best {best.family} "
                f"{metric.name} {abs(best.score):.4f} ({best.trial_id})")
