"""From a backend's rows to the report model: findings worded from rule templates, evidence cited.

Each finding is complete when it is made: its evidence ids come with their
input file and line and their source records, looked up once per rule
through the backend's :meth:`~engine.backends.base.Backend.origins`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from engine.backends.base import Origin
from engine.lang.params import format_duration
from engine.lang.plan import OP_SYMBOL, CompiledRule
from engine.lang.templates import render
from engine.report import confidence, fairness
from engine.report.model import Finding, NotAssessed, ParamMeta, RuleDocs, RuleMeta, iso

OriginLookup = Callable[[list[str]], Mapping[str, Origin]]
"""Event ids in, the origin of each known one out (``Backend.origins``)."""


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


def render_template(template: str, values: dict[str, Any]) -> str:
    """Fill ``{name}`` placeholders by name only (never an attribute, index or conversion).

    Unknown names stay as written and a broken template is kept whole; see
    :func:`engine.lang.templates.render`.
    """
    return render(template, values)


def _when(rule: CompiledRule, windows: int) -> str:
    """How a message should say which window its numbers come from."""
    plan = rule.window
    if plan.mode == "calendar":
        return f"in the {plan.unit}" if windows == 1 else f"in the worst of {windows} consecutive {plan.unit}s"
    if plan.mode == "sliding":
        return f"within {format_duration(timedelta(seconds=plan.seconds))}"
    return "over the period led"


def _evidence(row: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(row.get("evidence") or []))  # a first step may precede several


def _template_values(rule: CompiledRule, row: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    """Everything a message or advice template may name, for one row."""
    start, end = row["window_start"], row["window_end"]
    values: dict[str, Any] = dict(rule.params)
    values.update(metrics)
    values.update(
        when=_when(rule, int(row.get("windows") or 1)),
        manager=row["manager"],
        rep=row.get("rep"),
        deal=row.get("deal"),
        threshold=clean_number(row.get("threshold")),
        window_days=clean_number(round((end - start).total_seconds() / 86400.0, 1)),
        windows=row.get("windows"),
        metric=clean_number(row.get("metric")),
        window_start=iso(start),
        window_end=iso(end),
        reps=fairness.reps_text(fairness.team_reps(rule, row)),
    )
    return values


def _days(seconds: float) -> Any:
    """Days for a reader: one decimal, a whole number when whole."""
    return clean_number(round(seconds / 86400.0, 1))


def _period(start: datetime, unit: str) -> tuple[datetime, datetime]:
    """The calendar period (ISO week, month, quarter) holding ``start``, as the plan cuts them."""
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    months = 3 if unit == "quarter" else 1
    month = (day.month - 1) // months * months + 1
    first = day.replace(day=1, month=month)
    index = first.month - 1 + months
    return first, first.replace(year=first.year + index // 12, month=index % 12 + 1)


def _threshold(rule: CompiledRule, row: dict[str, Any]) -> dict[str, Any]:
    """The threshold as configured; when the window's was pro-rated, the applied value and why.

    ``value`` is the rule's own value (its parameter as this run set it). A window of
    a calendar rule that pro-rates (``engine.lang.windows.prorates``) and was not
    fully covered adds ``applied``, the value it was judged against, and
    ``prorated``: the days of the period covered (led, and within the log) and the
    period's length in days.
    """
    window = rule.window.mode if rule.window.mode != "calendar" else rule.window.unit
    out: dict[str, Any] = {
        "metric": rule.metric_name,
        "op": OP_SYMBOL[rule.op],
        "value": clean_number(rule.threshold),
        "window": window,
    }
    start, end = row.get("peak_start"), row.get("peak_end")
    if row.get("sm_prorated") and isinstance(start, datetime) and isinstance(end, datetime):
        first, last = _period(start, rule.window.unit)
        out["applied"] = clean_number(row.get("threshold"))
        out["prorated"] = {
            "covered_days": _days((end - start).total_seconds()),
            "period_days": _days((last - first).total_seconds()),
        }
    return out


def _finding(
    rule: CompiledRule, row: dict[str, Any], evidence: list[str], shown: int, cited: Mapping[str, Origin]
) -> Finding:
    spec = rule.loaded.rule
    metrics = {name: clean_number(row.get(name)) for name in rule.metric_names if name != "ratio" or rule.trend}
    if rule.metric_name == "ratio":
        metrics["ratio"] = clean_number(row.get("metric"))
    values = _template_values(rule, row, metrics)
    group = {f: row.get(c) for f, c in zip(rule.group_fields, rule.group) if f not in ("manager", "rep", "deal")}
    for name, value in group.items():
        values.setdefault(name.rsplit(".", 1)[-1], value)
    listed = evidence[:shown]
    origins = {event_id: cited[event_id] for event_id in listed if event_id in cited}
    return Finding(
        rule=spec.id,
        trait=spec.trait,
        severity=rule.severity,
        manager=row["manager"],
        rep=row.get("rep"),
        deal=row.get("deal"),
        window_start=row["window_start"],
        window_end=row["window_end"],
        message=render_template(spec.message, values),
        metrics=metrics,
        evidence=listed,
        advice=render_template(spec.advice, values),
        title=spec.title,
        threshold=_threshold(rule, row),
        evidence_total=len(evidence),
        sources={event_id: json.loads(o.source) for event_id, o in origins.items() if o.source},
        origins={event_id: f"{o.file}:{o.line}" for event_id, o in origins.items()},
        group=group,
    )


def build_findings(
    rule: CompiledRule,
    rows: list[dict[str, Any]],
    *,
    max_evidence: int,
    origins: OriginLookup,
    coverage: list[dict[str, Any]] | None = None,
    assessment: list[dict[str, Any]] | None = None,
) -> list[Finding]:
    """One finding per row, listing at most ``max_evidence`` evidence ids, each cited via ``origins``."""
    evidence = [_evidence(row) for row in rows]
    wanted = sorted({event_id for ids in evidence for event_id in ids[:max_evidence]})
    cited = origins(wanted) if wanted else {}
    logged = {row["manager"]: row for row in coverage or []}
    assessed = {
        str(row["manager"]): int(row.get("windows") or 0)
        - int(row.get("partial") or 0)
        - int(row.get("unsupported") or 0)
        for row in assessment or []
    }
    findings = []
    for row, ids in zip(rows, evidence):
        finding = _finding(rule, row, ids, max_evidence, cited)
        finding.severity, lowered = fairness.graded(rule, row, finding.severity)
        finding.reps = fairness.team_reps(rule, row)
        finding.notes = lowered + fairness.notes(rule, finding, finding.reps, logged)
        finding.persistence = confidence.persistence(rule, row, assessed)
        finding.confidence = confidence.confidence(rule, finding, row, finding.persistence)
        finding.counter_evidence = confidence.counter_evidence(rule, row)
        if finding.confidence["level"] == "low":
            finding.verdict = "watch"
        findings.append(finding)
    return findings


def _short_periods(rule: CompiledRule, row: dict[str, Any], count: int) -> str:
    """Why a sliding-window rule could not judge some led periods: how long they were, against what."""
    low, high = row.get("sm_short_min_days"), row.get("sm_short_max_days")
    length = timedelta(seconds=rule.window.seconds)
    span = f"{clean_number(length.days)}-day" if length.total_seconds() % 86400 == 0 else format_duration(length)
    noun = "led period" if count == 1 else "led periods"
    if low is None or high is None:
        days = ""
    elif _days(float(low) * 86400) == _days(float(high) * 86400):
        days = f" of {_days(float(low) * 86400)} days" + ("" if count == 1 else " each")
    else:
        days = f" of {_days(float(low) * 86400)} to {_days(float(high) * 86400)} days"
    shorter = "shorter" if count == 1 else "each shorter"
    return f"{count} {noun}{days} in the log, {shorter} than the {span} window and with no finding"


def build_not_assessed(rule: CompiledRule, rows: list[dict[str, Any]]) -> list[NotAssessed]:
    """The managers with windows the rule could not judge, and why.

    For a sliding-window rule the windows counted are the led periods (see
    ``engine.lang.windows.sliding_assessment``), and the reason says how long the
    ones too short to judge were.
    """
    out: list[NotAssessed] = []
    sliding = rule.window.mode == "sliding"
    for row in rows:
        partial = int(row.get("partial") or 0)
        unsupported = int(row.get("unsupported") or 0)
        if not partial and not unsupported:
            continue
        reasons = []
        if partial:
            reasons.append(
                _short_periods(rule, row, partial)
                if sliding
                else f"{partial} window(s) led or logged too briefly to judge"
            )
        if unsupported:
            unit = "led period(s)" if sliding else "window(s)"
            what = "below the rule's minimum data"
            if rule.trend:  # a trend also needs the window before, covered and with enough data
                what = f"with no {rule.window.unit} before it to compare with, or below the rule's minimum data"
            reasons.append(f"{unsupported} {unit} {what}")
        out.append(NotAssessed(rule.id, row["manager"], int(row["windows"]), partial + unsupported, "; ".join(reasons)))
    return out


def rule_meta(rule: CompiledRule) -> RuleMeta:
    """A compiled rule's description as this run configured it."""
    spec = rule.loaded.rule
    false_positives = spec.docs.false_positives
    return RuleMeta(
        id=spec.id,
        trait=spec.trait,
        title=spec.title,
        severity=rule.severity,
        status=spec.status,
        docs=RuleDocs(
            why=spec.docs.why,
            instead=spec.docs.instead,
            false_positives=(false_positives,) if isinstance(false_positives, str) else tuple(false_positives),
            references=tuple(spec.docs.references),
        ),
        params=tuple(
            ParamMeta(name, p.type, rule.params.get(name, p.default), p.default, p.doc)
            for name, p in spec.params.items()
        ),
        path=rule.loaded.path,
    )
