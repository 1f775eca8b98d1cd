"""Where the shipped YAML (pipelines/, search/) lives, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(kind: str) -> Path:
    """The folder of shipped `kind` files ('pipelines' or 'search').

    A wheel carries them in automl/_resources/ (see pyproject.toml); an editable install
    reads them from the repository top, where they are maintained.
    """
    for candidate in (_PACKAGE / "_resources" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"shipped folder {kind!r} not found beside the automl package")
