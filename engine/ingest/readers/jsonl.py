"""JSONL (also .ndjson, .json): one JSON object per line, the canonical form of the log.

The loader runs its own tight loop over these lines (see ``ObjectLines``) and
asks ``decode`` only about lines its fast parser refused; ``entries`` gives the
same verdicts one entry at a time, for any other consumer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic_core import from_json

from engine.ingest.readers.base import NOT_UTF8, Entry, Source

__all__ = ["JsonlReader", "decode", "json_error", "not_an_object"]

_JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def not_an_object(value: object) -> str:
    """The problem with a record that is valid JSON but not an object."""
    return f"expected a JSON object, got {_JSON_KINDS.get(type(value), 'not an object')}"


def json_error(exc: ValueError) -> str:
    """The standard parser's words for why a text is not JSON."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})"
    return str(exc)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed (numbers must be finite)")


# json.loads(s, parse_constant=...) would build a decoder per call; reuse one.
# It is the reference parser: its messages are the ones users see.
_standard_decode = json.JSONDecoder(parse_constant=_reject_constant).decode


def decode(raw: bytes) -> dict[str, Any] | str:
    """The JSON object on one line, or the problem with the line.

    pydantic-core's parser is about three times faster than json.loads and
    checks UTF-8 itself. Whenever it succeeds json.loads gives the same value
    (tests/test_ingest.py checks this); when it fails, json.loads is asked, so
    the verdict and the message are always the standard parser's.
    """
    try:
        value: object = from_json(raw, allow_inf_nan=False)
    except ValueError:
        try:
            value = _standard_decode(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return NOT_UTF8
        except ValueError as exc:
            return f"invalid JSON: {json_error(exc)}"
        except RecursionError:
            return "invalid JSON: nested too deeply"
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
