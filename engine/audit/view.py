"""The audit as a reader sees it: plain text values, ready for any template.

The engine's :class:`~engine.report.model.Report` is made for machines (ids,
datetimes, nested dicts). An HR partner needs the same facts worded: the
metric against its threshold, the window as days, each piece of evidence with
its time, type and the CRM record to open. :func:`build_audit` does that
wording once; the HTML and Markdown renderers and the self-assessment only
lay it out, so every output says the same thing.

Everything here is text or numbers taken from the report and the events, so
redaction (:func:`redact_view`) can walk the whole tree and replace every
person's id wherever it appears, and the renderers escape every string.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from engine.audit.periods import Period
from engine.audit.trend import NEW, PERSISTING, RESOLVED, UNASSESSED, Comparison, compare, fingerprint
from engine.audit.trend import fully_unassessed as _fully_unassessed
from engine.lang.plan import OP_SYMBOL, CompiledRule
from engine.report.formats.text import _number, _threshold_words
from engine.report.model import SEVERITY_ORDER, Finding, Report, RuleMeta
from engine.report.redact import pseudonym
from engine.vocab import FAMILY_OF, TRAITS

__all__ = [
    "AuditView",
    "EvidenceRow",
    "FindingView",
    "ManagerPage",
    "build_audit",
    "people",
    "redact_view",
]

EXCERPT_CHARS = 160  # of an event's own text (a message, a summary) shown beside it
FAMILY_ORDER = (
    "selling",
    "one_on_ones",
    "listening",
    "field",
    "method",
    "morale",
    "direction",
    "admin",
    "communication",
    "roster",
)
_TEXT_ATTRS = ("text", "summary", "original_text", "topic", "reason", "report")
_WEB = re.compile(r"https?://[^\s<>\"']+\Z", re.IGNORECASE)


@dataclass
class EvidenceRow:
    """One event behind a finding, as a person checks it in the CRM."""

    event: str
    time: str
    type: str
    source: str  # system, object and record id, or "" when the event names none
    link: str  # a web address of the record (http or https only), shown as text, never fetched
    origin: str  # file:line of the event in the input
    excerpt: str  # the start of the event's own text, when it has any


@dataclass
class CounterView:
    """A fact that speaks for the manager, in the finding's window."""

    says: str
    events: list[str]


@dataclass
class FindingView:
    rule: str
    title: str
    trait: str
    severity: str
    verdict: str  # finding | watch
    status: str  # new | persisting | "" (no previous period)
    window: str
    about: str  # the rep, deal or reps the finding concerns
    message: str
    metric: str
    threshold: str
    confidence: str
    confidence_basis: list[str]
    counter: list[CounterView]
    notes: list[str]
    advice: str
    evidence: list[EvidenceRow]
    evidence_more: int
    fingerprint: str


@dataclass
class GoneView:
    """A finding of the previous period that is not there now."""

    rule: str
    title: str
    trait: str
    severity: str
    window: str
    message: str
    status: str  # resolved | not assessed now


@dataclass
class CheckView:
    """A rule that judged the manager and did not fire: something they do well, or a trait not seen."""

    rule: str
    title: str
    trait: str
    practice: bool
    extent: str  # "every window" or "2 of 3 windows (the rest could not be judged fairly)"
    words: str  # what was met, said positively where the practice's good form is known


@dataclass
class UnassessedView:
    rule: str
    title: str
    reason: str


@dataclass
class CoverageRow:
    family: str
    first: str
    last: str
    events: int


@dataclass
class ManagerPage:
    manager: str
    assessed: bool
    findings: list[FindingView]
    gone: list[GoneView]
    well: list[CheckView]
    unassessed: list[UnassessedView]
    coverage: list[CoverageRow]
    counts: dict[str, int]  # by severity, plus watch


@dataclass
class HeatCell:
    trait: str
    state: str  # high | medium | low | watch | clear | unassessed
    label: str
    rank: float  # for sorting: higher is worse
    confidence: str
    findings: int


@dataclass
class HeatRow:
    manager: str
    cells: list[HeatCell]
    score: float


@dataclass
class ParamView:
    name: str
    value: str
    default: str
    changed: bool
    doc: str


@dataclass
class MethodRule:
    id: str
    title: str
    trait: str
    severity: str
    status: str
    threshold: str
    params: list[ParamView]
    fired: int  # findings in the period
    why: str
    instead: str
    false_positives: list[str]


@dataclass
class TraitTrend:
    trait: str
    previous: int
    current: int
    new: int
    persisting: int
    resolved: int
    unassessed: int


@dataclass
class TraitCount:
    trait: str
    high: int
    medium: int
    low: int
    watch: int

    @property
    def total(self) -> int:
        return self.high + self.medium + self.low


@dataclass
class AuditView:
    title: str
    period: str
    compare_to: str  # "" without a comparison
    inputs: list[str]
    span: str
    read: int
    evaluated: int
    rejected: int
    in_period: int
    rules_run: int
    traits: list[str]  # heatmap columns, the ten traits first
    assessed: list[str]
    unassessed: list[tuple[str, str]]  # manager, why
    by_trait: list[TraitCount]
    coverage: list[tuple[str, list[CoverageRow]]]  # per team
    heatmap: list[HeatRow]
    trends: list[TraitTrend]
    pages: list[ManagerPage]
    method: list[MethodRule]
    warnings: list[str]
    redacted: bool = False
    totals: dict[str, int] = field(default_factory=dict)
    # every manager of both periods, shown or not: what a self-assessment must keep out of its text
    all_managers: list[str] = field(default_factory=list)


def _day(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


def _minute(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _window(finding: Finding) -> str:
    return f"{_day(finding.window_start)} .. {_day(finding.window_end)}"


def _trait_order(traits: Iterable[str]) -> list[str]:
    """The ten traits in the book's order, then the practice checks alphabetically."""
    known = set(traits)
    return [t for t in TRAITS if t in known] + sorted(known - set(TRAITS))


def _events_index(table: pa.Table, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The cited events by id: time, type, source, attrs, file and line (one pass, only the ids asked for)."""
    if not ids or table.num_rows == 0:
        return {}
    mask = pc.is_in(table.column("id"), value_set=pa.array(sorted(ids), type=pa.string()))
    rows = table.filter(mask).select(["id", "ts", "type", "attrs", "source", "file", "line"]).to_pylist()
    return {row["id"]: row for row in rows}


def _json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _source_words(source: dict[str, Any]) -> tuple[str, str]:
    """The record as a person finds it (system, object, id) and its web address if it is one."""
    parts = [str(source[k]) for k in ("system", "object", "record_id") if source.get(k) not in (None, "")]
    link = ""
    for key in ("url", "link", "href"):
        value = source.get(key)
        if isinstance(value, str) and _WEB.match(value.strip()):
            link = value.strip()
            break
        if isinstance(value, str) and value.strip():
            parts.append("(a link that is not a web address was left out)")
            break
    return " ".join(parts), link


def _excerpt(attrs: dict[str, Any]) -> str:
    for key in _TEXT_ATTRS:
        value = attrs.get(key)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
    return ""


def _evidence_rows(finding: Finding, events: dict[str, dict[str, Any]]) -> list[EvidenceRow]:
    rows = []
    for event_id in finding.evidence:
        event = events.get(event_id)
        source = dict(finding.sources.get(event_id) or {})
        if event is not None and not source:
            source = _json(event.get("source"))
        words, link = _source_words(source)
        origin = finding.origins.get(event_id, "")
        if not origin and event is not None:
            origin = f"{event['file']}:{event['line']}"
        rows.append(
            EvidenceRow(
                event=event_id,
                time=_minute(event["ts"]) if event is not None else "",
                type=str(event["type"]) if event is not None else "",
                source=words,
                link=link,
                origin=origin,
                excerpt=_excerpt(_json(event.get("attrs"))) if event is not None else "",
            )
        )
    return rows


def _about(finding: Finding) -> str:
    parts = []
    if finding.rep:
        parts.append(f"rep {finding.rep}")
    if finding.deal:
        parts.append(f"deal {finding.deal}")
    reps = [str(entry["rep"]) for entry in finding.reps if entry.get("rep")]
    if reps:
        parts.append("reps " + ", ".join(reps))
    for key, value in sorted(finding.group.items()):
        parts.append(f"{key} {value}")
    return "; ".join(parts)


def _finding_view(
    finding: Finding, meta: RuleMeta | None, status: str, events: dict[str, dict[str, Any]]
) -> FindingView:
    confidence = finding.confidence or {}
    shown = len(finding.evidence)
    return FindingView(
        rule=finding.rule,
        title=finding.title or (meta.title if meta else finding.rule),
        trait=finding.trait,
        severity=finding.severity,
        verdict=finding.verdict,
        status=status,
        window=_window(finding),
        about=_about(finding),
        message=finding.message,
        metric=", ".join(f"{k} {_number(v)}" for k, v in finding.metrics.items()),
        threshold=_threshold_words(finding) if finding.threshold else "",
        confidence=str(confidence.get("level", "")),
        confidence_basis=[str(b) for b in confidence.get("basis", [])],
        counter=[
            CounterView(str(fact.get("says", "")), [str(e) for e in fact.get("evidence", [])])
            for fact in finding.counter_evidence
        ],
        notes=list(finding.notes),
        advice=finding.advice,
        evidence=_evidence_rows(finding, events),
        evidence_more=max(0, finding.evidence_total - shown),
        fingerprint=fingerprint(finding),
    )


def _extent(report: Report, manager: str, rule: str) -> str:
    for item in report.not_assessed:
        if item.rule == rule and item.manager == manager and item.windows:
            judged = item.windows - item.not_assessed
            return f"{judged} of {item.windows} windows (the rest could not be judged fairly)"
    return "every window"


def _met_words(meta: RuleMeta) -> str:
    """A rule that judged a manager and did not fire, said as what they did.

    A rule's title names the problem ("Fewer than a dozen sales calls listened
    to in a month"); for a practice check the questionnaire's title of the same
    check names the good habit ("Listening to a dozen or more sales calls a
    month"). A trait, or a check the questionnaire does not know, is named as
    the problem not seen.
    """
    from engine.audit.questionnaire import load_questionnaire

    check = load_questionnaire().checks.get(meta.trait)
    problem = f"{meta.title[:1].lower()}{meta.title[1:]}"
    if meta.trait in TRAITS:
        return problem  # listed under "no sign of the traits"
    return check.title if check is not None else f"no finding of: {problem}"


def _unassessed_for(report: Report, manager: str) -> list[tuple[str, str]]:
    """(rule, reason) for each rule that could not judge the manager at all, or only in part."""
    out = []
    for item in report.not_assessed:
        if item.manager is None or item.manager == manager:
            counts = f"{item.not_assessed} of {item.windows} windows: " if item.windows else ""
            out.append((item.rule, counts + item.reason))
    return out


def _coverage(table: pa.Table) -> dict[str, list[CoverageRow]]:
    """Per team (the manager events name), each family of events logged: from when, to when, how many."""
    if table.num_rows == 0:
        return {}
    grouped = (
        table.select(["manager", "type", "ts"])
        .group_by(["manager", "type"])
        .aggregate([("ts", "min"), ("ts", "max"), ("ts", "count")])
        .to_pylist()
    )
    per: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    for row in grouped:
        team = row["manager"] or "(no team named)"
        family = FAMILY_OF.get(row["type"], "custom")
        slot = per[team].setdefault(family, [row["ts_min"], row["ts_max"], 0])
        slot[0] = min(slot[0], row["ts_min"])
        slot[1] = max(slot[1], row["ts_max"])
        slot[2] += row["ts_count"]
    order = {family: index for index, family in enumerate((*FAMILY_ORDER, "custom"))}
    return {
        team: [
            CoverageRow(family, _day(first), _day(last), int(count))
            for family, (first, last, count) in sorted(families.items(), key=lambda item: order[item[0]])
        ]
        for team, families in sorted(per.items())
    }


def _threshold_text(rule: CompiledRule) -> str:
    window = rule.window.mode if rule.window.mode != "calendar" else f"calendar {rule.window.unit}"
    return f"{rule.metric_name} {OP_SYMBOL[rule.op]} {_number(rule.threshold)}, {window} window"


def _value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _method(report: Report, compiled: Sequence[CompiledRule]) -> list[MethodRule]:
    fired = Counter(f.rule for f in report.findings)
    by_id = {rule.id: rule for rule in compiled}
    out = []
    for meta in sorted(report.rules, key=lambda r: r.id):
        rule = by_id.get(meta.id)
        out.append(
            MethodRule(
                id=meta.id,
                title=meta.title,
                trait=meta.trait,
                severity=meta.severity,
                status=meta.status,
                threshold=_threshold_text(rule) if rule is not None else "",
                params=[
                    ParamView(p.name, _value(p.value), _value(p.default), p.value != p.default, p.doc)
                    for p in meta.params
                ],
                fired=fired[meta.id],
                why=meta.docs.why,
                instead=meta.docs.instead,
                false_positives=list(meta.docs.false_positives) if fired[meta.id] else [],
            )
        )
    return out


_RANK = {"high": 3.0, "medium": 2.0, "low": 1.0, "watch": 0.5, "clear": 0.0, "unassessed": -1.0}


def _heat_cell(report: Report, manager: str, trait: str, rules: list[str], findings: list[Finding]) -> HeatCell:
    if findings:
        verdicts = [f for f in findings if f.verdict != "watch"] or findings
        worst = max(verdicts, key=lambda f: SEVERITY_ORDER[f.severity])
        state = worst.severity if worst.verdict != "watch" else "watch"
        level = str((worst.confidence or {}).get("level", ""))
        label = f"{state} ({level} confidence)" if level else state
        if len(findings) > 1:
            label += f", {len(findings)} findings"
        return HeatCell(trait, state, label, _RANK[state] + SEVERITY_ORDER.get(level, 0) / 10, level, len(findings))
    if all(_fully_unassessed(report, manager, rule) for rule in rules):
        return HeatCell(trait, "unassessed", "not assessed", _RANK["unassessed"], "", 0)
    return HeatCell(trait, "clear", "no finding", _RANK["clear"], "", 0)


def build_audit(
    report: Report,
    previous: Report | None,
    *,
    table: pa.Table,
    compiled: Sequence[CompiledRule],
    period: Period | None,
    compare_to: Period | None,
    in_period: int,
    managers: Sequence[str] | None = None,
) -> AuditView:
    """Word ``report`` (and its comparison with ``previous``) for people.

    ``table`` is the loaded log, for the time, type and text of the cited
    events and for data coverage. ``managers`` limits the pages to those
    managers (a self-assessment); the organisation's figures then cover only
    them too, so nothing about anyone else is in the view.
    """
    chosen = set(managers) if managers is not None else None

    def mine(manager: str | None) -> bool:
        return chosen is None or manager in chosen

    comparison: Comparison = compare(report, previous)
    findings = [f for f in report.findings if mine(f.manager)]
    cited = {e for f in findings for e in f.evidence}
    events = _events_index(table, cited)
    metas = {meta.id: meta for meta in report.rules}
    rules_by_trait: dict[str, list[str]] = defaultdict(list)
    for meta in report.rules:
        rules_by_trait[meta.trait].append(meta.id)
    traits = _trait_order(rules_by_trait)
    coverage = _coverage(table)
    managers_shown = sorted(m for m in report.managers if mine(m))

    pages: list[ManagerPage] = []
    heatmap: list[HeatRow] = []
    assessed: list[str] = []
    unassessed: list[tuple[str, str]] = []
    for manager in managers_shown:
        own = [f for f in findings if f.manager == manager]
        own.sort(key=lambda f: (-SEVERITY_ORDER[f.severity], f.verdict == "watch", f.rule, f.window_start))
        views = [_finding_view(f, metas.get(f.rule), comparison.of(f), events) for f in own]
        gone = [
            GoneView(
                f.rule,
                f.title or (metas[f.rule].title if f.rule in metas else f.rule),
                f.trait,
                f.severity,
                _window(f),
                f.message,
                why,
            )
            for f, why in comparison.gone
            if f.manager == manager
        ]
        fired = {f.rule for f in own}
        well = [
            CheckView(
                meta.id,
                meta.title,
                meta.trait,
                meta.trait not in TRAITS,
                _extent(report, manager, meta.id),
                _met_words(meta),
            )
            for meta in sorted(report.rules, key=lambda r: (r.trait in TRAITS, r.id))
            if meta.id not in fired and not _fully_unassessed(report, manager, meta.id)
        ]
        missing = [
            UnassessedView(rule, metas[rule].title if rule in metas else rule, reason)
            for rule, reason in _unassessed_for(report, manager)
        ]
        is_assessed = any(not _fully_unassessed(report, manager, meta.id) for meta in report.rules)
        if is_assessed:
            assessed.append(manager)
        else:
            unassessed.append((manager, "no rule could judge any of their time fairly (see their page)"))
        counts = {s: sum(1 for f in own if f.severity == s and f.verdict != "watch") for s in SEVERITY_ORDER}
        counts["watch"] = sum(1 for f in own if f.verdict == "watch")
        pages.append(ManagerPage(manager, is_assessed, views, gone, well, missing, coverage.get(manager, []), counts))
        cells = [
            _heat_cell(report, manager, trait, rules_by_trait[trait], [f for f in own if f.trait == trait])
            for trait in traits
        ]
        heatmap.append(HeatRow(manager, cells, sum(max(c.rank, 0.0) for c in cells)))
    heatmap.sort(key=lambda row: (-row.score, row.manager))

    by_trait = []
    for trait in traits:
        of_trait = [f for f in findings if f.trait == trait]
        verdicts = [f for f in of_trait if f.verdict != "watch"]
        by_trait.append(
            TraitCount(
                trait,
                sum(1 for f in verdicts if f.severity == "high"),
                sum(1 for f in verdicts if f.severity == "medium"),
                sum(1 for f in verdicts if f.severity == "low"),
                len(of_trait) - len(verdicts),
            )
        )

    trends = []
    if previous is not None:
        before = [f for f in previous.findings if mine(f.manager)]
        gone_before = [(f, why) for f, why in comparison.gone if mine(f.manager)]
        for trait in traits:
            now = [f for f in findings if f.trait == trait]
            trends.append(
                TraitTrend(
                    trait,
                    previous=sum(1 for f in before if f.trait == trait),
                    current=len(now),
                    new=sum(1 for f in now if comparison.of(f) == NEW),
                    persisting=sum(1 for f in now if comparison.of(f) == PERSISTING),
                    resolved=sum(1 for f, why in gone_before if f.trait == trait and why == RESOLVED),
                    unassessed=sum(1 for f, why in gone_before if f.trait == trait and why == UNASSESSED),
                )
            )

    span = report.span
    span_words = f"{_day(span[0])} .. {_day(span[1])}" if span[0] is not None and span[1] is not None else "no events"
    totals = {
        s: sum(t.high if s == "high" else t.medium if s == "medium" else t.low for t in by_trait)
        for s in SEVERITY_ORDER
    }
    totals["watch"] = sum(t.watch for t in by_trait)
    totals["findings"] = len(findings)
    return AuditView(
        title="salesmirror audit",
        period=period.words() if period is not None else "the whole log",
        compare_to=compare_to.words() if compare_to is not None else "",
        inputs=list(report.inputs),
        span=span_words,
        read=report.read,
        evaluated=report.evaluated if period is None else in_period,
        rejected=report.rejected,
        in_period=in_period,
        rules_run=len(report.rules),
        traits=traits,
        assessed=assessed,
        unassessed=unassessed,
        by_trait=by_trait,
        coverage=[(team, rows) for team, rows in sorted(coverage.items()) if mine(team)],
        heatmap=heatmap,
        trends=trends,
        pages=pages,
        method=_method(report, compiled),
        warnings=list(report.warnings) if chosen is None else [],
        totals=totals,
        all_managers=sorted(set(report.managers) | set(previous.managers if previous is not None else [])),
    )


T = TypeVar("T")


def _walk(value: T, scrub: Callable[[str], str]) -> T:
    """``value`` with ``scrub`` applied to every string inside it (dataclasses, lists, tuples, dicts)."""
    if isinstance(value, str):
        return scrub(value)  # type: ignore[return-value]
    if isinstance(value, list):
        return [_walk(item, scrub) for item in value]  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(_walk(item, scrub) for item in value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {_walk(k, scrub): _walk(v, scrub) for k, v in value.items()}  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _walk(getattr(value, f.name), scrub) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def people(table: pa.Table) -> dict[str, str]:
    """Every person the log names (actors, managers, reps) and their pseudonym.

    Managers are named ``manager-…`` and reps ``rep-…`` exactly as ``check
    --redact`` names them, so redacted reports of either command can be read
    side by side; anyone else (an executive, HR) becomes ``person-…``.
    """
    managers = {m for m in table.column("manager").to_pylist() if m}
    reps = {r for r in table.column("rep").to_pylist() if r}
    actors = {a for a in table.column("actor").to_pylist() if a}
    names = {}
    for person in sorted(managers | reps | actors):
        kind = "manager" if person in managers else "rep" if person in reps else "person"
        names[person] = pseudonym(person, kind)
    return names


def redact_view(view: AuditView, names: dict[str, str]) -> AuditView:
    """A copy of ``view`` with every person's id replaced by their pseudonym, in every string.

    Source records and event excerpts may name people in ways no list of ids
    can catch (an owner's e-mail, a first name in a message), so they are
    dropped rather than scrubbed.
    """
    if names:
        pattern = re.compile(
            r"(?<![\w-])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?![\w-])"
        )

        def scrub(text: str) -> str:
            return pattern.sub(lambda m: names[m.group(1)], text)

    else:

        def scrub(text: str) -> str:
            return text

    out = _walk(view, scrub)
    for page in out.pages:
        for finding in page.findings:
            for row in finding.evidence:
                row.source, row.link, row.excerpt = "", "", ""
    out.pages.sort(key=lambda page: page.manager)
    out.assessed.sort()
    out.unassessed.sort()
    out.coverage.sort(key=lambda item: item[0])
    out.heatmap.sort(key=lambda row: (-row.score, row.manager))
    out.redacted = True
    return out
