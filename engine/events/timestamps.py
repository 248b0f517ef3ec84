"""Timestamps of the contract: RFC 3339 (any offset) or a bare date, as µs since the epoch (UTC).

One parser serves the model, the fast path and the roster, so every input
path agrees on what a valid ``ts`` is and on its value.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = [
    "EPOCH",
    "ONE_US",
    "TimestampError",
    "is_date_or_timestamp",
    "parse_timestamp",
    "timestamp_problem",
]

_TS_RE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?",
    re.ASCII,
)
_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
_MIN_US = (1 - _EPOCH_ORDINAL) * 86_400_000_000
_MAX_US = (3652059 + 1 - _EPOCH_ORDINAL) * 86_400_000_000 - 1  # end of 9999-12-31
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_US = timedelta(microseconds=1)


class TimestampError(ValueError):
    """Why a timestamp was refused: 'invalid', 'no_offset' or 'out_of_range'."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


_DAYS: dict[str, int] = {}  # 'YYYY-MM-DD' -> µs at its midnight, valid dates only
_SECONDS: dict[str, int] = {}  # 'HH:MM:SS' -> µs since midnight, valid times only


def _day_us(date_text: str) -> int:
    """µs from the epoch to 00:00 UTC of a YYYY-MM-DD date; ValueError if no such day."""
    days = _DAYS.get(date_text)
    if days is None:
        days = (
            datetime(int(date_text[:4]), int(date_text[5:7]), int(date_text[8:10])).toordinal() - _EPOCH_ORDINAL
        ) * 86_400_000_000
        if len(_DAYS) > 100_000:  # logs cover few distinct days; bound it anyway
            _DAYS.clear()
        _DAYS[date_text] = days
    return days


def parse_timestamp(text: str) -> int:
    """RFC 3339 timestamp (any offset, any fraction) or bare date -> µs since epoch, UTC.

    A bare date means 00:00 UTC. Fractions finer than a microsecond are
    truncated. Shared by the model and the fast path so both agree exactly.
    """
    # Fast lane for the shape most exporters write, 'YYYY-MM-DDTHH:MM:SS[.fff…]Z':
    # once its date and its time of day have each been parsed before, two dict
    # look-ups replace the parse. The caches only ever hold strings the full
    # parse below accepted, so an exact key match is proof of validity.
    if text[-1:] == "Z" and text[10:11] == "T":
        day = _DAYS.get(text[:10])
        second = _SECONDS.get(text[11:19])
        if day is not None and second is not None:
            if len(text) == 20:
                return day + second
            frac = text[20:-1]
            if text[19] == "." and frac.isdigit() and frac.isascii():
                return day + second + int((frac + "00000")[:6])
    m = _TS_RE.fullmatch(text)
    if m is None:
        raise TimestampError("invalid")
    date_text, hh, mi, ss, frac, tz = m.groups()
    try:
        day = _day_us(date_text)
    except ValueError:
        raise TimestampError("invalid") from None
    if hh is None:
        return day
    h, mn, s = int(hh), int(mi), int(ss)
    if h > 23 or mn > 59 or s > 59:
        raise TimestampError("invalid")
    if len(_SECONDS) < 86_400:
        _SECONDS[f"{hh}:{mi}:{ss}"] = (h * 3600 + mn * 60 + s) * 1_000_000
    if tz is None:
        raise TimestampError("no_offset")
    if tz == "Z" or tz == "z":
        offset = 0
    else:
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 23 or om > 59:
            raise TimestampError("invalid")
        offset = (oh * 3600 + om * 60) * (-1 if tz[0] == "-" else 1)
    value = day + (h * 3600 + mn * 60 + s - offset) * 1_000_000
    if frac:
        value += int((frac + "00000")[:6])
    if value < _MIN_US or value > _MAX_US:
        raise TimestampError("out_of_range")
    return value


def timestamp_problem(field: str, value: str, kind: str) -> str:
    """The message for a refused timestamp in ``field`` (also used for roster start/end)."""
    if kind == "no_offset":
        return f"field {field!r} has no timezone offset: {value!r} (add Z or +hh:mm)"
    if kind == "out_of_range":
        return f"field {field!r} is out of range (years 1 to 9999 in UTC): {value!r}"
    return f"field {field!r} is not an RFC 3339 timestamp or date: {value!r}"


def is_date_or_timestamp(value: str) -> bool:
    """True for a bare date or a complete RFC 3339 timestamp (used by 'date' attrs)."""
    try:
        parse_timestamp(value)
    except TimestampError:
        return False
    return True
