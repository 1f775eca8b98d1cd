"""The bench's outputs: results.csv (one row per system, variant, dataset) and bench.md."""

from __future__ import annotations

import math

import pandas as pd

from automl.bench.intervals import LEVEL, N_RESAMPLES
from automl.bench.scores import (DISTILLED, SHIPPED_INSTEAD, compact_vs_ensemble,
                                 compact_vs_shipped, summary)
from automl.bench.systems import OURS, SYSTEMS
from automl.metrics import METRICS, PROTOCOL

METRIC_COLUMNS = list(dict.fromkeys(name for names in PROTOCOL.values() for name in names))
# (column, heading, higher is better)
COSTS = [("fit_seconds", "fit s", False), ("peak_memory_mb", "peak MB", False),
         ("model_bytes", "size", False), ("latency_ms", "1-row ms", False),
         ("throughput_rows_s", "rows/s", True)]
PEAK_MEMORY_NOTE = (
    "*peak MB* is the memory of the whole process tree a system runs as: its worker process "
    "and every descendant (a local Ray's GCS server, raylet and trial workers; joblib's "
    "workers), sampled every 0.25 s while it fits and predicts. Each sample sums the "
    "processes' proportional set size (PSS), so shared pages (libraries, Ray's object store "
    "in shared memory) count once, not once per process that maps them; object-store pages "
    "that no process maps at that moment are not seen. The worker's own peak RSS is a floor.")
COLUMNS = (["dataset", "task", "system", "variant", "status", "error", "n_train", "n_test",
            "time_budget_s"] + METRIC_COLUMNS + [c for c, _, _ in COSTS] + ["wall_seconds"])


def table(frame: pd.DataFrame) -> str:
    """A frame as a markdown table, numbers right-aligned (the bench's other scripts)."""
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def results_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def markdown(results: pd.DataFrame, header: list[str], notices: list[str],
             intervals: pd.DataFrame | None = None) -> str:
    """`intervals`: the gain kept's intervals (`intervals.gain_kept_intervals`), if any."""
    lines = ["# automl bench", "", *header, ""]
    lines += [f"- {notice}" for notice in notices] + ([""] if notices else [])
    lines += _summary_section(results)
    lines += _compact_section(results, intervals)
    for dataset in dict.fromkeys(results["dataset"]):
        lines += _dataset_section(results[results["dataset"] == dataset])
    return "\n".join(lines) + "\n"


def summary_lines(results: pd.DataFrame) -> list[str]:
    """One plain line per entry, for the terminal."""
    return [f"{r.system}/{r.variant}: mean rank {_num(r.mean_rank, 2)}, normalised score "
            f"{_num(r.normalised_score, 2)} (covers {r.covered} of {r.datasets} datasets)"
            for r in summary(results).itertuples(index=False)]


def _summary_section(results: pd.DataFrame) -> list[str]:
    table = summary(results)
    lines = ["## Summary", "",
             "| system | variant | datasets covered | mean rank ↓ | normalised score ↑ |",
             "|---|---|---:|---:|---:|"]
    for r in table.itertuples(index=False):
        scored = f" (on {r.scored})" if 0 < r.scored < r.covered else ""
        lines.append(f"| {r.system} | {r.variant} | {r.covered} of {r.datasets} | "
                     f"{_num(r.mean_rank, 2)} | {_num(r.normalised_score, 2)}{scored} |")
    unscored = table[table["scored"] < table["covered"]]
    lines += ["", "Both figures use each dataset's first protocol metric, oriented so higher is "
              "better, and average over the datasets the entry covers (a failure earns nothing). "
              "Rank 1 is the best entry on a dataset. Normalised score: 0 = xgb_default, "
              "1 = the best entry on that dataset. In the tables below, *÷ best peer* divides "
              "automl's figure by the best other system's in that column (peers and baselines): "
              "above 1 is better in ↑ columns, below 1 in ↓ columns."]
    lines.append(PEAK_MEMORY_NOTE)
    if len(unscored):
        lines.append("Where xgb_default failed or was itself the best, a dataset gives no "
                     "normalised score (0 and 1 coincide); \"(on n)\" says how many did.")
    return lines + [""]


def _compact_section(results: pd.DataFrame, intervals: pd.DataFrame | None = None) -> list[str]:
    """With --pipeline compact: what each compact model keeps of its teacher, at what cost."""
    lines = []
    for system, teacher, student in DISTILLED:
        if not ((results["system"] == system) & (results["variant"] == student)).any():
            continue
        table = _with_intervals(compact_vs_ensemble(results, system, teacher, student),
                                intervals, system)
        lines += [f"## {system}: {student} vs {teacher}", "",
                  f"| dataset | {teacher} | {student} | xgb_default | gain kept ↑ | "
                  f"{LEVEL:.0%} interval | size | size ÷ {teacher} ↓ | "
                  f"1-row latency ÷ {teacher} ↓ |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in table.itertuples(index=False):
            lines.append(f"| {r.dataset} | {_num(r.ensemble, 4)} | {_num(r.compact, 4)} | "
                         f"{_num(r.baseline, 4)} | {_num(r.gain_kept, 2)} | {_interval(r)} | "
                         f"{_size(r.compact_bytes)} | {_num(r.model_bytes_ratio, 4)} | "
                         f"{_num(r.latency_ms_ratio, 3)} |")
        lines.append(f"| **median** | | | | {_num(table['gain_kept'].median(), 2)} | | "
                     f"{_size(table['compact_bytes'].median())} | "
                     f"{_num(table['model_bytes_ratio'].median(), 4)} | "
                     f"{_num(table['latency_ms_ratio'].median(), 3)} |")
        lines += ["", _kept_line(table), ""]
    if lines:
        lines += _shipped_section(results)
        lines += ["Scores: each dataset's first protocol metric, higher is better (RMSE and "
                  "log loss negated). Gain kept = (student - xgb_default) / (teacher - "
                  "xgb_default); blank where the teacher did not beat xgb_default. A blank "
                  "student: no compact model was written. automl's compact model is "
                  "compact.onnx run in onnxruntime; AutoGluon's is the best of its distill() "
                  "students by its own validation score.",
                  f"The interval: the middle {LEVEL:.0%} of the gain kept over {N_RESAMPLES:,} "
                  "resamples of the test rows (the same rows for all three models), where the "
                  "teacher still beats xgb_default; *(n% no gain)*: the share of resamples "
                  "where it does not. Where the interval spans 0.97, the test part cannot "
                  "tell the student from the bar.", ""]
    return lines


def _shipped_section(results: pd.DataFrame) -> list[str]:
    """Our compact model against the single models a team would ship instead."""
    table = compact_vs_shipped(results)
    if not len(table):
        return []
    names = [system for system, _ in SHIPPED_INSTEAD]
    lines = ["## automl compact vs what a team would ship instead", "",
             "| dataset | compact | " + " | ".join(names) + " | compact size | "
             + " | ".join(f"{n} size" for n in names) + " |",
             "|---|" + "---:|" * (2 + 2 * len(names))]
    for r in table.to_dict("records"):
        lines.append(f"| {r['dataset']} | {_num(r['compact'], 4)} | "
                     + " | ".join(_num(r[n], 4) for n in names) + f" | {_size(r['compact_bytes'])} | "
                     + " | ".join(_size(r[f"{n}_bytes"]) for n in names) + " |")
    lines.append("")
    for name in names:
        both = table[table[name].notna()]
        if len(both):
            at_least = int((both["compact"] >= both[name]).sum())
            lines.append(f"- compact at least as accurate as {name} on {at_least} of "
                         f"{len(both)} datasets.")
    return lines + [""]


def _with_intervals(table: pd.DataFrame, intervals: pd.DataFrame | None,
                    system: str) -> pd.DataFrame:
    if intervals is None or not len(intervals):
        return table.assign(low=float("nan"), high=float("nan"), no_gain=float("nan"))
    mine = intervals[intervals["system"] == system].drop(columns="system")
    return table.merge(mine, on="dataset", how="left")


def _interval(row) -> str:
    if pd.isna(row.low):
        return ""
    no_gain = f" ({row.no_gain:.0%} no gain)" if row.no_gain >= 0.005 else ""
    return f"{row.low:.2f} – {row.high:.2f}{no_gain}"


def _kept_line(table: pd.DataFrame) -> str:
    kept = (table["gain_kept"] >= 0.97).sum()
    line = f"Gain kept ≥ 0.97 on {kept} of {len(table)} datasets"
    if table["low"].notna().any():
        reach = (table["high"] >= 0.97).sum()
        line += f"; its {LEVEL:.0%} interval reaches 0.97 on {reach}"
    return line + "."


def _dataset_section(rows: pd.DataFrame) -> list[str]:
    first = rows.iloc[0]
    metrics = list(PROTOCOL[first["task"]])
    columns = [(m, m, METRICS[m].greater_is_better) for m in metrics] + COSTS
    sizes = rows[rows["status"] == "ok"]
    shape = (f"{int(sizes['n_train'].iloc[0])} train / {int(sizes['n_test'].iloc[0])} test rows"
             if len(sizes) else "no system ran")
    lines = [f"## {first['dataset']}", "", f"{first['task']} · {shape}", "",
             "| system | variant | " + " | ".join(f"{h} {'↑' if up else '↓'}"
                                                  for _, h, up in columns) + " |",
             "|---|---|" + "---:|" * len(columns)]
    for row in rows.itertuples(index=False):
        cells = [_cell(c, getattr(row, c)) for c, _, _ in columns] if row.status == "ok" \
            else ["—"] * len(columns)
        lines.append(f"| {row.system} | {row.variant} | " + " | ".join(cells) + " |")
    lines += _ratio_rows(rows, columns)
    failures = rows[rows["status"] != "ok"]
    if len(failures):
        lines += [""] + [f"- {r.system}/{r.variant} failed: {r.error}"
                         for r in failures.itertuples(index=False)]
    return lines + [""]


def _ratio_rows(rows: pd.DataFrame, columns) -> list[str]:
    """Ours / best peer, per column. Peers here are all other systems (peers and baselines)."""
    ok = rows[rows["status"] == "ok"]
    ours = ok[ok["system"].map(lambda s: _kind(s) == OURS)]
    others = ok[ok["system"].map(lambda s: _kind(s) != OURS)]
    if ours.empty or others.empty:
        return []
    lines = []
    for row in ours.itertuples(index=False):
        cells = []
        for column, _, up in columns:
            best = others[column].max() if up else others[column].min()
            ratio = getattr(row, column) / best if best else math.nan
            cells.append(_num(ratio, 2))
        lines.append(f"| *{row.system}/{row.variant} ÷ best peer* | | " + " | ".join(cells) + " |")
    return lines


def _kind(system: str) -> str | None:
    spec = SYSTEMS.get(system)
    return spec.kind if spec else None


def _cell(column: str, value) -> str:
    if column == "model_bytes":
        return _size(value)
    if column == "throughput_rows_s":
        return f"{value:,.0f}"
    digits = {"fit_seconds": 1, "peak_memory_mb": 0, "latency_ms": 2}.get(column, 4)
    return _num(value, digits)


def _num(value, digits: int) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _size(n_bytes) -> str:
    if n_bytes is None or pd.isna(n_bytes):
        return ""
    size = float(n_bytes)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"
