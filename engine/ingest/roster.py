"""A roster CSV (rep,manager,start,end) turned into team membership events.

Rules only understand events, so a roster is just another way of writing
``team_member_added``/``team_member_removed``; converting it here keeps one
code path for team membership.
"""

from __future__ import annotations

import os
from typing import Any

from engine.events import TimestampError, describe, parse_timestamp, timestamp_problem
from engine.ingest.results import InputError

__all__ = ["RosterColumns", "roster_records"]

_REQUIRED = ("rep", "manager", "start")
_KNOWN = (*_REQUIRED, "end")


class RosterColumns:
    """Positions of the roster columns; unknown columns are ignored with a warning."""

    def __init__(self, names: list[str], shown: str) -> None:
        lowered = [name.lower() for name in names]
        missing = [name for name in _REQUIRED if name not in lowered]
        if missing:
            raise InputError(
                f"{shown}: cannot read: a roster needs columns rep, manager, start "
                f"(end optional); missing {', '.join(missing)}"
            )
        self.width = len(names)
        self.index = {name: lowered.index(name) for name in _KNOWN if name in lowered}
        self.warnings = [f"{shown}: roster column {name!r} is ignored" for name in names if name.lower() not in _KNOWN]


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


def roster_records(
    columns: RosterColumns, cells: list[str], path: str, line: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """The events one roster row stands for, or the reasons it stands for none."""
    if len(cells) != columns.width:
        return [], [f"row has {len(cells)} cells but the header has {columns.width} columns"]

    def cell(name: str) -> str:
        at = columns.index.get(name)
        return "" if at is None else cells[at]

    rep, manager, start, end = cell("rep"), cell("manager"), cell("start"), cell("end")
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
    if problems:
        return [], problems

    base = "<stdin>" if path == "-" else os.path.basename(path)
    common: dict[str, Any] = {
        "actor": manager,
        "actor_role": "manager",
        "manager": manager,
        "rep": rep,
    }
    records = [
        {
            "id": f"roster:{base}:{line}:start",
            "ts": start.strip(),
            "type": "team_member_added",
            **common,
        }
    ]
    if end.strip():
        records.append(
            {
                "id": f"roster:{base}:{line}:end",
                "ts": end.strip(),
                "type": "team_member_removed",
                **common,
            }
        )
    return records, problems
