"""Large tables: search on a sample of the rows, then fit the best trials on all of them.

A trial's cost grows with the rows it learns from; on a table of 100,000 rows a search
that fits every config on all of them runs a handful of trials in a minute. So where the
training part is much larger than `sample_rows`, the trials learn from a stratified
sample of it (they are still scored on the whole validation part, so their scores
compare), and at the end the best trials are fitted again on all the rows, early-stopped
on the validation part, as new trials (`<trial>-all`) beside the sampled ones: the
ensemble chooses among both, by their validation predictions.

A sample cannot rank every config as all the rows would: a LightGBM with 167 leaves gains
from 100,000 rows what it cannot show on 20,000 (where many rows recur, it learns them).
So each family's `all_rows_portfolio` (search/<family>.yaml) is fitted on all the rows
first, before the sample's best.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import ray
from sklearn.model_selection import train_test_split

from automl.budget import Budget
from automl.data.split import HOLDOUT
from automl.metrics import REGRESSION, get_metric
from automl.models.registry import family_class
from automl.preprocess.stage import BranchData
from automl.search.sink import send
from automl.search.trial import TrialResult, fit_trial

ALL_ROWS_SUFFIX = "-all"
MIN_SAMPLE_SHARE = 0.5  # sample only where the sample is at most this share of the rows
MIN_FIT_SECONDS = 3.0  # an all-rows fit starts only with this much of the budget left


def sample_for_trials(data_by_branch: dict[str, BranchData], sample_rows: int | None,
                      seed: int) -> dict[str, BranchData] | None:
    """The branches' data on a sample of the training rows (the same rows in each), or None
    where sampling does not pay: k-fold validation, or a sample not much smaller."""
    first = next(iter(data_by_branch.values()))
    n_rows = len(first.y_train)
    if not sample_rows or first.validation.method != HOLDOUT \
            or sample_rows > MIN_SAMPLE_SHARE * n_rows:
        return None
    rows = _sample(first.y_train, sample_rows, first.schema.task, seed)
    return {name: replace(data, X_train=data.X_train[rows], y_train=data.y_train[rows],
                          w_train=None if data.w_train is None else data.w_train[rows])
            for name, data in data_by_branch.items()}


def _sample(y: np.ndarray, size: int, task: str, seed: int) -> np.ndarray:
    stratify = None  # by class, where the target is labels (not soft labels, not values)
    if task != REGRESSION and y.ndim == 1 and np.bincount(y).min() >= 2:
        stratify = y
    rows, _ = train_test_split(np.arange(len(y)), train_size=size, random_state=seed,
                               stratify=stratify)
    return np.sort(rows)


@dataclass(frozen=True)
class AllRowsFit:
    name: str  # the sampled trial's id, or the portfolio entry's name
    family: str
    params: dict


def fit_on_all_rows(trials: list[TrialResult], inputs, full_data: dict[str, BranchData],
                    budget: Budget, concurrency: int, log, put=None) -> None:
    """Fit the families' all-rows portfolios and the best sampled trials again on all the
    rows, in parallel Ray tasks, one fit per family first (`_fits`), while the budget
    lasts; results go to the sink.

    Every family stops its fit when the budget ends and keeps what it has learned (the
    best round so far, the trees grown), and an all-rows trial joins the ensemble's
    candidates only on its validation score, so one that the budget cut short costs
    nothing but its time. `put`: the run's way into the object store (RunContext.offload),
    so that data put there before is not put again."""
    order = _fits(inputs.spaces, trials)
    refs = {name: _ref((put or ray.put)(data)) for name, data in full_data.items()}
    running, started = [], 0
    for fit in order:
        while len(running) >= concurrency:
            _, running = ray.wait(running, num_returns=1)
        left = budget.remaining()
        if left is not None and left < MIN_FIT_SECONDS:
            break
        data = full_data[inputs.family_branch[fit.family]]
        memory = family_class(fit.family).fit_memory.need(*data.X_train.shape)
        running.append(_fit_all.options(num_cpus=inputs.n_jobs, memory=memory).remote(
            fit, inputs, refs[inputs.family_branch[fit.family]], budget))
        started += 1
    ray.get(running)
    rows = len(next(iter(full_data.values())).y_train)
    families = sorted({fit.family for fit in order[:started]})
    log(f"search: fitted {started} of {len(order)} configs on all {rows} rows, of "
        f"{len(families)} families ({', '.join(families)}): the families' all-rows "
        "portfolios and the best sampled trials, one of each family first")


def _fits(spaces: dict, trials: list[TrialResult]) -> list[AllRowsFit]:
    """What to fit on all the rows, in order: one fit of as many families as there are
    first (each family's first all-rows portfolio entry, then the best sampled trial of
    each family that has none), then the other entries, then the other sampled trials. A
    short budget fits the first few only, and a second family adds more to the ensemble
    than a family's second config (at 60 s on 242,000 rows, LightGBM's two entries took
    the whole all-rows phase). A sampled trial with an entry's very config is fitted once,
    as the entry."""
    entries = [[AllRowsFit(f"{family}-rows{i}", family, {**space.default, **entry.params})
                for i, entry in enumerate(space.all_rows_portfolio, 1)]
               for family, space in spaces.items()]
    known = [(fit.family, fit.params) for fits in entries for fit in fits]
    sampled = [AllRowsFit(t.trial_id, t.family, t.params) for t in _worth_fitting(trials)
               if (t.family, t.params) not in known]
    firsts = [fits[0] for fits in entries if fits]
    covered = {fit.family for fit in firsts}
    for fit in sampled:  # each family's best comes before its others (_worth_fitting)
        if fit.family not in covered:
            firsts.append(fit)
            covered.add(fit.family)
    return firsts + [fit for fits in entries for fit in fits[1:]] + \
        [fit for fit in sampled if fit not in firsts]


def _worth_fitting(trials: list[TrialResult]) -> list[TrialResult]:
    """Finished trials with a kept model: each family's best first, then the rest, best first."""
    done = sorted((t for t in trials if t.status == "ok" and t.model is not None),
                  key=lambda t: -t.score)
    firsts, families = [], set()
    for trial in done:
        if trial.family not in families:
            firsts.append(trial)
            families.add(trial.family)
    return firsts + [t for t in done if t not in firsts]


def _ref(value):
    """An object-store ref to `value` (as RayOffload.put made it, or made now)."""
    return value if isinstance(value, ray.ObjectRef) else ray.put(value)


@ray.remote
def _fit_all(fit: AllRowsFit, inputs, data: BranchData, budget: Budget) -> None:
    from automl.search.trainable import prepare_worker

    prepare_worker(fit.family, inputs)
    metric = get_metric(inputs.metric, inputs.task)
    result = fit_trial(fit.name + ALL_ROWS_SUFFIX, fit.family, fit.params, data, metric,
                       seed=inputs.seed, n_jobs=inputs.n_jobs, budget=budget)
    result.node = ray.get_runtime_context().get_node_id()[:12]
    send(inputs.sink, inputs.sink_where, result)
