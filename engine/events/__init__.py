"""The canonical event (contract v1, shared/spec/EVENTS.md): what a valid event is.

- ``model``: the pydantic ``Event``, its normalised ``EventRow`` and ``validate_event``;
- ``checks``: field names and the per-type vocabulary checks (model and fast path);
- ``timestamps``: the one timestamp parser every input path uses;
- ``text``: canonical JSON, short value renderings, the UTF-8 test;
- ``schema``: the JSON Schema published as ``docs/event.schema.json``.
"""

from engine.events.checks import (
    EVENT_FIELDS,
    REQUIRED_ENVELOPE,
    attr_problem,
    attr_value_ok,
    event_rules_problems,
    unknown_field_problem,
)
from engine.events.model import Event, EventRow, Role, validate_event
from engine.events.schema import event_json_schema, schema_text
from engine.events.text import compact_json, describe, python_text, utf8_ok
from engine.events.timestamps import TimestampError, is_date_or_timestamp, parse_timestamp, timestamp_problem

__all__ = [
    "EVENT_FIELDS",
    "REQUIRED_ENVELOPE",
    "Event",
    "EventRow",
    "Role",
    "TimestampError",
    "attr_problem",
    "attr_value_ok",
    "compact_json",
    "describe",
    "event_json_schema",
    "event_rules_problems",
    "is_date_or_timestamp",
    "parse_timestamp",
    "python_text",
    "schema_text",
    "timestamp_problem",
    "unknown_field_problem",
    "utf8_ok",
    "validate_event",
]
