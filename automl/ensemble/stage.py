"""The `ensemble` stage: greedy selection (or stacking) over the searches' best trials."""

from __future__ import annotations

import time

from automl.atomic import atomic_write_json
from automl.calibration import fit_temperature, temper
from automl.ensemble.cost import Cost, CostCap, model_cost, total_cost
from automl.ensemble.pool import Candidate, Pool, merge_searches
from automl.ensemble.refit import refit_members
from automl.ensemble.result import EnsembleResult
from automl.ensemble.selection import bagged_selection
from automl.ensemble.stacking import LinearStacker, cross_validated_score
from automl.errors import first_line
from automl.metrics import get_metric
from automl.runfolder import ENSEMBLE_JSON, loaded
from automl.serving.ensemble import Member


BAGGING_MAX_ROWS = 5000  # validation rows up to which `bags` applies
# Scored rows a temperature is fitted on at the least. Without a floor, penguins' 258 rows
# (a study table, studies/calibration_study.py) got T = 0.62 and a test log loss 41%
# higher: a few rows decide T there, and the test part's one mistake, made surer, decides
# the loss. The other nine tables of that study had 886-5,282 rows
# (docs/results/2026-11-30-ensemble.md).
CALIBRATION_MIN_ROWS = 500


def run(node, inputs, context) -> EnsembleResult:
    started, params = time.monotonic(), node.params
    searches = inputs.named("search")
    pool = merge_searches(searches)
    metric = get_metric(pool.metric, pool.schema.task)
    candidates = pool.best(params.max_candidates)
    outputs = [c.valid_prediction for c in candidates]
    branch_data = inputs.named("preprocess")
    cap = CostCap(params.max_size_bytes, params.max_latency_ms)
    costs = _costs(candidates, branch_data, params.refit_full) if cap.active else None
    selection = _select(node.name, outputs, pool, metric, params, costs, cap, context)
    stacker, score = None, selection.score
    if params.method == "stacking" and cap.active:
        context.log(f"{node.name}: no stacking under a cost cap (its meta-model reads every "
                    "candidate); kept greedy selection")
    elif params.method == "stacking":
        stacker, score = _stacking_if_better(node.name, candidates, pool, metric, params,
                                             selection.score, context)
    if stacker is not None:  # the meta-model reads every candidate's output
        method, members = "stacking", [_member(c, 1.0 / len(candidates)) for c in candidates]
    else:
        method = "greedy"
        members = [_member(c, w) for c, w in zip(candidates, selection.weights) if w > 0]
    blend = _blend(candidates, selection.weights, stacker, outputs)
    temperature = 1.0  # a stacker's logistic meta-model is fitted to the log loss already
    if params.calibrate == "auto" and metric.name == "log_loss" and stacker is None:
        temperature, blend, score = _calibrated(node.name, blend, pool, metric, score, context)
    validated = members
    if params.refit or params.refit_full:
        members = _refit(members, branch_data, candidates, params, context)
    validation = ", ".join(sorted({s.validation for s in searches.values()}))
    result = EnsembleResult(
        name=node.name, schema=pool.schema, metric=metric.name, method=method,
        branches=pool.branches, members=members, score=score,
        best_member_score=candidates[0].score, n_candidates=len(candidates),
        searches=list(searches), stacker=stacker, refit=params.refit,
        trajectory=selection.trajectory, fit_seconds=time.monotonic() - started,
        validation=validation, valid_prediction=blend, temperature=temperature,
        refitted=[m.name for m, old in zip(members, validated) if m.model is not old.model],
        cost=_cost_facts(cap, costs, candidates, members, branch_data))
    _log(result, candidates, metric, context)
    atomic_write_json(context.node_dir / ENSEMBLE_JSON, result.facts())
    return result


def _select(name: str, outputs: list, pool: Pool, metric, params, costs: list[Cost] | None,
            cap: CostCap, context):
    # a large validation part is a steady judge, and bagging costs `bags` selections
    bags = params.bags if len(pool.y_scored) <= BAGGING_MAX_ROWS else 1
    selection = bagged_selection(outputs, pool.y_scored, metric, params.size, bags,
                                 context.settings.seed, budget=context.budget, costs=costs,
                                 cap=cap, weight=pool.w_scored)
    if selection.over_cap:
        best = pool.best(1)[0]
        context.log(f"{name}: no candidate fits the cap ({cap.describe()}) alone; kept the "
                    f"best one, {best.name} ({best.family}: {costs[0].describe()})")
    if bags > 1:
        context.log(f"{name}: bagged selection over {bags} resamples of "
                    f"{len(pool.y_scored)} validation rows")
    elif len(selection.trajectory) < params.size:
        why = "the time budget is spent" + (" or no candidate fits the cap" if cap.active else "")
        context.log(f"{name}: greedy selection stopped after {len(selection.trajectory)} "
                    f"of {params.size} rounds: {why}")
    if cap.active:
        spent = total_cost(costs, selection.weights)
        context.log(f"{name}: members' cost {spent.describe()} (cap: {cap.describe()})")
    return selection


def _member(candidate: Candidate, weight: float) -> Member:
    return Member(candidate.name, candidate.family, candidate.branch, loaded(candidate.model),
                  float(weight), dict(candidate.params))


def _stacking_if_better(name: str, candidates: list[Candidate], pool: Pool, metric, params,
                        greedy_score: float, context):
    """The meta-model and its cross-validated score where that beats greedy selection;
    else (None, the greedy score)."""
    outputs = [c.valid_prediction for c in candidates]
    stacker = LinearStacker(pool.schema.task, len(pool.schema.classes or []), context.settings.seed)
    if len(pool.y_scored) < 2 * params.stacking_folds:
        why = f"needs at least {2 * params.stacking_folds} validation rows, has {len(pool.y_scored)}"
        score = None
    else:
        try:
            score = cross_validated_score(stacker, outputs, pool.y_scored, metric,
                                          params.stacking_folds, pool.w_scored)
            why = f"scores {metric.from_score(score):.4f} cross-validated"
        except ValueError as err:  # e.g. a fold's rows hold a single class
            score, why = None, f"could not be fitted ({first_line(err, limit=120)})"
    if score is not None and score > greedy_score:
        return stacker.fit(outputs, pool.y_scored), score
    context.log(f"{name}: stacking {why}; kept greedy selection "
                f"({metric.from_score(greedy_score):.4f})")
    return None, greedy_score


def _calibrated(name: str, blend, pool: Pool, metric, score: float, context):
    """(temperature, the blend at it, its score): see automl/calibration.py."""
    y, weight = pool.y_scored, pool.w_scored
    if len(y) < CALIBRATION_MIN_ROWS:
        context.log(f"{name}: class probabilities as combined: {len(y)} scored rows are too "
                    f"few to fit a temperature on (it takes {CALIBRATION_MIN_ROWS})")
        return 1.0, blend, score
    temperature = fit_temperature(y, blend, weight)
    tempered = temper(blend, temperature)
    better = metric.score(y, tempered, weight)
    context.log(f"{name}: class probabilities at temperature {temperature:.3f}: {metric.name} "
                f"{metric.from_score(score):.4f} -> {metric.from_score(better):.4f} on the "
                "rows it was fitted on")
    return temperature, tempered, better


def _blend(candidates: list[Candidate], weights, stacker, outputs):
    """The ensemble's own predictions on the scored rows (validation part, or out of fold):
    the distillation's teacher labels for the rows the members did not learn from."""
    if stacker is not None:
        return stacker.predict_raw(outputs)
    return sum(w * c.valid_prediction for c, w in zip(candidates, weights) if w > 0)


def _refit(members: list[Member], branch_inputs: dict, candidates: list[Candidate], params,
           context) -> list[Member]:
    seconds = {c.name: c.fit_seconds for c in candidates}
    refitted, count = refit_members(members, branch_inputs, seconds, context.settings.seed,
                                    context.budget, context.log, context.offload,
                                    holdout=params.refit, bagged=params.refit_full)
    rows = "all training rows (refit_full)" if params.refit_full else "train + validation"
    if params.refit and params.refit_full:
        rows = "train + validation, or all training rows (refit_full)"
    context.log(f"refit: {count} of {len(members)} member(s) refitted on {rows}")
    return refitted


def _costs(candidates: list[Candidate], branch_data: dict, refit_full: bool) -> list[Cost]:
    """Each candidate's size and one-row latency, as it will ship (see ensemble/cost.py)."""
    return [model_cost(loaded(c.model), branch_data[c.branch].X_train[:1], refit_full)
            for c in candidates]


def _cost_facts(cap: CostCap, costs: list[Cost] | None, candidates: list[Candidate],
                members: list[Member], branch_data: dict) -> dict | None:
    """For ensemble.json: the cap, what selection counted, and the members' cost as they
    are saved (a refit's own, measured again)."""
    if costs is None:
        return None
    by_name = dict(zip((c.name for c in candidates), costs))
    counted = total_cost([by_name[m.name] for m in members], [1] * len(members))
    shipped = total_cost([model_cost(m.model, branch_data[m.branch].X_train[:1])
                          for m in members], [1] * len(members))
    return {"max_size_bytes": cap.max_size_bytes, "max_latency_ms": cap.max_latency_ms,
            "selected": {"size_bytes": counted.size_bytes, "latency_ms": counted.latency_ms},
            "saved": {"size_bytes": shipped.size_bytes, "latency_ms": shipped.latency_ms}}


def _log(result: EnsembleResult, candidates: list[Candidate], metric, context) -> None:
    families = sorted({c.family for c in candidates})
    weights = ", ".join(f"{m.family} {m.weight:.2f}" for m in result.members[:6])
    context.log(f"{result.name}: {result.method} over {len(candidates)} candidates "
                f"({', '.join(families)}); {len(result.members)} member(s) [{weights}"
                f"{', ...' if len(result.members) > 6 else ''}]; valid {metric.name} "
                f"{metric.from_score(result.score):.4f} "
                f"(best member {metric.from_score(result.best_member_score):.4f})")

