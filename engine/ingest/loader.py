"""load_events: every input into one arrow table of valid events, plus problems.

The loop over JSONL lines is the hot path (millions of lines): it decodes,
parses and accepts a plain valid line with a handful of dict operations and
only falls back to the pydantic model when something looks off. Rows are
kept as tuples and turned into arrow columns once at the end.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import Any, BinaryIO

import pyarrow as pa
from pydantic_core import from_json

from engine.events import EventRow, validate_event
from engine.ingest.csvrows import (
    NOT_UTF8,
    EventColumns,
    csv_rows,
    raw_text,
    read_header,
    row_to_record,
)
from engine.ingest.fast import fast_row
from engine.ingest.results import EVENT_SCHEMA, InputError, InputProblem, LoadResult
from engine.ingest.roster import RosterColumns, roster_records
from engine.ingest.sources import READ_ERRORS, display_name, open_lines, read_error_reason
from engine.vocab import EVENT_TYPES

__all__ = ["load_events", "write_rejects"]

_JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed (numbers must be finite)")


# json.loads(s, parse_constant=...) would build a decoder per call; reuse one.
# It is the reference parser: its messages are the ones users see.
_decode = json.JSONDecoder(parse_constant=_reject_constant).decode


def _json_problem(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} (column {exc.colno})"
    return f"invalid JSON: {exc}"


_ROW_FIELDS = tuple(f.name for f in EVENT_SCHEMA if f.name not in ("seq", "file", "line"))
_CHUNK = 65_536  # rows converted to Arrow at a time


class _Loader:
    """Accumulates accepted rows and problems across all inputs of one load."""

    def __init__(self) -> None:
        self.rows: list[EventRow] = []  # rows not yet converted to Arrow (at most _CHUNK)
        self.batches: list[pa.RecordBatch] = []  # converted rows, so Python tuples do not pile up
        self.files: list[str] = []  # file and line of every kept row, in order
        self.lines: list[int] = []
        self.seen: dict[str, int] = {}  # id -> index of its row (into files and lines)
        self.problems: list[InputProblem] = []
        self.custom: Counter[str] = Counter()
        self.warnings: set[str] = set()
        self.read = 0
        self.accepted = 0

    # ------------------------------------------------------------ shared acceptance

    def problem(self, shown: str, line: int, message: str, raw: str | bytes) -> None:
        # CSV rows arrive already rendered by csv_rows; JSONL lines as bytes.
        shown_raw = raw if isinstance(raw, str) else raw_text(raw)
        self.problems.append(InputProblem(shown, line, message, shown_raw))

    def accept(
        self,
        records: list[dict[str, Any]],
        early: list[str],
        shown: str,
        line: int,
        raw: str | bytes,
    ) -> None:
        """Validate the events one input record stands for; keep all or none of them."""
        messages = list(early)
        rows: list[EventRow] = []
        for record in records:
            row = fast_row(record)
            if row is None:
                event, found = validate_event(record)
                if event is None:
                    messages.extend(found)
                else:
                    row = event.to_row()
            event_id = row[0] if row is not None else record.get("id")
            if type(event_id) is str and event_id:
                first = self.seen.get(event_id)
                if first is not None:
                    messages.append(
                        f"duplicate id {event_id!r} (first seen at {self.files[first]}:{self.lines[first]})"
                    )
            if row is not None:
                rows.append(row)
        if messages:
            self.problem(shown, line, "; ".join(messages), raw)
            return
        self.accepted += 1
        for row in rows:
            self._keep(row, shown, line)

    def _keep(self, row: EventRow, shown: str, line: int) -> None:
        self.seen[row[0]] = len(self.files)
        self.rows.append(row)
        self.files.append(shown)
        self.lines.append(line)
        if row[2] not in EVENT_TYPES:
            self.custom[row[2]] += 1
        if len(self.rows) >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        """Convert pending rows to an Arrow batch (column-wise) and drop the tuples."""
        if not self.rows:
            return
        cols = list(zip(*self.rows))
        arrays = [pa.array(values, EVENT_SCHEMA.field(name).type) for name, values in zip(_ROW_FIELDS, cols)]
        self.batches.append(pa.RecordBatch.from_arrays(arrays, names=list(_ROW_FIELDS)))
        self.rows.clear()  # in place: the JSONL loop holds a reference to this list

    # ------------------------------------------------------------ formats

    def jsonl(self, shown: str, lines: Iterator[bytes]) -> None:
        """The hot loop: one JSON object per line."""
        rows, files, line_col, seen = self.rows, self.files, self.lines, self.seen
        custom, known = self.custom, EVENT_TYPES
        # pydantic-core's JSON parser is about three times faster than json.loads
        # and checks UTF-8 itself. Whenever it succeeds json.loads gives the same
        # value (tests/test_ingest.py checks this); when it fails, json.loads is
        # asked, so the verdict and the message are always the standard parser's.
        parse, fast = from_json, fast_row
        read = accepted = 0
        try:
            for lineno, raw in enumerate(lines, 1):
                if raw.isspace():
                    continue
                read += 1
                try:
                    obj = parse(raw, allow_inf_nan=False)
                except ValueError:
                    try:
                        obj = _decode(raw.decode("utf-8"))
                    except UnicodeDecodeError:
                        self.problem(shown, lineno, NOT_UTF8, raw)
                        continue
                    except ValueError as exc:
                        self.problem(shown, lineno, _json_problem(exc), raw)
                        continue
                    except RecursionError:
                        self.problem(shown, lineno, "invalid JSON: nested too deeply", raw)
                        continue
                if type(obj) is not dict:
                    kind = _JSON_KINDS.get(type(obj), "not an object")
                    self.problem(shown, lineno, f"expected a JSON object, got {kind}", raw)
                    continue
                row = fast(obj)
                if row is not None and row[0] not in seen:
                    seen[row[0]] = len(files)
                    rows.append(row)
                    files.append(shown)
                    line_col.append(lineno)
                    if row[2] not in known:
                        custom[row[2]] += 1
                    accepted += 1
                    if len(rows) >= _CHUNK:
                        self._flush()
                    continue
                self.accept([obj], [], shown, lineno, raw)
        finally:
            self.read += read
            self.accepted += accepted

    def csv(self, shown: str, lines: Iterator[bytes]) -> None:
        """Header row, then one event per row; extra columns become attrs."""
        columns: EventColumns | None = None
        for row in csv_rows(lines):
            if columns is None:
                columns = EventColumns(read_header(row, shown), shown)
                self.warnings.update(columns.warnings)
                continue
            self.read += 1
            if row.problem is not None:
                self.problem(shown, row.line, row.problem, row.raw)
                continue
            record, early = row_to_record(columns, row.cells)
            if record is None:
                self.problem(shown, row.line, "; ".join(early), row.raw)
                continue
            self.accept([record], early, shown, row.line, row.raw)

    def roster(self, path: str, shown: str, lines: Iterator[bytes]) -> None:
        """rep,manager,start,end rows -> team_member_added/removed events."""
        columns: RosterColumns | None = None
        for row in csv_rows(lines):
            if columns is None:
                columns = RosterColumns(read_header(row, shown), shown)
                self.warnings.update(columns.warnings)
                continue
            self.read += 1
            if row.problem is not None:
                self.problem(shown, row.line, row.problem, row.raw)
                continue
            records, early = roster_records(columns, row.cells, path, row.line)
            if early:
                self.problem(shown, row.line, "; ".join(early), row.raw)
                continue
            self.accept(records, [], shown, row.line, row.raw)

    # ------------------------------------------------------------ result

    def table(self) -> pa.Table:
        """The kept rows as one table: the Arrow batches plus seq, file and line."""
        self._flush()
        count = len(self.files)
        if self.batches:
            events = pa.Table.from_batches(self.batches)
            columns = [events.column(name) for name in _ROW_FIELDS]
        else:
            columns = [pa.array([], EVENT_SCHEMA.field(name).type) for name in _ROW_FIELDS]
        arrays = [pa.array(range(count), pa.int64()), *columns]
        arrays.append(pa.array(self.files, pa.string()))
        arrays.append(pa.array(self.lines, pa.int64()))
        return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)

    def result(self) -> LoadResult:
        warnings = set(self.warnings)
        for event_type, count in self.custom.items():
            noun = "event" if count == 1 else "events"
            warning = f"custom event type {event_type!r} ({count} {noun}) is kept; only custom rules match it"
            hint = unknown_type_hint(event_type)
            warnings.add(warning + hint)
        return LoadResult(
            table=self.table(),
            problems=self.problems,
            read=self.read,
            evaluated=self.accepted,
            warnings=sorted(warnings),
        )


def unknown_type_hint(event_type: str) -> str:
    """' (did you mean ...?)' when a custom type looks like a misspelt known one."""
    close = difflib.get_close_matches(event_type, list(EVENT_TYPES), n=1, cutoff=0.8)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_events(paths: Sequence[str], *, roster: str | None = None, stdin: BinaryIO | None = None) -> LoadResult:
    """Read every input (roster first, then paths in order) into one LoadResult.

    Per-record problems are collected, never raised; InputError is raised only
    when an input as a whole cannot be read.
    """
    loader = _Loader()
    inputs: list[tuple[str, bool]] = [(roster, True)] if roster is not None else []
    inputs.extend((path, False) for path in paths)
    for path, is_roster in inputs:
        shown = display_name(path)
        with ExitStack() as stack:
            fmt, lines = open_lines(path, stdin, stack)
            try:
                if is_roster:
                    loader.roster(path, shown, lines)
                elif fmt == "jsonl":
                    loader.jsonl(shown, lines)
                else:
                    loader.csv(shown, lines)
            except READ_ERRORS as exc:
                raise InputError(f"{shown}: cannot read: {read_error_reason(exc)}") from exc
    return loader.result()


def write_rejects(path: str, problems: Sequence[InputProblem]) -> None:
    """One JSON object per refused record, so it can be fixed and fed back in.

    ``-`` writes to stdout.
    """
    out_lines = [
        json.dumps(
            {"file": p.path, "line": p.line, "reason": p.message, "raw": p.raw},
            ensure_ascii=False,
        )
        + "\n"
        for p in problems
    ]
    if path == "-":
        sys.stdout.writelines(out_lines)
        return
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.writelines(out_lines)
