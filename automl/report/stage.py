"""The `report` stage: a report node sets the report's params.

The report is written from the run folder's files when the run has finished (its model
bundle and final scores are written last), by `automl fit` unless told not to, with the
params of the graph's report node if it has one; `automl report RUN_DIR` writes it again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ReportResult:
    permutation_importance: bool


def run(node, inputs, context) -> ReportResult:
    return ReportResult(node.params.permutation_importance)
