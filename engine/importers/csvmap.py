"""Any CSV through a mapping: which columns and values of each file make which canonical events.

For exports no importer knows (a spreadsheet of opportunities with an owner
*name*, an agent-to-manager table), the mapping's ``tables`` section names,
per file, the column holding each record's id and the events a row stands
for: the event type, which column gives ``ts``, ``actor``, ``rep``, ``deal``
and each attribute (a column, a column through a table of values, or a
fixed value), and a ``where`` that picks the rows an event is for. The
``team_table`` section names the file of who reports to whom.

A roster CSV (``rep,manager,start,end``) needs no mapping at all: given as
PATH it is read by the same reader as ``check --roster``.

Every row either gives events or is counted as skipped with the reason (a
value no event is for, an empty time); a cell that cannot be read (a date,
a number) makes the row a located problem.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any

from engine.errors import Problem, SalesmirrorError
from engine.importers.base import BadRecord, Builder, Cells, Imported
from engine.importers.mapping import Column, Const, CsvEvent, CsvTable, Mapping
from engine.importers.tables import Export, Row, Table, normalise
from engine.importers.values import as_bool, as_date, as_instant, as_number
from engine.ingest import InputProblem
from engine.ingest.readers.base import Source, raw_bytes, raw_text
from engine.ingest.roster import ROSTER_READER
from engine.ingest.sources import open_lines
from engine.vocab import EVENT_TYPES

__all__ = ["import_csv"]

SYSTEM = "csv"


class _Mapped:
    def __init__(self, path: str, mapping: Mapping) -> None:
        self.path = path
        self.mapping = mapping
        self.cells = Cells(mapping.zone, mapping.day_first)
        self.out = Builder(SYSTEM, path)
        self.export = Export.read(path, mapping.encoding)
        self.out.report.errors.extend(self.export.errors)
        self.out.report.problems.extend(self.export.problems)
        self.by_name = {os.path.basename(t.shown).casefold(): t for t in self.export.tables}

    def table(self, name: str) -> Table | None:
        found = self.by_name.get(os.path.basename(name).casefold())
        if found is None and not self.export.errors:
            self.out.report.errors.append(
                Problem(self.path, 0, 0, f"cannot read: the mapping names '{name}', which is not in {self.path}")
            )
        return found

    def run(self) -> Imported:
        for spec in self.mapping.tables:
            table = self.table(spec.file)
            if table is None:
                continue
            for row in table.rows:
                self.out.read(spec.object)
                try:
                    self.row(spec, row)
                except BadRecord as exc:
                    self.out.problem(row, f"{spec.object}: {exc}")
        used = {os.path.basename(s.file).casefold() for s in self.mapping.tables}
        if self.mapping.team_table is not None:
            used.add(os.path.basename(self.mapping.team_table.file).casefold())
            self.teams()
        unused = [f"{os.path.basename(t.shown)} ({len(t.rows)} rows)" for n, t in self.by_name.items() if n not in used]
        if unused:
            self.out.report.notes.append("files the mapping does not name (not read): " + ", ".join(sorted(unused)))
        return self.out.finish()

    def value(self, source: str | Column | Const | None, row: Row) -> Any:
        if source is None:
            return None
        if isinstance(source, Const):
            return source.value
        if isinstance(source, Column):
            text = row.get(normalise(source.column))
            if source.values is None:
                return text or source.default
            for key, mapped in source.values.items():
                if str(key).strip().casefold() == text.casefold():
                    return mapped
            return source.default
        return row.get(normalise(source))

    def row(self, spec: CsvTable, row: Row) -> None:
        record_id = row.get(normalise(spec.id))
        if not record_id:
            raise BadRecord(f"column {spec.id!r} (the record id) is empty")
        made = 0
        reasons: list[str] = []
        for event in spec.events:
            if not all(
                row.get(normalise(column)).casefold() in {v.casefold() for v in allowed}
                for column, allowed in event.where.items()
            ):
                reasons.append("rows whose values match no event of the mapping")
                continue
            made += self.event(spec, event, row, record_id, reasons)
        if not made:
            # the most telling reason: a missing time or actor says more than a value no event is for
            telling = [r for r in reasons if "match no event" not in r] or reasons or ["rows that give no event"]
            self.out.skip(spec.object, telling[0])

    def event(self, spec: CsvTable, event: CsvEvent, row: Row, record_id: str, reasons: list[str]) -> int:
        ts_text = self.value(event.ts, row)
        actor = self.value(event.actor, row)
        if not ts_text:
            reasons.append(f"rows with no time for {event.type}")
            return 0
        if not actor:
            reasons.append(f"rows with no actor for {event.type}")
            return 0
        try:
            ts = as_instant(str(ts_text), self.mapping.zone, day_first=self.mapping.day_first)
        except ValueError as exc:
            raise BadRecord(f"{event.type} time {ts_text!r}: {exc}") from None
        attrs = {name: self.attr(event.type, name, self.value(source, row)) for name, source in event.attrs.items()}
        several = len(spec.events) > 1
        role = self.value(event.actor_role, row) or self.mapping.role_of(str(actor))
        return int(
            self.out.event(
                spec.object,
                record_id,
                event.type,
                ts,
                str(actor),
                row=row,
                suffix=(event.suffix or event.type) if several else event.suffix,
                rep=self.value(event.rep, row) or None,
                manager=self.value(event.manager, row) or None,
                deal=self.value(event.deal, row) or None,
                actor_role=role,
                attrs=attrs,
            )
        )

    def attr(self, event_type: str, name: str, value: Any) -> Any:
        """A cell as the attribute's kind in the vocabulary (numbers, booleans, dates); empty is left out."""
        if not isinstance(value, str):
            return value
        if not value:
            return None
        spec = EVENT_TYPES.get(event_type, {}).get(name)
        kind = spec.kind if spec is not None else "str"
        try:
            if kind in ("number", "int"):
                return as_number(value)
            if kind == "bool":
                return as_bool(value)
            if kind == "date":
                return as_date(value, self.mapping.zone, day_first=self.mapping.day_first)
            if kind == "list":
                return [part.strip() for part in value.split(";") if part.strip()]
        except ValueError as exc:
            raise BadRecord(f"attrs.{name}: {exc}") from None
        return value

    def teams(self) -> None:
        spec = self.mapping.team_table
        assert spec is not None
        table = self.table(spec.file)
        if table is None:
            return
        start = self.out.roster_start(self.mapping.roster.start)
        obj = "team_table"
        for row in table.rows:
            self.out.read(obj)
            rep, manager = row.get(normalise(spec.rep)), row.get(normalise(spec.manager))
            if not rep or not manager:
                self.out.skip(obj, "rows with no rep or no manager")
                continue
            try:
                begins = self.cells.instant(row, normalise(spec.start)) if spec.start else None
                ends = self.cells.instant(row, normalise(spec.end)) if spec.end else None
            except BadRecord as exc:
                self.out.problem(row, f"{obj}: {exc}")
                continue
            begins = begins or start
            if begins is None:
                self.out.skip(obj, "reporting lines with no start and no event to date them from")
                continue
            record = f"{rep}>{manager}"
            self.out.membership(obj, record, rep, manager, begins, row=row)
            if ends:
                self.out.event(
                    obj,
                    record,
                    "team_member_removed",
                    ends,
                    manager,
                    row=row,
                    suffix="left",
                    rep=rep,
                    manager=manager,
                    actor_role="manager",
                )


def _roster_file(path: str) -> Imported:
    """A roster CSV given as PATH: its rows through the same reader (and checks) as ``check --roster``."""
    out = Builder(SYSTEM, path)
    warnings: list[str] = []
    try:
        with ExitStack() as stack:
            _, lines = open_lines(path, None, stack)
            for entry in ROSTER_READER.entries(Source(path, path, lines, warnings.append)):
                out.read("roster")
                if entry.problems:
                    raw = entry.raw
                    out.report.problems.append(
                        InputProblem(entry.shown, entry.line, "; ".join(entry.problems), raw_text(raw), raw_bytes(raw))
                    )
                    continue
                for event in entry.events:
                    rep, manager = str(event["rep"]), str(event["manager"])
                    out.event(
                        "roster",
                        f"{rep}>{manager}",
                        str(event["type"]),
                        str(event["ts"]),
                        manager,
                        suffix=str(event["id"]).rpartition(":")[2] + ":" + str(event["ts"]),
                        rep=rep,
                        manager=manager,
                        actor_role="manager",
                    )
    except SalesmirrorError as exc:  # a bad header or a file that cannot be read
        out.report.errors.extend(exc.problems)
    out.report.notes.extend(sorted(set(warnings)))
    return out.finish()


def _is_roster(path: str) -> bool:
    if not os.path.isfile(path) or not path.lower().endswith(".csv"):
        return False
    with open(path, "rb") as handle:
        header = handle.readline().decode("utf-8", "replace").removeprefix("\ufeff")
    names = {normalise(part) for part in header.split(",")}
    return {"rep", "manager", "start"} <= names


def import_csv(path: str, mapping: Mapping) -> Imported:
    """Events of CSV files through the mapping's tables, or of a roster CSV given as PATH."""
    if not mapping.tables and mapping.team_table is None and _is_roster(path):
        return _roster_file(path)
    if not mapping.tables and mapping.team_table is None:
        out = Builder(SYSTEM, path)
        out.report.errors.append(
            Problem(
                path,
                0,
                0,
                "cannot read: a CSV import needs a mapping with tables (or a roster CSV rep,manager,start,end)",
            )
        )
        return out.finish()
    return _Mapped(path, mapping).run()
