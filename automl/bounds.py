"""What a param or an option allows, said in words, and the one line for a value outside it.

The bounds themselves are declared once, as pydantic constraints on the params of
automl/config.py (and the node fields of graph/spec.py). This module reads them back:
to word pydantic's errors in the project's voice (what, the value received, what is
allowed, how to fix it), and to check a CLI option or an API argument that stands for
a param against that param's own bounds, so each bound lives in one place.
"""

from __future__ import annotations

import reprlib
import types
import typing
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import AfterValidator, BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from automl.errors import ConfigError, did_you_mean

# A field whose upper bound would be arbitrary says why in its json_schema_extra under
# this key; tests/unit/core/test_bounds.py holds every other number to both bounds.
NO_UPPER_BOUND = "no_upper_bound"


def distinct(items: list) -> list:
    """A list's items, refused if one repeats (a family or a student listed twice is a slip)."""
    repeated = [item for i, item in enumerate(items) if item in items[:i]]
    if repeated:
        raise ValueError(f"repeats {repeated[0]!r}")
    return items


Distinct = AfterValidator(distinct)

_REASONS = {
    "greater_than": "is out of range", "greater_than_equal": "is out of range",
    "less_than": "is out of range", "less_than_equal": "is out of range",
    "finite_number": "is not a finite number",
    "too_short": "has too few items", "too_long": "is too long",
    "literal_error": "is not one of the choices",
    "int_parsing": "is not an integer", "int_type": "is not an integer",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number", "float_type": "is not a number",
    "bool_parsing": "is not true or false", "bool_type": "is not true or false",
    "string_type": "is not text", "string_pattern_mismatch": "is not a valid name",
    "string_too_long": "is too long", "list_type": "is not a list",
    "model_type": "is not a mapping", "dict_type": "is not a mapping",
}
# how to fix each kind of error, before "or leave it out for the default"
_FIXES = {"is out of range": "give a value in that range", "value_error": "list each one once",
          "finite_number": "give a value in that range",
          "literal_error": "give one of those", "too_short": "give a list of that length",
          "too_long": "shorten it", "string_too_long": "shorten it"}


def problem(label: str, value: Any, error: dict, field: FieldInfo | None, sep: str = " = ") -> str:
    """One line: `label = value` and why not, what the field allows, how to fix it."""
    kind = error["type"]
    if kind == "value_error":  # our own validators (distinct): their message says it
        reason = str(error.get("ctx", {}).get("error", error["msg"]))
    else:
        reason = _REASONS.get(kind) or error["msg"][0].lower() + error["msg"][1:]
    hint = ""
    if kind == "literal_error" and isinstance(value, str):
        hint = did_you_mean(value, _choices(field.annotation) if field else [])
    shown = reprlib.repr(value)  # a value pasted by mistake may run to pages
    if field is None:
        return f"{label}{sep}{shown} {reason}{hint}"
    action = _FIXES.get(kind) or _FIXES.get(reason) or "give a value of that kind"
    return f"{label}{sep}{shown} {reason}{hint}; allowed: {allowed(field)}; {fix(field, action)}"


def fix(field: FieldInfo, action: str) -> str:
    """What to do: `action`, or leave the field out where it has a default."""
    if field.default is PydanticUndefined:
        return action
    default = field.default
    shown = "its defaults" if isinstance(default, BaseModel) else f"the default ({_shown(default)})"
    return f"{action}, or leave it out for {shown}"


def allowed(field: FieldInfo) -> str:
    """What a field accepts, e.g. 'an integer from 1 to 10000 (rounds of greedy selection)'."""
    words = _describe(field.annotation, field.metadata)
    return f"{words} ({field.description})" if field.description else words


def check_param(model: type[BaseModel], name: str, value: Any, label: str,
                fix_hint: str | None = None) -> Any:
    """`value` validated as `model`'s field `name` (an option that stands for a param),
    or ConfigError in the param's own words, under the option's `label`."""
    field = model.model_fields[name]
    adapter = TypeAdapter(typing.Annotated[field.annotation, *field.metadata])
    try:
        return adapter.validate_python(value)
    except ValidationError as err:
        line = problem(label, value, err.errors()[0], field, sep=" ")
        if fix_hint is not None:
            line = line.rsplit("; ", 1)[0] + f"; {fix_hint}"
        raise ConfigError(line) from None


# ---- words for a type and its constraints ---------------------------------------------


def _describe(annotation, metadata) -> str:
    optional = _is_optional(annotation)
    inner = _without_none(annotation)
    origin = typing.get_origin(inner)
    if origin is Literal:
        words = "one of " + ", ".join(repr(c) for c in typing.get_args(inner))
    elif origin is list:
        words = _describe_list(typing.get_args(inner)[0], metadata)
    elif inner is bool:
        words = "true or false"
    elif inner in (int, float):
        words = _describe_number(inner, metadata)
    elif inner is str:
        words = _describe_text(metadata)
    elif isinstance(inner, type) and issubclass(inner, BaseModel):
        words = "a mapping of params (" + ", ".join(inner.model_fields) + ")"
    else:
        words = getattr(inner, "__name__", str(inner))
    return f"{words}, or null" if optional else words


def _describe_number(kind: type, metadata) -> str:
    low = next((m for m in metadata if isinstance(m, (Ge, Gt))), None)
    high = next((m for m in metadata if isinstance(m, (Le, Lt))), None)
    noun = "an integer" if kind is int else "a number"
    if kind is int and isinstance(low, Ge) and isinstance(high, Le):
        return f"{noun} from {low.ge} to {high.le}"
    if low is not None and high is not None:
        left = f"[{_shown(low.ge)}" if isinstance(low, Ge) else f"({_shown(low.gt)}"
        right = f"{_shown(high.le)}]" if isinstance(high, Le) else f"{_shown(high.lt)})"
        return f"{noun} in {left}, {right}"
    if low is not None:
        sign, bound = (">=", low.ge) if isinstance(low, Ge) else (">", low.gt)
        return f"{'a finite number' if kind is float else noun} {sign} {_shown(bound)}"
    if high is not None:
        sign, bound = ("<=", high.le) if isinstance(high, Le) else ("<", high.lt)
        return f"{noun} {sign} {_shown(bound)}"
    return noun


def _describe_list(item, metadata) -> str:
    low = next((m.min_length for m in metadata if isinstance(m, MinLen)), None)
    high = next((m.max_length for m in metadata if isinstance(m, MaxLen)), None)
    count = f"{low} to {high}" if low is not None and high is not None else \
        f"at least {low}" if low is not None else f"at most {high}" if high is not None else "any number of"
    repeats = any(isinstance(m, AfterValidator) and m.func is distinct for m in metadata)
    what = ("distinct " if repeats else "") + "items"
    if typing.get_origin(item) is Literal:
        return f"a list of {count} {what} of " + ", ".join(repr(c) for c in typing.get_args(item))
    return f"a list of {count} {what}"


def _describe_text(metadata) -> str:
    pattern = next((getattr(m, "pattern", None) for m in metadata
                    if getattr(m, "pattern", None)), None)
    high = next((m.max_length for m in metadata if isinstance(m, MaxLen)), None)
    words = f"text matching {pattern}" if pattern else "text"
    return f"{words}, at most {high} characters" if high is not None else words


def _choices(annotation) -> list:
    inner = _without_none(annotation)
    if typing.get_origin(inner) is list:
        inner = typing.get_args(inner)[0]
    return list(typing.get_args(inner)) if typing.get_origin(inner) is Literal else []


def _is_optional(annotation) -> bool:
    return _is_union(annotation) and type(None) in typing.get_args(annotation)


def _without_none(annotation):
    if not _is_union(annotation):
        return annotation
    rest = [a for a in typing.get_args(annotation) if a is not type(None)]
    return rest[0] if len(rest) == 1 else annotation


def _is_union(annotation) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _shown(value) -> str:
    """A value as the YAML of a graph writes it."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return f"{value:g}" if isinstance(value, float) else repr(value) if isinstance(value, str) \
        else str(value)
