"""The shortcut for the common, valid record.

Building a pydantic model per event costs tens of microseconds; a log of
millions of events is mostly well-formed, so plain dict checks handle those
and anything unusual is handed to the model. The contract: ``fast_row`` returns
a row only when ``Event.model_validate`` would accept the record and
``to_row()`` would give the identical tuple; otherwise it returns None and the
caller asks the model (which then accepts it or explains why not).
"""

from __future__ import annotations

from typing import Any, TypeGuard

from engine.events import (
    EVENT_FIELDS,
    EventRow,
    TimestampError,
    attr_value_ok,
    compact_json,
    parse_timestamp,
    utf8_ok,
)
from engine.vocab import EVENT_TYPES, REQUIRED_FIELDS, ROLES

__all__ = ["fast_row"]

_FIELDS = frozenset(EVENT_FIELDS)
_ROLES = frozenset(ROLES)


def _text_ok(value: object) -> TypeGuard[str]:
    """The model's rule for id/type/actor/manager/rep/deal, as a predicate."""
    return type(value) is str and value != "" and not value.isspace() and (value.isascii() or utf8_ok(value))


def _json_or_none(value: dict[str, Any]) -> str | None:
    try:
        text = compact_json(value)
    except ValueError:
        return None
    return text if text.isascii() or utf8_ok(text) else None


def fast_row(obj: dict[str, Any]) -> EventRow | None:
    """The normalised row for a record that is plainly valid, else None.

    The inline string tests accept only plain ASCII text; anything else goes
    through ``_text_ok``, the full rule, so inlining never widens acceptance.
    """
    if not obj.keys() <= _FIELDS:
        return None
    get = obj.get
    event_id = get("id")
    event_type = get("type")
    actor = get("actor")
    ts = get("ts")
    # Plain ASCII text starting with a visible character is certainly valid;
    # anything else gets the full rule.
    if not (type(event_id) is str and event_id.isascii() and event_id[:1] > " ") and not (_text_ok(event_id)):
        return None
    if not (type(event_type) is str and event_type.isascii() and event_type[:1] > " ") and not _text_ok(event_type):
        return None
    if not (type(actor) is str and actor.isascii() and actor[:1] > " ") and not _text_ok(actor):
        return None
    if type(ts) is not str:
        return None
    try:
        micros = parse_timestamp(ts)
    except TimestampError:
        return None

    role = get("actor_role")
    if role is not None and (type(role) is not str or role not in _ROLES):
        return None
    manager = get("manager")
    if (
        manager is not None
        and not (type(manager) is str and manager.isascii() and manager[:1] > " ")
        and not _text_ok(manager)
    ):
        return None
    rep = get("rep")
    if rep is not None and not (type(rep) is str and rep.isascii() and rep[:1] > " ") and not _text_ok(rep):
        return None
    deal = get("deal")
    if deal is not None and not (type(deal) is str and deal.isascii() and deal[:1] > " ") and not _text_ok(deal):
        return None

    needs = REQUIRED_FIELDS.get(event_type)
    if needs:
        for name in needs:
            if get(name) is None:
                return None

    attrs = get("attrs")
    if not attrs:
        if attrs is not None and attrs != {}:  # [], "", 0, false: not an object
            return None
        attrs_json = "{}"
    elif type(attrs) is dict:
        spec = EVENT_TYPES.get(event_type)
        if spec:
            for key, value in attrs.items():
                attr = spec.get(key)
                if attr is not None and value is not None and not attr_value_ok(attr, value):
                    return None
        encoded = _json_or_none(attrs)
        if encoded is None:
            return None
        attrs_json = encoded
    else:
        return None

    source = get("source")
    if source is None:
        source_json = None
    elif type(source) is dict:
        source_json = _json_or_none(source)
        if source_json is None:
            return None
    else:
        return None

    return (event_id, micros, event_type, actor, role, manager, rep, deal, attrs_json, source_json)
