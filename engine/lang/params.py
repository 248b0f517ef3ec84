"""Parameter types, durations and value checks shared by rules and config.

Every number a rule, a config file or ``--set`` gives ends up in SQL, so each
is checked where it is given: numbers must be finite (no ``nan`` or ``inf``)
and integers must fit a 64-bit integer; durations are whole seconds from
:data:`MIN_DURATION` to :data:`MAX_DURATION`.
"""

from __future__ import annotations

import math
import re
import sys
from datetime import timedelta
from decimal import Decimal
from typing import Any

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d|w)\s*$")
_LONG_NUMBER = re.compile(r"^\s*[+-]?[0_]*[1-9][0-9_]{399,}")  # more digits than any usable number has
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

MIN_DURATION = timedelta(seconds=1)
MAX_DURATION = timedelta(days=36525)  # 100 years of 365.25 days
INT_LIMIT = 2**63 - 1  # integers go to SQL as BIGINT
_FLOAT_LIMIT = int(sys.float_info.max)

PARAM_TYPES = ("int", "float", "duration", "str", "bool", "list")


def number_problem(value: Any, *, integer: bool = True) -> str | None:
    """Why a number from a rule, config or --set cannot be used (None when it can, or is no number).

    With ``integer=False`` an integer only has to fit a float (it is used as one).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    if isinstance(value, int) and abs(value) > (INT_LIMIT if integer else _FLOAT_LIMIT):
        limit = f"integers go up to {INT_LIMIT}" if integer else "beyond what a float holds"
        return f"{_short(value)} is too large ({limit})"
    return None


def _short(value: Any) -> str:
    """A value as shown in a message: long texts and huge integers cut short."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 80:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = str(value)
    return text if len(text) <= 40 else f"{text[:24]}...{text[-8:]} ({len(text)} characters)"


def parse_duration(text: Any) -> timedelta:
    """``30d``, ``2w``, ``12h``, ``90m``, ``45s`` -> timedelta (whole seconds, 1s to 100 years); raises ValueError."""
    if isinstance(text, timedelta):
        return text
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"'{_short(text)}' is not a duration (use a number and a unit: 30d, 2w, 12h)")
    seconds = Decimal(match.group(1)) * _UNIT_SECONDS[match.group(2)]  # exact: 0.1m is 6 seconds
    if seconds < MIN_DURATION.total_seconds():
        raise ValueError(f"duration '{text.strip()}' is shorter than {format_duration(MIN_DURATION)}")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(
            f"duration '{_short(text.strip())}' is longer than 100 years ({format_duration(MAX_DURATION)})"
        )
    if seconds != seconds.to_integral_value():
        raise ValueError(f"duration '{text.strip()}' is not a whole number of seconds")
    return timedelta(seconds=int(seconds))


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
            raise ValueError(f"expected an integer, got {_shown(value)}")
        return _usable(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {_shown(value)}")
        return float(_usable(value, integer=False))
    if kind == "duration":
        return format_duration(parse_duration(value))
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {_shown(value)}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {_shown(value)}")
        return value
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            raise ValueError(f"expected a list of scalars, got {_shown(value)}")
        return [_usable(v) for v in value]
    raise ValueError(f"unknown parameter type '{kind}'")


def _shown(value: Any) -> str:
    return _short(value) if isinstance(value, int) and not isinstance(value, bool) else _short(repr(value))


def _usable(value: Any, *, integer: bool = True) -> Any:
    problem = number_problem(value, integer=integer)
    if problem is not None:
        raise ValueError(problem)
    return value


def _from_text(kind: str, text: str) -> Any:
    if kind in ("int", "float") and _LONG_NUMBER.match(text):
        raise ValueError(f"'{_short(text.strip())}' is too large")  # (and int() refuses 4300+ digits)
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        expected = "an integer" if kind == "int" else "a number"
        raise ValueError(f"expected {expected}, got '{_short(text)}'") from None
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise ValueError(f"expected true or false, got '{_short(text)}'")
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text
