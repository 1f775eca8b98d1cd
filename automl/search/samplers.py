"""Optuna samplers as Ray Tune can hold them.

Tune pickles its searcher, with the Optuna sampler inside, when a search starts and each
time it saves the experiment (for `--resume`). Optuna 5's genetic samplers (NSGA-II) keep
a thread lock, which does not pickle; this one leaves it out and makes a new one when it
is read back.
"""

from __future__ import annotations

import threading

import optuna


class NSGAIISampler(optuna.samplers.NSGAIISampler):
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_thread_lock"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()
