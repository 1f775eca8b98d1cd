"""`automl report` and `automl validate`: what reads a run folder or a graph and trains nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path


def add_report(commands) -> None:
    report = commands.add_parser(
        "report", help="write the HTML report of a run",
        description="Write RUN_DIR/report.html: the data, the search, the ensemble, the "
                    "compact model and feature importance, in one self-contained file.",
        epilog="example: automl report runs/20260101-120000-adult")
    report.add_argument("run_dir", metavar="RUN_DIR")
    report.add_argument("--no-importance", action="store_true",
                        help="skip permutation importance (the only part that predicts)")
    report.set_defaults(handler=_report)


def add_validate(commands) -> None:
    validate = commands.add_parser(
        "validate", help="check a pipeline graph without training",
        description="Validate a pipeline graph (YAML file or preset name) and print the order.")
    validate.add_argument("file", metavar="FILE")
    validate.set_defaults(handler=_validate)


def _report(args) -> int:
    from automl.options import check_run_dir

    check_run_dir(args.run_dir, "report on")
    from automl.report.write import report_run_dir

    path = report_run_dir(Path(args.run_dir), importance=not args.no_importance,
                          log=lambda line: print(line, file=sys.stderr))
    print(path)
    return 0


def _validate(args) -> int:
    from automl.graph.load import execution_order, load_graph

    spec = load_graph(args.file)
    print(f"{spec.name}: valid; execution order:")
    for i, name in enumerate(execution_order(spec), 1):
        node = spec.node(name)
        print(f"  {i}. {name} ({node.kind})" + (f" <- {', '.join(node.inputs)}" if node.inputs else ""))
    return 0
