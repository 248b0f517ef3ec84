"""The report model: what one check produced, complete before any output format sees it.

A :class:`Report` holds the findings (each with its evidence already cited),
the managers no rule could judge, the counts, the warnings and, per rule
that ran, a :class:`RuleMeta` describing it as configured. Output formats
(``engine.report.formats``) only read this model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the baseline's marks; that module imports this one
    from engine.report.fingerprint import Mark

SEVERITY_ORDER = {"low": 1, "medium": 2, "high": 3}


def iso(value: datetime | None) -> str | None:
    """UTC timestamps as RFC 3339 with Z, seconds precision unless finer is needed."""
    if value is None:
        return None
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text + "Z"


@dataclass
class Finding:
    """One rule firing for one manager (and rep/deal) over one merged window."""

    rule: str
    trait: str
    severity: str
    manager: str
    rep: str | None
    deal: str | None
    window_start: datetime
    window_end: datetime
    message: str
    metrics: dict[str, Any]
    evidence: list[str]
    advice: str
    title: str = ""
    threshold: dict[str, Any] = field(default_factory=dict)
    evidence_total: int = 0
    sources: dict[str, Any] = field(default_factory=dict)  # evidence id -> its source record
    origins: dict[str, str] = field(default_factory=dict)  # evidence id -> "file:line"
    group: dict[str, Any] = field(default_factory=dict)  # other group_by keys, e.g. attrs.period
    reps: list[dict[str, Any]] = field(default_factory=list)  # a team finding's reps (engine.lang.team)
    notes: list[str] = field(default_factory=list)  # what was left out or lowered, and why (engine.report.fairness)
    # how sure, what speaks for the manager, how often it held (engine.report.confidence)
    confidence: dict[str, Any] = field(default_factory=dict)
    counter_evidence: list[dict[str, Any]] = field(default_factory=list)
    persistence: dict[str, Any] = field(default_factory=dict)
    verdict: str = "finding"  # or "watch": low confidence, not a verdict
    # what the CI check adds (engine.report.fingerprint, engine.report.suppress, engine.report.baseline)
    fingerprint: str = ""  # set by engine.evaluate before any redaction
    suppression: dict[str, Any] = field(default_factory=dict)  # the entry that suppresses it, when one does
    baseline: str = ""  # "new" or "unchanged" when a baseline was given

    def sort_key(self) -> tuple[Any, ...]:
        extra = tuple(str(v) for _, v in sorted(self.group.items()))
        return (self.manager, self.rule, self.window_start, self.rep or "", self.deal or "", extra)

    def to_dict(self, *, with_origins: bool = False) -> dict[str, Any]:
        """Contract fields first, in contract order, then our extensions."""
        out: dict[str, Any] = {
            "rule": self.rule,
            "trait": self.trait,
            "severity": self.severity,
            "manager": self.manager,
            "rep": self.rep,
            "deal": self.deal,
            "window": {"start": iso(self.window_start), "end": iso(self.window_end)},
            "message": self.message,
            "metrics": self.metrics,
            "evidence": self.evidence,
            "advice": self.advice,
            "title": self.title,
            "threshold": self.threshold,
            "evidence_total": self.evidence_total,
            "sources": self.sources,
            "group": self.group,
            "verdict": self.verdict,
            "confidence": self.confidence,
            "persistence": self.persistence,
            "counter_evidence": self.counter_evidence,
            "notes": self.notes,
        }
        if self.reps:
            out["reps"] = self.reps
        if with_origins:
            out["origins"] = self.origins
        if self.fingerprint:  # the CI check's stable identity of the finding (engine.report.fingerprint)
            out["fingerprint"] = self.fingerprint
        if self.suppression:
            out["suppression"] = self.suppression
        return out


@dataclass
class NotAssessed:
    """A manager a rule could not judge (fairly) for some or all of their windows."""

    rule: str
    manager: str | None  # None: the rule could not judge anyone (said once)
    windows: int
    not_assessed: int
    reason: str

    def sort_key(self) -> tuple[str, str]:
        return (self.manager or "", self.rule)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "manager": self.manager,
            "windows": self.windows,
            "not_assessed": self.not_assessed,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ParamMeta:
    """One rule parameter as this run used it."""

    name: str
    type: str
    value: Any  # as set: the default unless a config file or --set changed it
    default: Any
    doc: str


@dataclass(frozen=True)
class RuleDocs:
    """A rule's documentation, for reports that explain their findings."""

    why: str
    instead: str
    false_positives: tuple[str, ...]  # a single paragraph becomes one item
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleMeta:
    """A rule that ran, as configured for this run."""

    id: str
    trait: str
    title: str
    severity: str  # as set: the config file may change the rule's own
    status: str
    docs: RuleDocs
    params: tuple[ParamMeta, ...]
    path: str  # the rule file


@dataclass
class Report:
    """What one check produced: findings, what could not be judged, and the counts."""

    findings: list[Finding]
    not_assessed: list[NotAssessed]
    read: int
    evaluated: int
    rejected: int
    rules: list[RuleMeta]
    managers: list[str]
    span: tuple[Any, Any]
    warnings: list[str] = field(default_factory=list)
    fail_on: str | None = None  # from the config file, when it sets one
    inputs: list[str] = field(default_factory=list)  # the event files, as given ('-' for stdin)
    # the CI check: findings set aside by a suppression or a baseline, never dropped
    suppression_files: list[str] = field(default_factory=list)  # the suppression files in effect
    suppressed: list[Finding] = field(default_factory=list)  # findings a suppression entry accepts
    baseline_file: str | None = None  # the baseline compared against, when one was
    unchanged: list[Finding] = field(default_factory=list)  # findings already in the baseline
    gone: list[Mark] = field(default_factory=list)  # baseline entries no finding matches any more

    def rule(self, rule_id: str) -> RuleMeta | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def summary(self) -> dict[str, Any]:
        by_severity = {s: 0 for s in SEVERITY_ORDER}
        for finding in self.findings:
            by_severity[finding.severity] += 1
        return {
            "events": self.evaluated,
            "rejected": self.rejected,
            "findings": len(self.findings),
            "read": self.read,
            "evaluated": self.evaluated,
            "by_severity": by_severity,
            "watch": sum(1 for f in self.findings if f.verdict == "watch"),
            "rules": len(self.rules),
            "managers": len(self.managers),
            "span": {"start": iso(self.span[0]), "end": iso(self.span[1])},
            **self._ci_summary(),
        }

    def _ci_summary(self) -> dict[str, Any]:
        """Counts of what a suppression file or a baseline set aside, only when one was given."""
        out: dict[str, Any] = {}
        if self.suppression_files:
            out["suppressed"] = len(self.suppressed)
        if self.baseline_file is not None:
            out["baseline"] = {"new": len(self.findings), "unchanged": len(self.unchanged), "gone": len(self.gone)}
        return out

    def to_dict(self, *, with_origins: bool = False, with_suppressed: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "findings": [f.to_dict(with_origins=with_origins) for f in self.findings],
            "summary": self.summary(),
            "not_assessed": [n.to_dict() for n in self.not_assessed],
        }
        if with_suppressed and self.suppression_files:
            out["suppressed"] = [f.to_dict(with_origins=with_origins) for f in self.suppressed]
        return out

    def to_json(self, *, with_origins: bool = False, with_suppressed: bool = False) -> str:
        data = self.to_dict(with_origins=with_origins, with_suppressed=with_suppressed)
        return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    def at_or_above(self, level: str) -> list[Finding]:
        if level == "never":
            return []
        floor = SEVERITY_ORDER[level]
        return [f for f in self.findings if SEVERITY_ORDER[f.severity] >= floor]

    def sort(self) -> None:
        """Put findings and not-assessed entries in their stable output order."""
        self.findings.sort(key=Finding.sort_key)
        self.not_assessed.sort(key=NotAssessed.sort_key)
        self.suppressed.sort(key=Finding.sort_key)
        self.unchanged.sort(key=Finding.sort_key)
        self.gone.sort(key=lambda m: (m.manager, m.rule, m.window_start, m.rep or "", m.deal or "", m.fingerprint))
