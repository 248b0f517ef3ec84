"""The self-assessment: a report written to one manager, about their own habits only.

It says the same things as that manager's page of the audit, but to them:
what they do well first, then what to watch (the pattern, its evidence, what
speaks for them and what to do instead), then how it moved since their
previous period, and what could not be judged. It is private by
construction: it is built from an audit view limited to the one manager, and
any other manager's id that still appears in a text (a handover note, say)
is replaced by "another manager" before anything is rendered.

A manager without a log answers the questionnaire
(:mod:`engine.audit.questionnaire`) and gets the same kind of report from
their answers.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, StrictUndefined

from engine.audit.questionnaire import CheckResult
from engine.audit.render import _environment, visible
from engine.audit.view import AuditView, _walk

__all__ = ["SelfView", "WatchItem", "from_answers", "from_audit", "render_self", "render_terminal"]

EVIDENCE_SHOWN = 10  # events listed per pattern; the audit lists them all


@dataclass
class WatchItem:
    """A pattern to watch, told to the manager."""

    title: str
    trait: str
    what: str  # what the log or the answers show
    measure: str  # against what line, over which window
    confidence: str
    status: str  # new | persisting | ""
    evidence: list[str]
    evidence_more: int
    for_you: list[str]
    instead: str
    why: str
    watch_only: bool = False  # low confidence: a thing to keep an eye on, not a verdict


@dataclass
class SelfView:
    manager: str
    source: str
    period: str
    compare_to: str
    strengths: list[str]
    watch: list[WatchItem]
    trend: list[str]
    unassessed: list[str]
    questionnaire: bool = False
    notes: list[str] = field(default_factory=list)


def _others(manager: str, managers: list[str]) -> dict[str, str]:
    return {other: "another manager" for other in managers if other != manager}


def _scrub_others(self_view: SelfView, others: dict[str, str]) -> SelfView:
    if not others:
        return self_view
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(n) for n in sorted(others, key=len, reverse=True)) + r")(?![\w-])"
    )
    return _walk(self_view, lambda text: pattern.sub(lambda m: others[m.group(1)], text))


def from_audit(view: AuditView, manager: str, all_managers: list[str]) -> SelfView:
    """The self-assessment of ``manager`` from an audit view limited to them."""
    page = next(p for p in view.pages if p.manager == manager)
    docs = {rule.id: rule for rule in view.method}
    strengths = [w.words for w in page.well if w.practice]
    strengths += [f"no sign of {w.trait}: {w.words}" for w in page.well if not w.practice]
    for finding in page.findings:
        strengths += [f"{c.says} ({finding.window})" for c in finding.counter]
    watch = []
    for finding in page.findings:
        rule = docs.get(finding.rule)
        lines = []
        for row in finding.evidence[:EVIDENCE_SHOWN]:
            source = f", {row.source}" if row.source else ""
            excerpt = f': "{row.excerpt}"' if row.excerpt else ""
            lines.append(f"{row.time} {row.type} {row.event}{source} ({row.origin}){excerpt}")
        more = max(0, len(finding.evidence) - EVIDENCE_SHOWN) + finding.evidence_more
        watch.append(
            WatchItem(
                title=finding.title,
                trait=finding.trait,
                what=finding.message,
                measure=f"{finding.metric}; {finding.threshold}; {finding.window}",
                confidence=finding.confidence,
                status=finding.status,
                evidence=lines,
                evidence_more=more,
                for_you=[c.says for c in finding.counter],
                instead=finding.advice + (f" {rule.instead}" if rule is not None and rule.instead else ""),
                why=rule.why if rule is not None else "",
                watch_only=finding.verdict == "watch",
            )
        )
    trend = []
    if view.compare_to:
        new = [f.title for f in page.findings if f.status == "new"]
        kept = [f.title for f in page.findings if f.status == "persisting"]
        trend += [f"new since {view.compare_to}: {title}" for title in new]
        trend += [f"also there in {view.compare_to}: {title}" for title in kept]
        trend += [f"{g.status} since {view.compare_to}: {g.title}" for g in page.gone]
        if not trend:
            trend.append(f"nothing to watch in either period ({view.compare_to} and {view.period})")
    else:
        trend.append("no previous period to compare with (give --period, and --compare-to for another one)")
    result = SelfView(
        manager=manager,
        source="your team's CRM log: " + ", ".join(view.inputs),
        period=view.period,
        compare_to=view.compare_to,
        strengths=list(dict.fromkeys(strengths)),  # two rules of one check, or one fact behind two findings
        watch=watch,
        trend=trend,
        unassessed=[f"{u.title}: {u.reason}" for u in page.unassessed],
    )
    return _scrub_others(result, _others(manager, all_managers))


def from_answers(results: list[CheckResult], manager: str, asks_about: str) -> SelfView:
    """The self-assessment from the questionnaire's scored answers."""
    strengths, watch, unassessed = [], [], []
    for result in results:
        strengths += [f"{item.words} (you answered {item.answer})" for item in result.strengths]
        if result.state == "watch":
            for item in result.watched:
                watch.append(
                    WatchItem(
                        title=result.doc.title,
                        trait=result.check,
                        what=item.words,
                        measure=f"you answered {item.answer} to: {item.question.ask}",
                        confidence="from your own answers",
                        status="",
                        evidence=[],
                        evidence_more=0,
                        for_you=[f"{good.words} (you answered {good.answer})" for good in result.strengths],
                        instead=result.doc.instead,
                        why=result.doc.why,
                    )
                )
        elif result.state == "unassessed":
            reasons = sorted({item.words for item in result.items if item.signal == "unassessed"})
            unassessed.append(f"{result.doc.title}: {'; '.join(reasons) or 'not answered'}")
    return SelfView(
        manager=manager,
        source=f"your answers to the questionnaire about {asks_about}",
        period=asks_about,
        compare_to="",
        strengths=strengths,
        watch=watch,
        trend=["a questionnaire covers one stretch of time: answer it again next month to see a trend"],
        unassessed=unassessed,
        questionnaire=True,
    )


def _self_environment(kind: str) -> Environment:
    if kind in ("html", "md"):
        return _environment(kind)
    return Environment(
        loader=PackageLoader("engine.audit", "templates"),
        autoescape=False,
        finalize=lambda value: "" if value is None else visible(str(value)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_self(view: SelfView, kind: str) -> str:
    """The self-assessment as ``text`` (plain), ``md`` or ``html`` (self-contained)."""
    template = _self_environment(kind).get_template(f"self.{'txt' if kind == 'text' else kind}.j2")
    return template.render(view=view)


def render_terminal(view: SelfView, width: int | None = None) -> str:
    """The plain text with rich's styles (headings, what to watch, what you do well), as terminal codes."""
    from rich.console import Console
    from rich.text import Text

    console = Console(file=io.StringIO(), record=True, width=width or 100, force_terminal=True, color_system="standard")
    for line in render_self(view, "text").splitlines():
        text = Text(line)  # never markup: a line holds text from the log
        if line.startswith("# "):
            text.stylize("bold underline")
        elif line.startswith("## "):
            text.stylize("bold cyan")
        elif line.startswith("### "):
            text.stylize("bold yellow")
        elif line.startswith("  + "):
            text.stylize("green")
        elif line.startswith("    evidence") or line.startswith("      "):
            text.stylize("dim")
        console.print(text, highlight=False, markup=False, emoji=False)
    return console.export_text(styles=True)
