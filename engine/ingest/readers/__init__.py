"""The input formats: a registry of readers, looked up by name or detected per input.

Detection, for each input: the reader claiming the file name's extension
(``.gz`` looked past; never for stdin), else the first reader, in order of
registration, whose ``sniff`` accepts the first non-blank line, else the
fallback reader (CSV).

Adding a format is one module with a ``Reader`` and one ``register_reader``
line below.
"""

from __future__ import annotations

import os

from engine.ingest.csvevents import EventColumns
from engine.ingest.readers.base import (
    NOT_UTF8,
    ColumnBatches,
    Entry,
    ObjectLines,
    Reader,
    Source,
    json_text,
    raw_text,
)
from engine.ingest.readers.csv import CsvReader
from engine.ingest.readers.jsonl import JsonlReader
from engine.ingest.readers.parquet import ParquetReader
from engine.ingest.roster import ROSTER_READER
from engine.registry import Registry

__all__ = [
    "NOT_UTF8",
    "ColumnBatches",
    "Entry",
    "READERS",
    "ObjectLines",
    "Reader",
    "Source",
    "detect_reader",
    "get_reader",
    "json_text",
    "raw_text",
    "reader_names",
    "register_reader",
    "unregister_reader",
]


READERS: Registry[Reader] = Registry("input reader")
_fallback = ""  # the reader for inputs nobody claims


def register_reader(reader: Reader, *, fallback: bool = False) -> Reader:
    """Make a format available to ``load_events``; returns the reader.

    Registering under a name already taken replaces that reader. Raises
    ValueError when another reader already claims one of its extensions.
    """
    global _fallback
    for name, other in READERS.items():
        taken = {ext.lower() for ext in other.extensions} & {ext.lower() for ext in reader.extensions}
        if name != reader.name and taken:
            raise ValueError(f"reader {reader.name!r}: {', '.join(sorted(taken))} is already read by {name!r}")
    READERS.register(reader.name, reader)
    if fallback:
        _fallback = reader.name
    return reader


def unregister_reader(name: str) -> None:
    """Withdraw a format (plugins and tests that registered their own)."""
    READERS.unregister(name)


def get_reader(name: str) -> Reader:
    """The reader called ``name``; ConfigError naming the known ones when there is none."""
    return READERS.get(name)


def reader_names() -> list[str]:
    """The registered readers, in the order they were registered."""
    return READERS.names()


def detect_reader(path: str, head: bytes) -> Reader:
    """The reader for an input, from its name (unless stdin) or its first non-blank line."""
    readers = [reader for _, reader in READERS.items()]
    if path != "-":
        ext = os.path.splitext(path.lower().removesuffix(".gz"))[1]
        for reader in readers:
            if ext and ext in (claimed.lower() for claimed in reader.extensions):
                return reader
    for reader in readers:
        if reader.sniff(head):
            return reader
    return get_reader(_fallback)


register_reader(JsonlReader())
register_reader(ParquetReader())
register_reader(CsvReader("csv", EventColumns, extensions=(".csv",)), fallback=True)
register_reader(ROSTER_READER)
