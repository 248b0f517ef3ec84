"""load_events / load_records: every input into one arrow table of valid events, plus problems.

Readers (``engine.ingest.readers``) turn each input into entries; everything
from there is here and the same for every format: the fast path or the
pydantic model, counts, warnings and the table. JSON-object lines are the
hot path (millions of lines): blocks of them go to DuckDB first
(``engine.ingest.sqlfast``), which makes the rows of the lines that are
certainly plain; the rest take the per-line loop, which parses and accepts a
plain valid line with a handful of dict operations and only falls back to the
general path when something looks off. Rows are kept as tuples and moved to
the load's DuckDB table (``engine.ingest.store``) in chunks, so the events
never pile up in Python memory; which ids repeat is counted there at the end.

Nothing about one input stops the others: an input that cannot be used at
all (missing, unreadable, a bad CSV header) becomes ``input_errors``, and
the rest are read all the same, so one run reports every problem.

Ids shared by several records are settled only at the end, on the whole
table (``dedupe``), so nothing depends on input order. A record refused then
was accepted when read, and its text was not kept; it is read again by input
and line (files are reopened, stdin is sought back or was copied while read,
see ``sources.replayable_stdin``; records from memory are kept by reference).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic_core import from_json

from engine.errors import InputError, Problem, SalesmirrorError
from engine.events import EventRow, utf8_ok, validate_event
from engine.ingest.dedupe import Clash, record_keys, resolve, split_key
from engine.ingest.fast import fast_row
from engine.ingest.jsontext import duplicate_key_problem
from engine.ingest.readers import ColumnBatches, Entry, ObjectLines, Reader, Source, detect_reader, raw_text
from engine.ingest.readers.base import raw_bytes
from engine.ingest.readers.jsonl import decode
from engine.ingest.rejects import write_rejects
from engine.ingest.results import EVENT_SCHEMA, InputProblem, LoadResult
from engine.ingest.sources import READ_ERRORS, cannot_read, display_name, open_lines, replayable_stdin
from engine.ingest.sqlfast import SqlChunk, columns_judgeable
from engine.ingest.store import EventStore
from engine.ingest.typenotes import custom_type_warnings

__all__ = ["write_rejects"]  # the entry points are in engine.ingest.load

_ROW_FIELDS = tuple(f.name for f in EVENT_SCHEMA if f.name not in ("seq", "file", "line"))
_ROWS_SCHEMA = pa.schema([pa.field(name, EVENT_SCHEMA.field(name).type) for name in _ROW_FIELDS])
_CHUNK = 65_536  # rows converted to Arrow at a time
_BLOCK_LINES = 245_760  # JSON lines judged by DuckDB at a time: two row groups, one per core (engine.ingest.sqlfast)
SQL_MIN_LINES = 4_096  # fewer lines in a block: the per-line path alone (tests lower it to 1)


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    """A table of at least one row as one record batch."""
    return table.combine_chunks().to_batches()[0]


def _blocks(lines: Iterator[bytes], size: int = _BLOCK_LINES) -> Iterator[list[bytes]]:
    """The lines in lists of ``size`` (the last one shorter)."""
    while True:
        block = list(itertools.islice(lines, size))
        if not block:
            return
        yield block


_SHOWN_PLACES = 3  # other records named in a duplicate-id message


@dataclass
class _Input:
    """One input of the load, kept until the end to read it again if needed."""

    path: str
    shown: str
    reader: Reader | None = None  # None: it could not be opened
    again: Callable[[], BinaryIO] | None = None  # stdin: its bytes from the start once more
    memory: dict[int, object] | None = None  # records from memory: the accepted ones, by position


class _Loader:
    """Accumulates accepted rows and problems across all inputs of one load."""

    def __init__(self, keep: ExitStack) -> None:
        self.keep = keep  # lives as long as the load (stdin copies)
        self.inputs: list[_Input] = []
        self.rows: list[EventRow] = []  # rows not yet moved to the store (at most _CHUNK)
        self.origins: list[int] = []  # input number and line of each row not yet moved
        self.lines: list[int] = []
        self.store = EventStore()  # the accepted rows: Arrow while few, then DuckDB (engine.ingest.store)
        self.numbered = 0  # running numbers handed out to rows (they order a record's events)
        self.judge: SqlChunk | None = None  # DuckDB, for chunks of JSON lines (engine.ingest.sqlfast)
        self.problems: list[InputProblem] = []
        self.places: list[tuple[int, int]] = []  # input number and line of each problem
        self.refused_ids: list[tuple[int, str]] = []  # (problem index, id) of refused records
        self.input_errors: list[Problem] = []
        self.warnings: set[str] = set()
        self.read = 0
        self.accepted = 0

    # ------------------------------------------------------------ shared acceptance

    def refuse(self, origin: int, line: int, message: str, raw: object, ids: Sequence[str] = ()) -> None:
        shown = self.inputs[origin].shown
        self.problems.append(InputProblem(shown, line, message, raw_text(raw), raw_bytes(raw)))
        self.places.append((origin, line))
        self.refused_ids.extend((len(self.problems) - 1, event_id) for event_id in ids)

    def accept(self, records: list[dict[str, Any]], early: list[str], origin: int, line: int, raw: object) -> None:
        """Validate the events one input record stands for; keep all or none of them."""
        messages = list(early)
        rows: list[EventRow] = []
        ids: list[str] = []
        try:
            for record in records:
                row = fast_row(record)
                if row is None:
                    event, found = validate_event(record)
                    if event is None:
                        messages.extend(found)
                    else:
                        row = event.to_row()
                if row is not None:
                    rows.append(row)
                    ids.append(row[0])
                else:
                    event_id = record.get("id")
                    if type(event_id) is str and event_id and utf8_ok(event_id):
                        ids.append(event_id)
        except (RecursionError, MemoryError):
            messages.append("record is nested too deeply or too large to check")
        if messages:
            self.refuse(origin, line, "; ".join(messages), raw, ids)
            return
        self.accepted += 1
        memory = self.inputs[origin].memory
        if memory is not None:
            memory[line] = raw
        for row in rows:
            self._keep(row, origin, line)

    def _keep(self, row: EventRow, origin: int, line: int) -> None:
        self.rows.append(row)
        self.origins.append(origin)
        self.lines.append(line)
        if len(self.rows) >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        """Move pending rows to the store (column-wise, through Arrow) and drop the tuples."""
        if not self.rows:
            return
        cols = list(zip(*self.rows))
        arrays = [pa.array(values, EVENT_SCHEMA.field(name).type) for name, values in zip(_ROW_FIELDS, cols)]
        batch = pa.RecordBatch.from_arrays(arrays, names=list(_ROW_FIELDS))
        origins, lines = pa.array(self.origins, pa.int32()), pa.array(self.lines, pa.int64())
        self.store.append(batch, origins, lines, self.numbered)
        self.numbered += len(self.rows)
        # in place: the JSONL loop holds references to these lists
        self.rows.clear()
        self.origins.clear()
        self.lines.clear()

    # ------------------------------------------------------------ inputs

    def load(self, path: str, reader: Reader | None, stdin: BinaryIO | None) -> None:
        """Read one input with the given reader, or the one the registry detects for it.

        An input that cannot be used as a whole is recorded in ``input_errors``
        (with whatever it yielded before, its records stay counted).
        """
        origin = len(self.inputs)
        current = _Input(path, display_name(path))
        self.inputs.append(current)
        try:
            with ExitStack() as stack:
                stream = None
                if path == "-":
                    stream, current.again = replayable_stdin(stdin, self.keep)
                head, lines = open_lines(path, stream, stack)
                chosen = reader if reader is not None else detect_reader(path, head)
                current.reader = chosen
                source = Source(path, current.shown, lines, self.warnings.add)
                try:
                    if isinstance(chosen, ObjectLines):
                        self.object_lines(origin, chosen.object_lines(source))
                    elif isinstance(chosen, ColumnBatches):
                        self.column_batches(origin, chosen, source)
                    else:
                        self.take(origin, chosen.entries(source))
                except READ_ERRORS as exc:
                    raise cannot_read(path, exc) from exc
        except InputError as exc:
            self.input_errors.extend(exc.problems)

    def take(self, origin: int, entries: Iterable[Entry]) -> None:
        """The general path: every entry a reader yields, through ``accept``."""
        for entry in entries:
            self.read += 1
            self.accept(entry.events, entry.problems, origin, entry.line, entry.raw)

    def object_lines(self, origin: int, lines: Iterator[bytes]) -> None:
        """The hot path, for readers of one JSON object per line: chunks judged by DuckDB first.

        Each chunk of lines goes to ``engine.ingest.sqlfast``, which makes the
        rows of the lines that are certainly plain; every other line (and a
        chunk that is not valid UTF-8 as a whole) takes ``python_lines``, the
        exact per-line path. The chunk's rows are then put in line order, so
        the table is the same whichever path a line took.
        """
        first = 1
        for block in _blocks(lines):
            if len(block) < SQL_MIN_LINES:  # a query costs more than it saves on a few lines
                self.python_lines(origin, enumerate(block, first))
            else:
                self._chunk(origin, block, first)
            first += len(block)

    def column_batches(self, origin: int, reader: ColumnBatches, source: Source) -> None:
        """Typed columns (Parquet): batches of plain text columns judged by DuckDB, the rest row by row."""
        first = 1
        shown = self.inputs[origin].shown
        for batch in reader.column_batches(source):
            rows = batch.num_rows
            if rows >= SQL_MIN_LINES and columns_judgeable(batch.schema):
                judge = self._judge()
                plain = judge.judge_columns(batch, first)
                taken = self._take_plain(origin, plain, rows, first)
                self.take(origin, reader.row_entries(shown, batch, first, np.flatnonzero(~taken).tolist()))
            else:
                self.take(origin, reader.row_entries(shown, batch, first, range(rows)))
            first += rows

    def _judge(self) -> SqlChunk:
        """The DuckDB judge: on the store's connection once the rows are there (the plain rows never leave it)."""
        con = self.store.connection()
        if self.judge is None or (con is not None and self.judge.con is not con):
            if self.judge is not None:
                self.judge.close()
            self.judge = SqlChunk(con)
            self.keep.callback(self.judge.close)
        return self.judge

    def _chunk(self, origin: int, block: list[bytes], first: int) -> None:
        try:
            text = pa.array(block, pa.binary()).cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # some line is not UTF-8: each line says so itself
            self.python_lines(origin, enumerate(block, first))
            return
        plain = self._judge().judge(text, first)
        taken = self._take_plain(origin, plain, len(block), first)
        rest = np.flatnonzero(~taken)
        self.python_lines(origin, ((first + int(i), block[i]) for i in rest))

    def _take_plain(self, origin: int, plain: str, size: int, first: int) -> np.ndarray:
        """Keep a judged table's rows (of a block of ``size`` records from line ``first``): which were taken."""
        assert self.judge is not None
        con = self.store.connection()
        taken = np.zeros(size, dtype=bool)
        plain_lines = self.judge.lines(plain)
        taken[plain_lines - first] = True
        if con is not None:
            count = self.store.insert_from(plain, origin, self.numbered, first)
        else:  # the rows are still few, in Arrow: the plain ones join them there
            rows = self.judge.rows(plain)
            count = rows.num_rows
            if count:
                origins = pa.array(np.full(count, origin, dtype=np.int32))
                self.store.append(rows, origins, rows.column("line").combine_chunks(), self.numbered)
        # a plain row's running number is its place in the block (only their order within a record matters)
        self.numbered += size
        self.judge.drop(plain)
        self.read += count
        self.accepted += count
        return taken

    def python_lines(self, origin: int, lines: Iterable[tuple[int, bytes]]) -> None:
        """The exact per-line path: gives the verdicts ``take`` would give on the reader's entries.

        A plain valid line costs a parse, a count of key marks and a handful of
        dict operations.
        """
        rows, origins, line_col = self.rows, self.origins, self.lines
        # pydantic-core's parser first (see readers.jsonl.decode); anything it
        # refuses, and anything that is not an object, is decode's to explain.
        parse, fast, repeats = from_json, fast_row, duplicate_key_problem
        read = accepted = 0
        try:
            for lineno, raw in lines:
                if raw.isspace():
                    continue
                read += 1
                try:
                    obj = parse(raw, allow_inf_nan=False)
                except (ValueError, MemoryError):
                    obj = None
                if type(obj) is dict:
                    # Proof that no key repeats, from one count (jsontext explains it):
                    # colons = keys + colons inside strings, when nothing is escaped.
                    extra = raw.count(b":") - len(obj)
                    inner = obj.get("attrs")
                    if type(inner) is dict:
                        extra -= len(inner)
                    inner = obj.get("source")
                    if type(inner) is dict:
                        extra -= len(inner)
                    inner = obj.get("ts")
                    if type(inner) is str:
                        extra -= inner.count(":")
                    if extra > 0 or b"\\" in raw:
                        repeat = repeats(raw, obj)
                        if repeat is not None:
                            self.refuse(origin, lineno, repeat, raw)
                            continue
                else:
                    found = decode(raw)
                    if type(found) is str:
                        self.refuse(origin, lineno, found, raw)
                        continue
                    obj = found
                row = fast(obj)
                if row is not None:
                    rows.append(row)
                    origins.append(origin)
                    line_col.append(lineno)
                    accepted += 1
                    if len(rows) >= _CHUNK:
                        self._flush()
                    continue
                self.accept([obj], [], origin, lineno, raw)
        finally:
            self.read += read
            self.accepted += accepted

    def reread(self, origin: int, wanted: set[int]) -> dict[int, object]:
        """The raw records of an input at the given lines, read again (as many as can be)."""
        current = self.inputs[origin]
        if current.memory is not None:
            return {line: current.memory[line] for line in wanted if line in current.memory}
        found: dict[int, object] = {}
        if current.reader is None:
            return found
        try:
            with ExitStack() as stack:
                stream = current.again() if current.again is not None else None
                _, lines = open_lines(current.path, stream, stack)
                source = Source(current.path, current.shown, lines, lambda _: None)
                if isinstance(current.reader, ObjectLines):
                    records: Iterable[tuple[int, object]] = enumerate(current.reader.object_lines(source), 1)
                else:
                    records = ((entry.line, entry.raw) for entry in current.reader.entries(source))
                for line, raw in records:
                    if line in wanted:
                        found[line] = raw
                        if len(found) == len(wanted):
                            break
        except (*READ_ERRORS, SalesmirrorError):
            pass  # changed or gone since: the caller says so
        return found

    # ------------------------------------------------------------ result

    def _place(self, key: int) -> str:
        origin, line = split_key(key)
        return f"{self.inputs[origin].shown}:{line}"

    def _places(self, keys: Sequence[int], own: int | None = None) -> str:
        others = [key for key in keys if key != own]
        shown = ", ".join(self._place(key) for key in others[:_SHOWN_PLACES])
        rest = len(others) - _SHOWN_PLACES
        return shown + (f" and {rest} more" if rest > 0 else "")

    def _refuse_clashes(self, refused: dict[int, list[Clash]]) -> None:
        """Problems for the accepted records that share an id with a different event."""
        wanted: dict[int, set[int]] = {}
        for key in refused:
            origin, line = split_key(key)
            wanted.setdefault(origin, set()).add(line)
        texts = {origin: self.reread(origin, lines) for origin, lines in wanted.items()}
        for key, clashes in refused.items():
            origin, line = split_key(key)
            reasons = []
            for clash in clashes:
                if len(clash.holders) == 1:
                    reasons.append(f"duplicate id {clash.event_id!r} with different content within this record")
                else:
                    places = self._places(clash.holders, key)
                    reasons.append(f"duplicate id {clash.event_id!r} with different content (also at {places})")
            raw = texts[origin].get(line)
            if raw is None:
                reasons.append("its text could not be read again")
                raw = ""
            self.accepted -= 1
            self.refuse(origin, line, "; ".join(reasons), raw)

    def _note_shared_ids(self, events: pa.Table, keys: pa.Array) -> None:
        """Tell a refused record's problem which accepted records hold its id too."""
        if not self.refused_ids:
            return
        wanted = pa.array(sorted({event_id for _, event_id in self.refused_ids}), pa.string())
        at = pc.indices_nonzero(pc.is_in(events.column("id"), value_set=wanted))
        holders: dict[str, list[int]] = {}
        for event_id, key in zip(events.column("id").take(at).to_pylist(), keys.take(at).to_pylist()):
            holders.setdefault(event_id, []).append(key)
        for index, event_id in self.refused_ids:
            if event_id in holders:
                problem = self.problems[index]
                keys_of = sorted(set(holders[event_id]))
                note = f"duplicate id {event_id!r} (also at {self._places(keys_of)})"
                self.problems[index] = replace(problem, message=f"{problem.message}; {note}")

    def settle(self) -> EventStore:
        """The store's rows settled: repeated ids decided, then numbered and named (``sm_events``)."""
        self._flush()
        store = self.store
        if self.refused_ids:
            wanted = sorted({event_id for _, event_id in self.refused_ids})
            held, origins, lines, _ = store.rows_with_ids(wanted)
            self._note_shared_ids(held, record_keys(origins, lines))
        repeated = store.repeated_ids()
        if repeated:
            # only the rows of repeated ids leave DuckDB (usually none, at most the repeats)
            rows, origins, lines, numbers = store.rows_with_ids(repeated)
            settled = resolve(rows, record_keys(origins, lines), set(repeated))
            if settled.refused:
                self._refuse_clashes(settled.refused)
            if settled.merged:
                noun = "event" if settled.merged == 1 else "events"
                self.warnings.add(f"{settled.merged} repeated {noun} (same id, same content) kept once")
            if settled.keep is not None:
                dropped = numbers.filter(pc.invert(settled.keep)).to_pylist()
                store.drop([split_key(key) for key in sorted(settled.refused)], dropped)
        store.finish([current.shown for current in self.inputs])
        return store

    def result(self) -> LoadResult:
        store = self.settle()
        warnings = set(self.warnings) | custom_type_warnings(store.type_counts())
        order = sorted(range(len(self.problems)), key=self.places.__getitem__)
        return LoadResult(
            None if store.in_duckdb else store.arrow(),
            problems=[self.problems[index] for index in order],
            read=self.read,
            evaluated=self.accepted,
            warnings=sorted(warnings),
            input_errors=sorted(self.input_errors),
            store=store if store.in_duckdb else None,
        )
