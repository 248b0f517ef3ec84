"""Event CSVs: how the cells of a row become one event record.

Envelope columns map onto fields; any other column becomes an attribute,
typed by the vocabulary of the row's type; ``attrs``/``source`` cells hold
JSON objects. Row reading itself is the shared CSV reader's.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from engine.events import EVENT_FIELDS
from engine.ingest.jsontext import BadJson, parse_json
from engine.ingest.readers.base import Source
from engine.ingest.readers.csv import Header
from engine.vocab import EVENT_TYPES, Attr

__all__ = ["EventColumns", "coerce"]

_TEXT_FIELDS = frozenset(EVENT_FIELDS) - {"attrs", "source"}
_INT_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_KNOWN_ATTRS = frozenset(name for spec in EVENT_TYPES.values() for name in spec)


def coerce(attr: Attr | None, cell: str, problems: list[str] | None = None, name: str = "") -> object:
    """A CSV cell as the attribute's vocabulary kind; left as text when it does not fit,
    so validation reports it with the same message as a JSON input would get.

    A list cell written as JSON that repeats a key inside is ambiguous, and
    one nested too deeply cannot be read: that is added to ``problems`` (a
    JSON input would be refused too) and an empty list stands in for the
    cell, so the record gets no second message.
    """
    if attr is None:
        return cell
    kind = attr.kind
    text = cell.strip()
    if kind == "int" or kind == "number":
        if _INT_RE.fullmatch(text):
            try:
                return int(text)
            except ValueError:  # more digits than Python converts: refused as text
                return cell
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
                parsed = parse_json(text, f"attrs.{name}" if name else "")
            except BadJson as exc:
                if problems is None or not (exc.duplicate or exc.beyond):
                    return cell
                problems.append(exc.reason if exc.duplicate else f"attrs.{name} is not valid JSON: {exc.reason}")
                return []
            return parsed if isinstance(parsed, list) else cell
        return [part.strip() for part in text.split(";") if part.strip()]
    return cell


def _json_cell(field: str, cell: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        value = parse_json(cell, field)
    except BadJson as exc:
        problems.append(exc.reason if exc.duplicate else f"field {field!r} is not valid JSON: {exc.reason}")
        return None
    if type(value) is not dict:
        problems.append(f"field {field!r} must be an object")
        return None
    return value


class EventColumns:
    """The mapping of an event CSV: each column onto the envelope or attrs."""

    def __init__(self, header: Header, source: Source) -> None:
        self.names = header.names
        extra = [n for n in self.names if n not in _TEXT_FIELDS and n not in ("attrs", "source")]
        for name in extra:
            if name in _KNOWN_ATTRS:
                continue
            close = difflib.get_close_matches(name, EVENT_FIELDS, n=1, cutoff=0.75)
            if close:
                source.warn(f"{source.shown}: column {name!r} is kept as attrs.{name} (did you mean {close[0]!r}?)")

    def events(self, cells: list[str], line: int) -> tuple[list[dict[str, Any]], list[str]]:
        """The row's event record, plus problems found before validation.

        Empty cells are absent; extra columns become attrs, typed by the
        vocabulary for the row's type; ``attrs``/``source`` cells hold JSON objects.
        """
        problems: list[str] = []
        record: dict[str, Any] = {}
        extra: dict[str, str] = {}
        attrs_cell: str | None = None
        for name, cell in zip(self.names, cells):
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
                    attrs[name] = coerce(spec.get(name), cell, problems, name)
        if attrs:
            record["attrs"] = attrs
        return [record], problems
