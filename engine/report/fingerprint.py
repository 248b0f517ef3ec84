"""Stable fingerprints of findings, and matching two sets of findings by them.

A fingerprint says *what* a finding is about, never *where in a log* it was
seen: the rule, the manager, the rep or deal when the finding is about one,
any other group key (a forecast period, say) and the period the finding
covers. Event ids, evidence, file names and line numbers stay out of it, so
adding events that do not touch the finding, re-ordering the log, or importing
the same export again under another name leaves it as it was. Baselines
(``engine.report.baseline``), SARIF's ``partialFingerprints`` and the HR
audit's new/persisting/resolved marks all rest on it.

The period is chosen so that a log that grows (a nightly export with one more
day) or starts earlier (a re-import with older events) changes it as seldom
as it can:

* a rule judged over the whole time led says ``led``: its window starts where
  the manager's time in the log starts, which moves whenever the log does;
* a calendar rule says its unit and the first day of the calendar period the
  finding starts in (``month:2026-01-01``): a finding that runs on into later
  months keeps it, and so does one whose first, partial month fills up;
* a sliding-window rule says the day of its first qualifying event
  (``from:2026-01-14``), which later events cannot move.

Where a period moves all the same (older events make an earlier month fire
too, so the finding starts a month sooner), :func:`compare` matches what is
left over by everything but the period, when the two windows overlap or
touch: it is the same pattern, seen over more of the log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from engine.report.model import Finding, iso

__all__ = ["Comparison", "Mark", "compare", "fingerprint", "identity", "mark", "period"]

VERSION = "salesmirror-finding/1"
"""Part of every fingerprint: a change of what goes into one changes this, so old and new never mix."""

_CALENDAR = ("week", "month", "quarter")


def _period_start(moment: datetime, unit: str) -> datetime:
    """The first day of the ISO week, month or quarter holding ``moment``, as the rule plans cut them."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "quarter":
        return day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
    return day.replace(day=1)


def period(finding: Finding) -> str:
    """The period a finding covers, as its fingerprint names it (see the module's docstring)."""
    window = str(finding.threshold.get("window") or "")
    if window == "whole":
        return "led"
    if window in _CALENDAR:
        return f"{window}:{_period_start(finding.window_start, window).date().isoformat()}"
    return f"from:{finding.window_start.date().isoformat()}"


Identity = tuple[str, str, str | None, str | None, tuple[tuple[str, str | None], ...]]
"""(rule, manager, rep, deal, other group keys): everything a fingerprint holds but the period."""


def identity(finding: Finding) -> Identity:
    """Who and what a finding is about, whatever the period."""
    group = tuple(sorted((str(k), None if v is None else str(v)) for k, v in finding.group.items()))
    return (finding.rule, finding.manager, finding.rep or None, finding.deal or None, group)


def _digest(who: Identity, when: str) -> str:
    rule, manager, rep, deal, group = who
    text = json.dumps([VERSION, rule, manager, rep, deal, [list(g) for g in group], when], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def fingerprint(finding: Finding) -> str:
    """The finding's stable fingerprint: 32 hex digits.

    A finding made by ``engine.evaluate`` carries it already (``finding.fingerprint``),
    computed before any redaction, so a redacted report keeps the fingerprints of
    the people it hides and still matches a baseline; anything else is computed
    from the finding's fields.
    """
    return finding.fingerprint or _digest(identity(finding), period(finding))


@dataclass(frozen=True)
class Mark:
    """What is remembered of a finding to recognise it later: a baseline entry.

    Besides the fingerprint it keeps what a reader needs to see which finding it
    was, and the window, which :func:`compare` uses when a period has moved.
    """

    fingerprint: str
    rule: str
    manager: str
    rep: str | None
    deal: str | None
    group: tuple[tuple[str, str | None], ...]
    period: str
    window_start: datetime
    window_end: datetime
    severity: str
    title: str = ""

    @property
    def identity(self) -> Identity:
        return (self.rule, self.manager, self.rep, self.deal, self.group)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "manager": self.manager,
            "rep": self.rep,
            "deal": self.deal,
            "group": dict(self.group),
            "period": self.period,
            "window": {"start": iso(self.window_start), "end": iso(self.window_end)},
            "severity": self.severity,
            "title": self.title,
        }


def mark(finding: Finding) -> Mark:
    """The :class:`Mark` of a finding."""
    who = identity(finding)
    return Mark(
        fingerprint=fingerprint(finding),
        rule=who[0],
        manager=who[1],
        rep=who[2],
        deal=who[3],
        group=who[4],
        period=period(finding),
        window_start=finding.window_start,
        window_end=finding.window_end,
        severity=finding.severity,
        title=finding.title,
    )


def _as_mark(item: Finding | Mark) -> Mark:
    return item if isinstance(item, Mark) else mark(item)


B = TypeVar("B", Finding, Mark)
A = TypeVar("A", Finding, Mark)


@dataclass
class Comparison(Generic[B, A]):
    """Two sets of findings matched: what is new, what persists (before, after), what has gone.

    ``moved`` holds the persisting pairs matched by identity and overlapping
    windows rather than by fingerprint (the period moved); they are in
    ``persisting`` too.
    """

    new: list[A] = field(default_factory=list)
    persisting: list[tuple[B, A]] = field(default_factory=list)
    gone: list[B] = field(default_factory=list)
    moved: list[tuple[B, A]] = field(default_factory=list)


def _order(item: Mark) -> tuple[Any, ...]:
    return (item.fingerprint, item.window_start, item.window_end, item.severity, item.title)


def _by_identity(item: Mark) -> tuple[Any, ...]:
    """Identity as a sort key (no ``None``, which does not compare with text)."""
    group = tuple((key, value or "") for key, value in item.group)
    return (item.rule, item.manager, item.rep or "", item.deal or "", group)


def compare(before: Sequence[B], after: Sequence[A]) -> Comparison[B, A]:
    """Match ``after`` against ``before``; the result does not depend on either list's order.

    First by fingerprint: equal fingerprints pair up in window order (a manager who
    led a team twice can have two findings with one fingerprint). Then what is
    left of each side by identity (rule, manager, rep, deal, group keys), when the
    windows overlap or touch, earliest first. Findings or marks may be given on
    either side, so one period's findings can be compared with the next period's
    (``compare(q1.findings, q2.findings)``) or with a baseline file's marks.
    """
    old = sorted(((_as_mark(b), b) for b in before), key=lambda pair: _order(pair[0]))
    new = sorted(((_as_mark(a), a) for a in after), key=lambda pair: _order(pair[0]))
    result: Comparison[B, A] = Comparison()
    by_print: dict[str, list[int]] = {}
    for index, (m, _) in enumerate(old):
        by_print.setdefault(m.fingerprint, []).append(index)
    taken: set[int] = set()
    unmatched: list[tuple[Mark, A]] = []
    for m, item in new:
        waiting = by_print.get(m.fingerprint)
        if waiting:
            index = waiting.pop(0)
            taken.add(index)
            result.persisting.append((old[index][1], item))
        else:
            unmatched.append((m, item))
    left = [index for index in range(len(old)) if index not in taken]
    for m, item in sorted(unmatched, key=lambda pair: (_by_identity(pair[0]), pair[0].window_start, _order(pair[0]))):
        candidates = [
            index
            for index in left
            if old[index][0].identity == m.identity
            and old[index][0].window_start <= m.window_end
            and m.window_start <= old[index][0].window_end
        ]
        if candidates:
            index = min(candidates, key=lambda i: (old[i][0].window_start, _order(old[i][0])))
            left.remove(index)
            pair = (old[index][1], item)
            result.persisting.append(pair)
            result.moved.append(pair)
        else:
            result.new.append(item)
    result.gone = [old[index][1] for index in left]
    return result
