"""The canonical event (contract v1, shared/spec/EVENTS.md) as a pydantic model.

The model is the single authority on what a valid event is: ingestion's fast
path only takes shortcuts for records the model would accept unchanged, and
every rejection message comes from here, so an input line gets the same
verdict whichever path handles it.

Regenerate ``docs/event.schema.json`` after changing the model or the
vocabulary with
``python -c "from engine.events import main; main(['docs/event.schema.json'])"``.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import sys
from datetime import datetime, timedelta, timezone
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

from engine.vocab import EVENT_TYPES, REQUIRED_FIELDS, ROLES, Attr

__all__ = [
    "EVENT_FIELDS",
    "REQUIRED_ENVELOPE",
    "Event",
    "EventRow",
    "TimestampError",
    "attr_problem",
    "attr_value_ok",
    "compact_json",
    "describe",
    "event_json_schema",
    "event_rules_problems",
    "is_date_or_timestamp",
    "main",
    "parse_timestamp",
    "schema_text",
    "timestamp_problem",
    "unknown_field_problem",
    "utf8_ok",
    "validate_event",
]

# Every top-level key an event may carry, in contract order.
EVENT_FIELDS: tuple[str, ...] = (
    "id",
    "ts",
    "type",
    "actor",
    "actor_role",
    "manager",
    "rep",
    "deal",
    "source",
    "attrs",
)
REQUIRED_ENVELOPE: tuple[str, ...] = ("id", "ts", "type", "actor")

# One normalised event as ingestion stores it (before file/line/seq are added):
# id, ts (µs since the Unix epoch, UTC), type, actor, actor_role, manager, rep,
# deal, attrs (compact JSON), source (compact JSON or None).
EventRow = tuple[str, int, str, str, str | None, str | None, str | None, str | None, str, str | None]

Role = Literal["rep", "manager", "executive", "marketing", "ops", "other"]

# Common spellings from other tools, so the unknown-field hint points somewhere useful.
_FIELD_ALIASES = {
    "timestamp": "ts",
    "time": "ts",
    "date": "ts",
    "event_type": "type",
    "kind": "type",
    "event_id": "id",
    "attributes": "attrs",
    "role": "actor_role",
    "owner": "rep",
    "opportunity": "deal",
}


# --------------------------------------------------------------------------- helpers


def describe(value: object) -> str:
    """Show a rejected value briefly: strings quoted, everything else as JSON."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
        if not utf8_ok(text):  # lone surrogates inside: show them escaped
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= 80 else text[:77] + "..."


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# JSONEncoder.encode builds a fresh C encoder on every call; for millions of
# small attrs objects building it once is twice as fast. Same output: sorted
# keys, compact separators, no ASCII escaping, NaN/Infinity refused.
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE: Any = (
    _c_make_encoder(None, None, json.encoder.encode_basestring, None, ":", ",", True, False, False)
    if _c_make_encoder is not None
    else None
)


def compact_json(value: object) -> str:
    """Canonical JSON text for attrs/source, so equal objects give equal strings.

    Raises ValueError for non-finite numbers (JSON has none) and for nesting
    too deep to encode.
    """
    try:
        if _C_ENCODE is not None:
            return "".join(_C_ENCODE(value, 0))
        return _ENCODER.encode(value)
    except RecursionError:
        raise ValueError("is nested too deeply") from None
    except ValueError as exc:
        if "float" in str(exc):
            raise ValueError("holds a non-finite number (NaN or Infinity)") from None
        raise ValueError("holds a number too long to convert") from None


def utf8_ok(text: str) -> bool:
    """False when the text holds lone surrogates (from a ``\\ud800`` escape), which
    cannot be stored as UTF-8 and would break the arrow table later."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --------------------------------------------------------------------------- timestamps

_TS_RE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?",
    re.ASCII,
)
_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
_MIN_US = (1 - _EPOCH_ORDINAL) * 86_400_000_000
_MAX_US = (3652059 + 1 - _EPOCH_ORDINAL) * 86_400_000_000 - 1  # end of 9999-12-31
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_US = timedelta(microseconds=1)


class TimestampError(ValueError):
    """Why a timestamp was refused: 'invalid', 'no_offset' or 'out_of_range'."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _day_us(date_text: str) -> int:
    """µs from the epoch to 00:00 UTC of a YYYY-MM-DD date; ValueError if no such day."""
    days = _DAYS.get(date_text)
    if days is None:
        days = (
            datetime(int(date_text[:4]), int(date_text[5:7]), int(date_text[8:10])).toordinal() - _EPOCH_ORDINAL
        ) * 86_400_000_000
        if len(_DAYS) > 100_000:  # logs cover few distinct days; bound it anyway
            _DAYS.clear()
        _DAYS[date_text] = days
    return days


_DAYS: dict[str, int] = {}  # 'YYYY-MM-DD' -> µs at its midnight, valid dates only
_SECONDS: dict[str, int] = {}  # 'HH:MM:SS' -> µs since midnight, valid times only


def parse_timestamp(text: str) -> int:
    """RFC 3339 timestamp (any offset, any fraction) or bare date -> µs since epoch, UTC.

    A bare date means 00:00 UTC. Fractions finer than a microsecond are
    truncated. Shared by the model and the fast path so both agree exactly.
    """
    # Fast lane for the shape most exporters write, 'YYYY-MM-DDTHH:MM:SS[.fff…]Z':
    # once its date and its time of day have each been parsed before, two dict
    # look-ups replace the parse. The caches only ever hold strings the full
    # parse below accepted, so an exact key match is proof of validity.
    if text[-1:] == "Z" and text[10:11] == "T":
        day = _DAYS.get(text[:10])
        second = _SECONDS.get(text[11:19])
        if day is not None and second is not None:
            if len(text) == 20:
                return day + second
            frac = text[20:-1]
            if text[19] == "." and frac.isdigit() and frac.isascii():
                return day + second + int((frac + "00000")[:6])
    m = _TS_RE.fullmatch(text)
    if m is None:
        raise TimestampError("invalid")
    date_text, hh, mi, ss, frac, tz = m.groups()
    try:
        day = _day_us(date_text)
    except ValueError:
        raise TimestampError("invalid") from None
    if hh is None:
        return day
    h, mn, s = int(hh), int(mi), int(ss)
    if h > 23 or mn > 59 or s > 59:
        raise TimestampError("invalid")
    if len(_SECONDS) < 86_400:
        _SECONDS[f"{hh}:{mi}:{ss}"] = (h * 3600 + mn * 60 + s) * 1_000_000
    if tz is None:
        raise TimestampError("no_offset")
    if tz == "Z" or tz == "z":
        offset = 0
    else:
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 23 or om > 59:
            raise TimestampError("invalid")
        offset = (oh * 3600 + om * 60) * (-1 if tz[0] == "-" else 1)
    value = day + (h * 3600 + mn * 60 + s - offset) * 1_000_000
    if frac:
        value += int((frac + "00000")[:6])
    if value < _MIN_US or value > _MAX_US:
        raise TimestampError("out_of_range")
    return value


def timestamp_problem(field: str, value: str, kind: str) -> str:
    """The message for a refused timestamp in ``field`` (also used for roster start/end)."""
    if kind == "no_offset":
        return f"field {field!r} has no timezone offset: {value!r} (add Z or +hh:mm)"
    if kind == "out_of_range":
        return f"field {field!r} is out of range (years 1 to 9999 in UTC): {value!r}"
    return f"field {field!r} is not an RFC 3339 timestamp or date: {value!r}"


def is_date_or_timestamp(value: str) -> bool:
    """True for a bare date or a complete RFC 3339 timestamp (used by 'date' attrs)."""
    try:
        parse_timestamp(value)
    except TimestampError:
        return False
    return True


# --------------------------------------------------------------------------- attrs vocabulary


def attr_value_ok(attr: Attr, value: object) -> bool:
    """Whether a present, non-null attribute value fits its vocabulary kind."""
    kind = attr.kind
    if kind == "str":
        return type(value) is str
    if kind == "enum":
        return type(value) is str and value in attr.values
    if kind == "number":
        t = type(value)
        return t is int or (t is float and math.isfinite(value))  # type: ignore[arg-type]
    if kind == "int":
        return type(value) is int
    if kind == "bool":
        return type(value) is bool
    if kind == "list":
        return type(value) is list
    if kind == "date":
        return type(value) is str and is_date_or_timestamp(value)
    return True  # "any"


_KIND_WORDS = {
    "str": "a string",
    "number": "a number",
    "int": "an integer",
    "bool": "true or false",
    "list": "a list",
    "date": "a date (YYYY-MM-DD) or RFC 3339 timestamp",
}


def attr_problem(name: str, attr: Attr, value: object) -> str | None:
    """The message for attrs.<name> when its value does not fit, else None.

    Absent and null values are fine: no known attribute is required.
    """
    if value is None or attr_value_ok(attr, value):
        return None
    if attr.kind == "enum":
        return f"attrs.{name} must be one of {', '.join(attr.values)}, got {describe(value)}"
    return f"attrs.{name} must be {_KIND_WORDS[attr.kind]}, got {describe(value)}"


def event_rules_problems(event_type: str, fields: dict[str, Any], attrs: object) -> list[str]:
    """Checks that depend on the type: roster fields it needs, known attribute values.

    Runs on the model after field validation, and on the raw record when field
    validation failed, so one line reports all of its problems together.
    """
    problems = [
        f"{event_type} needs field {name!r}" for name in REQUIRED_FIELDS.get(event_type, ()) if fields.get(name) is None
    ]
    spec = EVENT_TYPES.get(event_type)
    if spec and isinstance(attrs, dict):
        for name, value in attrs.items():
            attr = spec.get(name)
            if attr is not None:
                problem = attr_problem(name, attr, value)
                if problem:
                    problems.append(problem)
    return problems


def unknown_field_problem(name: str) -> str:
    """Message for an unknown top-level key, with the most likely intended one."""
    guess = _FIELD_ALIASES.get(name.lower())
    if guess is None:
        close = difflib.get_close_matches(name, EVENT_FIELDS, n=1)
        if not close:
            close = difflib.get_close_matches(name.lower(), EVENT_FIELDS, n=1)
        guess = close[0] if close else None
    if guess is not None:
        return f"unknown field {name!r} (did you mean {guess!r}?)"
    known_attr = any(name in spec for spec in EVENT_TYPES.values())
    if known_attr:
        return f"unknown field {name!r} (did you mean 'attrs.{name}'?)"
    return f"unknown field {name!r} (custom data belongs under 'attrs')"


# --------------------------------------------------------------------------- the model


def _fail(message: str) -> PydanticCustomError:
    # The message goes through the context so braces in values are never
    # taken for template placeholders.
    return PydanticCustomError("salesmirror", "{message}", {"message": message})


def _text(field: str, value: object) -> str:
    if type(value) is not str or not value or value.isspace():
        raise _fail(f"field {field!r} must be a non-empty string, got {describe(value)}")
    if not utf8_ok(value):
        raise _fail(f"field {field!r} contains a lone surrogate (not valid Unicode)")
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
    return _EPOCH + timedelta(microseconds=micros)


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
    if not utf8_ok(text):
        raise _fail(f"field {field!r} contains a lone surrogate (not valid Unicode)")
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
            (self.ts - _EPOCH) // _ONE_US,
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


# --------------------------------------------------------------------------- JSON Schema


def _attrs_schema(spec: dict[str, Attr]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, attr in spec.items():
        if attr.kind == "enum":
            props[name] = {"enum": [*attr.values, None]}
        elif attr.kind == "date":
            props[name] = {
                "anyOf": [
                    {"type": "string", "format": "date"},
                    {"type": "string", "format": "date-time"},
                    {"type": "null"},
                ]
            }
        elif attr.kind != "any":
            json_type = {
                "str": "string",
                "number": "number",
                "int": "integer",
                "bool": "boolean",
                "list": "array",
            }[attr.kind]
            props[name] = {"type": [json_type, "null"]}
        else:
            props[name] = {}
    return {"type": "object", "properties": props}


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
            then["properties"] = {"attrs": _attrs_schema(spec)}
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


def main(argv: list[str]) -> int:
    """Write the schema to the given path (or print it)."""
    text = schema_text()
    if argv:
        with open(argv[0], "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
