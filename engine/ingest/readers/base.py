"""What an input reader is: it turns one opened input into entries the loader validates.

A reader knows one format (JSONL, CSV, ...) and nothing about validation,
duplicate ids or the event table: it yields, per input record, the events the
record stands for and the problems found while reading it, together with
where it came from. The loader applies the one acceptance path to every entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from engine.events import python_text, utf8_ok

__all__ = ["NOT_UTF8", "Entry", "ObjectLines", "Reader", "Source", "json_text", "raw_bytes", "raw_text"]

NOT_UTF8 = "line is not valid UTF-8"


@dataclass(frozen=True)
class Source:
    """One opened input, as readers see it."""

    path: str  # as the user gave it ('-' for stdin)
    shown: str  # how problems and the ``file`` column name it
    lines: Iterator[bytes]  # physical lines, decompressed, BOM removed
    warn: Callable[[str], None]  # report a warning about the input (shown once)


@dataclass(frozen=True, slots=True)
class Entry:
    """One input record: where it came from, the events it stands for, what is wrong with it.

    ``events`` empty and ``problems`` set: the record is refused as read.
    Both set: the problems are reported together with whatever validation of
    the events finds, so one record lists all of its problems at once.
    """

    shown: str
    line: int  # 1-based physical line where the record starts
    raw: object  # the record verbatim (bytes or text as read, or the object given); see raw_text
    events: list[dict[str, Any]]
    problems: list[str]


@runtime_checkable
class Reader(Protocol):
    """An input format. Register one with ``engine.ingest.readers.register_reader``."""

    @property
    def name(self) -> str:
        """Unique name: what ``get_reader`` looks up."""

    @property
    def extensions(self) -> tuple[str, ...]:
        """File name endings it claims, lower case with the dot ('.jsonl'); '.gz' is looked past."""

    def sniff(self, head: bytes) -> bool:
        """Whether an input whose first non-blank line is ``head`` is in this format
        (asked for stdin and for names no reader claims)."""

    def entries(self, source: Source) -> Iterator[Entry]:
        """Every record of the input, in order.

        Trouble with a single record goes into its entry; trouble with the
        whole input (a bad header) raises ``InputError``.
        """


@runtime_checkable
class ObjectLines(Protocol):
    """A reader whose records are JSON objects, one per physical line.

    The loader then takes the lines and runs its tight loop over them instead
    of calling ``entries`` (which must give the same verdicts, only slower).
    """

    def object_lines(self, source: Source) -> Iterator[bytes]: ...


@runtime_checkable
class ColumnBatches(Protocol):
    """A reader whose records are rows of typed columns (Parquet).

    The loader takes the batches, lets DuckDB judge whole columns at once and
    asks ``row_entries`` only for the rows it leaves to the per-row path;
    ``entries`` must give the same verdicts, only slower.
    """

    def column_batches(self, source: Source) -> Iterator[pa.RecordBatch]: ...

    def row_entries(self, shown: str, batch: pa.RecordBatch, first_line: int, rows: Iterable[int]) -> Iterator[Entry]:
        """Entries of some rows of a batch whose first row is line ``first_line``."""
        ...


def raw_text(raw: object) -> str:
    """A record as shown to the user: verbatim, minus its line ending; bad bytes escaped.

    Text is as decoded with 'surrogateescape'; anything else (a record given
    from memory) is shown as JSON.
    """
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", "backslashreplace")
    elif isinstance(raw, str):
        if raw.isascii() or utf8_ok(raw):
            text = raw
        else:
            text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    else:
        return json_text(raw)
    text = text.removesuffix("\n")
    text = text.removesuffix("\r")
    return text


def raw_bytes(raw: object) -> bytes:
    """A record exactly as read, as bytes, minus its line ending: what ``raw_text`` cannot always keep.

    Bytes are kept as they are; text (decoded with 'surrogateescape', as the
    CSV reader does) is encoded back to the very bytes it came from; a record
    given from memory is its JSON line (``json_text``).
    """
    if isinstance(raw, bytes):
        data = raw
    elif isinstance(raw, str):
        try:
            data = raw.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # surrogates that no decoding made: keep them as such
            data = raw.encode("utf-8", "surrogatepass")
    else:
        data = json_text(raw).encode("utf-8", "surrogatepass")
    return data.removesuffix(b"\n").removesuffix(b"\r")


def json_text(value: object) -> str:
    """A value given from memory as the JSON line it would be in a file (Python's repr if it has none)."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError, MemoryError):
        return python_text(value)
    return text if utf8_ok(text) else json.dumps(value)
