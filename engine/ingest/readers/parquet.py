"""Parquet: the event log as a columnar file (``.parquet``), one row per event.

The columns are the envelope's (``id``, ``ts``, ``type``, ``actor``,
``actor_role``, ``manager``, ``rep``, ``deal``, ``attrs``, ``source``); only
``id``, ``ts``, ``type`` and ``actor`` are required, extra columns are refused
like unknown fields. ``ts`` is RFC 3339 text or a timestamp column (a
timestamp without a time zone is read as UTC, as the contract's text form
must say it); ``attrs`` and ``source`` are JSON text or struct/map columns.
Each row then goes through the one acceptance path every format shares, so a
Parquet log is judged exactly like the same events in JSONL (batches of text
columns are judged by DuckDB first, as JSONL lines are, see
``engine.ingest.sqlfast``; only the rows it leaves become Python values); a refused row is
written to the rejects file as the JSON line it stands for, and its "line" is
its 1-based row number.

Parquet is read from a file (it needs random access), not from stdin.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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
_BATCH = 245_760  # rows read at a time (DuckDB judges a batch on both cores: engine.ingest.sqlfast)
_ROWS = 16_384  # rows made Python values at a time, for the per-row path
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

    def _open(self, source: Source) -> pq.ParquetFile:
        if source.path == "-":
            raise InputError([Problem(source.shown, 0, 0, "Parquet cannot be read from stdin: give the file")])
        try:
            parquet = pq.ParquetFile(source.path)
        except (OSError, pa.ArrowException) as exc:
            raise InputError([Problem(source.shown, 0, 0, f"not a readable Parquet file: {exc}")]) from exc
        unknown = sorted(set(parquet.schema_arrow.names) - set(EVENT_FIELDS))
        if unknown:
            raise InputError(
                [Problem(source.shown, 0, 0, f"unknown column(s) {', '.join(unknown)}: the envelope's fields only")]
            )
        return parquet

    def column_batches(self, source: Source) -> Iterator[pa.RecordBatch]:
        """The file's rows in batches, as Parquet stores them (nothing converted)."""
        parquet = self._open(source)
        line = 0
        try:
            for batch in parquet.iter_batches(batch_size=_BATCH):
                yield batch
                line += batch.num_rows
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                [Problem(source.shown, line + 1, 0, f"Parquet file cannot be read further: {exc}")]
            ) from exc

    def row_entries(self, shown: str, batch: pa.RecordBatch, first_line: int, rows: Iterable[int]) -> Iterator[Entry]:
        """The entries of the given rows of a batch (0-based within it; its first row is ``first_line``)."""
        wanted = list(rows)
        if not wanted:
            return
        names = batch.schema.names
        for start in range(0, len(wanted), _ROWS):  # as Python values a slice at a time
            some = wanted[start : start + _ROWS]
            picked = batch.take(pa.array(some, pa.int64()))
            columns = [picked.column(i).to_pylist() for i in range(picked.num_columns)]
            for row, values in zip(some, zip(*columns)):
                record, problems = _record(dict(zip(names, values)))
                # the record itself stands for the row: the loader shows it as its JSON line
                # (json_text) only if it is refused, so accepted rows are never serialised twice
                yield Entry(shown, first_line + row, record, [] if problems else [record], problems)

    def entries(self, source: Source) -> Iterator[Entry]:
        line = 1
        for batch in self.column_batches(source):
            yield from self.row_entries(source.shown, batch, line, range(batch.num_rows))
            line += batch.num_rows
