"""CSV rows with their physical line numbers, and CSV cells turned into events.

The csv module hides line numbers and needs text; a small feeder decodes each
physical line (keeping undecodable bytes as surrogates so one bad line does
not stop the file) and remembers which lines made up the current row.
"""

from __future__ import annotations

import csv
import difflib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.events import EVENT_FIELDS, utf8_ok
from engine.ingest.results import InputError
from engine.vocab import EVENT_TYPES, Attr

__all__ = [
    "NOT_UTF8",
    "CsvRow",
    "EventColumns",
    "coerce",
    "csv_rows",
    "raw_text",
    "read_header",
    "row_to_record",
]

NOT_UTF8 = "line is not valid UTF-8"


def raw_text(line: str | bytes) -> str:
    """A record as shown to the user: verbatim, minus its line ending; bad bytes escaped."""
    if isinstance(line, bytes):
        text = line.decode("utf-8", "backslashreplace")
    elif line.isascii() or utf8_ok(line):
        text = line
    else:
        text = line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    text = text.removesuffix("\n")
    text = text.removesuffix("\r")
    return text


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
    raw: str
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
        yield CsvRow(start, raw_text(raw), cells, problem)


def read_header(row: CsvRow, shown: str) -> list[str]:
    """Column names of a header row; a header that cannot be trusted stops the file."""
    if row.problem is not None:
        raise InputError(f"{shown}: cannot read: CSV header: {row.problem}")
    names = [cell.strip() for cell in row.cells]
    for index, name in enumerate(names, 1):
        if not name:
            raise InputError(f"{shown}: cannot read: CSV header column {index} has no name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(f"{shown}: cannot read: CSV header repeats column {name!r}")
        seen.add(name)
    return names


# ---------------------------------------------------------------- cells -> event record

_TEXT_FIELDS = frozenset(EVENT_FIELDS) - {"attrs", "source"}
_INT_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_KNOWN_ATTRS = frozenset(name for spec in EVENT_TYPES.values() for name in spec)


def coerce(attr: Attr | None, cell: str) -> object:
    """A CSV cell as the attribute's vocabulary kind; left as text when it does not fit,
    so validation reports it with the same message as a JSON input would get."""
    if attr is None:
        return cell
    kind = attr.kind
    text = cell.strip()
    if kind == "int" or kind == "number":
        if _INT_RE.fullmatch(text):
            return int(text)
        if kind == "number" and _NUMBER_RE.fullmatch(text):
            value = float(text)
            if math.isfinite(value):
                return value
        return cell
    if kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        return cell
    if kind == "list":
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                return cell
            return parsed if isinstance(parsed, list) else cell
        return [part.strip() for part in text.split(";") if part.strip()]
    return cell


def _json_cell(field: str, cell: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        value = json.loads(cell)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            problems.append(f"field {field!r} is not valid JSON: {exc.msg} (column {exc.colno})")
        else:
            problems.append(f"field {field!r} is not valid JSON: {exc}")
        return None
    except RecursionError:
        problems.append(f"field {field!r} is not valid JSON: nested too deeply")
        return None
    if type(value) is not dict:
        problems.append(f"field {field!r} must be an object")
        return None
    return value


class EventColumns:
    """How each column of an event CSV maps onto the envelope or attrs."""

    def __init__(self, names: list[str], shown: str) -> None:
        self.names = names
        self.extra = [n for n in names if n not in _TEXT_FIELDS and n not in ("attrs", "source")]
        self.warnings: list[str] = []
        for name in self.extra:
            if name in _KNOWN_ATTRS:
                continue
            close = difflib.get_close_matches(name, EVENT_FIELDS, n=1, cutoff=0.75)
            if close:
                self.warnings.append(f"{shown}: column {name!r} is kept as attrs.{name} (did you mean {close[0]!r}?)")


def row_to_record(columns: EventColumns, cells: list[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """An event record from CSV cells, plus problems found before validation
    (None when the cells do not line up with the header at all).

    Empty cells are absent; extra columns become attrs, typed by the vocabulary
    for the row's type; ``attrs``/``source`` cells hold JSON objects.
    """
    problems: list[str] = []
    if len(cells) != len(columns.names):
        problems.append(f"row has {len(cells)} cells but the header has {len(columns.names)} columns")
        return None, problems
    record: dict[str, Any] = {}
    extra: dict[str, str] = {}
    attrs_cell: str | None = None
    for name, cell in zip(columns.names, cells):
        if cell == "":
            continue
        if name in _TEXT_FIELDS:
            record[name] = cell
        elif name == "attrs":
            attrs_cell = cell
        elif name == "source":
            source = _json_cell("source", cell, problems)
            if source is not None:
                record["source"] = source
        else:
            extra[name] = cell
    attrs: dict[str, Any] = {}
    if attrs_cell is not None:
        attrs = _json_cell("attrs", attrs_cell, problems) or {}
    if extra:
        event_type = record.get("type")
        spec = EVENT_TYPES.get(event_type, {}) if isinstance(event_type, str) else {}
        for name, cell in extra.items():
            if name in attrs:
                problems.append(f"attrs.{name} is given twice: in column 'attrs' and in column {name!r}")
            else:
                attrs[name] = coerce(spec.get(name), cell)
    if attrs:
        record["attrs"] = attrs
    return record, problems
