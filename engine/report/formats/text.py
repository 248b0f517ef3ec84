"""The terminal report: findings grouped by manager, most severe first."""

from __future__ import annotations

from itertools import groupby

from engine.report.formats.base import DEFAULT_OPTIONS, RenderOptions
from engine.report.model import SEVERITY_ORDER, Finding, Report

_COLOURS = {"high": "red", "medium": "yellow", "low": "cyan"}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _day(finding: Finding) -> str:
    start = finding.window_start.strftime("%Y-%m-%d")
    end = finding.window_end.strftime("%Y-%m-%d")
    return f"{start} .. {end}"


def _metric_line(finding: Finding) -> str:
    metrics = ", ".join(f"{k} {v}" for k, v in finding.metrics.items())
    t = finding.threshold
    return f"{metrics}  (fires when {t.get('metric')} {t.get('op')} {t.get('value')}, {t.get('window')} window)"


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
            lines.append(f"  {label} {finding.rule}  {_day(finding)}{who}")
            lines.append(f"         {finding.message}")
            lines.append(style(f"         {_metric_line(finding)}", dim=True))
            shown = finding.evidence if verbose else finding.evidence[:5]
            cited = []
            for event_id in shown:
                origin = finding.origins.get(event_id) if options.origins else None
                cited.append(f"{event_id} ({origin})" if origin else event_id)
            more = finding.evidence_total - len(shown)
            if cited:
                lines.append(f"         evidence: {', '.join(cited)}" + (f" (+{more} more)" if more > 0 else ""))
            lines.append(f"         advice: {finding.advice}")
        lines.append("")
    if report.not_assessed:
        hint = "" if verbose else " (-v for reasons)"
        lines.append(
            style(f"Not assessed, for too little data or too short a tenure to judge fairly{hint}:", bold=True)
        )
        for manager, unjudged in groupby(report.not_assessed, key=lambda n: n.manager):
            skipped = list(unjudged)
            if verbose:
                for item in skipped:
                    lines.append(
                        f"  {manager}  {item.rule}: {item.not_assessed} of {item.windows} window(s); {item.reason}"
                    )
            else:
                lines.append(f"  {manager}: {', '.join(item.rule for item in skipped)}")
        lines.append("")
    summary = report.summary()
    sev = summary["by_severity"]
    lines.append(
        f"{_count(summary['read'], 'event')} read, {summary['evaluated']} evaluated, {summary['rejected']} rejected; "
        f"{_count(summary['findings'], 'finding')} ({sev['high']} high, {sev['medium']} medium, {sev['low']} low) "
        f"across {_count(summary['managers'], 'manager')} and {_count(summary['rules'], 'rule')}."
    )
    return "\n".join(lines) + "\n"
