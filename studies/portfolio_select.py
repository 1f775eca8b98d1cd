"""Choose each family's portfolio from the study's results (AutoGluon's zero-shot method).

Per table, a config's CV score is normalised between the table's median config (0) and
its best (1), clipped to [0, 1]; a failed config counts 0. The portfolio starts with the
family's default (it runs first in any case) and greedily adds the config that most
raises the mean over tables of the best-so-far normalised score; a config within
NEAR_TIE of the best gain is as good, and the cheapest of those wins. It stops at
MAX_SIZE, or past MIN_SIZE once no config adds MIN_GAIN. The chosen set is then ordered
cheap and strong first: the default, then whichever entry adds most per second of fitting.

Leave-one-table-out: for each table, the portfolio built on the others, measured on it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd

from automl.metrics import get_metric

NEAR_TIE = 0.005
MIN_SIZE, MAX_SIZE = 3, 6
MIN_GAIN = 0.005
FIRST = "default"
RANDOM_PORTFOLIOS = 200  # draws for the "random configs of the same size" baseline


def family_matrices(results: pd.DataFrame, family: str) -> tuple[pd.DataFrame, pd.Series]:
    """Scores (tables x configs, NaN where a config failed) and each config's mean fit
    seconds over the tables (all folds of one table summed). Only configs run on every
    table take part: a study stopped early must not count its unfinished ones as failures."""
    rows = results.loc[results["family"] == family]
    tables_run = rows.groupby("config")["table"].nunique()
    rows = rows.loc[rows["config"].isin(tables_run.index[tables_run == tables_run.max()])]
    scores = rows.pivot_table(index="table", columns="config", values="score", aggfunc="first",
                              dropna=False)
    seconds = rows.groupby("config")["fit_seconds"].mean()
    return scores, seconds.reindex(scores.columns)


def normalise(scores: pd.DataFrame) -> pd.DataFrame:
    """Per table: median config 0, best config 1, clipped to [0, 1]; failures 0."""
    median = scores.median(axis=1)
    best = scores.max(axis=1)
    span = (best - median).where(best - median > 1e-12, np.nan)
    norm = scores.sub(median, axis=0).div(span, axis=0).clip(0.0, 1.0)
    # a table where half the configs tie for best: those get 1, the rest 0
    ties = span.isna()
    norm.loc[ties] = (scores.loc[ties].ge(best[ties], axis=0)).astype(float)
    return norm.fillna(0.0)


def portfolio_value(norm: pd.DataFrame, chosen: list[str]) -> float:
    """Mean over tables of the best normalised score among `chosen`."""
    return float(norm[chosen].max(axis=1).mean()) if chosen else 0.0


def greedy(norm: pd.DataFrame, seconds: pd.Series, first: str = FIRST) -> list[str]:
    """The portfolio's members, in the order greedy selection added them."""
    chosen = [first] if first in norm.columns else []
    while len(chosen) < MAX_SIZE:
        base = portfolio_value(norm, chosen)
        gains = pd.Series({c: portfolio_value(norm, chosen + [c]) - base
                           for c in norm.columns if c not in chosen})
        if gains.empty:
            break
        near = gains[gains >= gains.max() - NEAR_TIE]
        pick = seconds.reindex(near.index).idxmin()  # near-ties go to the cheaper config
        if len(chosen) >= MIN_SIZE and gains[pick] < MIN_GAIN:
            break
        chosen.append(pick)
    return chosen


def cheap_strong_order(norm: pd.DataFrame, seconds: pd.Series, members: list[str],
                       first: str = FIRST) -> list[str]:
    """`members` reordered: `first`, then the entry with the largest gain per second."""
    ordered = [m for m in members if m == first]
    rest = [m for m in members if m != first]
    while rest:
        base = portfolio_value(norm, ordered)
        per_second = {m: (portfolio_value(norm, ordered + [m]) - base) / max(seconds[m], 1e-3)
                      for m in rest}
        pick = max(rest, key=lambda m: (per_second[m], -seconds[m]))
        ordered.append(pick)
        rest.remove(pick)
    return ordered


def choose(norm: pd.DataFrame, seconds: pd.Series) -> list[str]:
    return cheap_strong_order(norm, seconds, greedy(norm, seconds))


def leave_one_table_out(norm: pd.DataFrame, seconds: pd.Series, seed: int = 0) -> pd.DataFrame:
    """Per table: the normalised score on it of the portfolio built without it, against the
    default alone, the best single config chosen without it, and random configs."""
    rng = random.Random(seed)
    rows = []
    for table in norm.index:
        others = norm.drop(index=table)
        portfolio = choose(others, seconds)
        best_single = others.mean().idxmax()
        pool = [c for c in norm.columns if c != FIRST]
        draws = [rng.sample(pool, len(portfolio) - 1) + [FIRST] for _ in range(RANDOM_PORTFOLIOS)]
        rows.append({
            "table": table, "portfolio": float(norm.loc[table, portfolio].max()),
            "size": len(portfolio), "default": float(norm.loc[table, FIRST]),
            "best_single": float(norm.loc[table, best_single]),
            "random_same_size": float(np.mean([norm.loc[table, d].max() for d in draws])),
            "members": ",".join(portfolio),
        })
    return pd.DataFrame(rows).set_index("table")


# ---- the report ---------------------------------------------------------------------------------

def family_report(results: pd.DataFrame, family: str) -> dict:
    scores, seconds = family_matrices(results, family)
    norm = normalise(scores)
    mean_norm = norm.mean().sort_values(ascending=False)
    rank = {config: i + 1 for i, config in enumerate(mean_norm.index)}
    chosen = choose(norm, seconds)
    loto = leave_one_table_out(norm, seconds)
    rows = results.loc[results["family"] == family].drop_duplicates("config").set_index("config")
    entries = []
    for position, config in enumerate(chosen):
        entries.append({
            "config": config, "params": json.loads(rows.loc[config, "params"]),
            "source": rows.loc[config, "source"], "rank": rank[config], "of": len(rank),
            "mean_normalised": round(float(mean_norm[config]), 4),
            "fit_seconds": round(float(seconds[config]), 2),
            "portfolio_value": round(portfolio_value(norm, chosen[:position + 1]), 4),
            "wins": int((norm[config] >= 1.0).sum()),
        })
    started = results.loc[results["family"] == family, "config"].nunique()
    return {"family": family, "tables": len(norm), "configs": len(norm.columns),
            "unfinished": started - len(norm.columns),
            "entries": entries, "leave_one_table_out": loto.round(4).reset_index().to_dict("records"),
            "ranking": [{"config": c, "mean_normalised": round(float(v), 4),
                         "fit_seconds": round(float(seconds[c]), 2)} for c, v in mean_norm.items()],
            "raw": _raw_figures(results, family, chosen, loto)}


def _raw_figures(results: pd.DataFrame, family: str, chosen: list[str], loto: pd.DataFrame) -> list[dict]:
    """Per table in the metric's own units: the default, the in-sample portfolio, the LOTO
    portfolio (best member by CV score) and the best config of the study."""
    rows = results.loc[results["family"] == family]
    figures = []
    for table, part in rows.groupby("table"):
        metric = get_metric(part["metric"].iloc[0], part["task"].iloc[0])
        score = part.set_index("config")["score"]
        members = loto.loc[table, "members"].split(",")
        figures.append({"table": table, "metric": metric.name,
                        "default": _figure(metric, score.get(FIRST)),
                        "portfolio": _figure(metric, score.reindex(chosen).max()),
                        "loto_portfolio": _figure(metric, score.reindex(members).max()),
                        "best_config": _figure(metric, score.max())})
    return figures


def _figure(metric, score) -> float | None:
    """A score in the metric's own units, rounded for the report (None: no score)."""
    return None if pd.isna(score) else round(metric.from_score(float(score)), 5)


def markdown(report: dict) -> str:
    lines = [f"## {report['family']}: {len(report['entries'])} of {report['configs']} configs "
             f"on {report['tables']} tables", ""]
    if report["unfinished"]:
        lines += [f"({report['unfinished']} more config(s) not run on every table: left out)", ""]
    lines += ["| # | config | study rank | mean normalised | fit s (5 folds, mean) | portfolio value "
              "| source |", "|---|---|---:|---:|---:|---:|---|"]
    for i, e in enumerate(report["entries"], 1):
        lines.append(f"| {i} | {e['config']} | {e['rank']}/{e['of']} | {e['mean_normalised']:.3f} | "
                     f"{e['fit_seconds']:.2f} | {e['portfolio_value']:.3f} | {e['source']} |")
    loto = pd.DataFrame(report["leave_one_table_out"])
    lines += ["", "Leave one table out (normalised score on the left-out table; 1 = best config "
              "of the study there, 0 = median):", "",
              f"- portfolio built without the table: mean {loto['portfolio'].mean():.3f}, "
              f"median {loto['portfolio'].median():.3f}",
              f"- default alone: mean {loto['default'].mean():.3f}",
              f"- best single config chosen without the table: mean {loto['best_single'].mean():.3f}",
              f"- default + random configs, same size: mean {loto['random_same_size'].mean():.3f}",
              "- portfolio at least as good as the default alone on "
              f"{(loto['portfolio'] >= loto['default']).sum()}/{len(loto)} tables; "
              "within 0.1 of the best config on "
              f"{(loto['portfolio'] >= 0.9).sum()}/{len(loto)}", "",
              "| table | metric | default | portfolio built without it | portfolio | best config "
              "| normalised: default -> without it |", "|---|---|---:|---:|---:|---:|---|"]
    loto_rows = {row["table"]: row for row in report["leave_one_table_out"]}
    for raw in report["raw"]:
        row = loto_rows[raw["table"]]
        lines.append(f"| {raw['table']} | {raw['metric']} | {raw['default']} | {raw['loto_portfolio']} | "
                     f"{raw['portfolio']} | {raw['best_config']} | "
                     f"{row['default']:.2f} -> {row['portfolio']:.2f} |")
    return "\n".join(lines + [""])


def yaml_block(report: dict, study: str) -> str:
    """The `portfolio:` list for search/<family>.yaml, one flow-style entry per config."""
    lines = ["portfolio:"]
    for e in report["entries"]:
        params = ", ".join(f"{k}: {_yaml_value(v)}" for k, v in e["params"].items())
        source = (f"{study}: rank {e['rank']} of {e['of']} on {report['tables']} tables, "
                  f"{e['fit_seconds']:.1f}s per 5 folds; {e['config']} = {e['source']}")
        lines += [f"  - params: {{{params}}}", f"    source: \"{source}\""]
    return "\n".join(lines)


def _yaml_value(value) -> str:
    """Floats keep a point in the mantissa: YAML would read `1` as an int (and sklearn reads
    max_features=1 as one column) and `1e-06` as text."""
    if not isinstance(value, float):
        return str(value)
    mantissa, _, exponent = f"{value:.4g}".partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + (f"e{exponent}" if exponent else "")


def write_report(results_csv: Path, out: Path, families: list[str], study: str = "study") -> None:
    """out/portfolio.json and out/portfolio.md; `study` names the study in the YAML sources."""
    results = pd.read_csv(results_csv)
    reports = [family_report(results, f) for f in families if (results["family"] == f).any()]
    (out / "portfolio.json").write_text(json.dumps(reports, indent=1, default=str))
    body = ["# Portfolio study", "", f"{len(results)} (family, config, table) results from {results_csv}", ""]
    for report in reports:
        body += [markdown(report), "```yaml", yaml_block(report, study), "```", ""]
    (out / "portfolio.md").write_text("\n".join(body))
