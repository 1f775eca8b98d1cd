"""The distillation's policy as data: the student kinds, their ladder and shares, from
search/students.yaml (beside the search spaces), checked when first read.

The file names each kind's module (`automl.distill.kinds`, the registry that imports
them); a rung is checked by its kind's module (`check_rung`), so that a bad entry is one
error naming the file and the key before any student is fitted, not a student left out
of the ladder halfway through a run.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Iterator, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from automl.errors import ConfigError, did_you_mean, listing
from automl.models.registry import family_keys
from automl.resources import resource_dir

FILE = "students.yaml"
# a kind's module: a dotted import path (a plugin's may live outside the package)
ModulePath = Annotated[str, Field(pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$", max_length=200)]
KindName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class _Kind(_Strict):
    module: ModulePath

    def code(self) -> ModuleType:
        """The kind's module, imported on first use (Python keeps it)."""
        return importlib.import_module(self.module)


class LadderKind(_Kind):
    family: str | None = None  # the model family its students are (their recipe's)
    search: bool = False  # the student search tunes `family` too
    memory: str  # the search family whose fit memory sizes its task
    threads: Literal["all", "one"] = "all"
    time: Literal["rest", "slice"] = "rest"
    dense: bool = False
    real_twin: bool = False
    # a dozen sizes is a long ladder already: each rung is a student fitted in every run
    rungs: list[dict[str, Any]] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _searched_kinds_name_their_family(self) -> LadderKind:
        if self.search and self.family is None:
            raise ValueError("search: true needs the family the search tunes (family: ...)")
        if self.real_twin and self.dense:
            raise ValueError("a dense kind learns from its encoded rows, real and synthetic "
                             "alike: drop real_twin")
        return self


class DerivedKind(_Kind):
    needs: list[list[KindName]] = []  # one kind of each group must be listed too


class StudentPolicy(_Strict):
    reference_share: float = Field(gt=0, le=1)
    cross_fit_share: float = Field(ge=0, lt=1)
    ladder: dict[KindName, LadderKind] = Field(min_length=1)
    derived: dict[KindName, DerivedKind] = {}

    @model_validator(mode="after")
    def _kinds_are_known_once(self) -> StudentPolicy:
        both = sorted(set(self.ladder) & set(self.derived))
        if both:
            raise ValueError(f"{listing(both)} both in ladder and derived; keep each kind once")
        for name, kind in self.derived.items():
            for group in kind.needs:
                for need in group:
                    if need not in self.ladder and need not in self.derived:
                        raise ValueError(f"derived.{name}.needs: no kind {need!r}"
                                         f"{did_you_mean(need, self.kinds())}; kinds are "
                                         f"{listing(self.kinds())}")
        return self

    # ---- what the stage asks ------------------------------------------------------------

    def kinds(self) -> list[str]:
        """Every kind, the ladder's in round order, then the derived ones in theirs."""
        return [*self.ladder, *self.derived]

    def kind(self, name: str) -> LadderKind | DerivedKind:
        return self.ladder.get(name) or self.derived[name]

    def problems(self, students: list[str]) -> list[str]:
        """What is wrong with a `students` param: kinds the file does not have, and kinds
        listed without the kinds they are made from."""
        known = self.kinds()
        found = [f"no student kind {kind!r}{did_you_mean(kind, known)}; kinds are {listing(known)}"
                 for kind in students if kind not in known]
        listed = set(students)
        for name in (k for k in self.derived if k in listed):
            missing = [group for group in self.derived[name].needs if not listed & set(group)]
            if missing:
                wanted = " and ".join(" or ".join(group) for group in missing)
                found.append(f"a {name} student is made from {wanted} students: list "
                             f"{wanted} in students too, or drop {name}")
        return found

    def rounds(self, students: list[str], synthetic: bool) -> Iterator[Rung]:
        """The ladder's rungs for the kinds in `students`, round by round: each kind's next
        rung, smallest first, in the file's order; with `synthetic` rows in the lessons, a
        real_twin kind's rung twice, with them and without."""
        kinds = [name for name in self.ladder if name in students]
        for rank in range(max((len(self.ladder[k].rungs) for k in kinds), default=0)):
            for name in kinds:
                kind = self.ladder[name]
                if rank < len(kind.rungs):
                    yield Rung(name, kind.family, kind.rungs[rank])
                    if kind.real_twin and synthetic:
                        yield Rung(name, kind.family, kind.rungs[rank], synthetic=False)

    def dense(self, students: list[str]) -> bool:
        """Whether some kind listed learns from the dense encoding."""
        return any(self.ladder[k].dense for k in students if k in self.ladder)

    def searched(self, students: list[str]) -> dict[str, str]:
        """kind -> the family the student search tunes for it, of the kinds listed."""
        return {name: kind.family for name, kind in self.ladder.items()
                if kind.search and name in students}

    def derived_kinds(self, students: list[str]) -> list[str]:
        return [name for name in self.derived if name in students]


@dataclass(frozen=True)
class Rung:
    """One fit of the ladder: a kind, its family and one size of it (the file's rung),
    learning from every lesson row or (a -real twin) the real ones alone."""

    kind: str
    family: str | None
    params: dict
    synthetic: bool = True

    def describe(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.params.items()) + \
            ("" if self.synthetic else " (real rows)")


@functools.cache
def student_policy() -> StudentPolicy:
    """The shipped policy, read and checked once per process."""
    return load_policy(resource_dir("search") / FILE)


def load_policy(path: Path) -> StudentPolicy:
    """The policy in `path`, or one ConfigError naming the file and each bad key."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f"student policy {path} cannot be read ({err.strerror}); "
                          f"it ships in the package's search/ folder") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"student policy {path} is not valid YAML: {err}") from None
    try:
        policy = StudentPolicy.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"student policy {path}: " + "; ".join(_worded(e) for e in err.errors())
                          + "; fix those entries") from None
    problems = [problem for name in policy.kinds() for problem in _module_problems(policy, name)]
    problems += _family_problems(policy)
    if problems:
        raise ConfigError(f"student policy {path}: " + "; ".join(problems) + "; fix those entries")
    return policy


def _worded(error: dict) -> str:
    """One pydantic error as 'key.path: what is wrong (the value given)'."""
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if error["type"] == "missing":
        return f"{key}: missing"
    message = str(error.get("ctx", {}).get("error", error["msg"]))
    given = error.get("input")
    worded = message + ("" if isinstance(given, dict) else f" (got {given!r})")
    return f"{key}: {worded}" if key else worded  # a whole-file check names its own keys


def _family_problems(policy: StudentPolicy) -> list[str]:
    """Each family a kind names must be registered (the student families register when
    their module is imported, as the kinds' modules do)."""
    keys, found = family_keys(), []
    for name, kind in policy.ladder.items():
        for key, family in (("family", kind.family), ("memory", kind.memory)):
            if family is not None and family not in keys:
                found.append(f"ladder.{name}.{key}: no family {family!r}"
                             f"{did_you_mean(family, keys)}; families are {listing(keys)}")
    return found


def _module_problems(policy: StudentPolicy, name: str) -> list[str]:
    """A kind's module must import and have what its part of the file calls; each rung
    must be one the module fits."""
    section, kind = "ladder" if name in policy.ladder else "derived", policy.kind(name)
    try:
        module = kind.code()
    except ImportError as err:
        return [f"{section}.{name}.module: cannot import {kind.module!r} ({err})"]
    wanted = ("fit", "check_rung") if section == "ladder" else ("candidates", "fit", "none_made")
    absent = [f for f in wanted if not callable(getattr(module, f, None))]
    if absent:
        return [f"{section}.{name}.module: {kind.module} has no {', '.join(absent)}"]
    if section == "derived" or kind.family not in (None, *family_keys()):
        return []  # an unknown family is its own problem (`_family_problems`)
    found = {}  # a problem of the kind's own (no family, say) is said once, at its first rung
    for index, rung in enumerate(kind.rungs):
        try:
            module.check_rung(kind, rung)
        except (ValueError, ConfigError) as err:
            found.setdefault(str(err), f"ladder.{name}.rungs.{index}: {err}")
    return list(found.values())
