"""The event vocabulary of contract v1 (shared/spec/EVENTS.md), as data.

Ingestion validates known attributes against it and the rule compiler checks
field references against it, so a misspelled ``attrs.fcus`` fails when the
rule is loaded rather than silently matching nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AttrKind = Literal["str", "int", "number", "bool", "date", "list", "enum", "any"]

ROLES = ("rep", "manager", "executive", "marketing", "ops", "other")
REMOVAL_REASONS = ("resigned", "terminated", "transferred", "promoted")
CAUSE_CATEGORIES = (
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
)

# The forecast categories a deal review may leave a deal in (an extension of contract v1).
FORECAST_CATEGORIES = ("omitted", "pipeline", "best_case", "commit", "closed")


@dataclass(frozen=True)
class Attr:
    """One attribute of an event type: its kind and, for enums, the allowed values."""

    kind: AttrKind
    values: tuple[str, ...] = ()


def _enum(*values: str) -> Attr:
    return Attr("enum", values)


# Envelope fields a rule may reference directly.
ENVELOPE_FIELDS = ("id", "ts", "type", "actor", "actor_role", "manager", "rep", "deal")
# Fields the engine adds to every event from the roster.
ROSTER_FIELDS = ("rep_on_team",)

EVENT_TYPES: dict[str, dict[str, Attr]] = {
    # roster
    "team_member_added": {"role": Attr("str")},
    "team_member_removed": {"reason": _enum(*REMOVAL_REASONS)},
    # availability: the actor is the person away, both dates included
    "person_absent": {
        "from": Attr("date"),
        "to": Attr("date"),
        "reason": _enum("vacation", "sick", "leave", "training", "other"),
    },
    # selling
    "call_logged": {
        "duration_s": Attr("number"),
        "outcome": _enum("connected", "voicemail", "no_answer"),
    },
    "email_sent": {},
    "meeting_held": {"with_customer": Attr("bool"), "participants": Attr("list")},
    "deal_created": {
        "amount": Attr("number"),
        "stage": Attr("str"),
        "close_date": Attr("date"),
        "currency": Attr("str"),  # extension (docs/IMPORTERS.md): the amount's currency, from CRM exports
    },
    "deal_stage_changed": {"from": Attr("str"), "to": Attr("str"), "probability": Attr("number")},
    "close_date_pushed": {"from": Attr("date"), "to": Attr("date")},
    "deal_owner_changed": {"from": Attr("str"), "to": Attr("str"), "to_role": _enum(*ROLES)},
    # extensions (docs/IMPORTERS.md): the amount's currency and the CRM's own stage name
    "deal_closed_won": {"amount": Attr("number"), "currency": Attr("str"), "stage": Attr("str")},
    "deal_closed_lost": {"reason": Attr("str"), "reason_category": Attr("str"), "stage": Attr("str")},
    "quota_result": {"period": Attr("str"), "attainment": Attr("number")},
    # manager method
    "one_on_one_held": {"duration_min": Attr("number")},
    "call_listened": {"feedback_given": Attr("bool")},
    "ride_along": {},
    "coaching_session": {"topic": Attr("str")},
    # forecast_category is an extension of contract v1 (docs/TRAITS.md, "Vocabulary extensions"):
    # the forecast category the review leaves the deal in, as CRMs name them
    "deal_review": {
        "decision": _enum("advance", "continue", "disqualify", "escalate"),
        "forecast_category": _enum(*FORECAST_CATEGORIES),
    },
    "team_meeting": {"focus": _enum("skills", "pipeline", "product", "morale", "admin", "activity")},
    "performance_plan_started": {},
    # manager morale
    "team_event": {"kind": _enum("celebration", "contest", "party", "pep_talk", "offsite")},
    "recognition_given": {},
    # manager direction
    "activity_mandate_set": {
        "metric": _enum("calls", "emails", "meetings", "visits"),
        "quota": Attr("int"),
        "per": _enum("day", "week", "month"),
    },
    "strategy_changed": {
        "area": _enum("target_market", "messaging", "focus_product", "territory", "process", "priorities"),
        "summary": Attr("str"),
    },
    "kpi_set": {"kpis": Attr("list")},
    "target_assigned": {"amount": Attr("number"), "period": Attr("str"), "currency": Attr("str")},  # currency: ext.
    # manager admin
    "report_generated": {"report": Attr("str")},
    "forecast_updated": {},
    "commission_split_adjusted": {"split": Attr("any")},
    "deal_allocation_changed": {"from": Attr("str"), "to": Attr("str")},
    # communication
    "message_sent": {"audience": _enum("team", "rep"), "text": Attr("str")},
    "message_relayed": {
        "source": Attr("str"),
        "original_text": Attr("str"),
        "text": Attr("str"),
    },
    "forecast_miss_explained": {
        "period": Attr("str"),
        "cause_category": _enum(*CAUSE_CATEGORIES),
        "text": Attr("str"),
    },
}

# The families of the vocabulary (its sections in the contract). Logging of a family
# starts and stops per team: a coaching tool rolled out mid-quarter, an admin system
# connected late. A custom type is a family of its own ("type:<name>").
FAMILIES: dict[str, tuple[str, ...]] = {
    "roster": ("team_member_added", "team_member_removed", "person_absent"),
    "selling": (
        "call_logged",
        "email_sent",
        "meeting_held",
        "deal_created",
        "deal_stage_changed",
        "close_date_pushed",
        "deal_owner_changed",
        "deal_closed_won",
        "deal_closed_lost",
        "quota_result",
    ),
    # Manager method, split by the tool that usually logs it: a calendar or one-on-one app,
    # a call recorder, the CRM's own activities. Each can be connected (or not) on its own.
    "one_on_ones": ("one_on_one_held",),
    "listening": ("call_listened",),
    "field": ("ride_along", "coaching_session"),
    "method": ("deal_review", "team_meeting", "performance_plan_started"),
    "morale": ("team_event", "recognition_given"),
    "direction": ("activity_mandate_set", "strategy_changed", "kpi_set", "target_assigned"),
    "admin": ("report_generated", "forecast_updated", "commission_split_adjusted", "deal_allocation_changed"),
    "communication": ("message_sent", "message_relayed", "forecast_miss_explained"),
}
FAMILY_OF: dict[str, str] = {t: family for family, types in FAMILIES.items() for t in types}
FAMILY_WORDS = {
    "selling": "selling (calls, emails, meetings, deal changes, quota results)",
    "one_on_ones": "one-on-one",
    "listening": "listened-call",
    "field": "ride-along and coaching-session",
    "method": "deal-review, team-meeting and performance-plan",
    "morale": "morale (team events, recognition)",
    "direction": "direction (activity mandates, strategy changes, KPIs, targets)",
    "admin": "admin (reports, forecasts, commission splits, deal allocations)",
    "communication": "communication (messages, relayed messages, forecast-miss explanations)",
}


def family_of(event_type: str) -> str:
    """The family an event type is logged with (a custom type is its own)."""
    return FAMILY_OF.get(event_type, f"type:{event_type}")


def family_words(family: str) -> str:
    """A family in words, for findings and not-assessed reasons."""
    if family.startswith("type:"):
        return f"'{family[5:]}'"
    return FAMILY_WORDS.get(family, family)


# Envelope fields each roster type needs beyond the common required ones.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "team_member_added": ("manager", "rep"),
    "team_member_removed": ("manager", "rep"),
}

TRAITS = (
    "cheerleader",
    "drum-banger",
    "turnaround-promoter",
    "glory-grabber",
    "excuse-maker",
    "detached-dictator",
    "spreadsheet-jockey",
    "platitude-peddler",
    "knee-jerk-reactionary",
    "regurgitator",
)


def known_attrs(types: set[str] | None = None) -> set[str]:
    """Attribute names known for the given types (all types when None)."""
    chosen = EVENT_TYPES if types is None else {t: EVENT_TYPES[t] for t in types if t in EVENT_TYPES}
    return {name for attrs in chosen.values() for name in attrs}
