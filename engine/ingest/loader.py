"""load_events / load_records: every input into one arrow table of valid events, plus problems.

Readers (``engine.ingest.readers``) turn each input into entries; everything
from there is here and the same for every format: the fast path or the
pydantic model, duplicate ids, counts, warnings and the table. The loop over
JSON-object lines is the hot path (millions of lines): it parses and accepts
a plain valid line with a handful of dict operations and only falls back to
the general path when something looks off. Rows are kept as tuples and
moved to Arrow in chunks.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any, BinaryIO

import pyarrow as pa
from pydantic_core import from_json

from engine.events import EventRow, validate_event
from engine.ingest.fast import fast_row
from engine.ingest.readers import (
    Entry,
    ObjectLines,
    Reader,
    Source,
    detect_reader,
    get_reader,
    json_text,
    raw_text,
)
from engine.ingest.readers.jsonl import decode, not_an_object
from engine.ingest.results import EVENT_SCHEMA, InputProblem, LoadResult
from engine.ingest.sources import READ_ERRORS, cannot_read, display_name, open_lines
from engine.vocab import EVENT_TYPES

__all__ = ["load_events", "load_records", "write_rejects"]

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

    def problem(self, shown: str, line: int, message: str, raw: object) -> None:
        self.problems.append(InputProblem(shown, line, message, raw_text(raw)))

    def accept(
        self,
        records: list[dict[str, Any]],
        early: list[str],
        shown: str,
        line: int,
        raw: object,
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

    # ------------------------------------------------------------ inputs

    def load(self, path: str, reader: Reader | None, stdin: BinaryIO | None) -> None:
        """Read one input with the given reader, or the one the registry detects for it."""
        with ExitStack() as stack:
            head, lines = open_lines(path, stdin, stack)
            chosen = reader if reader is not None else detect_reader(path, head)
            source = Source(path, display_name(path), lines, self.warnings.add)
            try:
                if isinstance(chosen, ObjectLines):
                    self.object_lines(source.shown, chosen.object_lines(source))
                else:
                    self.take(chosen.entries(source))
            except READ_ERRORS as exc:
                raise cannot_read(path, exc) from exc

    def take(self, entries: Iterable[Entry]) -> None:
        """The general path: every entry a reader yields, through ``accept``."""
        for entry in entries:
            self.read += 1
            self.accept(entry.events, entry.problems, entry.shown, entry.line, entry.raw)

    def object_lines(self, shown: str, lines: Iterator[bytes]) -> None:
        """The hot loop, for readers of one JSON object per line.

        Gives the verdicts ``take`` would give on the reader's entries; a
        plain valid line costs a parse and a handful of dict operations.
        """
        rows, files, line_col, seen = self.rows, self.files, self.lines, self.seen
        custom, known = self.custom, EVENT_TYPES
        # pydantic-core's parser first (see readers.jsonl.decode); anything it
        # refuses, and anything that is not an object, is decode's to explain.
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
                    obj = None
                if type(obj) is not dict:
                    found = decode(raw)
                    if type(found) is str:
                        self.problem(shown, lineno, found, raw)
                        continue
                    obj = found
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

    Each path's format comes from the reader registry (``engine.ingest.readers``).
    Per-record problems are collected, never raised; InputError is raised only
    when an input as a whole cannot be read.
    """
    loader = _Loader()
    if roster is not None:
        loader.load(roster, get_reader("roster"), stdin)
    for path in paths:
        loader.load(path, None, stdin)
    return loader.result()


def load_records(records: Iterable[dict[str, Any]], *, name: str = "<memory>") -> LoadResult:
    """Validate records given from memory exactly as if they were lines of a JSONL file.

    Problems name the input ``name`` and the record's 1-based position; their
    ``raw`` is the record as JSON. Nothing is raised for a bad record.
    """
    loader = _Loader()
    loader.take(_memory_entries(records, name))
    return loader.result()


def _memory_entries(records: Iterable[object], name: str) -> Iterator[Entry]:
    for position, record in enumerate(records, 1):
        if type(record) is dict:
            yield Entry(name, position, record, [record], [])
        else:
            yield Entry(name, position, json_text(record), [], [not_an_object(record)])


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
