"""Pydantic models of a rule file: the single source of the rule schema.

Conditions (``where``) are kept as plain mappings here and checked by the
compiler, which knows the event vocabulary, named lists and macros; their
shape is still described in the published JSON Schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Condition = dict[str, Any]
Scalar = str | int | float | bool
GroupField = Annotated[str, Field(pattern=r"^(manager|rep|deal|attrs\.[A-Za-z_][A-Za-z0-9_]*)$")]
Op = Literal["gt", "gte", "lt", "lte", "eq", "ne"]
ParamRef = str  # "$name" wherever a number or duration may stand


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParamSpec(Strict):
    """A typed rule parameter with its default and a line of documentation."""

    type: Literal["int", "float", "duration", "str", "bool", "list"]
    default: Any
    doc: str = Field(min_length=1)
    min: float | None = None
    max: float | None = None


class Docs(Strict):
    """What a reader needs to trust (or dismiss) a finding."""

    why: str = Field(min_length=1, description="Why the pattern hurts the team.")
    instead: str = Field(min_length=1, description="What a good manager does instead.")
    false_positives: str | list[str] = Field(description="When the rule is wrong.")
    references: list[str] = []


class Window(Strict):
    """Exactly one of ``whole``, ``sliding`` or ``calendar``."""

    whole: bool | None = None
    sliding: str | None = Field(None, description="A duration such as 30d, or $param.")
    calendar: Literal["week", "month", "quarter"] | None = None
    min_coverage: float = Field(
        0.75,
        ge=0,
        le=1,
        description="Calendar windows: share of the period the manager must have led the "
        "group (and the log must cover) for it to be assessed.",
    )
    min_days: float = Field(0, ge=0, description="Whole windows: fewer led days than this is not assessed.")
    prorate: bool = Field(
        True,
        description="Scale count and sum thresholds by the covered share of a calendar period.",
    )


class Metric(Strict):
    """An aggregate over qualifying events; ``count`` when nothing else is set."""

    count: bool | None = None
    distinct: str | None = None
    sum: str | None = None
    avg: str | None = None
    max: str | None = None
    min: str | None = None
    name: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class Also(Strict):
    """An extra aggregate condition that must hold as well."""

    metric: Metric
    op: Op
    value: float | int | ParamRef


class DeriveSpec(Strict):
    """A per-event computed value (text predicates and list lengths)."""

    similarity: list[str] | None = Field(
        None, description="Two fields; 1.0 means identical after normalising case and spaces."
    )
    added_words: list[str] | None = Field(
        None, description="Two fields, original then new: distinct words of the new text not in the original."
    )
    lexicon: str | None = Field(None, description="Field whose words are scored against `words`.")
    words: str | list[str] | None = Field(None, description="@list name or inline words.")
    specificity: str | None = Field(
        None, description="Field; counts concrete tokens: numbers, dates, ids, names, work objects."
    )
    length: str | None = Field(None, description="Field holding a list; its length.")
    word_count: str | None = None


class Unless(Strict):
    """Leave out qualifying events that closely follow another kind of event on the same keys."""

    where: Condition
    same: list[str] = Field(min_length=1, description="Fields both events share (e.g. rep).")
    within: str = Field(description="How long before the qualifying event the other one counts.")


class Base(Strict):
    where: Condition = Field(default_factory=dict)
    unless: Unless | None = Field(
        None, description="Drop events that follow a matching event on the same keys within a time."
    )
    derive: dict[str, DeriveSpec] = Field(default_factory=dict)
    group_by: list[GroupField] = Field(
        default_factory=lambda: ["manager"],
        description="manager (always added), rep, deal and attrs.<name>, in any combination.",
    )
    window: Literal["whole"] | Window = "whole"

    @field_validator("group_by")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("group_by lists a field twice")
        return value


class MatchLogic(Base):
    kind: Literal["match"]
    min_events: int | ParamRef = 1


class ThresholdLogic(Base):
    kind: Literal["threshold"]
    metric: Metric = Field(default_factory=lambda: Metric(count=True, name=None))
    op: Op
    value: float | int | ParamRef
    min_events: int | ParamRef = 0
    also: list[Also] = []


class Part(Strict):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    where: Condition


class RatioLogic(Base):
    kind: Literal["ratio"]
    numerator: Part
    denominator: Part
    op: Op
    value: float | int | ParamRef
    min_numerator: int | ParamRef = 1
    min_denominator: int | ParamRef = 1


class Step(Strict):
    where: Condition


class Quiet(Strict):
    """No qualifying event on the same keys for ``within`` before the second step."""

    where: Condition
    within: str


class Pair(Strict):
    left: str
    op: Literal["eq", "ne", "lt", "lte", "gt", "gte"] = "eq"
    right: str


class SequenceLogic(Base):
    kind: Literal["sequence"]
    first: Step
    then: Step
    within: str = Field(description="Max time from the first step to the second (duration or $param).")
    same: list[str] = Field(default_factory=list, description="Fields both steps must share (same deal, same rep...).")
    pairs: list[Pair] = Field(default_factory=list, description="Cross-event conditions.")
    first_min: int | ParamRef = Field(1, description="The second step needs this many first steps before it.")
    absent: bool = Field(False, description="Fire when the second step does NOT follow in time.")
    without: Quiet | None = Field(None, description="The second step counts only after a quiet spell.")
    before: str | None = Field(
        None,
        description="With absent: a second step up to this long BEFORE the first also answers it "
        "(a plan already running).",
    )
    op: Op = "gte"
    value: float | int | ParamRef = 1


class AbsenceLogic(Base):
    kind: Literal["absence"]
    max_gap: str = Field(description="Longest tolerated gap without a qualifying event.")


class ConcurrencyLogic(Base):
    kind: Literal["concurrency"]
    key: Literal["deal", "rep"] = Field("deal", description="What is open: one item per distinct key.")
    open: Step = Field(description="Events showing the item is open; its first one opens it.")
    close: Step = Field(description="Events that close the item (the first after it opened).")
    measure: Literal["avg", "max", "min"] = Field(
        "avg", description="Of the daily counts of open items in the window (sampled at noon UTC)."
    )
    name: str = Field("open_items", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    op: Op
    value: float | int | ParamRef


Logic = Annotated[
    MatchLogic | ThresholdLogic | RatioLogic | SequenceLogic | AbsenceLogic | ConcurrencyLogic,
    Field(discriminator="kind"),
]


class Rule(Strict):
    """One rule file."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)+$")
    trait: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    severity: Literal["low", "medium", "high"]
    status: Literal["experimental", "stable", "deprecated"] = "stable"
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    logic: Logic
    message: str = Field(min_length=1)
    advice: str = Field(min_length=1)
    docs: Docs


class Library(Strict):
    """A ``_*.yaml`` file of named lists and macros shared by the rules of a set."""

    lists: dict[str, list[Scalar]] = Field(default_factory=dict)
    macros: dict[str, Condition] = Field(default_factory=dict)


def rule_json_schema() -> dict[str, Any]:
    """The JSON Schema editors use to validate rule files."""
    schema = Rule.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "salesmirror rule"
    return schema
