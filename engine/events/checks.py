"""Checks of the contract that need no model: field names and the per-type vocabulary.

The model runs them after field validation, the fast path runs the cheap
ones inline, and both take their messages from here.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from engine.events.text import describe
from engine.events.timestamps import is_date_or_timestamp
from engine.vocab import EVENT_TYPES, REQUIRED_FIELDS, Attr

__all__ = [
    "EVENT_FIELDS",
    "REQUIRED_ENVELOPE",
    "attr_problem",
    "attr_value_ok",
    "event_rules_problems",
    "unknown_field_problem",
]

# Every top-level key an event may carry, in contract order.
EVENT_FIELDS: tuple[str, ...] = (
    "id",
    "ts",
    "type",
    "actor",
    "actor_role",
    "manager",
    "rep",
    "deal",
    "source",
    "attrs",
)
REQUIRED_ENVELOPE: tuple[str, ...] = ("id", "ts", "type", "actor")

# Common spellings from other tools, so the unknown-field hint points somewhere useful.
_FIELD_ALIASES = {
    "timestamp": "ts",
    "time": "ts",
    "date": "ts",
    "event_type": "type",
    "kind": "type",
    "event_id": "id",
    "attributes": "attrs",
    "role": "actor_role",
    "owner": "rep",
    "opportunity": "deal",
}


def attr_value_ok(attr: Attr, value: object) -> bool:
    """Whether a present, non-null attribute value fits its vocabulary kind."""
    kind = attr.kind
    if kind == "str":
        return type(value) is str
    if kind == "enum":
        return type(value) is str and value in attr.values
    if kind == "number":
        t = type(value)
        return t is int or (t is float and math.isfinite(value))  # type: ignore[arg-type]
    if kind == "int":
        return type(value) is int
    if kind == "bool":
        return type(value) is bool
    if kind == "list":
        return type(value) is list
    if kind == "date":
        return type(value) is str and is_date_or_timestamp(value)
    return True  # "any"


_KIND_WORDS = {
    "str": "a string",
    "number": "a number",
    "int": "an integer",
    "bool": "true or false",
    "list": "a list",
    "date": "a date (YYYY-MM-DD) or RFC 3339 timestamp",
}


def attr_problem(name: str, attr: Attr, value: object) -> str | None:
    """The message for attrs.<name> when its value does not fit, else None.

    Absent and null values are fine: no known attribute is required.
    """
    if value is None or attr_value_ok(attr, value):
        return None
    if attr.kind == "enum":
        return f"attrs.{name} must be one of {', '.join(attr.values)}, got {describe(value)}"
    return f"attrs.{name} must be {_KIND_WORDS[attr.kind]}, got {describe(value)}"


def event_rules_problems(event_type: str, fields: dict[str, Any], attrs: object) -> list[str]:
    """Checks that depend on the type: roster fields it needs, known attribute values.

    Runs on the model after field validation, and on the raw record when field
    validation failed, so one line reports all of its problems together.
    """
    problems = [
        f"{event_type} needs field {name!r}" for name in REQUIRED_FIELDS.get(event_type, ()) if fields.get(name) is None
    ]
    spec = EVENT_TYPES.get(event_type)
    if spec and isinstance(attrs, dict):
        for name, value in attrs.items():
            attr = spec.get(name)
            if attr is not None:
                problem = attr_problem(name, attr, value)
                if problem:
                    problems.append(problem)
    return problems


def unknown_field_problem(name: str) -> str:
    """Message for an unknown top-level key, with the most likely intended one."""
    guess = _FIELD_ALIASES.get(name.lower())
    if guess is None:
        close = difflib.get_close_matches(name, EVENT_FIELDS, n=1)
        if not close:
            close = difflib.get_close_matches(name.lower(), EVENT_FIELDS, n=1)
        guess = close[0] if close else None
    if guess is not None:
        return f"unknown field {name!r} (did you mean {guess!r}?)"
    known_attr = any(name in spec for spec in EVENT_TYPES.values())
    if known_attr:
        return f"unknown field {name!r} (did you mean 'attrs.{name}'?)"
    return f"unknown field {name!r} (custom data belongs under 'attrs')"
