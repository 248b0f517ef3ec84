"""The event contract as JSON Schema, published as ``docs/event.schema.json``.

Regenerate the file after changing the model or the vocabulary with
``salesmirror events schema > docs/event.schema.json`` (a test compares it).
"""

from __future__ import annotations

import json
from typing import Any

from engine.events.model import Event
from engine.vocab import EVENT_TYPES, REQUIRED_FIELDS, Attr

__all__ = ["event_json_schema", "schema_text"]

_JSON_TYPES = {
    "str": "string",
    "number": "number",
    "int": "integer",
    "bool": "boolean",
    "list": "array",
}


def _attr_schema(attr: Attr) -> dict[str, Any]:
    if attr.kind == "enum":
        return {"enum": [*attr.values, None]}
    if attr.kind == "date":
        return {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
                {"type": "null"},
            ]
        }
    if attr.kind == "any":
        return {}
    return {"type": [_JSON_TYPES[attr.kind], "null"]}


def event_json_schema() -> dict[str, Any]:
    """JSON Schema of one event line, including the per-type vocabulary rules.

    Published for importers written in other languages; the model stays the
    authority (it also rejects duplicate ids and lone surrogates, which a
    schema cannot express).
    """
    schema = Event.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://salesmirror.dev/schema/event-v1.json"
    schema["description"] = "One event of the salesmirror canonical log (contract v1), one JSON object per line."
    rules: list[dict[str, Any]] = []
    for event_type, spec in EVENT_TYPES.items():
        then: dict[str, Any] = {}
        if spec:
            props = {name: _attr_schema(attr) for name, attr in spec.items()}
            then["properties"] = {"attrs": {"type": "object", "properties": props}}
        needs = REQUIRED_FIELDS.get(event_type)
        if needs:
            then["required"] = list(needs)
        if then:
            rules.append({"if": {"properties": {"type": {"const": event_type}}}, "then": then})
    schema["allOf"] = rules
    return schema


def schema_text() -> str:
    """The exact text of docs/event.schema.json."""
    return json.dumps(event_json_schema(), sort_keys=True, indent=2) + "\n"
