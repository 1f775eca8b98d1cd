"""Which process fitted a model: its host and pid, stamped on the model where a fit ends.

On a joined cluster the driver only coordinates (DESIGN.md, "Search on Ray Tune"); the
stamp lets a run folder show where each trial, refit and student was fitted, and a test
prove that none was fitted in the driver's process.
"""

from __future__ import annotations

import os
import socket

ATTRIBUTE = "fitted_by_"


def here() -> str:
    """'host:pid' of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def stamp(model):
    """`model`, marked as fitted by this process."""
    setattr(model, ATTRIBUTE, here())
    return model


def fitted_by(model) -> str | None:
    return getattr(model, ATTRIBUTE, None)
