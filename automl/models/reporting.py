"""Spread an iterative family's progress reports evenly over the rounds it plans.

The search's scheduler (ASHA) counts progress in reports and ends a trial that reaches
REPORTS_PER_FIT + 1 of them, so a family reports at most REPORTS_PER_FIT times per fit,
at fixed shares of its planned rounds (trees, epochs): trials compare at equal progress.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from automl.models.base import REPORTS_PER_FIT, ReportFn


class ProgressReports:
    def __init__(self, planned_rounds: int, report: ReportFn | None):
        self.planned = max(1, int(planned_rounds))
        self.report = report
        self.made = 0

    def due(self, rounds: int) -> bool:
        """Whether `rounds` done reach the next milestone (and a report is wanted)."""
        if self.report is None or self.made >= REPORTS_PER_FIT:
            return False
        return rounds * REPORTS_PER_FIT >= (self.made + 1) * self.planned

    def send(self, rounds: int, prediction: Callable[[], np.ndarray]) -> None:
        """Report after `rounds` if due; `prediction` is only computed then."""
        if self.due(rounds):
            self.made += 1
            self.report(rounds, prediction())
