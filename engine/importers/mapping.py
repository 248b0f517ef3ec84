"""The mapping file: how one organisation's CRM conventions become canonical events.

Every org writes its CRM differently: one-on-ones are calendar entries called
"1:1 Anna" or "Weekly sync", calls are Tasks of type "Call" or "Anruf", the
won stage is "Closed Won" or "Gewonnen", loss reasons live in a custom field.
The mapping says so, in YAML, and each importer reads it instead of guessing.

A commented default for each source ships in ``engine/importers/mappings/``.
A user's mapping is laid over it section by section: a top-level key the
user writes replaces the default's section of that name, and the others are
kept, so a mapping that only sets ``timezone`` still finds one-on-ones.

The file is read with the project's positional YAML loader (safe, tags
refused, sizes bounded) and validated by the pydantic models below; every
problem is reported as ``file:line:col`` at once, like rules and config.
"""

from __future__ import annotations

import codecs
import difflib
import re
from datetime import date, tzinfo
from importlib import resources
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, model_validator

from engine.errors import ConfigError, Problem
from engine.lang.yamlpos import Located, YamlProblems, load_located
from engine.vocab import CAUSE_CATEGORIES, EVENT_TYPES, ROLES

__all__ = ["SOURCES", "Mapping", "MappingError", "default_mapping_text", "load_mapping"]

SOURCES = ("salesforce", "hubspot", "gong", "csv")
MethodType = Literal["one_on_one_held", "ride_along", "coaching_session", "team_meeting", "deal_review"]
Cause = Literal[
    "market",
    "competition",
    "product",
    "pricing",
    "timing",
    "execution",
    "qualification",
    "pipeline",
    "skills",
    "process",
]
Outcome = Literal["connected", "voicemail", "no_answer"]
assert set(Cause.__args__) == set(CAUSE_CATEGORIES)  # type: ignore[attr-defined]


class MappingError(ConfigError):
    """The mapping file is invalid (every problem located, file:line:col)."""


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


class CalendarRule(_Base):
    """Calendar entries (Salesforce Event, HubSpot meeting, Gong call title) whose subject matches become this type."""

    pattern: str = Field(description="A regular expression searched in the subject; (?i) for any case.")
    type: MethodType
    focus: Literal["skills", "pipeline", "product", "morale", "admin", "activity"] | None = None
    topic: str | None = None

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        return _regex(value)

    @model_validator(mode="after")
    def _focus_only_for_meetings(self) -> CalendarRule:
        if self.focus is not None and self.type != "team_meeting":
            raise ValueError("focus goes with type team_meeting only")
        if self.topic is not None and self.type != "coaching_session":
            raise ValueError("topic goes with type coaching_session only")
        return self


class Calls(_Base):
    """Which activity records are calls."""

    task_types: list[str] = Field(default_factory=lambda: ["Call"])
    task_subtypes: list[str] = Field(default_factory=lambda: ["Call"])
    # A Task flagged as a call but with no duration was never dialled (a planned call, a to-do).
    require_duration: bool = True
    outcomes: dict[str, Outcome] = Field(default_factory=dict)
    # Gong: calls of these directions are phone calls; the others (Conference, Unknown) are meetings.
    phone_directions: list[str] = Field(default_factory=lambda: ["Inbound", "Outbound"])


class Stages(_Base):
    """Stage names (any language, any case) that are won and lost; every other stage is open."""

    won: list[str] = Field(default_factory=lambda: ["Closed Won"])
    lost: list[str] = Field(default_factory=lambda: ["Closed Lost"])


class LossReason(_Base):
    """The field that holds why a deal was lost, and which cause category each of its values is."""

    field: str | None = None
    values: dict[str, Cause] = Field(default_factory=dict)
    other: Cause | None = Field(default=None, description="The category of values not listed (none: left out).")


class People(_Base):
    """Roles that the export does not say: ids (or, in a mapped CSV, names) of managers, executives, ops."""

    managers: list[str] = Field(default_factory=list)
    executives: list[str] = Field(default_factory=list)
    ops: list[str] = Field(default_factory=list)
    marketing: list[str] = Field(default_factory=list)


class Messages(_Base):
    """Channels (Chatter groups, HubSpot channels) whose posts are team messages, and those that relay from above."""

    team: list[str] = Field(default_factory=list)
    relayed: list[str] = Field(default_factory=list)


class Roster(_Base):
    """How the team structure of the export becomes team membership events."""

    # The hierarchy in an export is a snapshot: it is taken to hold from this date to the end
    # (default: SNAPSHOT_LEAD_DAYS before the first event; see Builder.roster_start).
    start: date | None = None
    hierarchy: Literal["auto", "manager", "role"] = "auto"


class Column(_Base):
    """A value read from a column, through a table of values when given."""

    column: str
    values: dict[str, Any] | None = None
    default: Any = None


class Const(_Base):
    """A fixed value for every row."""

    value: Any


def _source_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "const" if "value" in value else "column"
    if isinstance(value, Column):
        return "column"
    if isinstance(value, Const):
        return "const"
    return "name"


# A column name, {column: NAME, values: {...}, default: ...} or {value: ...}.
Source = Annotated[
    Annotated[str, Tag("name"), Field(min_length=1)]
    | Annotated[Column, Tag("column")]
    | Annotated[Const, Tag("const")],
    Discriminator(_source_kind),
]
_SOURCE_FIELDS = ("ts", "actor", "actor_role", "rep", "manager", "deal")


class CsvEvent(_Base):
    """One canonical event a row of a mapped CSV stands for (when its ``where`` holds)."""

    type: str
    ts: Source
    actor: Source
    actor_role: Source | None = None
    rep: Source | None = None
    manager: Source | None = None
    deal: Source | None = None
    where: dict[str, list[str]] = Field(default_factory=dict)
    attrs: dict[str, Source] = Field(default_factory=dict)
    suffix: str | None = Field(default=None, description="Added to the event id when a row gives several events.")

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in EVENT_TYPES:
            hint = difflib.get_close_matches(value, list(EVENT_TYPES), n=1)
            tip = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ValueError(f"'{value}' is not an event type of the contract{tip}")
        return value

    @model_validator(mode="after")
    def _attrs_known(self) -> CsvEvent:
        known = EVENT_TYPES.get(self.type, {})
        for name in self.attrs:
            if name not in known and name not in ("currency", "name"):
                names = ", ".join(sorted(known)) or "none"
                raise ValueError(f"attrs.{name} is not an attribute of {self.type} (it has: {names})")
        return self


class CsvTable(_Base):
    """One CSV file of a mapped export: its record id column and the events each row gives."""

    file: str
    object: str
    id: str = Field(description="The column holding each record's id (its provenance).")
    events: list[CsvEvent] = Field(min_length=1)


class CsvRoster(_Base):
    """A table of who reports to whom (agent -> manager), with optional start and end columns."""

    file: str
    rep: str
    manager: str
    start: str | None = None
    end: str | None = None


class Mapping(_Base):
    """A whole mapping file."""

    source: Literal["salesforce", "hubspot", "gong", "csv"] | None = None
    timezone: str = "UTC"
    encoding: str = "utf-8"
    dates: Literal["us", "day_first"] = "us"
    currency: str | None = None
    rates: dict[str, float] = Field(default_factory=dict)
    calendar: list[CalendarRule] = Field(default_factory=list)
    calls: Calls = Field(default_factory=Calls)
    stages: Stages = Field(default_factory=Stages)
    loss_reason: LossReason = Field(default_factory=LossReason)
    people: People = Field(default_factory=People)
    messages: Messages = Field(default_factory=Messages)
    roster: Roster = Field(default_factory=Roster)
    teams: dict[str, str] = Field(default_factory=dict)
    tables: list[CsvTable] = Field(default_factory=list)
    team_table: CsvRoster | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            hint = " (an IANA name such as UTC, Europe/Berlin or America/New_York)"
            raise ValueError(f"unknown time zone '{value}'{hint}") from None
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding '{value}' (for example utf-8, cp1252, latin-1)") from None
        return value

    @field_validator("rates")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        for code, rate in value.items():
            if not rate > 0 or rate == float("inf"):
                raise ValueError(f"the rate of {code} must be a positive number")
        return value

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    @property
    def day_first(self) -> bool:
        return self.dates == "day_first"

    def role_of(self, person: str) -> str | None:
        """The role the mapping gives a person, if it names them."""
        people = self.people
        for role, ids in (
            ("manager", people.managers),
            ("executive", people.executives),
            ("ops", people.ops),
            ("marketing", people.marketing),
        ):
            if person in ids:
                assert role in ROLES
                return role
        return None

    def stage_outcome(self, stage: str) -> str:
        """'won', 'lost' or 'open' for a stage name (compared without case or outer spaces)."""
        key = stage.strip().casefold()
        if key in {s.strip().casefold() for s in self.stages.won}:
            return "won"
        if key in {s.strip().casefold() for s in self.stages.lost}:
            return "lost"
        return "open"

    def calendar_type(self, subject: str) -> CalendarRule | None:
        """The first calendar rule whose pattern is found in the subject."""
        for rule in self.calendar:
            if re.search(rule.pattern, subject):
                return rule
        return None

    def cause(self, reason: str) -> str | None:
        """The cause category of a loss-reason value (case-insensitive), or the mapping's 'other'."""
        key = reason.strip().casefold()
        for value, cause in self.loss_reason.values.items():
            if value.strip().casefold() == key:
                return cause
        return self.loss_reason.other if key else None


def default_mapping_text(source: str) -> str:
    """The commented default mapping shipped for a source."""
    return (resources.files("engine.importers") / "mappings" / f"{source}.yaml").read_text(encoding="utf-8")


def _located(text: str | bytes, shown: str) -> tuple[Located, list[Problem]]:
    try:
        return load_located(text, shown), []
    except YamlProblems as exc:
        if exc.doc is None:
            raise MappingError(exc.problems) from None
        return exc.doc, list(exc.problems)


def load_mapping(source: str, path: str | None = None) -> Mapping:
    """The mapping for ``source``: its shipped default, with the user's file (if any) laid over it.

    Raises MappingError listing every problem of the user's file, each at its
    line and column.
    """
    default_doc, problems = _located(default_mapping_text(source), f"<default {source} mapping>")
    assert not problems, problems  # the shipped defaults are tested
    merged: dict[str, Any] = dict(default_doc.data or {})
    docs: dict[str, Located] = {key: default_doc for key in merged}
    user: Located | None = None
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise MappingError([Problem(path, 0, 0, f"cannot read mapping: {exc.strerror or exc}")]) from None
        user, problems = _located(data, path)
        if user.data is None:
            user.data = {}
        if not isinstance(user.data, dict):
            names = ", ".join(Mapping.model_fields)
            raise MappingError([user.problem((), f"invalid mapping: the file must be a mapping of options ({names})")])
        for key, value in user.data.items():
            merged[key] = value
            docs[key] = user
    try:
        mapping = Mapping.model_validate(merged)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            doc = docs.get(str(loc[0]), user or default_doc) if loc else (user or default_doc)
            problems.append(_problem(doc, loc, error))
        raise MappingError(problems) from None
    if problems:
        raise MappingError(problems)
    if mapping.source is not None and mapping.source != source and user is not None:
        raise MappingError([user.problem(("source",), f"invalid mapping: it is for {mapping.source}, not {source}")])
    return mapping


def _problem(doc: Located, loc: tuple[Any, ...], error: Any) -> Problem:
    # A Source field adds the tag of the form it was read as (name, column, const) to the location; drop it.
    loc = tuple(
        part
        for index, part in enumerate(loc)
        if not (
            index
            and part in ("name", "column", "const")
            and (loc[index - 1] in _SOURCE_FIELDS or (index > 1 and loc[index - 2] == "attrs"))
        )
    )
    if error["type"] == "extra_forbidden":
        parent = loc[:-1]
        name = str(loc[-1])
        model: Any = Mapping
        for part in parent:
            field = getattr(model, "model_fields", {}).get(part)
            model = getattr(field, "annotation", None) if field is not None else None
        options = list(getattr(model, "model_fields", {})) if model is not None else []
        hint = difflib.get_close_matches(name, options, n=1)
        tip = f" (did you mean '{hint[0]}'?)" if hint else (f" (options: {', '.join(options)})" if options else "")
        where = ".".join(map(str, parent))
        scope = f" in {where}" if where else ""
        return doc.problem(loc, f"invalid mapping: unknown option '{name}'{scope}{tip}", key=True)
    message = str(error["msg"]).removeprefix("Value error, ")
    return doc.problem(loc, f"invalid mapping: {'.'.join(map(str, loc))}: {message}")
