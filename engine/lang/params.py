"""Parameter types, durations and value coercion shared by rules and config."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

PARAM_TYPES = ("int", "float", "duration", "str", "bool", "list")


def parse_duration(text: Any) -> timedelta:
    """``30d``, ``2w``, ``12h``, ``90m``, ``45s`` -> timedelta; raises ValueError."""
    if isinstance(text, timedelta):
        return text
    match = _DURATION.match(str(text))
    if not match or isinstance(text, bool):
        raise ValueError(f"'{text}' is not a duration (use a number and a unit: 30d, 2w, 12h)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration '{text}' must be positive")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Inverse of :func:`parse_duration` for messages: the largest exact unit."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def coerce(kind: str, value: Any, *, from_text: bool = False) -> Any:
    """Check (and, for text from --set, convert) a parameter value; raises ValueError."""
    if from_text and isinstance(value, str):
        value = _from_text(kind, value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {value!r}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        return float(value)
    if kind == "duration":
        return format_duration(parse_duration(value))
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            raise ValueError(f"expected a list of scalars, got {value!r}")
        return value
    raise ValueError(f"unknown parameter type '{kind}'")


def _from_text(kind: str, text: str) -> Any:
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise ValueError(f"expected {'an integer' if kind == 'int' else 'a number'}, got '{text}'") from None
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise ValueError(f"expected true or false, got '{text}'")
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text
