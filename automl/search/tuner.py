"""Run one Ray Tune search over the conditional space; collect every trial.

Searchers: tpe (Optuna TPE, default), nsga2 (Optuna NSGA-II), pso (Nevergrad particle
swarm), random. Scheduler: ASHA when an iterative family is searched.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import ray
from ray import tune
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from automl.budget import Budget
from automl.metrics import get_metric
from automl.search import runtime
from automl.search.progress import Progress
from automl.search.sink import TrialSink, load_written
from automl.search.stopping import UntilDeadline
from automl.search.trainable import TrialInputs, run_trial
from automl.search.trial import TrialResult
from automl.search.tune_space import DefineByRun, family_params, starting_points, tune_space
from automl.space import Space

TRIALS_PER_FAMILY_WITHOUT_BUDGET = 10


@dataclass
class SearchPlan:
    """How to search, resolved from the node's params and the run's budget."""

    spaces: dict[str, Space]
    searcher: str
    scheduler: str
    budget: Budget
    interim_reports: int  # reports a trial makes before its final one (ASHA's rungs)
    max_trials: int | None
    cpus_per_trial: float
    concurrency: int | None
    keep_models: int
    seed: int


def run_search(plan: SearchPlan, inputs: TrialInputs, folder: Path, log) -> tuple[list[TrialResult], dict]:
    """All trials (finished and failed) and the driver-side wall seconds per trial."""
    folder = Path(folder).resolve()  # Tune reads a relative path as a URI with no scheme
    sink = _start_sink(folder, plan.keep_models)
    inputs.sink, inputs.budget = sink, plan.budget
    UntilDeadline.budget = plan.budget
    trainable = tune.with_resources(tune.with_parameters(run_trial, inputs=inputs),
                                    {"cpu": plan.cpus_per_trial})
    metric = get_metric(inputs.metric, inputs.task)
    progress = Progress(metric.name, metric.greater_is_better, plan.budget.total)
    tuner = _tuner(plan, trainable, folder, progress, log)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Tune prints its own banners there
            grid = tuner.fit()
    finally:
        progress.close()
    results = {**load_written(folder), **{r.trial_id: r for r in ray.get(sink.collect.remote())}}
    _add_unfinished_trials(grid, results, plan.spaces)
    ray.kill(sink)
    return list(results.values()), progress.wall


def _start_sink(folder: Path, keep_models: int):
    here = None if runtime.is_client() else str(folder)
    strategy = NodeAffinitySchedulingStrategy(node_id=runtime.node_id(), soft=True)
    return TrialSink.options(scheduling_strategy=strategy).remote(here, keep_models)


def _tuner(plan: SearchPlan, trainable, folder: Path, progress: Progress, log) -> tune.Tuner:
    experiment = folder / "tune"
    if tune.Tuner.can_restore(str(experiment)):
        log(f"search: resuming the interrupted Ray Tune experiment in {experiment}")
        return tune.Tuner.restore(str(experiment), trainable, resume_unfinished=True,
                                  resume_errored=False, param_space=_param_space(plan))
    concurrency = plan.concurrency or max(1, int(runtime.free_cpus() // plan.cpus_per_trial))
    config = tune.TuneConfig(
        metric="score", mode="max", search_alg=_searcher(plan), scheduler=_scheduler(plan),
        num_samples=_num_samples(plan), max_concurrent_trials=concurrency,
        time_budget_s=_tune_time_budget(plan.budget),
        reuse_actors=True,
    )
    run = tune.RunConfig(storage_path=str(folder.resolve()), name="tune", verbose=0,
                         callbacks=[progress], failure_config=tune.FailureConfig(max_failures=0),
                         log_to_file=False)
    log(f"search: {plan.searcher} over {', '.join(plan.spaces)}; {concurrency} trial(s) at once, "
        f"{plan.cpus_per_trial:g} CPU each; budget {plan.budget.describe()}")
    return tune.Tuner(trainable, param_space=_param_space(plan), tune_config=config, run_config=run)


def _tune_time_budget(budget: Budget) -> float | None:
    """Tune's hard stop: the search's budget, a little after its end so the trials, which
    end by it themselves, can still report."""
    left = budget.remaining()
    return None if left is None else left + min(5.0, 0.1 * left) + 1.0


def _num_samples(plan: SearchPlan) -> int:
    if plan.max_trials is not None:
        return plan.max_trials
    if plan.budget.limited:
        return -1  # as many as the budget allows
    return TRIALS_PER_FAMILY_WITHOUT_BUDGET * len(plan.spaces)


def _param_space(plan: SearchPlan) -> dict:
    # Optuna gets the space define-by-run; Nevergrad samples the flat union from here.
    return tune_space(plan.spaces) if plan.searcher == "pso" else {}


def _searcher(plan: SearchPlan):
    flat = plan.searcher == "pso"
    points = starting_points(plan.spaces, flat=flat)
    if plan.searcher == "pso":
        import nevergrad as ng
        from ray.tune.search.nevergrad import NevergradSearch

        searcher = NevergradSearch(optimizer=ng.optimizers.PSO, metric="score", mode="max",
                                   points_to_evaluate=points)
    else:
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = {
            "tpe": lambda: optuna.samplers.TPESampler(seed=plan.seed, n_startup_trials=len(points) + 5),
            "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=plan.seed, population_size=10),
            "random": lambda: optuna.samplers.RandomSampler(seed=plan.seed),
        }[plan.searcher]()
        searcher = OptunaSearch(space=DefineByRun(plan.spaces), metric="score", mode="max",
                                sampler=sampler, points_to_evaluate=points)
    return UntilDeadline(searcher)


def _scheduler(plan: SearchPlan):
    if plan.scheduler != "asha":
        return None
    from ray.tune.schedulers import ASHAScheduler

    # One "iteration" is one interim report: REPORTS_PER_FIT of them in a holdout fit, one
    # per fold but the last in a k-fold trial. One rung, at 60% of a trial, keeping the
    # better half: families learn at different speeds, and a harsher ladder stopped most
    # sound trials on small budgets.
    return ASHAScheduler(time_attr="training_iteration", max_t=plan.interim_reports + 1,
                         grace_period=max(1, int(0.6 * plan.interim_reports)), reduction_factor=2)


def _add_unfinished_trials(grid, results: dict, spaces: dict[str, Space]) -> None:
    """Trials that never reached the sink: a worker that died, or one ASHA stopped early."""
    for result in grid:
        trial_id = (result.metrics or {}).get("trial_id") or Path(result.path).name
        if trial_id in results:
            continue
        config = result.config or {}
        family = config.get("family", "?")
        if family in spaces:
            config = family_params(config, family, spaces[family].default)
        if result.error is not None:
            message = str(result.error).strip().splitlines()[-1][:300]
            results[trial_id] = TrialResult(trial_id, family, config, "error",
                                            error=f"worker failed: {message}")
        elif result.metrics and "score" in result.metrics:
            results[trial_id] = TrialResult(trial_id, family, config, "stopped",
                                            score=None, error="stopped early by ASHA")
