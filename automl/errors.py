"""One error family. Every message says what was wrong, what was received, and how to fix it.

The CLI prints an `AutoMLError` as one line and exits with code 2; anything else is a bug
and keeps its traceback. Errors about a bad value (data, option, predict input) are also
ValueErrors, as Python and sklearn's tools expect of an estimator given bad input.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AutoMLError(Exception):
    """Base of every error this package raises on purpose."""


class DataError(AutoMLError, ValueError):
    """The table or the target cannot be used as given."""


class GraphError(AutoMLError):
    """The pipeline graph (YAML) is malformed or inconsistent."""


class ConfigError(AutoMLError, ValueError):
    """An option (CLI flag, API argument, param) has a bad value."""


class PredictError(AutoMLError, ValueError):
    """Input handed to `predict` does not match what the model was fitted on."""


class RunError(AutoMLError):
    """A run folder is missing, incomplete or from an incompatible version."""


class DiskFullError(RunError):
    """The disk (or quota) ran out while writing the run folder: nothing half-written is
    kept, and the run cannot go on until there is room."""


def first_line(err: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (libraries' messages run to pages), or ""."""
    lines = str(err).strip().splitlines()
    return lines[0][:limit] if lines else ""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def listing(choices: Iterable[str]) -> str:
    return ", ".join(repr(c) for c in sorted(choices))
