"""The report's sections about the models: the ensemble, the compact model, and what
each one's predictions rest on (permutation importance, and the run's model's mean
absolute contribution per column)."""

from __future__ import annotations

import pandas as pd

from automl.budget import Budget
from automl.data.facts import SCORED_TARGET
from automl.report import plots
from automl.report.collect import RunFacts
from automl.errors import first_line
from automl.report.importance import (CONTRIBUTION_ROWS, MAX_ROWS, SECONDS, OutOfTime,
                                      mean_contributions, onnx_predict, permutation_importance)
from automl.runfolder import SCORED_FILE
from automl.report.page import (Section, figure, heading, note, number, pairs, para,
                                params_text, pre, table)

RULE_LINES = 200  # longer rules are cut here; rules.txt holds them all
MIN_SECONDS = 1.0  # permutation importance at the end of a fit needs this much budget left


# ---- ensemble -------------------------------------------------------------------------


def ensemble(facts: RunFacts) -> Section:
    if not facts.ensembles:
        return Section("ensemble", "Ensemble", note(
            "No ensemble in this run: the model is the search's best single trial."))
    many = len(facts.ensembles) > 1
    body = "".join((heading(f"Ensemble node '{name}'") if many else "")
                   + _one_ensemble(result, facts) for name, result in facts.ensembles.items())
    return Section("ensemble", "Ensemble", body)


def _one_ensemble(result: dict, facts: RunFacts) -> str:
    metric = facts.metric
    value, best = metric.from_score(result["score"]), metric.from_score(result["best_member_score"])
    scored = {"stacking": "cross-validated on the scored rows"}.get(result["method"], "on the scored rows")
    members = result["members"]
    body = pairs([("method", result["method"]), ("members", len(members)),
                  ("candidates", result["n_candidates"]),
                  ("validation", result.get("validation", "holdout")),
                  (f"ensemble {metric.name} ({scored})", number(value)),
                  (f"best single model {metric.name}", number(best)),
                  # in scores (higher is better), so a lower RMSE shows as a gain too
                  ("gain over the best single model", number(result["score"] - result["best_member_score"])),
                  ("members refitted on train + validation", "yes" if result.get("refit") else "no")]
                 # fitted on the same scored rows (log loss only): the score above includes it
                 + ([("temperature of the class probabilities", number(result["temperature"]))]
                    if result.get("temperature", 1.0) != 1.0 else []))
    weights = pd.DataFrame({"name": [m["name"] for m in members],
                            "family": [m["family"] for m in members],
                            "weight": [m["weight"] for m in members]})
    body += heading("Members and weights") + table(
        ["member", "family", "weight", "params"],
        [[m["name"], m["family"], f"{m['weight']:.3f}", params_text(m.get("params") or {})]
         for m in sorted(members, key=lambda m: -m["weight"])], numeric=(2,))
    if result["method"] == "stacking":
        body += note("Stacking: a linear meta-model combines every member's output; the "
                     "weights shown are equal shares, not the meta-model's coefficients.")
    else:
        body += figure(plots.svg(plots.ensemble_weights(weights)),
                       "Weight of each member in the ensemble's average (greedy selection "
                       "with replacement: a member picked twice weighs twice).")
    if result.get("trajectory"):
        trajectory = [metric.from_score(s) for s in result["trajectory"]]
        body += figure(plots.svg(plots.greedy_trajectory(trajectory, best, metric)),
                       f"Ensemble vs best single model: validation {metric.name} after each "
                       "round of greedy selection.")
    return body


# ---- compact model --------------------------------------------------------------------


def compact(facts: RunFacts) -> Section:
    found = facts.compact
    if found is None:
        return Section("compact", "Compact model", note(
            "No compact model in this run: its pipeline has no distill → compress → export "
            "nodes (fit with --pipeline compact to get one)."))
    card = found.card or {}
    chosen = card.get("chosen")
    body = para((f"Chosen: {chosen['name']} ({card.get('reason', '')})." if chosen else
                 f"No compact model was chosen: {card.get('reason', 'no reason recorded')}."))
    if chosen and chosen.get("meets_score_constraint") is False:
        body += note(f"This compact model does not meet the score constraint: it misses it by "
                     f"{number(chosen.get('score_shortfall'))} {card.get('metric', '')}. The "
                     "ensemble stays the run's model; this one is used when asked for "
                     "(automl predict --model compact).")
    if found.front is not None:
        body += _front(found.front, card.get("metric") or facts.metric.name, facts)
    if chosen:
        body += heading("Model card") + _card(chosen, card, facts)
    if found.rules:
        lines = found.rules.splitlines()
        cut = len(lines) > RULE_LINES
        body += heading("Rules") + para(
            "The best shallow-tree student as if-then rules (rules.py and rules.sql in "
            "compact/ say the same as Python and SQL)" + (f"; the first {RULE_LINES} lines:"
                                                          if cut else ":"))
        body += pre("\n".join(lines[:RULE_LINES]))
    return Section("compact", "Compact model", body)


def _front(front: pd.DataFrame, metric_name: str, facts: RunFacts) -> str:
    metric = facts.metric
    teacher = front.loc[front["kind"] == "teacher", metric_name]
    students = front[front["kind"] != "teacher"]
    shown = pd.DataFrame({
        "student": students["student"], "value": students[metric_name],
        "size_kb": students["size_bytes"] / 1024, "latency_ms": students["latency_ms"],
        "on_front": students["on_front"].astype(str).str.lower() == "true",
        "chosen": students["chosen"].astype(str).str.lower() == "true"})
    teacher_value = float(teacher.iloc[0]) if len(teacher) else None
    body = figure(plots.svg(plots.pareto(shown, metric, teacher_value)),
                  f"Every student tried: validation {metric_name} against size and against "
                  "one-row latency (onnxruntime, 1 thread). The staircase joins the students "
                  "no other beats on both axes (the Pareto front); the star is the chosen "
                  "model, the dashed line the ensemble.")
    rows = [[s.student, number(s.value), number(s.size_kb, 1), number(s.latency_ms, 3),
             "yes" if s.on_front else "", "chosen" if s.chosen else ""]
            for s in shown.itertuples()]
    return body + table(["student", metric_name, "size KB", "latency ms",
                         "on the front (size, latency, score)", ""],
                        rows, numeric=(1, 2, 3))


def _card(chosen: dict, card: dict, facts: RunFacts) -> str:
    metric = card.get("metric") or facts.metric.name
    teacher = (card.get("teacher") or {}).get(metric)
    rows = [("student", f"{chosen.get('name')} ({chosen.get('kind')})"),
            (f"{metric} ({card.get('scored_on', 'validation part')})", number(chosen.get(metric))),
            (f"ensemble {metric}", number(teacher)),
            ("score drop vs the ensemble", number(chosen.get("score_drop"))),
            ("fidelity (agreement with the ensemble)", number(chosen.get("fidelity"), 3)),
            ("size", f"{number(chosen.get('size_bytes', 0) / 1024, 1)} KB"),
            ("one-row latency (onnxruntime, 1 thread)",
             f"{number(chosen.get('latency_ms_one_row'), 3)} ms"),
            ("one-row latency from Python (AutoML.load(run, model='compact').predict)",
             f"{number(chosen.get('python_ms_one_row'), 3)} ms"),
            ("batch throughput", f"{number(chosen.get('rows_per_second'))} rows/s"),
            ("ONNX vs Python, max difference (regression: relative)",
             number(chosen.get("parity_max_diff"))),
            ("inputs", ", ".join(chosen.get("inputs", []))),
            ("hyperparameters", params_text(chosen.get("params") or {}))]
    return pairs(rows) + para("The same card is in compact/compact.md; the model is "
                              "compact/compact.onnx (the table's own columns in, predictions out).")


# ---- feature importance ---------------------------------------------------------------


def importance(facts: RunFacts, enabled: bool = True, seed: int = 0,
               budget: Budget | None = None) -> Section:
    title = "Feature importance"
    if not enabled:
        return Section("importance", title, note(
            "Skipped: permutation importance was turned off ('automl report --no-importance', "
            "or a report node's permutation_importance: false)."))
    left = None if budget is None else budget.remaining()
    if left is not None and left < MIN_SECONDS:
        return Section("importance", title, note(
            "Skipped: the run's time budget was spent; 'automl report RUN_DIR' computes it."))
    scored = None if facts.data is None else facts.data.scored
    predictor = facts.predictor() if scored is not None else None
    if predictor is None:
        return Section("importance", title, note(
            f"No feature importance: the run folder lacks the scored rows ({SCORED_FILE}) or a "
            "finished model (model/)."))
    metric = facts.metric
    X, y = scored.drop(columns=[SCORED_TARGET]), scored[SCORED_TARGET].to_numpy()
    explained = [(facts.model_kind or "model", predictor.predict_features)]
    if facts.compact is not None and facts.compact.onnx is not None:
        explained.append(("compact model", onnx_predict(facts.compact.onnx)))
    results, skipped = _explained(explained, X, y, metric, seed, budget)
    if not results:
        return Section("importance", title, note(_skipped(skipped)))
    contributions, unexplained = _contributions(explained[0][0], predictor, X, seed, budget)
    body = figure(plots.svg(plots.importance(results, metric)),
                  f"{metric.name} lost when one column's values are shuffled "
                  "(mean over the repeats; the whisker is one standard deviation).")
    body += _importance_table(results, metric, contributions)
    body += note(_how(results, facts) + (" " + _skipped(skipped) if skipped else ""))
    body += note(_how_contributions(contributions, facts) if contributions is not None
                 else f"No mean contributions: {unexplained}.")
    return Section("importance", title, body)


def _contributions(name: str, predictor, X: pd.DataFrame, seed: int, budget: Budget | None):
    """The run's model's mean absolute contribution per column on the scored rows (the
    same columns as permutation importance), within what the budget has left; else None
    and why."""
    from automl.serving.explain import Explainer

    left = None if budget is None else budget.remaining()
    if left is not None and left < MIN_SECONDS:
        return None, "the run's time budget was spent ('automl report RUN_DIR' computes them)"
    try:
        explainer = Explainer(predictor, background=X)
        order = [explainer.features.index(column) for column in X.columns]

        def explain(rows: pd.DataFrame):
            return explainer.explain_features(rows).explained(by_column=False)[:, order]

        return mean_contributions(name, explain, X, seed,
                                  seconds=SECONDS if left is None else min(SECONDS, left),
                                  hard=left is not None), None
    except OutOfTime as err:
        return None, f"{err} ('automl report RUN_DIR' computes them)"
    except Exception as err:  # a member no method explains: the permutation figures stand
        return None, f"{type(err).__name__}: {first_line(err)}"


def _how_contributions(contributions, facts: RunFacts) -> str:
    output = ("value" if facts.schema is None or facts.schema.task == "regression"
              else "probability of the positive class" if len(facts.schema.classes) == 2
              else "probability of the predicted class")
    return (f"Mean |contribution| ({contributions.model}): how far each column moved the "
            f"model's {output} from its base value, averaged over {contributions.rows:,} of "
            f"those rows (a sample of at most {CONTRIBUTION_ROWS:,}; {contributions.seconds:.1f} s); a "
            "row's contributions add up to its output minus the base (automl explain, "
            "AutoML.explain: TreeSHAP for boosted trees, path attribution for forests, "
            "coefficients and DeepLIFT for linear models and networks).")


def _explained(explained: list, X: pd.DataFrame, y, metric, seed: int, budget: Budget | None):
    """Each model's Importance, within what the fit's budget has left (None: no budget);
    and why any were skipped."""
    results, skipped = [], []
    for done, (name, predict) in enumerate(explained):
        # asked again for each model: loading a large ensemble alone takes seconds
        left = None if budget is None else budget.remaining()
        seconds = SECONDS if left is None else min(SECONDS, left / (len(explained) - done))
        try:
            results.append(permutation_importance(name, predict, X, y, metric, seed,
                                                  seconds=seconds, hard=left is not None))
        except OutOfTime as err:
            skipped.append(f"{name}: {err}")
    return results, skipped


def _skipped(reasons: list[str]) -> str:
    return ("Skipped at the end of the fit, so as to keep its time budget: " + "; ".join(reasons)
            + ". 'automl report RUN_DIR' computes it without the budget.")


def _importance_table(results: list, metric, contributions=None) -> str:
    """One row per column, most important first: each model's score lost (and its spread),
    and after the first model's, its mean |contribution| where computed."""
    merged = results[0].frame()[["column"]]
    headers = ["column"]
    for i, result in enumerate(results):
        merged = merged.merge(result.frame().rename(columns={
            "drop": result.model, "spread": f"{result.model} ±"}), on="column", how="left")
        headers += [f"{result.model}: {metric.name} lost", "±"]
        if i == 0 and contributions is not None:
            merged = merged.merge(pd.DataFrame({"column": contributions.columns,
                                                "mean |contribution|": contributions.mean_abs}),
                                  on="column", how="left")
            headers.append(f"{contributions.model}: mean |contribution|")
    rows = [[row[0]] + [number(v) for v in row[1:]] for row in merged.itertuples(index=False)]
    return table(headers, rows, numeric=tuple(range(1, len(headers))))


def _how(results: list, facts: RunFacts) -> str:
    parts = [f"{r.model}: {r.rows:,} rows × {r.repeats} repeat(s), {r.seconds:.1f} s"
             for r in results]
    rows = facts.data.summary.get("scored_rows", "validation part")
    text = (f"Permutation importance on the {rows} (a sample of at most {MAX_ROWS:,}, and "
            f"fewer rows and repeats for a slow model, so that each model takes at most "
            f"{SECONDS:g} s): {'; '.join(parts)}. Cheap by design, so small differences are "
            "noise; correlated columns share their importance.")
    if rows == "training rows":
        text += (" The run was cross-validated, so there is no validation part: the models "
                 "learned from these rows, and the figures are in-sample.")
    elif (facts.metrics or {}).get("valid_in_sample"):
        text += " The ensemble was refitted on these rows too, so its figures are in-sample."
    return text
