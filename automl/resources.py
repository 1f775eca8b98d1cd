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


def preset_summaries() -> dict[str, str]:
    """Each shipped pipeline preset's one-line `summary`, by name, read without validating
    the graph (pydantic takes a second to load; `automl fit --help` should not wait)."""
    import yaml

    summaries = {}
    for path in sorted(resource_dir("pipelines").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        summaries[path.stem] = raw.get("summary", "") if isinstance(raw, dict) else ""
    return summaries
