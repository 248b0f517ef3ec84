"""Findings: the JSON shape of the contract, worded from rule templates."""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.lang.params import format_duration
from engine.lang.plan import OP_SYMBOL, CompiledRule

SEVERITY_ORDER = {"low": 1, "medium": 2, "high": 3}


def iso(value: datetime | None) -> str | None:
    """UTC timestamps as RFC 3339 with Z, seconds precision unless finer is needed."""
    if value is None:
        return None
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text + "Z"


def clean_number(value: Any) -> Any:
    """Stable numbers in output: integral floats become ints, others 4 decimals."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value.is_integer():
            return int(value)
        return round(value, 4)
    try:
        return clean_number(float(value))  # Decimal from SUM()
    except (TypeError, ValueError):
        return value


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
    sources: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    group: dict[str, Any] = field(default_factory=dict)  # other group_by keys, e.g. attrs.period

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
        }
        if with_origins:
            out["origins"] = self.origins
        return out


@dataclass
class NotAssessed:
    """A manager a rule could not judge (fairly) for some or all of their windows."""

    rule: str
    manager: str
    windows: int
    not_assessed: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "manager": self.manager,
            "windows": self.windows,
            "not_assessed": self.not_assessed,
            "reason": self.reason,
        }


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_template(template: str, values: dict[str, Any]) -> str:
    try:
        return string.Formatter().vformat(template, (), _Lenient(values))
    except (ValueError, TypeError, KeyError, IndexError):
        return template


def _when(rule: CompiledRule, windows: int) -> str:
    """How a message should say which window its numbers come from."""
    plan = rule.window
    if plan.mode == "calendar":
        return f"in the {plan.unit}" if windows == 1 else f"in the worst of {windows} consecutive {plan.unit}s"
    if plan.mode == "sliding":
        return f"within {format_duration(timedelta(seconds=plan.seconds))}"
    return "over the period led"


def build_findings(rule: CompiledRule, rows: list[dict[str, Any]], *, max_evidence: int) -> list[Finding]:
    spec = rule.loaded.rule
    out: list[Finding] = []
    for row in rows:
        metrics = {name: clean_number(row.get(name)) for name in rule.metric_names if name != "ratio"}
        if rule.metric_name == "ratio":
            metrics["ratio"] = clean_number(row.get("metric"))
        threshold = clean_number(row.get("threshold"))
        start, end = row["window_start"], row["window_end"]
        days = (end - start).total_seconds() / 86400.0
        values: dict[str, Any] = dict(rule.params)
        values.update(metrics)
        values.update(
            when=_when(rule, int(row.get("windows") or 1)),
            manager=row["manager"],
            rep=row.get("rep"),
            deal=row.get("deal"),
            threshold=threshold,
            window_days=clean_number(round(days, 1)),
            windows=row.get("windows"),
            metric=clean_number(row.get("metric")),
            window_start=iso(start),
            window_end=iso(end),
        )
        group = {f: row.get(c) for f, c in zip(rule.group_fields, rule.group) if f not in ("manager", "rep", "deal")}
        for name, value in group.items():
            values.setdefault(name.rsplit(".", 1)[-1], value)
        evidence = list(dict.fromkeys(row.get("evidence") or []))  # a first step may precede several
        out.append(
            Finding(
                rule=spec.id,
                trait=spec.trait,
                severity=rule.severity,
                manager=row["manager"],
                rep=row.get("rep"),
                deal=row.get("deal"),
                window_start=start,
                window_end=end,
                message=render_template(spec.message, values),
                metrics=metrics,
                evidence=evidence[:max_evidence],
                advice=render_template(spec.advice, values),
                title=spec.title,
                threshold={
                    "metric": rule.metric_name,
                    "op": OP_SYMBOL[rule.op],
                    "value": threshold,
                    "window": rule.window.mode if rule.window.mode != "calendar" else rule.window.unit,
                },
                evidence_total=len(evidence),
                group=group,
            )
        )
    return out


def build_not_assessed(rule: CompiledRule, rows: list[dict[str, Any]]) -> list[NotAssessed]:
    out: list[NotAssessed] = []
    for row in rows:
        partial = int(row.get("partial") or 0)
        unsupported = int(row.get("unsupported") or 0)
        if not partial and not unsupported:
            continue
        reasons = []
        if partial:
            reasons.append(f"{partial} window(s) led or logged too briefly to judge")
        if unsupported:
            reasons.append(f"{unsupported} window(s) below the rule's minimum data")
        out.append(NotAssessed(rule.id, row["manager"], int(row["windows"]), partial + unsupported, "; ".join(reasons)))
    return out
