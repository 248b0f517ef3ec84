"""Parquet: the event log as a columnar file (``.parquet``), one row per event.

The columns are the envelope's (``id``, ``ts``, ``type``, ``actor``,
``actor_role``, ``manager``, ``rep``, ``deal``, ``attrs``, ``source``); only
``id``, ``ts``, ``type`` and ``actor`` are required, extra columns are refused
like unknown fields. ``ts`` is RFC 3339 text or a timestamp column (a
timestamp without a time zone is read as UTC, as the contract's text form
must say it); ``attrs`` and ``source`` are JSON text or struct/map columns.
Each row then goes through the one acceptance path every format shares, so a
Parquet log is judged exactly like the same events in JSONL; a refused row is
written to the rejects file as the JSON line it stands for, and its "line" is
its 1-based row number.

Parquet is read from a file (it needs random access), not from stdin.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic_core import from_json

from engine.errors import InputError, Problem
from engine.events import EVENT_FIELDS
from engine.ingest.jsontext import BadJson, duplicate_key_problem, parse_json
from engine.ingest.readers.base import Entry, Source

__all__ = ["ParquetReader"]

_MAGIC = b"PAR1"
_BATCH = 65_536
_JSON_COLUMNS = ("attrs", "source")


def _ts_text(value: datetime) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _record(row: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """One row as the event record the contract describes, and what could not be read of it."""
    problems: list[str] = []
    record: dict[str, Any] = {}
    for name, value in row.items():
        if value is None:
            continue  # an empty cell is an absent field
        if name == "ts" and isinstance(value, datetime):
            value = _ts_text(value)
        elif name in _JSON_COLUMNS and isinstance(value, str):
            text = value
            try:
                value = from_json(text, allow_inf_nan=False)
            except ValueError:
                try:  # the standard parser's verdict and words, as for a JSONL line
                    value = parse_json(text)
                except BadJson as exc:
                    problems.append(f"{name}: {exc.reason if exc.duplicate else 'invalid JSON: ' + exc.reason}")
                    value = text  # the row is refused and shown (rejects file) with the cell as it was
            else:
                repeat = (
                    duplicate_key_problem(text.encode("utf-8", "surrogatepass"), value) if type(value) is dict else None
                )
                if repeat is not None:
                    problems.append(f"{name}: {repeat}")
                    value = text
        elif name in _JSON_COLUMNS and isinstance(value, list):  # a map column: (key, value) pairs
            value = dict(value)
        record[name] = value
    return record, problems


class ParquetReader:
    """A Parquet file of events; rows are numbered from 1 as lines are."""

    name = "parquet"
    extensions = (".parquet", ".pq")

    def sniff(self, head: bytes) -> bool:
        return head.startswith(_MAGIC)

    def entries(self, source: Source) -> Iterator[Entry]:
        if source.path == "-":
            raise InputError([Problem(source.shown, 0, 0, "Parquet cannot be read from stdin: give the file")])
        try:
            parquet = pq.ParquetFile(source.path)
        except (OSError, pa.ArrowException) as exc:
            raise InputError([Problem(source.shown, 0, 0, f"not a readable Parquet file: {exc}")]) from exc
        names = parquet.schema_arrow.names
        unknown = sorted(set(names) - set(EVENT_FIELDS))
        if unknown:
            raise InputError(
                [Problem(source.shown, 0, 0, f"unknown column(s) {', '.join(unknown)}: the envelope's fields only")]
            )
        line = 0
        shown = source.shown
        try:
            for batch in parquet.iter_batches(batch_size=_BATCH):
                columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
                for values in zip(*columns):
                    line += 1
                    record, problems = _record(dict(zip(names, values)))
                    # the record itself stands for the row: the loader shows it as its JSON line
                    # (json_text) only if it is refused, so accepted rows are never serialised twice
                    yield Entry(shown, line, record, [] if problems else [record], problems)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                [Problem(source.shown, line + 1, 0, f"Parquet file cannot be read further: {exc}")]
            ) from exc
