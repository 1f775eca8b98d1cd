"""`automl bench`: the benchmark protocol's options, checked, then the run (automl.bench).
"""

from __future__ import annotations

import sys
from pathlib import Path

from automl.cli.shared import check_weight_name


def add(commands) -> None:
    from automl.bench import defaults
    from automl.bench.systems import SYSTEMS

    bench = commands.add_parser(
        "bench", help="benchmark automl against baselines and peers on the shared tables",
        description="Run the benchmark protocol of DESIGN.md: every system on every table of "
                    "DIR/MANIFEST.csv, each in its own subprocess with a hard time-out, on one "
                    "fixed 80/20 split. Writes OUT/results.csv and OUT/bench.md. A peer that "
                    "is not installed is skipped with a notice.",
        epilog="example: automl bench --datasets credit_g,wine_quality "
               "--systems automl,xgb_default --time-budget 30s")
    bench.add_argument("--data", default=None, metavar="DIR",
                       help=f"folder with MANIFEST.csv and NAME.parquet tables "
                            f"(default: {defaults.default_data_dir()})")
    bench.add_argument("--datasets", default=None, metavar="A,B",
                       help="comma-separated dataset names from the manifest (default: all)")
    bench.add_argument("--systems", default=None, metavar="A,B",
                       help=f"comma-separated systems, of: {', '.join(SYSTEMS)} (default: all)")
    bench.add_argument("--time-budget", default=defaults.TIME_BUDGET,
                       help=f"time budget per system and dataset, e.g. 60s, 5m "
                            f"(default: {defaults.TIME_BUDGET})")
    bench.add_argument("--hard-timeout", default=None, metavar="DURATION",
                       help=f"kill a system's run after this long (default: budget x "
                            f"{defaults.HARD_TIMEOUT_FACTOR} + {defaults.HARD_TIMEOUT_MARGIN:g}s)")
    bench.add_argument("--weight", default=None, metavar="COLUMN",
                       help="each table's column of sample weights: every system fits with "
                            "them, every score is weighted (e.g. adult's fnlwgt)")
    bench.add_argument("--pipeline", default="default",
                       help="the graph automl runs (default: default; 'compact' adds the "
                            "compact model as variant 'compact')")
    bench.add_argument("--out", default=defaults.OUT,
                       help=f"folder for results.csv, bench.md, run folders "
                            f"(default: {defaults.OUT})")
    bench.set_defaults(handler=_bench)


def _bench(args) -> int:
    from automl.bench.defaults import default_data_dir
    from automl.bench.report import summary_lines
    from automl.bench.runner import BenchConfig, run_bench
    from automl.graph.load import load_graph
    from automl.options import check_out_dir

    check_weight_name(args.weight)
    budget, timeout = _bench_times(args.time_budget, args.hard_timeout)
    check_out_dir(args.out, "--out")
    load_graph(args.pipeline)  # a bad graph fails here, not in every worker
    config = BenchConfig(data_dir=Path(args.data) if args.data else default_data_dir(),
                         datasets=_names(args.datasets, "--datasets"),
                         systems=_names(args.systems, "--systems"),
                         time_budget=budget, out=Path(args.out),
                         hard_timeout=timeout, pipeline=args.pipeline, weight=args.weight)
    try:
        result = run_bench(config)
    except KeyboardInterrupt:
        print(f"automl: bench interrupted; what it measured is in {config.out / 'results.csv'}",
              file=sys.stderr)
        return 130
    for line in summary_lines(result.results):
        print(line)
    print(f"results: {result.csv_path}")
    print(f"report: {result.md_path}")
    return 0


def _bench_times(budget_text: str, timeout_text: str | None) -> tuple[float, float | None]:
    """The bench's time budget and hard time-out in seconds; a time-out shorter than the
    budget would kill every system before its budget ends."""
    from automl.bench.defaults import HARD_TIMEOUT_FACTOR, HARD_TIMEOUT_MARGIN
    from automl.budget import MAX_TIME_BUDGET, format_duration, parse_duration
    from automl.errors import ConfigError

    budget = parse_duration(budget_text, "--time-budget")
    if timeout_text is None:
        return budget, None
    timeout = parse_duration(timeout_text, "--hard-timeout",
                             high=MAX_TIME_BUDGET * HARD_TIMEOUT_FACTOR)
    if timeout <= budget:
        raise ConfigError(f"--hard-timeout {timeout_text!r} would kill every system before its "
                          f"--time-budget of {format_duration(budget)} ends; give more, or leave "
                          f"it out for budget x {HARD_TIMEOUT_FACTOR} + "
                          f"{HARD_TIMEOUT_MARGIN:g}s")
    return budget, timeout


def _names(value: str | None, flag: str) -> list[str] | None:
    """'a, b,' -> ['a', 'b']; None when the flag was not given."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        from automl.errors import ConfigError

        raise ConfigError(f"{flag} got {value!r}; give comma-separated names, e.g. a,b")
    return names
