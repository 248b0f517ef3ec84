"""CSV: a header row, then one record per row, with physical line numbers.

One row reader serves every CSV meaning: what the cells of a row stand for
(an event, or roster membership) is a ``RowMapping`` built from the header,
so event CSVs and roster CSVs share the header checks, line tracking and
cell-count check, and differ only in that mapping.

The csv module hides line numbers and needs text; a small feeder decodes each
physical line (keeping undecodable bytes as surrogates so one bad line does
not stop the file) and remembers which lines made up the current row.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from engine.errors import InputError
from engine.events import utf8_ok
from engine.ingest.readers.base import NOT_UTF8, Entry, Source

__all__ = ["CsvReader", "CsvRow", "Header", "RowMapping", "csv_rows", "read_header"]


class _Feeder:
    """Iterator of decoded lines for csv.reader that tracks line numbers."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self._lines = lines
        self.lineno = 0
        self.taken: list[str] = []

    def __iter__(self) -> _Feeder:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.lineno += 1
        text = line.decode("utf-8", "surrogateescape")
        self.taken.append(text)
        return text


@dataclass
class CsvRow:
    """One non-blank CSV record; ``problem`` is set when its cells are unusable."""

    line: int
    raw: str  # its physical lines joined, as decoded with 'surrogateescape'
    cells: list[str]
    problem: str | None = None


def csv_rows(lines: Iterator[bytes]) -> Iterator[CsvRow]:
    """Non-blank records of a CSV input, header included, in order."""
    feeder = _Feeder(lines)
    reader = csv.reader(feeder, strict=True)  # an unclosed quote is an error, not a cell
    while True:
        feeder.taken.clear()
        start = feeder.lineno + 1
        problem: str | None = None
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            cells, problem = [], f"malformed CSV: {exc}"
        raw = "".join(feeder.taken)
        if not raw.strip():
            continue
        if not (raw.isascii() or utf8_ok(raw)):
            problem = NOT_UTF8
        yield CsvRow(start, raw, cells, problem)


@dataclass(frozen=True)
class Header:
    """The column names of a CSV input and the line they stand on."""

    names: list[str]
    line: int


def read_header(row: CsvRow, shown: str) -> Header:
    """Column names of a header row; a header that cannot be trusted stops the file."""

    def refuse(reason: str) -> InputError:
        return InputError.at(shown, f"cannot read: {reason}", line=row.line)

    if row.problem is not None:
        raise refuse(f"CSV header: {row.problem}")
    names = [cell.strip() for cell in row.cells]
    for index, name in enumerate(names, 1):
        if not name:
            raise refuse(f"CSV header column {index} has no name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise refuse(f"CSV header repeats column {name!r}")
        seen.add(name)
    return Header(names, row.line)


class RowMapping(Protocol):
    """What the cells of one row stand for, as decided by the header."""

    def events(self, cells: list[str], line: int) -> tuple[list[dict[str, Any]], list[str]]:
        """The event records of a row (cells line up with the header) and the
        problems found before validation; no records means the row is refused."""
        ...


# Builds the mapping from the header; may warn through the source, or raise InputError.
MappingFactory = Callable[[Header, Source], RowMapping]


class CsvReader:
    """A CSV format: the shared row reading plus the mapping its header selects."""

    def __init__(self, name: str, mapping: MappingFactory, extensions: tuple[str, ...] = ()) -> None:
        self.name = name
        self.extensions = extensions
        self._mapping = mapping

    def sniff(self, head: bytes) -> bool:
        return False  # CSV has no telltale first line: it is the registry's fallback

    def entries(self, source: Source) -> Iterator[Entry]:
        shown = source.shown
        mapping: RowMapping | None = None
        width = 0
        for row in csv_rows(source.lines):
            if mapping is None:
                header = read_header(row, shown)
                mapping, width = self._mapping(header, source), len(header.names)
                continue
            if row.problem is not None:
                yield Entry(shown, row.line, row.raw, [], [row.problem])
            elif len(row.cells) != width:
                problem = f"row has {len(row.cells)} cells but the header has {width} columns"
                yield Entry(shown, row.line, row.raw, [], [problem])
            else:
                events, problems = mapping.events(row.cells, row.line)
                yield Entry(shown, row.line, row.raw, events, problems)
