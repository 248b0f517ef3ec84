"""JSONL (also .ndjson, .json): one JSON object per line, the canonical form of the log.

The loader runs its own tight loop over these lines (see ``ObjectLines``) and
asks ``decode`` only about lines its fast parser refused; ``entries`` gives the
same verdicts one entry at a time, for any other consumer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic_core import from_json

from engine.ingest.jsontext import BadJson, duplicate_key_problem, json_error, not_an_object, parse_json
from engine.ingest.readers.base import NOT_UTF8, Entry, Source

__all__ = ["JsonlReader", "decode", "json_error", "not_an_object"]


def decode(raw: bytes) -> dict[str, Any] | str:
    """The JSON object on one line, or the problem with the line.

    pydantic-core's parser is about three times faster than json.loads and
    checks UTF-8 itself. Whenever it succeeds json.loads gives the same value
    (tests/test_ingest.py checks this); when it fails, json.loads is asked, so
    the verdict and the message are always the standard parser's. A line that
    repeats a key is refused either way (``engine.ingest.jsontext``).
    """
    try:
        value: object = from_json(raw, allow_inf_nan=False)
    except (ValueError, MemoryError):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return NOT_UTF8
        try:
            value = parse_json(text)
        except BadJson as exc:
            return exc.reason if exc.duplicate else f"invalid JSON: {exc.reason}"
    else:
        if type(value) is dict:
            repeat = duplicate_key_problem(raw, value)
            if repeat is not None:
                return repeat
    if type(value) is dict:
        return value
    return not_an_object(value)


class JsonlReader:
    """One JSON object per line; blank lines are skipped and not counted."""

    name = "jsonl"
    extensions = (".jsonl", ".ndjson", ".json")

    def sniff(self, head: bytes) -> bool:
        return head.lstrip()[:1] == b"{"

    def object_lines(self, source: Source) -> Iterator[bytes]:
        return source.lines

    def entries(self, source: Source) -> Iterator[Entry]:
        shown = source.shown
        for lineno, raw in enumerate(source.lines, 1):
            if raw.isspace():
                continue
            found = decode(raw)
            if isinstance(found, str):
                yield Entry(shown, lineno, raw, [], [found])
            else:
                yield Entry(shown, lineno, raw, [found], [])
