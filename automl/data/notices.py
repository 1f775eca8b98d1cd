"""The one way the data layer tells what it decided for the user (an encoding, a separator,
decimal commas, infinite values taken as missing).

A caller passes a `Notify` callback (a run logs notices among its progress lines); without
one, a notice is a `DataNotice` warning, which `automl predict` prints as 'automl: note:'
and Python shows as any warning.
"""

from __future__ import annotations

import warnings
from typing import Callable

Notify = Callable[[str], None]


class DataNotice(UserWarning):
    """How a table was read or cleaned, where it departs from the plain default."""


def warn(message: str) -> None:
    warnings.warn(message, DataNotice, stacklevel=2)
