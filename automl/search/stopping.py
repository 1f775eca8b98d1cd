"""Stop suggesting trials once the search's budget is nearly spent.

Without this, Tune keeps starting trials until its own time budget ends, and each finds
no time left. The budget is a class attribute, not an instance one, because Tune pickles
the searcher into its experiment state: a resumed search must end by the resumed run's
budget, not by the one saved before the driver was killed.
"""

from __future__ import annotations

from typing import ClassVar

from ray.tune import Stopper
from ray.tune.search import Searcher

from automl.budget import Budget
from automl.search.trainable import DISK_FULL, trial_budget


class UntilDeadline(Searcher):
    """Wraps a searcher; says FINISHED when less than a trial's minimum time is left."""

    budget: ClassVar[Budget] = Budget.unlimited()  # set by run_search before Tune starts

    def __init__(self, searcher: Searcher):
        super().__init__(metric=searcher.metric, mode=searcher.mode)
        self.searcher = searcher

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        return self.searcher.set_search_properties(metric, mode, config, **spec)

    def suggest(self, trial_id: str):
        if trial_budget(UntilDeadline.budget) is None:
            return Searcher.FINISHED
        return self.searcher.suggest(trial_id)

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        self.searcher.on_trial_complete(trial_id, result=result, error=error)

    def save(self, checkpoint_path: str) -> None:
        self.searcher.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        self.searcher.restore(checkpoint_path)

    # Tune saves wrappers and the searcher they wrap separately (as ConcurrencyLimiter).
    def get_state(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "searcher"}

    def set_state(self, state: dict) -> None:
        self.__dict__.update(state)


class StopOnFullDisk(Stopper):
    """Ends the whole search once a trial reports that the run folder's disk is full: no
    trial after it could be kept either. The message is a class attribute for the reason
    the budget above is one: a resumed search runs the stopper Tune saved, not this one."""

    message: ClassVar[str | None] = None  # reset by run_search before Tune starts

    def __call__(self, trial_id: str, result: dict) -> bool:
        if result.get(DISK_FULL):
            StopOnFullDisk.message = result[DISK_FULL]
        return StopOnFullDisk.message is not None

    def stop_all(self) -> bool:
        return StopOnFullDisk.message is not None
