"""A roster CSV (rep,manager,start,end) turned into team membership events.

Rules only understand events, so a roster is just another way of writing
``team_member_added``/``team_member_removed``; converting it here keeps one
code path for team membership. A roster is read by the shared CSV reader;
this module is only the mapping from its columns to those events.

An event's id comes from what the row says, not where it stands: a short
hash of rep, manager and the instants of start and end (``roster:<hash>:start``
and ``:end``). Sorting, shuffling or renaming the roster changes no id, so no
report; two rows saying the same thing (however their dates are spelt) are
the same events, kept once like any exact duplicate (see ``loader``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.errors import InputError
from engine.events import TimestampError, describe, parse_timestamp, timestamp_problem
from engine.ingest.readers.base import Source
from engine.ingest.readers.csv import CsvReader, Header

__all__ = ["ROSTER_READER", "RosterColumns", "row_id"]

_REQUIRED = ("rep", "manager", "start")
_KNOWN = (*_REQUIRED, "end")


class RosterColumns:
    """The mapping of a roster CSV: positions of its columns; unknown ones are ignored with a warning."""

    def __init__(self, header: Header, source: Source) -> None:
        names = header.names
        lowered = [name.lower() for name in names]
        missing = [name for name in _REQUIRED if name not in lowered]
        if missing:
            raise InputError.at(
                source.shown,
                f"cannot read: a roster needs columns rep, manager, start (end optional); missing {', '.join(missing)}",
                line=header.line,
            )
        self.index = {name: lowered.index(name) for name in _KNOWN if name in lowered}
        for name in names:
            if name.lower() not in _KNOWN:
                source.warn(f"{source.shown}: roster column {name!r} is ignored")

    def events(self, cells: list[str], line: int) -> tuple[list[dict[str, Any]], list[str]]:
        """The events one roster row stands for, or the reasons it stands for none."""

        def cell(name: str) -> str:
            at = self.index.get(name)
            return "" if at is None else cells[at]

        return _membership(cell("rep"), cell("manager"), cell("start"), cell("end"))


def _person(field: str, value: str, problems: list[str]) -> None:
    if value == "":
        problems.append(f"missing required field {field!r}")
    elif value.isspace():
        problems.append(f"field {field!r} must be a non-empty string, got {describe(value)}")


def _instant(field: str, value: str, problems: list[str]) -> int | None:
    try:
        return parse_timestamp(value.strip())
    except TimestampError as exc:
        problems.append(timestamp_problem(field, value, exc.kind))
        return None


def row_id(rep: str, manager: str, start_us: int, end_us: int | None) -> str:
    """The stable part of a roster row's event ids: 16 hex digits of a hash of its content."""
    content = json.dumps([rep, manager, start_us, end_us], ensure_ascii=True)
    return hashlib.blake2b(content.encode("ascii"), digest_size=8).hexdigest()


def _membership(rep: str, manager: str, start: str, end: str) -> tuple[list[dict[str, Any]], list[str]]:
    """team_member_added (and _removed when the row has an end), or why the row gives none."""
    problems: list[str] = []
    _person("rep", rep, problems)
    _person("manager", manager, problems)
    start_us = None
    if start.strip() == "":
        problems.append("missing required field 'start'")
    else:
        start_us = _instant("start", start, problems)
    end_us = None if end.strip() == "" else _instant("end", end, problems)
    if start_us is not None and end_us is not None and end_us < start_us:
        problems.append(f"field 'end' ({end!r}) is before field 'start' ({start!r})")
    if problems or start_us is None:
        return [], problems

    key = row_id(rep, manager, start_us, end_us)
    common: dict[str, Any] = {
        "actor": manager,
        "actor_role": "manager",
        "manager": manager,
        "rep": rep,
    }
    records = [
        {
            "id": f"roster:{key}:start",
            "ts": start.strip(),
            "type": "team_member_added",
            **common,
        }
    ]
    if end.strip():
        records.append(
            {
                "id": f"roster:{key}:end",
                "ts": end.strip(),
                "type": "team_member_removed",
                **common,
            }
        )
    return records, problems


# Not a format of event inputs (it claims no file names and sniffs nothing):
# load_events picks it by name for --roster.
ROSTER_READER = CsvReader("roster", RosterColumns)
