"""The run options `automl fit` and `AutoML(...)` share, checked against their bounds before
anything is read or trained: the time budget, the seed, the holdout share, the Ray
address, the trial count, the output folder, the text encoding, and the ensemble's
refit_full and size and latency caps.

`check_run_options` is the one list of those checks: `AutoML.fit` runs it on its
arguments, and `automl fit` on its options (in their own names, e.g. '--seed') before it
joins a cluster and imports the libraries that take seconds, then hands the checked
options to `AutoML.fit_checked`. The standard library only at import, for that reason.
An option that stands for a graph param (the holdout is the ingest node's test_fraction)
is held to that param's own bounds.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from automl.budget import parse_time_budget
from automl.errors import ConfigError, RunError
from automl.units import latency_ms, size_bytes


@dataclass(frozen=True)
class RunOptions:
    """The run options, each within its bounds (`check_run_options`)."""

    time_budget: float | str | None  # seconds, None for no limit, or the default
    seed: int
    holdout: float | None
    address: str | None
    max_trials: int | None
    out: Path
    encoding: str | None  # a canonical codec name; None: detect it
    # the ensemble's: None keeps what the graph says (automl.graph.compose.with_ensemble_options)
    refit_full: bool | None = None
    max_size_bytes: int | None = None
    max_latency_ms: float | None = None


def check_run_options(*, time_budget=None, seed=0, holdout=None, address=None,
                      max_trials=None, out="runs", encoding=None, refit_full=None,
                      max_model_size=None, max_latency=None,
                      labels: Mapping[str, str] | None = None) -> RunOptions:
    """The options checked, each problem a ConfigError naming the option as the caller
    spells it (`labels`: name -> label, e.g. "seed" -> "--seed"; else the name)."""
    label = {"time_budget": "time budget", **(labels or {})}.get
    return RunOptions(
        time_budget=parse_time_budget(time_budget, label("time_budget")),
        seed=check_seed(seed, label("seed", "seed")),
        holdout=check_holdout(holdout, label("holdout", "holdout")),
        address=check_address(address, label("address", "address")),
        max_trials=check_max_trials(max_trials, label("max_trials", "max_trials")),
        out=check_out_dir(out, label("out", "out")),
        encoding=check_encoding(encoding),
        refit_full=check_flag(refit_full, label("refit_full", "refit_full")),
        max_size_bytes=None if max_model_size is None else
        size_bytes(max_model_size, label("max_model_size", "max_model_size")),
        max_latency_ms=None if max_latency is None else
        latency_ms(max_latency, label("max_latency", "max_latency")))

# numpy's and scikit-learn's seeds (RandomState, random_state) are 32-bit unsigned: a seed
# outside would fail deep inside a model family, mid-run
MAX_SEED = 2**32 - 1
_ADDRESS = re.compile(r"^(?:ray://)?(?P<host>[^\s:/]+|\[[0-9a-fA-F:]+\]):(?P<port>\d+)$")


def check_seed(value, label: str = "seed") -> int:
    """An integer from 0 to 2**32 - 1 (also given as text, as the CLI has it)."""
    try:
        seed = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        seed = None
    if seed is None:
        raise ConfigError(f"{label} {value!r} is not an integer; allowed: an integer from 0 to "
                          f"{MAX_SEED}; e.g. 0")
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{label} {value!r} is out of range; allowed: an integer from 0 to "
                          f"{MAX_SEED} (numpy's and scikit-learn's seeds); give one in that range")
    return seed


MAX_TRIALS = 100_000  # as the search node's max_trials allows


def check_max_trials(value, label: str = "max_trials") -> int | None:
    """A whole number of trials from 1 to MAX_TRIALS (also given as text), or None."""
    if value is None:
        return None
    try:
        count = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        count = None
    if count is None or not 1 <= count <= MAX_TRIALS:
        raise ConfigError(f"{label} {value!r} is not a number of trials; allowed: a whole "
                          f"number from 1 to {MAX_TRIALS}; e.g. 200")
    return count


def check_holdout(value, label: str = "holdout") -> float | None:
    """A share of the rows held out for the test score, as the ingest node's test_fraction
    allows; None: as the graph says."""
    if value is None:
        return None
    from automl.bounds import check_param  # pydantic: only when there is a value to check
    from automl.config import IngestParams

    return check_param(IngestParams, "test_fraction", _number(value), label,
                       fix_hint="give e.g. 0.2, or 0 for none")


def check_flag(value, label: str) -> bool | None:
    """True, False, or None (as the graph says)."""
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"{label} {value!r} is not true or false; give True or False, or None "
                      "for what the pipeline says")


def check_address(value: str | None, label: str = "address") -> str | None:
    """HOST:PORT (or ray://HOST:PORT) of a running Ray, or 'auto'; None: a local Ray."""
    if value is None or value == "auto":
        return value
    match = _ADDRESS.match(str(value).strip())
    allowed = ("allowed: HOST:PORT of a running 'ray start --head' (e.g. 10.0.0.5:6379), "
               "ray://HOST:10001 (Ray Client) or auto; leave it out to start a local Ray")
    if match is None:
        raise ConfigError(f"{label} {value!r} is not a Ray address; {allowed}")
    if not 1 <= int(match["port"]) <= 65535:
        raise ConfigError(f"{label} {value!r} has port {match['port']}, out of range; ports are "
                          f"1 to 65535; {allowed}")
    return str(value).strip()


def check_encoding(name: str | None) -> str | None:
    """The canonical name of a text encoding ('cp1252' for 'windows-1252'); None: detect it."""
    if name is None:
        return None
    try:
        "".encode(name)  # LookupError also for codecs that are not text encodings (base64)
        return codecs.lookup(name).name
    except LookupError:
        raise ConfigError(f"unknown encoding {name!r}; give a text encoding Python knows, such "
                          "as utf-8, cp1252 (Windows, Excel) or latin-1, or leave it out to "
                          "detect it") from None


def check_out_dir(value, label: str = "out") -> Path:
    """A folder to write into (made if missing), not a file, and one that can be made: the
    nearest folder on its path that exists is writable (no permission, a file on the path,
    a read-only disk are one line before any work, not a traceback after it)."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{label} {str(value)!r} is a file; give a folder (it is made if "
                          "missing)")
    nearest = path.absolute()
    while not nearest.exists():
        nearest = nearest.parent
    if not nearest.is_dir():
        raise ConfigError(f"{label} {str(value)!r} cannot be made: {str(nearest)!r} on its path "
                          "is a file; give a folder you can write to")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise ConfigError(f"{label} {str(value)!r} cannot be made: {str(nearest)!r} is not "
                          "writable; give a folder you can write to")
    return path


def make_out_dir(path: Path, label: str = "out") -> None:
    """Make `path` (and the folders above it), or a ConfigError saying why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"{label} {str(path)!r} cannot be made ({err.strerror}: "
                          f"{err.filename}); give a folder you can write to") from None


def check_out_file(value, label: str = "out") -> Path:
    """A file to write: its folder must exist, and the path must not be a folder."""
    path = Path(value)
    if path.is_dir():
        raise ConfigError(f"{label} {str(value)!r} is a folder; give a file name, e.g. "
                          f"{path / 'predictions.csv'}")
    if not path.parent.is_dir():
        raise ConfigError(f"{label} {str(value)!r}: the folder {str(path.parent)!r} does not "
                          "exist; create it, or give a path in an existing folder")
    return path


def check_run_dir(value, action: str) -> Path:
    """A run folder (one with run.json), for `action` ('resume', 'report on')."""
    path = Path(value)
    if not (path / "run.json").is_file():
        what = "does not exist" if not path.exists() else "is not a run folder (no run.json)"
        raise RunError(f"cannot {action} {value}: it {what}; give the folder 'automl fit' "
                       "printed as 'run folder: ...'")
    return path


def _number(value):
    """Text that reads as a number, as that number (the CLI's options arrive as text)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
