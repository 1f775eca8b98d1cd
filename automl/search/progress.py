"""A Tune callback (it runs in the driver): counts trials, times them, draws a live line."""

from __future__ import annotations

import sys
import time

from ray.tune import Callback


class Progress(Callback):
    # No stream is kept on the object: Tune pickles its callbacks into the experiment state.
    def __init__(self, metric_name: str, greater_is_better: bool, budget: float | None):
        self.metric_name, self.budget = metric_name, budget
        self.sign = 1 if greater_is_better else -1  # scores are maximised; show the metric
        self.live = sys.stderr.isatty()  # a live line on a terminal, quiet otherwise
        self.start = time.monotonic()
        self.started: dict[str, float] = {}
        self.wall: dict[str, float] = {}  # trial id -> seconds from start to end, seen by the driver
        self.done = self.failed = 0
        self.best: float | None = None

    def on_trial_start(self, iteration, trials, trial, **info):
        self.started[trial.trial_id] = time.monotonic()
        self._draw(trials)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if result.get("final"):
            score = result["score"]
            self.best = score if self.best is None else max(self.best, score)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.done += 1
        self._ended(trial, trials)

    def on_trial_error(self, iteration, trials, trial, **info):
        self.failed += 1
        self._ended(trial, trials)

    def _ended(self, trial, trials) -> None:
        if trial.trial_id in self.started:
            self.wall[trial.trial_id] = time.monotonic() - self.started[trial.trial_id]
        self._draw(trials)

    def _draw(self, trials) -> None:
        if not self.live:
            return
        running = sum(1 for t in trials if t.status == "RUNNING")
        best = "-" if self.best is None else f"{self.sign * self.best:.4f}"
        budget = f" / {self.budget:.0f}s" if self.budget else ""
        line = (f"search: {self.done} done, {running} running, {self.failed} failed | "
                f"best {self.metric_name} {best} | {time.monotonic() - self.start:.0f}s{budget}")
        sys.stderr.write("\r" + line.ljust(90))
        sys.stderr.flush()

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\n")
            sys.stderr.flush()
