"""A key -> plug-in table, the pattern of Ray Tune's searchers and AutoGluon's models.

An entry is an object or its "module:attr" path; a path is imported on first use, so a
table can name heavy or optional libraries and cost nothing until one is used. An unknown
key is refused listing the known ones ("did you mean"); a key taken by another entry is
refused naming both. Standard library only, so the CLI can read a table before the
libraries that take seconds to import.

    FAMILIES = Registry("family", "families", {"linear": "automl.models.linear:LinearFamily"})
    FAMILIES.register("mine", MyFamily)   # or "my_package.module:MyFamily"
    FAMILIES["linear"]                    # the class, imported now
    FAMILIES.path("linear")               # "automl.models.linear:LinearFamily"
    list(FAMILIES)                        # keys, in the order registered
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from automl.errors import ConfigError, did_you_mean, listing

# {noun}, {plural}, {key}, {hint} (" (did you mean 'x'?)" or ""), {listing} (sorted,
# quoted) and {keys} (in the order registered) may appear in an `unknown` message
UNKNOWN = "unknown {noun} {key!r}{hint}; {plural} are {listing}"


def import_object(path: str) -> Any:
    """The object that "package.module:attr" names, imported now."""
    module, _, attr = path.partition(":")
    if not attr:
        raise ConfigError(f"{path!r} is not an import path; give 'package.module:name'")
    return getattr(importlib.import_module(module), attr)


def path_of(entry: Any) -> str:
    """ "module:attr" of a class or function (a string: itself), as a fresh process finds it."""
    if isinstance(entry, str):
        return entry
    return f"{entry.__module__}:{entry.__qualname__}"


class Registry:
    """Keys to entries, each an object or its "module:attr" path (imported on first use).

    `label(entry)` names an entry in the message that refuses a taken key (default: its
    import path); an entry whose label equals the one registered may be registered again.
    """

    def __init__(self, noun: str, plural: str, entries: Mapping[str, Any] | None = None, *,
                 unknown: str = UNKNOWN, label: Callable[[Any], str] = path_of):
        self.noun, self.plural = noun, plural
        self._unknown, self._label = unknown, label
        self._entries: dict[str, Any] = {}
        for key, entry in (entries or {}).items():
            self.register(key, entry)

    def register(self, key: str, entry: Any) -> Any:
        """Add `entry` under `key`; a key taken by another entry is a ConfigError."""
        if key in self._entries and self._label(self._entries[key]) != self._label(entry):
            raise ConfigError(f"{self.noun} key {key!r} is taken by "
                              f"{self._label(self._entries[key])}; cannot register "
                              f"{self._label(entry)}")
        self._entries[key] = entry
        return entry

    def pop(self, key: str, default: Any = None) -> Any:
        """Remove `key` (tests that register an entry of their own remove it again)."""
        return self._entries.pop(key, default)

    def raw(self, key: str) -> Any:
        """The entry as registered: an object, or its path while not imported yet."""
        if key not in self._entries:
            keys = list(self._entries)
            raise ConfigError(self._unknown.format(
                noun=self.noun, plural=self.plural, key=key, hint=did_you_mean(key, keys),
                listing=listing(keys), keys=", ".join(keys)))
        return self._entries[key]

    def __getitem__(self, key: str) -> Any:
        """The entry of `key`, imported now if it was registered as a path."""
        entry = self.raw(key)
        if isinstance(entry, str):
            entry = self._entries[key] = import_object(entry)
        return entry

    def get(self, key: str, default: Any = None) -> Any:
        """The entry of `key` as `self[key]` gives it, or `default` for an unknown key."""
        return self[key] if key in self._entries else default

    def path(self, key: str) -> str:
        """The "module:attr" of `key`'s entry, without importing it."""
        return path_of(self.raw(key))

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
