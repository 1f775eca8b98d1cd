"""Run one Ray Tune search over the conditional space; collect every trial.

Searchers: tpe (Optuna TPE, default), nsga2 (Optuna NSGA-II), pso (Nevergrad particle
swarm), random. Scheduler: ASHA when an iterative family is searched.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler
from ray.tune.search import ConcurrencyLimiter
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from automl.budget import Budget
from automl.errors import DiskFullError
from automl.metrics import get_metric
from automl.registry import Registry
from automl.search import runtime
from automl.search import portfolio
from automl.search.progress import Progress
from automl.search.sampled import ALL_ROWS_SUFFIX, fit_on_all_rows
from automl.search.sink import TrialSink, load_written
from automl.search.stopping import StopOnFullDisk, UntilDeadline
from automl.search.trainable import TrialInputs, run_trial, trial_params
from automl.search.trial import TrialResult
from automl.search.tune_space import DefineByRun, tune_space
from automl.space import Space

TRIALS_PER_FAMILY_WITHOUT_BUDGET = 10
STOPPED = "stopped before its end: by the scheduler (ASHA), or at the end of the search's time"


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
    all_rows_share: float = 0.0  # sampled trials: share of the budget to refit on all rows
    memory_per_trial: int | None = None  # bytes each trial asks its node for


# Trials on a sample rank configs for the all-rows fits; none may take more than this share
# of the sampled phase, nor less than the floor (a 60 s run's phase is some 25 s: a cap
# of 4 s there would cut most boosting fits). On a 1M-row table (113 s phase, 2 slots)
# uncapped forests took 68 and 36 s and the phase ran 17 configs; at 0.25 it ran 22, at
# 0.15 26, at 0.1 31 (the ensemble's test score unchanged). A capped forest or boosting
# keeps what it grew; the all-rows fits have no cap.
SAMPLED_TRIAL_SHARE = 0.1
SAMPLED_TRIAL_FLOOR = 10.0


def run_search(plan: SearchPlan, inputs: TrialInputs, folder: Path, log,
               all_rows: dict | None = None, put=None,
               stopped_early=None) -> tuple[list[TrialResult], dict]:
    """All trials (finished and failed) and the driver-side wall seconds per trial. With
    `all_rows` (the trials learned from a sample), the best are fitted again on those,
    which `put` (the run's RunContext.offload.put) hands to the object store."""
    folder = Path(folder).resolve()  # Tune reads a relative path as a URI with no scheme
    sink = _start_sink(folder, plan.keep_models)
    tuned = plan if all_rows is None else replace(plan, budget=plan.budget.share(1 - plan.all_rows_share))
    inputs.sink, inputs.sink_where, inputs.budget = sink, ray.get(sink.where.remote()), tuned.budget
    if all_rows is not None and tuned.budget.total is not None:
        inputs.max_trial_seconds = max(SAMPLED_TRIAL_FLOOR, SAMPLED_TRIAL_SHARE * tuned.budget.total)
    UntilDeadline.budget, StopOnFullDisk.message = tuned.budget, None
    resources = {"cpu": plan.cpus_per_trial}
    if plan.memory_per_trial:
        resources["memory"] = plan.memory_per_trial
    trainable = tune.with_resources(tune.with_parameters(run_trial, inputs=inputs), resources)
    metric = get_metric(inputs.metric, inputs.task)
    progress = Progress(metric.name, metric.greater_is_better, tuned.budget.total)
    tuner = _tuner(tuned, trainable, folder, progress, log)
    _skip_callback_usage_tag()
    try:
        with contextlib.redirect_stdout(io.StringIO()), tune_interrupts() as ctrl_c:
            grid = tuner.fit()  # Tune prints its own banners on stdout
    finally:
        progress.close()
    if ctrl_c.caught and stopped_early is not None:
        stopped_early(f"search: stopped by Ctrl-C after {len(grid)} trial(s); the run goes on "
                      "with the trials that finished (Ctrl-C again stops the run)")
        all_rows = None  # the user asked for an end: no all-rows phase
    if StopOnFullDisk.message is not None:
        ray.kill(sink)
        raise DiskFullError(StopOnFullDisk.message)
    if all_rows is not None:
        trials = {**load_written(folder), **{r.trial_id: r for r in ray.get(sink.collect.remote())}}
        fit_on_all_rows([t for t in trials.values() if not t.trial_id.endswith(ALL_ROWS_SUFFIX)],
                        inputs, all_rows, plan.budget, _concurrency(plan, runtime.cluster_cpus()), log,
                        put)
    results = {**load_written(folder), **{r.trial_id: r for r in ray.get(sink.collect.remote())}}
    _add_unfinished_trials(grid, results, plan.spaces, ray.get(sink.where_started.remote()),
                           runtime.alive_nodes())
    ray.kill(sink)
    # Tune's own state serves only to resume this search if it is interrupted; it ended. Its
    # experiment state holds some 13 KB a trial (27 MB at 2,000 trials) and a folder each.
    shutil.rmtree(folder / "tune", ignore_errors=True)
    return list(results.values()), progress.wall


class _Interrupts:
    """Our SIGINT handler while Tune searches: Tune installs its own over it, and on a first
    Ctrl-C ends the search with the trials so far and puts back the one it found (this one),
    which is how `caught` learns of it. A second Ctrl-C reaches this handler: Python's
    KeyboardInterrupt, which stops the run (the CLI says how to resume)."""

    caught = False

    def __call__(self, signum, frame):
        raise KeyboardInterrupt


@contextlib.contextmanager
def tune_interrupts():
    """Around `tuner.fit()`: whether Ctrl-C ended the search early (`.caught`); afterwards the
    handler from before, not Tune's, which would otherwise swallow the next Ctrl-C in the
    later stages (Tune leaves its handler in place when a search ends on its own)."""
    ours = _Interrupts()
    if threading.current_thread() is not threading.main_thread():  # signals: main thread only
        yield ours
        return
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, ours)
    try:
        yield ours
    finally:
        # ours back in place without having been called: Tune's handler caught a Ctrl-C
        ours.caught = (signal.getsignal(signal.SIGINT) is ours
                       and os.environ.get("TUNE_DISABLE_SIGINT_HANDLER", "0") == "0")
        signal.signal(signal.SIGINT, before)


def _start_sink(folder: Path, keep_models: int):
    here = None if runtime.is_client() else str(folder)
    # on the driver's node and no other: it writes into the run folder, on the driver's disk
    # (a 0-CPU actor always fits there; elsewhere its files would land on another machine)
    strategy = NodeAffinitySchedulingStrategy(node_id=runtime.node_id(), soft=False)
    return TrialSink.options(scheduling_strategy=strategy).remote(here, keep_models)


def _tuner(plan: SearchPlan, trainable, folder: Path, progress: Progress, log) -> tune.Tuner:
    experiment = folder / "tune"
    if tune.Tuner.can_restore(str(experiment)):
        log(f"search: resuming the interrupted Ray Tune experiment in {experiment}")
        return tune.Tuner.restore(str(experiment), trainable, resume_unfinished=True,
                                  resume_errored=False, param_space=_param_space(plan))
    concurrency = _concurrency(plan)
    searcher, scheduler = _searcher(plan), _scheduler(plan)
    if reproducible(plan):
        # The searcher proposes a batch only once every trial before it has ended, and no
        # scheduler stops a trial by how it compares with trials still running: then which
        # trial finished first changes nothing, and the same seed gives the same trials.
        searcher, scheduler = ConcurrencyLimiter(searcher, concurrency, batch=True), None
        log(f"search: {plan.max_trials} trials and no time budget: in batches of "
            f"{concurrency}, none stopped early, so the same seed gives the same leaderboard")
    config = tune.TuneConfig(
        metric="score", mode="max", search_alg=searcher, scheduler=scheduler,
        num_samples=_num_samples(plan),
        max_concurrent_trials=None if reproducible(plan) else concurrency,
        time_budget_s=_tune_time_budget(plan.budget),
        reuse_actors=True,
    )
    run = tune.RunConfig(storage_path=str(folder.resolve()), name="tune", verbose=0,
                         callbacks=[progress], failure_config=tune.FailureConfig(max_failures=0),
                         stop=StopOnFullDisk(),
                         log_to_file=False)
    log(f"search: {plan.searcher} over {', '.join(plan.spaces)}; {concurrency} trial(s) at once, "
        f"{plan.cpus_per_trial:g} CPU each; budget {plan.budget.describe()}")
    return tune.Tuner(trainable, param_space=_param_space(plan), tune_config=config, run_config=run)


def _skip_callback_usage_tag() -> None:
    """Ray Tune (2.60) records which callbacks a run passes, for Ray's usage statistics, by
    importing its MLflow, W&B, Comet and Aim integrations: where mlflow is installed (the
    `mlflow` extra) that import took 2.0 s of every run's search budget, in the driver, for
    a tag that a Ray started here never sends (usage statistics off). Tune looks the
    function up in its module when it runs, so replacing it there skips the imports; a Ray
    without it is left as it is."""
    from ray.air._internal import usage

    if hasattr(usage, "tag_callbacks"):
        usage.tag_callbacks = _no_tag


def _no_tag(callbacks) -> bool:
    return False


def reproducible(plan: SearchPlan) -> bool:
    """A search bounded by its trials alone: nothing in it need depend on the clock."""
    return plan.max_trials is not None and not plan.budget.limited


def _concurrency(plan: SearchPlan, cpus: float | None = None) -> int:
    """Trials at once: the plan's, or as many as `cpus` (default: the CPUs free now) hold.
    The all-rows fits count the cluster's CPUs: as the sampled phase ends, Tune's trials
    may not have handed theirs back yet, and a Ray task waits for its CPU anyway."""
    cpus = runtime.free_cpus() if cpus is None else cpus
    return plan.concurrency or max(1, int(cpus // plan.cpus_per_trial))


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
    points = portfolio.points(plan.spaces, flat=plan.searcher == "pso")
    return UntilDeadline(SEARCHERS[plan.searcher](plan, points))


# Each searcher from the plan and the portfolio's points to evaluate first; the optional
# libraries are imported only for the searcher chosen.
def _nevergrad_pso(plan: SearchPlan, points: list[dict]):
    import nevergrad as ng
    from ray.tune.search.nevergrad import NevergradSearch

    return NevergradSearch(optimizer=ng.optimizers.PSO, metric="score", mode="max",
                           points_to_evaluate=points)


def _optuna(plan: SearchPlan, points: list[dict], sampler):
    import optuna
    from ray.tune.search.optuna import OptunaSearch

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return OptunaSearch(space=DefineByRun(plan.spaces), metric="score", mode="max",
                        sampler=sampler, points_to_evaluate=points)


def _optuna_tpe(plan: SearchPlan, points: list[dict]):
    from optuna.samplers import TPESampler

    return _optuna(plan, points, TPESampler(seed=plan.seed, n_startup_trials=len(points) + 5))


def _optuna_nsga2(plan: SearchPlan, points: list[dict]):
    from automl.search.samplers import NSGAIISampler  # Optuna's, made to pickle

    return _optuna(plan, points, NSGAIISampler(seed=plan.seed, population_size=10))


def _optuna_random(plan: SearchPlan, points: list[dict]):
    from optuna.samplers import RandomSampler

    return _optuna(plan, points, RandomSampler(seed=plan.seed))


SEARCHERS = Registry("searcher", "searchers", {
    "tpe": _optuna_tpe, "nsga2": _optuna_nsga2, "pso": _nevergrad_pso, "random": _optuna_random,
})


def _scheduler(plan: SearchPlan):
    if plan.scheduler != "asha":
        return None

    # One "iteration" is one interim report: REPORTS_PER_FIT of them in a holdout fit, one
    # per fold but the last in a k-fold trial. One rung, at 60% of a trial, keeping the
    # better half: families learn at different speeds, and a harsher ladder stopped most
    # sound trials on small budgets.
    return SparingPortfolio(plan.spaces, time_attr="training_iteration",
                            max_t=plan.interim_reports + 1,
                            grace_period=max(1, int(0.6 * plan.interim_reports)), reduction_factor=2)


class SparingPortfolio(ASHAScheduler):
    """ASHA that never stops a portfolio trial (see automl/search/portfolio.py); their
    scores still fill its rungs, so they set the bar for the searcher's proposals."""

    def __init__(self, spaces: dict[str, Space], **asha):
        super().__init__(**asha)
        self.spaces = spaces

    def on_trial_result(self, tune_controller, trial, result: dict) -> str:
        decision = super().on_trial_result(tune_controller, trial, result)
        if decision == self.STOP and portfolio.entry_for(trial.config, self.spaces) is not None:
            return self.CONTINUE
        return decision


def _add_unfinished_trials(grid, results: dict, spaces: dict[str, Space],
                           nodes: dict[str, str], alive: set[str]) -> None:
    """Trials that never reached the sink: a worker or a node that died, or one ASHA
    stopped early; each with the node it started on (`nodes`), where known, and whether
    that node is still among the `alive` ones."""
    for result in grid:
        trial_id = (result.metrics or {}).get("trial_id") or Path(result.path).name
        if trial_id in results:
            continue
        config = result.config or {}
        family = config.get("family", "?")
        if family in spaces:
            config = trial_params(config, spaces)
        node = nodes.get(trial_id, "?")
        if result.error is not None:
            results[trial_id] = TrialResult(trial_id, family, config, "error", node=node,
                                            error=worker_failure(result.error, node, alive))
        elif result.metrics and "score" in result.metrics:
            results[trial_id] = TrialResult(trial_id, family, config, "stopped", node=node,
                                            score=None, error=STOPPED)


def worker_failure(error: BaseException, node: str = "?", alive: set[str] | None = None) -> str:
    """One line for a trial whose worker failed: what happened, then Ray's first words
    (its own message runs to a paragraph of possible causes). A trial whose node is gone
    from the cluster lost it, whatever Ray's error says (an unreachable actor, mostly)."""
    last = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    said = ". ".join(last.split(". ")[:2])[:200]
    node_gone = alive is not None and node != "?" and node not in alive
    if node_gone or isinstance(error, ray.exceptions.NodeDiedError) or "node has died" in last:
        return f"worker failed: its node died or left the cluster ({said})"
    if isinstance(error, ray.exceptions.ActorDiedError) or "worker process has died" in last:
        return f"worker failed: its worker process died: killed, out of memory or crashed ({said})"
    if isinstance(error, ray.exceptions.ActorUnavailableError) or "is unavailable" in last:
        # what Ray says first when a node goes: its raylet is gone before the cluster knows
        return f"worker failed: its worker became unreachable: its process or its node died ({said})"
    return f"worker failed: {last[:300]}"
