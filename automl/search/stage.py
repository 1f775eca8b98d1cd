"""The `search` stage.

For now it fits each declared family's default configuration in this process, one after
another, within the stage's share of the budget; the Ray Tune search replaces this loop.
"""

from __future__ import annotations

from automl.metrics import default_metric, get_metric
from automl.models.registry import family_class
from automl.search.result import SearchResult
from automl.search.trial import fit_trial
from automl.space import load_space


def run(node, inputs, context) -> SearchResult:
    params = node.params
    schema = inputs[0].schema
    metric = get_metric(context.settings.metric or default_metric(schema.task), schema.task)
    data_by_branch = {data.branch.name: data for data in inputs}
    family_branch = {key: family_class(key).branch for key in params.families}
    budget = context.deadline.share(params.budget_share)
    trials = []
    for index, family in enumerate(params.families):
        data = data_by_branch[family_branch[family]]
        config = load_space(family).resolve(len(data.y_train)).default
        time_limit = None if budget is None else max(1.0, budget / (len(params.families) - index))
        trial = fit_trial(f"{family}-default", family, config, data, metric,
                          seed=context.settings.seed, n_jobs=int(params.cpus_per_trial),
                          time_limit=time_limit)
        trials.append(trial)
        if budget is not None:
            budget -= trial.fit_seconds
        status = f"{metric.name} {abs(trial.score):.4f}" if trial.status == "ok" else trial.error
        context.log(f"{node.name}: {trial.trial_id}: {status} ({trial.fit_seconds:.1f}s)")
    any_data = inputs[0]
    return SearchResult(schema, metric.name, {b: d.branch for b, d in data_by_branch.items()},
                        family_branch, trials, any_data.y_valid)
