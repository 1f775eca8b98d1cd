"""The `report` stage: report.html for the nodes a report node reads, directly or not.

A fit writes the report at its end anyway; a report node in a graph is the way to set
its params (e.g. `permutation_importance: false`) or to report on part of a graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from automl.report.write import report_outputs


@dataclass
class ReportResult:
    path: Path


def run(node, inputs, context) -> ReportResult:
    # upstream lists the nearest node first; the report reads outputs in execution order
    outputs = dict(reversed(list(context.upstream.items())))
    return ReportResult(report_outputs(outputs, context.run_dir,
                                       node.params.permutation_importance, context.log))
