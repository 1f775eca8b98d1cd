"""The report's figures: plain data in, a matplotlib Figure out; `svg()` inlines one.

Figures are built with matplotlib's object API (no pyplot), so no GUI backend and no
global figure state are involved. Scores are shown as the metric's own values.
"""

from __future__ import annotations

import io
import re

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullFormatter

from automl.metrics import Metric

matplotlib.use("Agg")  # should anything reach pyplot: never a window
# Text stays text (small, searchable); a fixed salt makes the same report byte-identical.
STYLE = {"svg.fonttype": "none", "svg.hashsalt": "automl-report", "font.size": 9,
         "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.alpha": 0.3}
WIDTH = 6.4  # inches; the page shows figures at their natural size
MOST_COLUMNS = 20  # importance bars beyond these go to the table only


def svg(figure: Figure) -> str:
    """The figure as an <svg> element to paste into HTML."""
    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # the XML prolog and DOCTYPE are for files, not pages
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)


def _figure(height: float, columns: int = 1) -> tuple[Figure, list]:
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH, height), layout="constrained")
        axes = figure.subplots(1, columns, squeeze=False)[0]
    return figure, list(axes)


def metric_label(metric: Metric) -> str:
    return f"{metric.name} ({'higher' if metric.greater_is_better else 'lower'} is better)"


def family_colors(families) -> dict[str, str]:
    palette = matplotlib.colormaps["tab10"].colors
    return {f: matplotlib.colors.to_hex(palette[i % len(palette)])
            for i, f in enumerate(sorted(set(families)))}


def target_distribution(y: pd.Series, regression: bool) -> Figure:
    """Class counts as bars, or a histogram of a numeric target."""
    figure, (axes,) = _figure(2.6)
    if regression:
        axes.hist(y.dropna().to_numpy(dtype=float), bins=40, color="#4c72b0")
        axes.set_xlabel(str(y.name))
    else:
        counts = y.astype(str).value_counts().sort_index()
        axes.bar(counts.index, counts.to_numpy(), color="#4c72b0")
        axes.tick_params(axis="x", rotation=30 if len(counts) > 6 else 0)
        for i, count in enumerate(counts.to_numpy()):
            axes.annotate(f"{count / counts.sum():.0%}", (i, count), ha="center", va="bottom")
        axes.margins(y=0.12)  # room for the shares above the bars
    axes.set_ylabel("rows")
    return figure


def best_over_time(trials: pd.DataFrame, metric: Metric, x_label: str) -> Figure:
    """Each finished trial at its end time, coloured by family, under the best-so-far line.

    `trials`: columns `at` (x), `value` (the metric) and `family`, one row per trial."""
    figure, (axes,) = _figure(3.0)
    colors = family_colors(trials["family"])
    for family, group in trials.groupby("family"):
        axes.scatter(group["at"], group["value"], s=14, alpha=0.7, color=colors[family],
                     label=family)
    ordered = trials.sort_values("at")
    best = ordered["value"].cummax() if metric.greater_is_better else ordered["value"].cummin()
    axes.step(ordered["at"], best, where="post", color="black", linewidth=1.4, label="best so far")
    axes.set_xlabel(x_label)
    axes.set_ylabel(metric_label(metric))
    _clip_outliers(axes, trials["value"], metric)
    axes.legend(fontsize=7, loc="best", frameon=False)
    return figure


def score_by_family(trials: pd.DataFrame, metric: Metric) -> Figure:
    """A box per family with every trial drawn over it (jittered)."""
    figure, (axes,) = _figure(3.0)
    families = sorted(trials["family"].unique())
    colors = family_colors(families)
    groups = [trials.loc[trials["family"] == f, "value"].to_numpy() for f in families]
    axes.boxplot(groups, tick_labels=families, widths=0.5, showfliers=False,
                 medianprops={"color": "black"})
    jitter = np.random.default_rng(0)
    for i, (family, values) in enumerate(zip(families, groups), start=1):
        axes.scatter(i + jitter.uniform(-0.15, 0.15, len(values)), values, s=12, alpha=0.7,
                     color=colors[family], zorder=3)
    axes.set_ylabel(metric_label(metric))
    _clip_outliers(axes, trials["value"], metric)
    return figure


def _clip_outliers(axes, values: pd.Series, metric: Metric) -> None:
    """A few disastrous trials would flatten every good one into a line: zoom on the good
    range and say what was cut."""
    values = values.dropna()
    if len(values) < 5:
        return
    low, high = values.quantile(0.1), values.quantile(0.9)
    span = high - low
    if span <= 0:
        return
    limits = (low - 1.5 * span, values.max() + 0.1 * span) if metric.greater_is_better else \
        (values.min() - 0.1 * span, high + 1.5 * span)
    outside = int(((values < limits[0]) | (values > limits[1])).sum())
    if outside:
        axes.set_ylim(*limits)
        axes.text(0.99, 0.01, f"{outside} trial(s) off the scale", transform=axes.transAxes,
                  ha="right", va="bottom", fontsize=7, color="#666666")


def ensemble_weights(members: pd.DataFrame) -> Figure:
    """Members' weights as horizontal bars; `members`: columns name, family, weight."""
    figure, (axes,) = _figure(0.6 + 0.28 * len(members))
    colors = family_colors(members["family"])
    ordered = members.sort_values("weight")
    axes.barh([f"{n} ({f})" for n, f in zip(ordered["name"], ordered["family"])],
              ordered["weight"], color=[colors[f] for f in ordered["family"]])
    axes.set_xlabel("weight")
    axes.grid(axis="y", visible=False)
    return figure


def greedy_trajectory(trajectory: list[float], best_single: float, metric: Metric) -> Figure:
    """The ensemble's validation score after each greedy round, against the best single model."""
    figure, (axes,) = _figure(2.6)
    rounds = np.arange(1, len(trajectory) + 1)
    axes.plot(rounds, trajectory, marker="o", markersize=3, label="ensemble")
    axes.axhline(best_single, color="#c44e52", linestyle="--", label="best single model")
    axes.set_xlabel("greedy selection round")
    axes.set_ylabel(metric_label(metric))
    axes.legend(fontsize=7, frameon=False)
    return figure


def pareto(front: pd.DataFrame, metric: Metric, teacher: float | None) -> Figure:
    """Students by size and by latency against score, each panel's Pareto front drawn as a
    staircase and the chosen student starred.

    `front`: columns student, value (the metric), size_kb, latency_ms, chosen."""
    figure, axes = _figure(3.0, columns=2)
    for ax, x, label in ((axes[0], "size_kb", "size (KB)"),
                         (axes[1], "latency_ms", "one-row latency (ms)")):
        ax.scatter(front[x], front["value"], s=22, color="#8c8c8c", label="student")
        best = front.loc[front_2d(front[x], front["value"], metric.greater_is_better)]
        ax.step(best[x], best["value"], where="post", color="#4c72b0", marker="o",
                markersize=4, label="Pareto front")
        chosen = front[front["chosen"]]
        ax.scatter(chosen[x], chosen["value"], s=160, marker="*", color="#dd8452", zorder=4,
                   label="chosen")
        if teacher is not None:
            ax.axhline(teacher, color="#c44e52", linestyle="--", linewidth=1, label="ensemble")
        _log_if_wide(ax, front[x])
        ax.set_xlabel(label)
    axes[0].set_ylabel(metric_label(metric))
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=4,
                  fontsize=7, frameon=False)
    return figure


def front_2d(x: pd.Series, value: pd.Series, greater_is_better: bool) -> list:
    """Index labels of the points no other beats on x (smaller) and value at once, by x."""
    sign = 1 if greater_is_better else -1
    kept, best = [], -np.inf
    for label in (pd.DataFrame({"x": x, "v": sign * value})
                  .sort_values(["x", "v"], ascending=[True, False]).index):
        if sign * value[label] > best:
            kept.append(label)
            best = sign * value[label]
    return kept


def _log_if_wide(axes, values: pd.Series) -> None:
    """A log scale where the values span a decade or more; else its labels crowd."""
    values = values[values > 0]
    if len(values) and values.max() / values.min() >= 10:
        axes.set_xscale("log")
        axes.xaxis.set_minor_formatter(NullFormatter())
    else:
        axes.xaxis.set_major_locator(MaxNLocator(4))


def importance(results: list, metric: Metric) -> Figure:
    """One panel per model: the fall of the metric when each column is shuffled, the
    columns ordered by the first model's ranking (at most MOST_COLUMNS)."""
    order = results[0].frame()["column"].tolist()[:MOST_COLUMNS]
    figure, axes = _figure(0.8 + 0.22 * len(order), columns=len(results))
    for ax, result in zip(axes, results):
        table = result.frame().set_index("column").reindex(order)
        ax.barh(order[::-1], table["drop"][::-1], xerr=table["spread"][::-1], color="#4c72b0",
                error_kw={"elinewidth": 0.8, "ecolor": "#555555"})
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_title(result.model, fontsize=9)
        ax.set_xlabel(f"{metric.name} lost when shuffled")
        ax.grid(axis="y", visible=False)
    for ax in axes[1:]:
        ax.tick_params(axis="y", labelleft=False)
    return figure
