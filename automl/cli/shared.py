"""What several commands share: the encoding option of a table read, our warnings as notes,
an empty --weight refused.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path


def add_data_encoding(parser) -> None:
    parser.add_argument("--encoding", default=None,
                        help="the text encoding of DATA, e.g. utf-8, cp1252, latin-1 "
                             "(default: detected)")


def show_notices(caught: list) -> None:
    """Our own warnings (ignored columns, other library versions) as one 'note' line each,
    once; anything else back to Python's filters, as if it had not been caught."""
    seen = set()
    for item in caught:
        if item.filename.startswith(str(Path(__file__).parents[1])):
            if str(item.message) not in seen:
                seen.add(str(item.message))
                print(f"automl: note: {item.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


def check_weight_name(weight: str | None) -> None:
    from automl.errors import ConfigError

    if weight is not None and not weight.strip():
        raise ConfigError("--weight is empty; give the name of the column of sample weights, "
                          "or leave it out")
