"""Warnings about custom event types: kept, matched only by custom rules, maybe misspelt."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from engine.vocab import EVENT_TYPES

_CUSTOM_WARNINGS = 20  # custom types warned about one by one; the rest in one line


def custom_type_warnings(events: pa.Table | Iterable[tuple[str, int]]) -> set[str]:
    """One warning per custom event type (the most frequent ones; the rest summed up).

    ``events``: a table with a ``type`` column, or (type, count) pairs.
    """
    if isinstance(events, pa.Table):
        counted = pc.value_counts(events.column("type")).to_pylist() if events.num_rows else []
        pairs = [(item["values"], item["counts"]) for item in counted]
    else:
        pairs = list(events)
    custom = sorted(
        ((count, event_type) for event_type, count in pairs if event_type not in EVENT_TYPES),
        key=lambda pair: (-pair[0], pair[1]),
    )
    warnings = set()
    for count, event_type in custom[:_CUSTOM_WARNINGS]:
        noun = "event" if count == 1 else "events"
        warning = f"custom event type {event_type!r} ({count} {noun}) is kept; only custom rules match it"
        warnings.add(warning + unknown_type_hint(event_type))
    rest = custom[_CUSTOM_WARNINGS:]
    if rest:
        total = sum(count for count, _ in rest)
        warnings.add(f"{len(rest)} more custom event types ({total} events) are kept; only custom rules match them")
    return warnings


def unknown_type_hint(event_type: str) -> str:
    """' (did you mean ...?)' when a custom type looks like a misspelt known one."""
    close = difflib.get_close_matches(event_type, list(EVENT_TYPES), n=1, cutoff=0.8)
    return f" (did you mean {close[0]!r}?)" if close else ""
