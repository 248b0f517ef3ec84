"""The terminal report: findings grouped by manager, most severe first."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from engine.report.formats.base import DEFAULT_OPTIONS, RenderOptions
from engine.report.model import SEVERITY_ORDER, Finding, Report

_COLOURS = {"high": "red", "medium": "yellow", "low": "cyan"}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _day(finding: Finding) -> str:
    start = finding.window_start.strftime("%Y-%m-%d")
    end = finding.window_end.strftime("%Y-%m-%d")
    return f"{start} .. {end}"


_PER = {"week": "a week", "month": "a month", "quarter": "a quarter", "whole": "over the period led"}


def _number(value: Any) -> str:
    """A threshold for a reader: whole numbers as such, others with at most two decimals."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, float):
        return str(int(value))
    return str(value)


def _threshold_words(finding: Finding) -> str:
    """The threshold as configured and, when a partial period scaled it, how.

    "Too many" rules read "fires when count >= 2, sliding window"; "at least" rules
    (< and <=) read "needs at least 12 a month; this month was covered 27 of 31 days,
    so 11".
    """
    t = finding.threshold
    metric, op, window = t.get("metric"), t.get("op"), t.get("window")
    if op not in ("<", "<="):
        return f"fires when {metric} {op} {_number(t.get('value'))}, {window} window"
    what = "" if metric == "count" else f"{metric} of "
    bar = "at least" if op == "<" else "more than"
    per = _PER.get(str(window), f"in the {window} window")
    words = f"needs {what}{bar} {_number(t.get('value'))} {per}"
    prorated = t.get("prorated")
    if isinstance(prorated, dict) and "applied" in t:
        covered, period = prorated.get("covered_days"), prorated.get("period_days")
        span = (finding.window_end - finding.window_start).total_seconds() / 86400.0
        which = (
            f"this {window}" if isinstance(covered, (int, float)) and span <= covered + 0.05 else f"the worst {window}"
        )
        words += f"; {which} was covered {_number(covered)} of {_number(period)} days, so "
        words += ("" if op == "<" else "more than ") + _number(t["applied"])
    return words


def _metric_line(finding: Finding) -> str:
    metrics = ", ".join(f"{k} {v}" for k, v in finding.metrics.items())
    return f"{metrics}  ({_threshold_words(finding)})"


def measured(finding: Finding) -> str:
    """The metrics and the threshold on one line, for formats that say them in a sentence (SARIF, JUnit, GitHub)."""
    metrics = ", ".join(f"{k} {v}" for k, v in finding.metrics.items())
    return f"{metrics}; {_threshold_words(finding)}" if metrics else _threshold_words(finding)


def render_text(report: Report, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    style, verbose = options.style, options.verbose
    lines: list[str] = []
    ordered = sorted(report.findings, key=lambda f: (f.manager, -SEVERITY_ORDER[f.severity], f.rule, f.window_start))
    for manager, group in groupby(ordered, key=lambda f: f.manager):
        items = list(group)
        lines.append(style(f"{manager}", bold=True) + f"  {_count(len(items), 'finding')}")
        for finding in items:
            label = style(f"{finding.severity.upper():<6}", fg=_COLOURS[finding.severity], bold=True)
            who = f"  rep {finding.rep}" if finding.rep else ""
            who += f"  deal {finding.deal}" if finding.deal else ""
            watch = "  (watch: low confidence)" if finding.verdict == "watch" else ""
            lines.append(f"  {label} {finding.rule}  {_day(finding)}{who}{watch}")
            lines.append(f"         {finding.message}")
            lines.append(style(f"         {_metric_line(finding)}", dim=True))
            if finding.confidence:
                basis = "; ".join(finding.confidence.get("basis", []))
                lines.append(style(f"         confidence {finding.confidence['level']}: {basis}", dim=True))
            for fact in finding.counter_evidence:
                lines.append(f"         for the manager: {fact['says']}")
            shown = finding.evidence if verbose else finding.evidence[:5]
            cited = []
            for event_id in shown:
                origin = finding.origins.get(event_id) if options.origins else None
                cited.append(f"{event_id} ({origin})" if origin else event_id)
            more = finding.evidence_total - len(shown)
            if cited:
                lines.append(f"         evidence: {', '.join(cited)}" + (f" (+{more} more)" if more > 0 else ""))
            lines.append(f"         advice: {finding.advice}")
            for note in finding.notes:
                lines.append(f"         note: {note}")
        lines.append("")
    if report.not_assessed:
        hint = "" if verbose else " (-v for reasons)"
        lines.append(
            style(f"Not assessed, for too little data or too short a tenure to judge fairly{hint}:", bold=True)
        )
        for manager, unjudged in groupby(report.not_assessed, key=lambda n: n.manager):
            skipped = list(unjudged)
            who = manager if manager is not None else "all managers"
            if verbose:
                for item in skipped:
                    counts = f"{item.not_assessed} of {item.windows} window(s); " if item.windows else ""
                    lines.append(f"  {who}  {item.rule}: {counts}{item.reason}")
            else:
                lines.append(f"  {who}: {', '.join(item.rule for item in skipped)}")
        lines.append("")
    lines += _set_aside(report, options)
    summary = report.summary()
    sev = summary["by_severity"]
    lines.append(
        f"{_count(summary['read'], 'event')} read, {summary['evaluated']} evaluated, {summary['rejected']} rejected; "
        f"{_count(summary['findings'], 'finding')} ({sev['high']} high, {sev['medium']} medium, {sev['low']} low"
        f"{'; ' + str(summary['watch']) + ' of them to watch' if summary['watch'] else ''}) "
        f"across {_count(summary['managers'], 'manager')} and {_count(summary['rules'], 'rule')}."
    )
    lines += _ci_counts(report, options)
    return "\n".join(lines) + "\n"


def _set_aside(report: Report, options: RenderOptions) -> list[str]:
    """The suppressed findings (with --show-suppressed) and, with -v, the baseline entries that have gone."""
    lines: list[str] = []
    style = options.style
    if options.show_suppressed and report.suppressed:
        lines.append(style("Suppressed, each accepted with a reason until its expiry:", bold=True))
        for finding in report.suppressed:
            who = f"  rep {finding.rep}" if finding.rep else ""
            who += f"  deal {finding.deal}" if finding.deal else ""
            entry = finding.suppression
            lines.append(f"  {finding.manager}  {finding.severity.upper():<6} {finding.rule}  {_day(finding)}{who}")
            lines.append(f"         {finding.message}")
            lines.append(
                f"         suppressed: {entry.get('reason')} (approved by {entry.get('approved_by')}, "
                f"expires {entry.get('expires')}; {entry.get('entry')})"
            )
        lines.append("")
    if options.verbose and report.gone:
        lines.append(style("In the baseline but no longer found:", bold=True))
        for mark in report.gone:
            who = f"  rep {mark.rep}" if mark.rep else ""
            who += f"  deal {mark.deal}" if mark.deal else ""
            lines.append(f"  {mark.manager}  {mark.severity.upper():<6} {mark.rule}  {mark.period}{who}")
        lines.append("")
    return lines


def _ci_counts(report: Report, options: RenderOptions) -> list[str]:
    """What a baseline or suppression file set aside: counted under the summary, never silently dropped."""
    lines = []
    if report.baseline_file is not None:
        gone = " (-v lists them)" if report.gone and not options.verbose else ""
        lines.append(
            f"Baseline {report.baseline_file}: {len(report.findings)} new, {len(report.unchanged)} unchanged "
            f"(not listed), {len(report.gone)} gone{gone}."
        )
    if report.suppression_files:
        listed = "" if options.show_suppressed or not report.suppressed else " (--show-suppressed lists them)"
        lines.append(f"{_count(len(report.suppressed), 'finding')} suppressed{listed}.")
    return lines
