"""The bench's defaults, in a module without heavy imports: `automl --help` reads them."""

from __future__ import annotations

from pathlib import Path

HARD_TIMEOUT_FACTOR = 3
HARD_TIMEOUT_MARGIN = 60.0  # imports, reading the table, scoring and timing predictions
TIME_BUDGET = "60s"
OUT = "bench_out"
RESULTS_CSV, REPORT_MD = "results.csv", "bench.md"
INTERVALS_CSV = "gain_kept_intervals.csv"  # with --pipeline compact: see `intervals`


def default_data_dir() -> Path:
    """../shared/data beside the repository that holds this package (a checkout)."""
    return Path(__file__).resolve().parents[3] / "shared" / "data"
