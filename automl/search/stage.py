"""The `search` stage: Ray Tune over the declared families within the stage's budget."""

from __future__ import annotations


from automl.atomic import atomic_write_text
from automl.budget import Budget
from automl.config import SearchParams
from automl.data.split import KFOLD
from automl.metrics import default_metric, get_metric
from automl.models.base import REPORTS_PER_FIT
from automl.models.registry import family_class, family_space, import_path
from automl.preprocess.stage import BranchData
from automl.runfolder import TRIALS_CSV
from automl.search import runtime
from automl.search.result import SearchResult
from automl.search.sampled import sample_for_trials
from automl.search.trainable import TrialInputs
from automl.search.trial import fit_trial
from automl.search.tuner import SearchPlan, run_search


def prepare(nodes, context) -> None:
    """Start (or join) Ray when the run starts: it takes seconds, which the ingest and the
    branches use meanwhile (the executor runs them beside this hook)."""
    if not runtime.started():  # a cluster is joined first thing (RunContext.join_cluster)
        context.log(f"search: {runtime.connect(context.settings.address)}")
    for node in nodes:  # before any data is prepared, let alone trained on
        runtime.check_trial_cpus(node.params.cpus_per_trial, f"node {node.name!r}")


def run(node, inputs, context) -> SearchResult:
    params, settings = node.params, context.settings
    branches = inputs.named("preprocess")
    schema = next(iter(branches.values())).schema
    metric = get_metric(settings.metric or default_metric(schema.task), schema.task)
    result = search_families(params, {data.branch.name: data for data in branches.values()},
                             metric, context.budget, context, node.name, context.node_dir)
    result.branch_nodes = {data.branch.name: name for name, data in branches.items()}
    _log_summary(node.name, result, metric, context)
    # every trial, for people and the report (the node's stored output is a pickle)
    atomic_write_text(context.node_dir / TRIALS_CSV, result.leaderboard().to_csv(index=False))
    return result


def search_families(params: SearchParams, data_by_branch: dict[str, BranchData], metric,
                    budget: Budget, context, label: str, folder,
                    fixed: dict[str, dict] | None = None) -> SearchResult:
    """Ray Tune over `params.families` on their branches' data, within `budget`, the
    trials written into `folder`. Also how the distill stage tunes its students.
    `fixed`: per family, params every trial of it takes (not searched)."""
    settings = context.settings
    sampled = sample_for_trials(data_by_branch, params.sample_rows, settings.seed)
    first = next(iter((sampled or data_by_branch).values()))
    if sampled is not None:
        context.log(f"{label}: trials learn from a sample of {len(first.y_train)} of the "
                    f"{len(next(iter(data_by_branch.values())).y_train)} training rows "
                    "(sample_rows); the best are then fitted on all of them")
    family_branch = {key: family_class(key).branch for key in params.families}
    spaces = {key: _with_fixed(family_space(key).resolve(len(first.y_train)), (fixed or {}).get(key))
              for key in params.families}
    runtime.connect(settings.address)  # started already by `prepare`, unless in the distill stage
    iterative = any(family_class(key).iterative for key in params.families)
    kfold = first.validation.method == KFOLD
    memory = trial_memory(params.families, family_branch, sampled or data_by_branch)
    runtime.check_task_fits(params.cpus_per_trial, memory, f"{label}: a trial")
    plan = SearchPlan(
        spaces=spaces, searcher=params.searcher, memory_per_trial=memory,
        scheduler=params.scheduler if iterative or kfold else "fifo", budget=budget,
        interim_reports=first.validation.n_folds - 1 if kfold else REPORTS_PER_FIT,
        max_trials=params.max_trials, cpus_per_trial=params.cpus_per_trial,
        concurrency=params.concurrency, keep_models=params.keep_models, seed=settings.seed,
        all_rows_share=params.all_rows_share,
    )
    trial_data = sampled or data_by_branch
    trial_inputs = TrialInputs(  # on a cluster, the data as object-store refs made once a run
        data={name: context.offload.put(data) for name, data in trial_data.items()},
        family_branch=family_branch,
        family_paths={key: import_path(key) for key in params.families},
        spaces=spaces, task=first.schema.task,
        metric=metric.name, seed=settings.seed, n_jobs=max(1, int(params.cpus_per_trial)),
        budget=budget, sink=None,
    )
    trials, wall = run_search(plan, trial_inputs, folder, context.log,
                              all_rows=data_by_branch if sampled is not None else None,
                              put=context.offload.put, stopped_early=context.stopped_early)
    for trial in trials:
        trial.trial_seconds = wall.get(trial.trial_id)
    if not any(t.status == "ok" for t in trials):
        trials.append(_fallback_trial(params.families[0], trial_inputs, trial_data, metric,
                                      context, label))
    first = next(iter(data_by_branch.values()))
    return SearchResult(first.schema, metric.name, {b: d.branch for b, d in data_by_branch.items()},
                        family_branch, trials, first.y_scored, first.validation.describe(),
                        w_scored=first.w_scored)


def trial_memory(families: list[str], family_branch: dict[str, str],
                 data_by_branch: dict[str, BranchData]) -> int:
    """Bytes each trial asks its node for: the most any of `families` needs on its branch's
    training rows (k fold models kept under k-fold). One figure for every trial, not one per
    family, so that Tune reuses a trial's actor for the next trial whatever its family."""
    needs = []
    for family in families:
        data = data_by_branch[family_branch[family]]
        rows, columns = data.X_train.shape
        models = max(1, data.validation.n_folds)  # k fold models kept; one under holdout
        needs.append(family_class(family).fit_memory.need(rows, columns, models))
    return max(needs)


def _with_fixed(space, values: dict | None):
    """The space with `values` in its default (what every trial starts from) and out of its
    searched params."""
    if not values:
        return space
    return space.model_copy(update={
        "default": {**space.default, **values},
        "params": {k: v for k, v in space.params.items() if k not in values}})


def _fallback_trial(family: str, inputs: TrialInputs, data_by_branch: dict[str, BranchData],
                    metric, context, label: str):
    """No trial finished in the budget (Ray's start-up can eat a small one): fit the first
    family's cheap default here, so the run still ends with a real model."""
    context.log(f"{label}: no trial finished within the budget; fitting the {family} default "
                "config" + (" on the cluster" if context.offload.remote else " in this process"))
    left = context.run_budget.share(1.0, keep=context.run_budget.reserve())
    return context.offload.call(
        fit_trial, f"{family}-fallback", family, inputs.spaces[family].default,
        inputs.data[inputs.family_branch[family]], metric, seed=inputs.seed, n_jobs=inputs.n_jobs,
        budget=left, cpus=inputs.n_jobs,
        memory=trial_memory([family], inputs.family_branch, data_by_branch))


def _log_summary(name, result: SearchResult, metric, context) -> None:
    counts = {}
    for trial in result.trials:
        counts[trial.status] = counts.get(trial.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    best = result.best()
    context.log(f"{name}: {len(result.trials)} trials ({summary}); best {best.family} "
                f"{metric.name} {metric.from_score(best.score):.4f} ({best.trial_id}, "
                f"{result.validation})")
