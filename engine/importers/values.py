"""Cell values of real exports turned into the contract's values: instants, dates, booleans, numbers, ids.

CRM exports spell the same value many ways: a Data Export writes
``2023-10-28 20:45:25`` (UTC, no zone) and ``"0"/"1"``; a report writes
``02/23/26 08:55 PM`` and ``TRUE``; a Bulk query writes
``2024-01-22T16:14:25.000+0000``; a Fivetran sync writes ``2020-12-30 3:15:52``
and ``... .519000 UTC``; HubSpot writes epoch milliseconds beside ISO text.
Every importer reads its cells through these functions, so each spelling is
understood the same way everywhere, and a value none of them understands is
a located problem (``ValueError`` with the reason), never a guess.

Instants come back as RFC 3339 text in UTC (``...Z``), which the canonical
model accepts unchanged; a value with no zone is read in the mapping's time
zone. Dates come back as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation

__all__ = [
    "NULL_IDS",
    "as_bool",
    "as_date",
    "as_instant",
    "as_number",
    "salesforce_id",
]

# Salesforce writes this (or its 15-character form) where a lookup is empty.
NULL_IDS = frozenset({"000000000000000AAA", "000000000000000"})

_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)
_SLASHED = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})"
    r"(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?",
    re.ASCII,
)
_EPOCH_MS = re.compile(r"\d{12,14}", re.ASCII)  # epoch milliseconds: 2001 to 2286, as HubSpot writes them
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_ID_CHARS = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?", re.ASCII)
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _year(text: str) -> int:
    value = int(text)
    if len(text) == 2:  # two-digit years, as US report exports write them: 00-68 -> 20xx, 69-99 -> 19xx
        return 2000 + value if value < 69 else 1900 + value
    return value


def _zone(text: str) -> tzinfo:
    if text in ("Z", "z", "UTC", "GMT"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {text!r} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _parts(text: str, day_first: bool) -> tuple[datetime, bool, bool]:
    """The wall-clock reading of a cell, whether it carried a zone, and whether it had a time of day."""
    value = text.strip()
    if _EPOCH_MS.fullmatch(value):
        return datetime.fromtimestamp(int(value) / 1000, timezone.utc), True, True
    m = _ISO.fullmatch(value)
    if m is not None:
        year, month, day, hour, minute, second, frac, zone = m.groups()
        micro = int((frac + "00000")[:6]) if frac else 0
        stamp = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
        if zone is not None:
            stamp = stamp.replace(tzinfo=_zone(zone))
        return stamp, zone is not None, hour is not None
    m = _SLASHED.fullmatch(value)
    if m is not None:
        first, second_part, year, hour, minute, second, half = m.groups()
        month, day = (int(second_part), int(first)) if day_first else (int(first), int(second_part))
        h = int(hour or 0)
        if half is not None:
            if not 1 <= h <= 12:
                raise ValueError(f"hour {h} does not go with {half.upper()}")
            h = h % 12 + (12 if half.lower() == "pm" else 0)
        stamp = datetime(_year(year), month, day, h, int(minute or 0), int(second or 0))
        return stamp, False, hour is not None
    raise ValueError("not a date or time this importer knows (ISO 8601, MM/DD/YY[YY] [hh:mm AM/PM], epoch ms)")


def as_instant(text: str, zone: tzinfo, *, day_first: bool = False) -> str:
    """A cell as an RFC 3339 instant in UTC; a value without a zone is read in ``zone``.

    A date alone means midnight in ``zone`` (the mapping's time zone), which
    is how the CRM's own screens show it. ``ValueError`` says why a cell is not
    an instant.
    """
    try:
        stamp, zoned, _ = _parts(text, day_first)
        if not zoned:
            stamp = stamp.replace(tzinfo=zone)
            # A wall-clock time skipped by a DST change has no instant: say so rather than guess.
            back = stamp.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
            if back != stamp.replace(tzinfo=None):
                raise ValueError(f"{text.strip()!r} does not exist in that time zone (a DST gap)")
        utc = stamp.astimezone(timezone.utc)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"out of range ({exc})") from None
    if utc.year < 1 or utc.year > 9999:
        raise ValueError("out of range")
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def as_date(text: str, zone: tzinfo, *, day_first: bool = False) -> str:
    """A cell as a calendar date (YYYY-MM-DD).

    A date (or a Data Export's ``YYYY-MM-DD 00:00:00``) is taken as written; an
    instant with a zone is the date it falls on in ``zone``.
    """
    stamp, zoned, _ = _parts(text, day_first)
    if zoned:
        stamp = stamp.astimezone(zone)
    return date(stamp.year, stamp.month, stamp.day).isoformat()


def as_bool(text: str) -> bool | None:
    """``TRUE/FALSE``, ``true/false``, ``1/0``, ``yes/no`` as a boolean; empty is None (not said)."""
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not a boolean (TRUE/FALSE, 1/0, yes/no)")


def as_number(text: str) -> int | float | None:
    """A numeric cell (``15000``, ``1124741.15``, ``"43"``, ``1,250.00``) as an int or float; empty is None.

    Integers stay integers so amounts are not shown as ``15000.0``; a number
    that is not finite is refused.
    """
    value = text.strip().replace(",", "")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    if number == number.to_integral_value() and "e" not in value.lower() and abs(number) < 2**63:
        return int(number)
    result = float(number)
    if not math.isfinite(result):
        raise ValueError(f"{text!r} is too large")
    return result


def salesforce_id(text: str) -> str | None:
    """One spelling for every Salesforce record id: the 18-character form, case restored.

    A 15-character id is case-sensitive; the 18-character form adds three
    characters that encode which of the 15 are upper case, so both name the
    same record. Both become the 18-character form, with the first 15
    characters' case taken from the suffix (so an id lower-cased by a
    spreadsheet is still the same id). The null-lookup sentinel and an empty
    cell are None. Anything that is not shaped like a Salesforce id (a hashed
    column, a name) is returned as it is.
    """
    value = text.strip()
    if not value or value in NULL_IDS:
        return None
    if not _ID_CHARS.fullmatch(value):
        return value
    if len(value) == 18:
        suffix = value[15:].upper()
        if any(ch not in _SUFFIX for ch in suffix):
            return value
        head = []
        for chunk, code in enumerate(suffix):
            bits = _SUFFIX.index(code)
            for offset in range(5):
                ch = value[chunk * 5 + offset]
                head.append(ch.upper() if bits & (1 << offset) else ch.lower())
        if "".join(head) != value[:15] and value[:15] != value[:15].lower() and value[:15] != value[:15].upper():
            return value  # mixed case that the suffix contradicts: not a Salesforce id after all
        return "".join(head) + suffix
    suffix = ""
    for chunk in range(3):
        bits = 0
        for offset in range(5):
            if value[chunk * 5 + offset].isupper():
                bits |= 1 << offset
        suffix += _SUFFIX[bits]
    return value + suffix
