"""The entry points of ingestion: files and stdin (:func:`load_events`), records in memory
(:func:`load_records`). Both run the one acceptance path of ``engine.ingest.loader``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from typing import BinaryIO

from engine.events import utf8_ok
from engine.ingest.jsontext import not_an_object
from engine.ingest.loader import _Input, _Loader
from engine.ingest.readers import Entry, get_reader, json_text
from engine.ingest.results import LoadResult

__all__ = ["load_events", "load_records"]


def load_events(
    paths: Sequence[str],
    *,
    roster: str | None = None,
    stdin: BinaryIO | None = None,
    raise_input_errors: bool = True,
    records: Sequence[tuple[str, Iterable[object]]] = (),
) -> LoadResult:
    """Read every input (roster first, then paths in order) into one LoadResult.

    Each path's format comes from the reader registry (``engine.ingest.readers``).
    Per-record problems are collected, never raised. Every input is read even
    when another cannot be: the problems of inputs unusable as a whole go to
    ``LoadResult.input_errors``, all of them, located (``path:0`` for a file
    that cannot be read, the header's line for a bad CSV header). Then, with
    ``raise_input_errors`` (the default), they are raised together as one
    InputError (and nothing else); without it the result is returned and the
    caller reports them beside the per-record problems (and must not
    evaluate the table, which holds only what could be read).

    ``records`` are further inputs given from memory, each as (name, records):
    an import of a CRM export (``engine.importers``), validated as
    :func:`load_records` validates, after the files.
    """
    with ExitStack() as keep:
        loader = _Loader(keep)
        if roster is not None:
            loader.load(roster, get_reader("roster"), stdin)
        for path in paths:
            loader.load(path, None, stdin)
        for name, items in records:
            _take_records(loader, items, name)
        result = loader.result()
    if raise_input_errors:
        result.raise_input_errors()
    return result


def load_records(records: Iterable[object], *, name: str = "<memory>") -> LoadResult:
    """Validate records given from memory exactly as if they were lines of a JSONL file.

    Problems name the input ``name`` and the record's 1-based position; their
    ``raw`` is the record as JSON. Nothing is raised for a bad record. The
    accepted records are referenced (not copied) until it returns.
    """
    with ExitStack() as keep:
        loader = _Loader(keep)
        _take_records(loader, records, name)
        return loader.result()


def _take_records(loader: _Loader, records: Iterable[object], name: str) -> None:
    shown = name if utf8_ok(name) else name.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    loader.inputs.append(_Input(name, shown, memory={}))
    loader.take(len(loader.inputs) - 1, _memory_entries(records, name))


def _memory_entries(records: Iterable[object], name: str) -> Iterator[Entry]:
    for position, record in enumerate(records, 1):
        if type(record) is dict:
            yield Entry(name, position, record, [record], [])
        else:
            yield Entry(name, position, json_text(record), [], [not_an_object(record)])
