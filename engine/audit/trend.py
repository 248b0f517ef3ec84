"""Findings of one period against the previous one: new, persisting, resolved.

A finding is matched across periods by its identity: what it is about (rule,
manager, rep, deal and any other group key such as a quota period), never
when it was seen, so the same pattern in two quarters is one pattern that
persists. It is the identity part of the CI baseline's fingerprint
(``engine.report.fingerprint``), whose full fingerprint also names the
period and so differs between any two periods by design.

A finding of the previous period with no match now is *resolved* only when
the rule could judge the manager now; when it could not (the manager led too
briefly, the log lacks the events), it is *not assessed now*, which says
nothing either way.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from engine.report.model import Finding, Report

__all__ = ["Comparison", "compare", "fingerprint", "fully_unassessed", "identity"]

NEW, PERSISTING, RESOLVED, UNASSESSED = "new", "persisting", "resolved", "not assessed now"


def _shared(name: str) -> Callable[[Finding], Any] | None:
    """A function of the CI baseline's fingerprint module (``engine.report.fingerprint``), if this build has it."""
    try:
        module = importlib.import_module("engine.report.fingerprint")
    except ImportError:
        return None
    found = getattr(module, name, None)
    return cast("Callable[[Finding], Any]", found) if callable(found) else None


def _own_identity(finding: Finding) -> tuple[Any, ...]:
    """What a finding is about: rule, manager, rep, deal and the other group keys (never when)."""
    group = tuple(sorted((str(k), None if v is None else str(v)) for k, v in finding.group.items()))
    return (finding.rule, finding.manager, finding.rep or None, finding.deal or None, group)


def identity(finding: Finding) -> str:
    """The identity a finding is matched by across periods, as text (the baseline's, when available)."""
    shared = _shared("identity")
    who = shared(finding) if shared is not None else _own_identity(finding)
    return json.dumps(who, ensure_ascii=False, default=str)


def fingerprint(finding: Finding) -> str:
    """The finding's fingerprint as the CI baseline computes it (identity and period), for cross-reference."""
    shared = _shared("fingerprint")
    if shared is not None:
        return str(shared(finding))
    return hashlib.sha256(identity(finding).encode("utf-8")).hexdigest()[:32]


def fully_unassessed(report: Report, manager: str, rule: str) -> bool:
    """Whether ``rule`` could judge ``manager`` in none of its windows of this report."""
    if manager not in report.managers:
        return True
    for item in report.not_assessed:
        if item.rule != rule:
            continue
        if item.manager is None:
            return True
        if item.manager == manager and item.not_assessed >= item.windows:
            return True
    return False


@dataclass
class Comparison:
    """Each current finding's status, and the previous findings that are gone, with theirs."""

    status: dict[int, str] = field(default_factory=dict)  # id(finding) -> new | persisting
    gone: list[tuple[Finding, str]] = field(default_factory=list)  # previous finding, resolved | not assessed now

    def of(self, finding: Finding) -> str:
        return self.status.get(id(finding), "")


def compare(current: Report, previous: Report | None) -> Comparison:
    """Mark the findings of ``current`` against ``previous`` (no marks without one)."""
    out = Comparison()
    if previous is None:
        return out
    before = {identity(f) for f in previous.findings}
    now = {identity(f) for f in current.findings}
    for finding in current.findings:
        out.status[id(finding)] = PERSISTING if identity(finding) in before else NEW
    seen: set[str] = set()
    for finding in previous.findings:
        key = identity(finding)
        if key in now or key in seen:
            continue
        seen.add(key)
        gone = UNASSESSED if fully_unassessed(current, finding.manager, finding.rule) else RESOLVED
        out.gone.append((finding, gone))
    return out
