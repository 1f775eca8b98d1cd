"""Stop suggesting trials once the search's deadline is near.

Without this, Tune keeps starting trials until its own time budget ends, and each finds
no time left. The deadline lives in the driver's environment, not on the searcher,
because Tune pickles the searcher into its experiment state: a resumed search must see
the new deadline, not the one saved before the driver was killed.
"""

from __future__ import annotations

import os
import time

from ray.tune.search import Searcher

from automl.search.trainable import MIN_TRIAL_SECONDS

_ENV = "AUTOML_SEARCH_DEADLINE"


def set_deadline(deadline: float | None) -> None:
    os.environ[_ENV] = "" if deadline is None else repr(deadline)


def _deadline() -> float | None:
    value = os.environ.get(_ENV, "")
    return float(value) if value else None


class UntilDeadline(Searcher):
    """Wraps a searcher; says FINISHED when less than a trial's minimum time is left."""

    def __init__(self, searcher: Searcher):
        super().__init__(metric=searcher.metric, mode=searcher.mode)
        self.searcher = searcher

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        return self.searcher.set_search_properties(metric, mode, config, **spec)

    def suggest(self, trial_id: str):
        deadline = _deadline()
        if deadline is not None and time.time() >= deadline - MIN_TRIAL_SECONDS:
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
