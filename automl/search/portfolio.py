"""The portfolio: strong configurations of each family, run before the searcher proposes.

Each family's space lists its portfolio (search/<family>.yaml, chosen offline on tables
that are not the benchmark's; see automl/bench/portfolio.py), cheap and strong first, its
default first of all. The search runs them rank by rank across the families, in the order
the search node lists its families: every family's first entry, then every second one...
so a short budget still tries each family's best config.

Searchers only carry the values of the parameters they search. An entry may also set a
parameter the space does not search (one of `default`'s), so a trial finds the entry its
config came from (`entry_for`) and takes the whole entry. The scheduler never stops a
portfolio trial: they were chosen for the ensemble's sake, and their early scores set the
bar for the searcher's own proposals.
"""

from __future__ import annotations

import math

from automl.search.tune_space import flat_name
from automl.space import ChoiceParam, NumberParam, Space


def entries(space: Space) -> list[dict]:
    """The family's portfolio, each entry's params complete; its default alone if it has none."""
    listed = [dict(entry.params) for entry in getattr(space, "portfolio", [])]
    return listed or [dict(space.default)]


def points(spaces: dict[str, Space], flat: bool) -> list[dict]:
    """Every family's entries as searcher configs, rank by rank across the families.

    `flat` searchers need a value for every key of the union, so the other families'
    defaults fill in (a trial reads only its own family's keys)."""
    ranked = {family: entries(space) for family, space in spaces.items()}
    out = []
    for rank in range(max(len(listed) for listed in ranked.values())):
        for family, listed in ranked.items():
            if rank < len(listed):
                out.append(_config(family, listed[rank], spaces, flat))
    return out


def _config(family: str, entry: dict, spaces: dict[str, Space], flat: bool) -> dict:
    config = {"family": family}
    for other, space in spaces.items():
        if other != family and not flat:
            continue
        values = entry if other == family else space.default
        config.update({flat_name(other, name): _value(space, name, param, values)
                       for name, param in space.params.items()})
    return config


def _value(space: Space, name: str, param, values: dict):
    """The searcher's value of `name` for an entry: clipped into the space as resolved for
    this table (a small table narrows some ranges), since a searcher is told only values
    it could propose; the trial itself takes the whole entry (`entry_for`)."""
    if name in values:
        return _clipped(param, values[name])
    if name in space.default:
        return _clipped(param, space.default[name])
    if isinstance(param, ChoiceParam):
        return param.values[0]
    return int(param.low) if isinstance(param, NumberParam) and param.type == "int" else param.low


def _clipped(param, value):
    bounds_known = not isinstance(param, NumberParam) or (
        isinstance(param.low, (int, float)) and isinstance(param.high, (int, float)))
    return param.clip(value) if bounds_known else value


def entry_for(config: dict, spaces: dict[str, Space]) -> dict | None:
    """The portfolio entry `config` came from (its searched values all equal the entry's),
    or None for a searcher's own proposal."""
    family = config.get("family")
    space = spaces.get(family)
    if space is None:
        return None
    for entry in entries(space):
        if all(_same(config.get(flat_name(family, name)), _value(space, name, param, entry))
               for name, param in space.params.items()):
            return entry
    return None


def _same(a, b) -> bool:
    # Nevergrad hands floats back through a transform: 0.1 may come back as 0.10000000000000003
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)
    return a == b
