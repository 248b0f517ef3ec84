"""The canonical event (contract v1, shared/spec/EVENTS.md) as a pydantic model.

The model is the single authority on what a valid event is: ingestion's fast
path only takes shortcuts for records the model would accept unchanged, and
every rejection message comes from here, so an input line gets the same
verdict whichever path handles it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from engine.events.checks import event_rules_problems, unknown_field_problem
from engine.events.text import compact_json, describe, utf8_ok
from engine.events.timestamps import EPOCH, ONE_US, TimestampError, parse_timestamp, timestamp_problem
from engine.vocab import ROLES

__all__ = ["Event", "EventRow", "Role", "validate_event"]

# One normalised event as ingestion stores it (before file/line/seq are added):
# id, ts (µs since the Unix epoch, UTC), type, actor, actor_role, manager, rep,
# deal, attrs (compact JSON), source (compact JSON or None).
EventRow = tuple[str, int, str, str, str | None, str | None, str | None, str | None, str, str | None]

Role = Literal["rep", "manager", "executive", "marketing", "ops", "other"]


def _fail(message: str) -> PydanticCustomError:
    # The message goes through the context so braces in values are never
    # taken for template placeholders.
    return PydanticCustomError("salesmirror", "{message}", {"message": message})


def _storable(field: str, text: str) -> None:
    if not utf8_ok(text):
        raise _fail(f"field {field!r} contains a lone surrogate (not valid Unicode)")


def _text(field: str, value: object) -> str:
    if type(value) is not str or not value or value.isspace():
        raise _fail(f"field {field!r} must be a non-empty string, got {describe(value)}")
    _storable(field, value)
    return value


def _required_text(field: str) -> BeforeValidator:
    return BeforeValidator(lambda value: _text(field, value))


def _optional_text(field: str) -> BeforeValidator:
    return BeforeValidator(lambda value: None if value is None else _text(field, value))


def _check_ts(value: object) -> datetime:
    if type(value) is not str:
        raise _fail(f"field 'ts' must be a string (RFC 3339 timestamp or date), got {describe(value)}")
    try:
        micros = parse_timestamp(value)
    except TimestampError as exc:
        raise _fail(timestamp_problem("ts", value, exc.kind)) from None
    return EPOCH + timedelta(microseconds=micros)


def _check_role(value: object) -> object:
    if value is None or (type(value) is str and value in ROLES):
        return value
    raise _fail(f"field 'actor_role' must be one of {', '.join(ROLES)}, got {describe(value)}")


def _json_object(field: str, value: object) -> dict[str, Any]:
    if type(value) is not dict:
        raise _fail(f"field {field!r} must be an object")
    try:
        text = compact_json(value)
    except ValueError as exc:
        raise _fail(f"field {field!r} {exc}") from None
    _storable(field, text)
    return value


def _check_source(value: object) -> object:
    return None if value is None else _json_object("source", value)


def _check_attrs(value: object) -> object:
    return {} if value is None else _json_object("attrs", value)


_TS_SCHEMA: dict[str, Any] = {
    "description": (
        "When it happened: an RFC 3339 timestamp with Z or an offset, or a bare date (YYYY-MM-DD, meaning 00:00 UTC)."
    ),
    "anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
    ],
}
_TEXT = WithJsonSchema({"type": "string", "minLength": 1, "pattern": "\\S"})
_OPTIONAL_TEXT = WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1, "pattern": "\\S"}, {"type": "null"}]})


class Event(BaseModel):
    """One event of the canonical log (envelope plus type-specific attrs)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Event")

    id: Annotated[str, _required_text("id"), _TEXT] = Field(description="Unique within the log.")
    ts: Annotated[datetime, BeforeValidator(_check_ts), WithJsonSchema(_TS_SCHEMA)]
    type: Annotated[str, _required_text("type"), _TEXT] = Field(
        description="What happened: a vocabulary name or a custom one (kept, with a warning)."
    )
    actor: Annotated[str, _required_text("actor"), _TEXT] = Field(description="Id of the person who did it.")
    actor_role: Annotated[Role | None, BeforeValidator(_check_role)] = Field(
        default=None, description="Resolved from the roster when absent."
    )
    manager: Annotated[str | None, _optional_text("manager"), _OPTIONAL_TEXT] = Field(
        default=None,
        description="The manager whose team the event belongs to; from the roster when absent.",
    )
    rep: Annotated[str | None, _optional_text("rep"), _OPTIONAL_TEXT] = Field(
        default=None, description="The rep the event concerns."
    )
    deal: Annotated[str | None, _optional_text("deal"), _OPTIONAL_TEXT] = Field(
        default=None, description="Deal (opportunity) id."
    )
    source: Annotated[dict[str, Any] | None, BeforeValidator(_check_source)] = Field(
        default=None,
        description='Where it came from, e.g. {"system": "salesforce", "object": "Task", '
        '"record_id": "00T..."}; findings cite it as evidence.',
    )
    attrs: Annotated[dict[str, Any], BeforeValidator(_check_attrs)] = Field(
        default_factory=dict,
        description="Type-specific attributes; unknown keys are kept.",
    )

    @model_validator(mode="after")
    def _type_rules(self) -> Event:
        problems = event_rules_problems(
            self.type, {"manager": self.manager, "rep": self.rep, "deal": self.deal}, self.attrs
        )
        if problems:
            raise PydanticCustomError("salesmirror_event", "{message}", {"message": "; ".join(problems)})
        return self

    def to_row(self) -> EventRow:
        """The normalised row ingestion stores (ts as µs since epoch, UTC)."""
        return (
            self.id,
            (self.ts - EPOCH) // ONE_US,
            self.type,
            self.actor,
            self.actor_role,
            self.manager,
            self.rep,
            self.deal,
            compact_json(self.attrs),
            None if self.source is None else compact_json(self.source),
        )


def validate_event(record: dict[str, Any]) -> tuple[Event | None, list[str]]:
    """Validate one decoded record: the event, or every problem found in it."""
    try:
        return Event.model_validate(record), []
    except ValidationError as exc:
        # The input is left out: rendering it can fail on lone surrogates.
        errors = exc.errors(include_url=False, include_input=False)
    problems: list[str] = []
    rules_ran = False
    for err in errors:
        kind = err["type"]
        loc = err["loc"]
        if kind == "salesmirror_event":
            rules_ran = True
            problems.append(err["msg"])
        elif kind == "missing":
            problems.append(f"missing required field {loc[0]!r}")
        elif kind == "extra_forbidden":
            problems.append(unknown_field_problem(str(loc[0])))
        elif kind == "salesmirror":
            problems.append(err["msg"])
        else:  # not expected: every field has its own validator
            where = ".".join(str(part) for part in loc)
            problems.append(f"field {where!r}: {err['msg']}")
    if not rules_ran:
        event_type = record.get("type")
        if type(event_type) is str and event_type:
            problems.extend(event_rules_problems(event_type, record, record.get("attrs")))
    return None, problems
