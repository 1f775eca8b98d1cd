"""Search spaces in our own small vocabulary, declared once per family in search/<key>.yaml.

    default:   the cheap starting config; every trial is this dict updated by the sampled values
    params:    name -> {type: float|int, low, high, log} | {type: choice, values: [...]}
    portfolio: (optional) strong configs to run first, cheap and strong first: a list of
               {params: {...}, source: "where it came from"}; each entry's keys must be the
               space's own (in `params` or `default`), and like a trial it updates `default`
    all_rows_portfolio: (optional) the same, for large tables: fitted on all the rows first
               when the search learns from a sample of them

Bounds are inclusive. A bound may depend on the number of training rows:
`{rows: 0.01, min: 1, max: 100}` means clip(round(0.01 * rows), 1, 100).
Translation to Ray Tune happens in automl/search/ only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from automl.errors import ConfigError, did_you_mean, listing
from automl.resources import resource_dir


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RowsBound(_Strict):
    rows: float = Field(gt=0)
    min: float
    max: float

    def at(self, n_rows: int) -> float:
        return min(max(round(self.rows * n_rows), self.min), self.max)


Bound = Union[float, RowsBound]


def _bound(value: Bound, n_rows: int) -> float:
    return value.at(n_rows) if isinstance(value, RowsBound) else float(value)


class NumberParam(_Strict):
    type: Literal["float", "int"]
    low: Bound
    high: Bound
    log: bool = False

    def resolve(self, n_rows: int) -> "NumberParam":
        low, high = _bound(self.low, n_rows), _bound(self.high, n_rows)
        if self.type == "int":
            low, high = math.ceil(low), math.floor(high)
        high = max(high, low)
        if self.log and low <= 0:
            raise ConfigError(f"a log-scale parameter needs low > 0, got low={low}")
        return NumberParam(type=self.type, low=low, high=high, log=self.log)

    def clip(self, value):
        value = min(max(value, self.low), self.high)
        return int(round(value)) if self.type == "int" else float(value)


class ChoiceParam(_Strict):
    type: Literal["choice"]
    values: list[Any] = Field(min_length=1)

    def resolve(self, n_rows: int) -> "ChoiceParam":
        return self

    def clip(self, value):
        return value if value in self.values else self.values[0]


Param = Annotated[Union[NumberParam, ChoiceParam], Field(discriminator="type")]


class PortfolioEntry(_Strict):
    params: dict[str, Any]
    source: str = Field(min_length=1)  # why this config: the study that chose it, its origin


class Space(_Strict):
    default: dict[str, Any] = {}
    params: dict[str, Param] = {}
    portfolio: list[PortfolioEntry] = []
    # large tables (a search on a sample of the rows): configs fitted on all the rows before
    # the sample's best, as their gain shows only with many rows (automl/search/sampled.py)
    all_rows_portfolio: list[PortfolioEntry] = []

    @model_validator(mode="after")
    def _check_bounds(self):
        for name, param in self.params.items():
            if isinstance(param, NumberParam) and not isinstance(param.low, RowsBound) \
                    and not isinstance(param.high, RowsBound) and param.low > param.high:
                raise ValueError(f"{name}: low ({param.low}) is above high ({param.high})")
        return self

    @model_validator(mode="after")
    def _check_portfolio(self):
        known = set(self.params) | set(self.default)
        listed = [(key, i, entry) for key in ("portfolio", "all_rows_portfolio")
                  for i, entry in enumerate(getattr(self, key), 1)]
        for key, i, entry in listed:
            unknown = sorted(set(entry.params) - known)
            if unknown:
                name = unknown[0]
                raise ValueError(
                    f"{key} entry {i} sets {', '.join(map(repr, unknown))}, which the space "
                    f"does not have{did_you_mean(name, known)}; an entry may set only the "
                    f"space's own parameters: {listing(known)}")
        return self

    def resolve(self, n_rows: int) -> "Space":
        """Concrete bounds for a training set of `n_rows`; the default clipped into them."""
        params = {name: p.resolve(n_rows) for name, p in self.params.items()}
        default = dict(self.default)
        for name, param in params.items():
            if name in default:
                default[name] = param.clip(default[name])
        # a copy, so every other field (the portfolios) carries over as it is
        return self.model_copy(update={"default": default, "params": params})


def load_space(key: str, folder: Path | None = None) -> Space:
    """The space of family `key` from search/<key>.yaml (or `folder`)."""
    path = (folder or resource_dir("search")) / f"{key}.yaml"
    if not path.is_file():
        raise ConfigError(f"no search space for family {key!r}: {path} is missing")
    try:
        return Space.model_validate(yaml.safe_load(path.read_text()) or {})
    except (ValidationError, yaml.YAMLError) as err:
        first = str(err).strip().splitlines()
        raise ConfigError(f"search space {path} is invalid: {' '.join(first[:3])}") from None
