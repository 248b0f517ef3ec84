"""What every importer shares: building canonical events from source records, and the import report.

An importer reads an export and calls :meth:`Builder.event` once per event a
source record stands for. The builder

* names the event after its record (``salesforce:Task:00T...`` plus a suffix
  when one record gives several events), so importing the same export twice
  gives the same ids, whatever the order of its rows;
* attaches ``source`` (system, object, record id) as the contract asks, so a
  finding's evidence names records a person can open in the CRM;
* validates the event with the canonical model, so what it writes is always
  accepted by ``salesmirror check`` (a record that would give an invalid event
  is a located problem, not a bad line in the output);
* counts, per object, records read, events made and records skipped with the
  reason, and remembers every reference to a user the export does not hold.

Nothing is dropped silently: a record either gives events, or is counted as
skipped with a reason, or is a located problem (``file:line: what``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from engine.errors import Problem
from engine.events import compact_json, parse_timestamp, validate_event
from engine.events.timestamps import EPOCH
from engine.importers.tables import Row
from engine.importers.values import as_bool, as_date, as_instant, as_number
from engine.ingest import InputProblem

__all__ = ["SNAPSHOT_LEAD_DAYS", "BadRecord", "Builder", "Cells", "ImportReport", "Imported", "ObjectStats"]

_FIELDS = ("id", "ts", "type", "actor", "actor_role", "manager", "rep", "deal", "source", "attrs")
_SHOWN_IDS = 5  # unknown user ids named in the report line
SNAPSHOT_LEAD_DAYS = 90  # a snapshot roster starts this long before the first event (see Builder.roster_start)


@dataclass
class ObjectStats:
    """The account of one object (file or collection) of an import."""

    read: int = 0
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "events": self.events, "skipped": dict(sorted(self.skipped.items()))}


@dataclass
class ImportReport:
    """Per object: records read, events made, records skipped and why; problems; unknown users; notes."""

    system: str
    path: str
    objects: dict[str, ObjectStats] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)  # records that could not be read (file:line)
    errors: list[Problem] = field(default_factory=list)  # inputs that could not be used at all
    unknown_users: dict[str, Counter[str]] = field(default_factory=dict)  # object -> user id -> references
    notes: list[str] = field(default_factory=list)
    events: int = 0  # events written (after repeated records are merged)

    def stats(self, obj: str) -> ObjectStats:
        return self.objects.setdefault(obj, ObjectStats())

    def lines(self, *, redact: bool = False) -> list[str]:
        """The report as a command line prints it (one line per object, then unknown users and notes).

        ``redact`` leaves out the ids of unknown users (they name people), keeping their counts.
        """
        out = [f"{self.system} import of {self.path}: {self.events} events"]
        for name in sorted(self.objects):
            stats = self.objects[name]
            line = f"  {name}: {stats.read} read, {stats.events} events"
            skipped = sum(stats.skipped.values())
            if skipped:
                reasons = "; ".join(f"{count} {reason}" for reason, count in sorted(stats.skipped.items()))
                line += f", {skipped} skipped ({reasons})"
            out.append(line)
        for name in sorted(self.unknown_users):
            users = self.unknown_users[name]
            shown = ", ".join(sorted(users)[:_SHOWN_IDS]) + (" ..." if len(users) > _SHOWN_IDS else "")
            refs = sum(users.values())
            line = f"  {name}: {refs} references to {len(users)} users not in the export (kept as they are)"
            out.append(line if redact else f"{line}: {shown}")
        out += [f"  note: {note}" for note in self.notes]
        if self.problems:
            out.append(f"  {len(self.problems)} records could not be read (listed above)")
        return out

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON data (``--report FILE``)."""
        return {
            "system": self.system,
            "path": self.path,
            "events": self.events,
            "objects": {name: self.objects[name].as_dict() for name in sorted(self.objects)},
            "unknown_users": {name: dict(sorted(users.items())) for name, users in sorted(self.unknown_users.items())},
            "problems": [str(p) for p in self.problems],
            "errors": [str(p) for p in self.errors],
            "notes": list(self.notes),
        }


@dataclass
class Imported:
    """The events of an import (sorted by time, then id) and its report."""

    events: list[dict[str, Any]]
    report: ImportReport

    def jsonl(self) -> str:
        """The events as canonical JSONL, one compact object per line."""
        return "".join(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n" for event in self.events)


class Builder:
    """Collects the events of one import, validated, with provenance and a per-object account."""

    def __init__(self, system: str, path: str) -> None:
        self.system = system
        self.report = ImportReport(system, path)
        self._events: dict[str, list[tuple[dict[str, Any], Row | None, str]]] = {}
        self.users: set[str] | None = None  # the export's users, once known (None: it has no user table)

    # ------------------------------------------------------------ records

    def read(self, obj: str) -> None:
        """Count one record of ``obj`` as read."""
        self.report.stats(obj).read += 1

    def skip(self, obj: str, reason: str) -> None:
        """Count a record as skipped, with the reason (worded to follow a count: '12 list e-mails')."""
        self.report.stats(obj).skipped[reason] += 1

    def problem(self, row: Row | None, message: str, obj: str = "", raw: str = "") -> None:
        """A record that could not be read: located at its file and line."""
        if row is not None:
            self.report.problems.append(InputProblem(row.file, row.line, message, row.raw))
        else:
            self.report.problems.append(InputProblem(obj or self.report.path, 0, message, raw))

    def person(self, obj: str, person: str | None) -> str | None:
        """Note a reference to a user; one the export's user table lacks is reported (and kept)."""
        if person and self.users is not None and person not in self.users:
            self.report.unknown_users.setdefault(obj, Counter())[person] += 1
        return person

    def event(
        self,
        obj: str,
        record_id: str,
        event_type: str,
        ts: str,
        actor: str,
        *,
        row: Row | None = None,
        suffix: str | None = None,
        rep: str | None = None,
        deal: str | None = None,
        manager: str | None = None,
        actor_role: str | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> bool:
        """Add one event of a source record; False (and a located problem) when it is not valid."""
        event_id = f"{self.system}:{obj}:{record_id}" + (f":{suffix}" if suffix else "")
        record: dict[str, Any] = {
            "id": event_id,
            "ts": ts,
            "type": event_type,
            "actor": actor,
            "actor_role": actor_role,
            "manager": manager,
            "rep": rep,
            "deal": deal,
            "source": {"system": self.system, "object": obj, "record_id": record_id},
            "attrs": {key: attrs[key] for key in sorted(attrs or {}) if attrs is not None and attrs[key] is not None},
        }
        record = {key: record[key] for key in _FIELDS if record[key] is not None}
        if not record["attrs"]:
            del record["attrs"]
        _, problems = validate_event(record)
        if problems:
            self.problem(row, f"{obj} {record_id}: gives an invalid {event_type} event: {'; '.join(problems)}", obj)
            return False
        self._events.setdefault(event_id, []).append((record, row, obj))
        self.report.stats(obj).events += 1
        return True

    # ------------------------------------------------------------ result

    def roster_start(self, given: date | None) -> str | None:
        """When a snapshot of the reporting lines is taken to start: the mapping's date, else before the log.

        An export says who reports to whom *now*, not since when. Dating every
        reporting line on the log's first day would make every seller look newly
        hired on that day (rules about a new hire's first weeks would fire for the
        whole org); dating it ``SNAPSHOT_LEAD_DAYS`` before the first event says
        what is known: they were on the team when the log begins. None when the
        import made no event to date it from.
        """
        if given is not None:
            return given.isoformat()
        stamps = [parse_timestamp(entries[0][0]["ts"]) for entries in self._events.values()]
        if not stamps:
            return None
        first = EPOCH + timedelta(microseconds=min(stamps))
        return (first.date() - timedelta(days=SNAPSHOT_LEAD_DAYS)).isoformat()

    def membership(self, obj: str, record_id: str, rep: str, manager: str, start: str, *, row: Row | None) -> None:
        """A team_member_added for one reporting line of the export, from ``start`` on."""
        self.event(
            obj,
            record_id,
            "team_member_added",
            start,
            manager,
            row=row,
            suffix="team",
            rep=rep,
            manager=manager,
            actor_role="manager",
        )

    def finish(self) -> Imported:
        """Settle repeated ids and sort: the same export gives the same output whatever its row order.

        A record repeated with the same content (the same file given twice, a
        row exported twice) gives its events once. Records that give one id
        with different content are all reported, none is kept: which one is
        right cannot be told from the export.
        """
        kept: list[dict[str, Any]] = []
        for event_id, entries in self._events.items():
            if _same(entries):
                kept.append(entries[0][0])
                continue
            for _, row, obj in entries:
                self.problem(row, f"{obj} record gives event id {event_id!r} more than once with different content")
        kept.sort(key=lambda e: (parse_timestamp(e["ts"]), e["id"]))
        self.report.problems.sort(key=lambda p: (p.path, p.line, p.message))
        self.report.errors.sort()
        self.report.events = len(kept)
        return Imported(kept, self.report)


def _same(entries: list[tuple[dict[str, Any], Row | None, str]]) -> bool:
    first = compact_json(entries[0][0])
    return all(compact_json(entry[0]) == first for entry in entries[1:])


class BadRecord(ValueError):
    """A record whose cells cannot be read; the importer reports it at its file and line."""


class Cells:
    """Reading typed cells of rows with the mapping's time zone and date order; a bad cell is a BadRecord."""

    def __init__(self, zone: Any, day_first: bool) -> None:
        self.zone = zone
        self.day_first = day_first

    def instant(self, row: Row, *names: str) -> str | None:
        """The first non-empty of the columns as an RFC 3339 instant (UTC), or None."""
        for name in names:
            text = row.get(name)
            if text:
                try:
                    return as_instant(text, self.zone, day_first=self.day_first)
                except ValueError as exc:
                    raise BadRecord(f"column {name!r}: {text!r}: {exc}") from None
        return None

    def date(self, row: Row, *names: str) -> str | None:
        """The first non-empty of the columns as a date (YYYY-MM-DD), or None."""
        for name in names:
            text = row.get(name)
            if text:
                try:
                    return as_date(text, self.zone, day_first=self.day_first)
                except ValueError as exc:
                    raise BadRecord(f"column {name!r}: {text!r}: {exc}") from None
        return None

    def number(self, row: Row, *names: str) -> int | float | None:
        for name in names:
            text = row.get(name)
            if text:
                try:
                    return as_number(text)
                except ValueError as exc:
                    raise BadRecord(f"column {name!r}: {exc}") from None
        return None

    def flag(self, row: Row, *names: str) -> bool | None:
        for name in names:
            text = row.get(name)
            if text:
                try:
                    return as_bool(text)
                except ValueError as exc:
                    raise BadRecord(f"column {name!r}: {exc}") from None
        return None
