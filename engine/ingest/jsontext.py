"""JSON read out of an input: one verdict per text, never an exception.

Every place that parses JSON from input (a JSONL line on either path, a CSV
``attrs`` or ``source`` cell, a list-typed CSV cell) comes through here, so
they agree on what is refused and why: text that is not JSON, nesting deeper
than the parser can follow, text too big to hold, and an object naming one
key twice. JSON leaves a repeated key to the parser (most keep the last, some
the first), so such a record is ambiguous and is refused rather than guessed.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "BadJson",
    "count_keys",
    "duplicate_key_problem",
    "json_error",
    "not_an_object",
    "parse_json",
]

_JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}
_LONGEST_PATH = 80  # characters of a key's location shown in a message


class BadJson(ValueError):
    """Why a text was refused.

    ``duplicate``: it is JSON, but an object in it repeats a key; ``beyond``:
    it may be JSON, but too deep or too big to read; neither: it is not JSON.
    """

    def __init__(self, reason: str, *, duplicate: bool = False, beyond: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.duplicate = duplicate
        self.beyond = beyond


def not_an_object(value: object) -> str:
    """The problem with a record that is valid JSON but not an object."""
    return f"expected a JSON object, got {_JSON_KINDS.get(type(value), 'not an object')}"


def json_error(exc: ValueError) -> str:
    """The standard parser's words for why a text is not JSON."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})"
    text = str(exc)
    if "integer string conversion" in text:  # Python's own limit, worded for users
        return "a number has too many digits"
    return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed (numbers must be finite)")


class _Repeats(dict[str, Any]):
    """An object in which a key appeared more than once (the first such key is ``key``)."""

    key = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            marked = _Repeats(obj)
            marked.key = key
            return marked
        seen.add(key)
    return obj  # not reached: a shorter dict means a repeated key


# One decoder for every call (json.loads would build one each time); its
# messages are the ones users see.
_decode = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_pairs).decode


# A location inside a parsed value, as a chain of (parent, step) pairs built
# only as deep as the walk goes; turned into text only for the message.
_Path = tuple["_Path", str] | None


def _where(path: _Path) -> str:
    steps: list[str] = []
    while path is not None:
        path, step = path
        steps.append(step)
    text = "".join(reversed(steps)).lstrip(".")
    return text if len(text) <= _LONGEST_PATH else text[: _LONGEST_PATH - 3] + "..."


def _first_repeat(value: object, where: str) -> str | None:
    """The message for the first object (in document order) that repeats a key, if any."""
    stack: list[tuple[object, _Path]] = [(value, (None, where) if where else None)]
    while stack:
        item, path = stack.pop()
        if type(item) is _Repeats:
            place = _where(path)
            return f"duplicate key {item.key!r}" + (f" in {place}" if place else "")
        if isinstance(item, dict):
            children = [(child, (path, f".{key}")) for key, child in item.items() if isinstance(child, (dict, list))]
        elif isinstance(item, list):
            children = [
                (child, (path, f"[{index}]")) for index, child in enumerate(item) if isinstance(child, (dict, list))
            ]
        else:
            continue
        stack.extend(reversed(children))
    return None


def parse_json(text: str, where: str = "") -> object:
    """The value a JSON text holds; BadJson when it is not JSON or repeats a key.

    ``where`` names the text's place in a record (``attrs``) for the message
    about a repeated key: ``duplicate key 'focus' in attrs``.
    """
    try:
        value: object = _decode(text)
    except RecursionError:
        raise BadJson("nested too deeply", beyond=True) from None
    except MemoryError:
        raise BadJson("too large to parse", beyond=True) from None
    except ValueError as exc:
        raise BadJson(json_error(exc)) from None
    repeat = _first_repeat(value, where)
    if repeat is not None:
        raise BadJson(repeat, duplicate=True)
    return value


def count_keys(value: object) -> int:
    """How many keys the objects in a parsed value hold, nested ones included."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            total += len(item)
            stack.extend(child for child in item.values() if type(child) is dict or type(child) is list)
        elif type(item) is list:
            stack.extend(child for child in item if type(child) is dict or type(child) is list)
    return total


def duplicate_key_problem(raw: bytes, obj: dict[str, Any]) -> str | None:
    """'duplicate key ...' when the JSON line ``raw``, parsed leniently into ``obj``, repeats a key.

    Fast parsers keep the last of repeated keys without a word, so the line's
    text is weighed against the parsed value, in two steps:

    1. (inlined in the loader's hot loop, which calls this only when it fails)
       Outside strings, JSON has a colon after each key and nowhere else, so
       a line holds as many colons as it has keys plus the colons inside its
       strings; without backslashes the strings are verbatim, so the parsed
       value shows the same count exactly when no key was dropped. Counting
       only the top-level, ``attrs`` and ``source`` keys and the colons of
       ``ts`` undercounts, so ``colons <= that`` proves there is no repeat.
    2. (here) Every key ends with a quote or a blank just before its colon,
       so those marks are at least as many as the keys; when the parsed value
       holds as many keys as there are marks (it nearly always does), nothing
       was repeated; otherwise (a repeat, or a mark inside a string) the line
       is parsed again, carefully, and only a real repeat is refused.
    """
    marks = raw.count(b'":') + raw.count(b" :") + raw.count(b"\t:") + raw.count(b"\r:")
    if marks <= len(obj) or marks <= count_keys(obj):
        return None
    try:
        parse_json(raw.decode("utf-8"))
    except BadJson as exc:
        return exc.reason if exc.duplicate else None
    except UnicodeDecodeError:  # not reached: the lenient parser checked the UTF-8
        return None
    return None
