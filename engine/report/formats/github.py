"""``--format github``: GitHub Actions workflow commands, which the runner turns into annotations.

Each finding is one line, ``::error``, ``::warning`` or ``::notice`` (high,
medium, low) with the input file and line of its first evidence event and a
title naming the rule and the manager; its message says what was found, the
metric against the threshold and the advice. Warnings of the run are
``::warning`` lines; with ``--show-suppressed`` the suppressed findings are
``::notice`` lines saying why they are accepted. A plain summary line ends the
output (the runner shows lines that are not commands as they are).

The runner reads a command per line, so everything that comes from data is
escaped as it requires: in the message ``%``, carriage return and line feed
become ``%25``, ``%0D`` and ``%0A``; in a property (file, title) ``:`` and
``,`` become ``%3A`` and ``%2C`` as well, so no text can end a property early,
add one, or start a command of its own on a new line.
"""

from __future__ import annotations

from engine.report.formats.base import DEFAULT_OPTIONS, RenderOptions
from engine.report.formats.sarif import STDIN
from engine.report.formats.text import measured
from engine.report.model import Finding, Report

COMMANDS = {"high": "error", "medium": "warning", "low": "notice"}


def escape_data(text: str) -> str:
    """A command's message: percent, CR and LF encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value: as a message, and ``:`` and ``,`` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """One workflow command line: ``::name key=value,...::message``, every part escaped."""
    given = [f"{key}={escape_property(str(value))}" for key, value in properties.items() if value not in (None, "")]
    return f"::{name}{' ' + ','.join(given) if given else ''}::{escape_data(message)}"


def _where(finding: Finding) -> tuple[str | None, int | None]:
    """The file and line of the first evidence event, when it came from a file."""
    origin = finding.origins.get(finding.evidence[0]) if finding.evidence else None
    if not origin:
        return None, None
    path, _, line = origin.rpartition(":")
    if not path or path == STDIN or not line.isdigit():
        return None, None
    return path, int(line)


def _who(finding: Finding) -> str:
    who = finding.manager
    who += f", rep {finding.rep}" if finding.rep else ""
    who += f", deal {finding.deal}" if finding.deal else ""
    return who


def _annotation(name: str, finding: Finding, lines: list[str]) -> str:
    path, line = _where(finding)
    title = f"{finding.rule} ({_who(finding)})"
    return command(name, "\n".join(lines), file=path, line=line, title=title)


def _lines(finding: Finding) -> list[str]:
    lines = [
        f"{_who(finding)}: {finding.message}",
        f"{measured(finding)}; {finding.window_start:%Y-%m-%d} .. {finding.window_end:%Y-%m-%d}",
    ]
    if finding.verdict == "watch":
        lines.append("Low confidence: a watch item, not a verdict.")
    lines.append(f"Advice: {finding.advice}")
    return lines


def render_github(report: Report, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    out = [_annotation(COMMANDS.get(f.severity, "warning"), f, _lines(f)) for f in report.findings]
    out += [command("warning", warning, title="salesmirror") for warning in report.warnings]
    if options.show_suppressed:
        for finding in report.suppressed:
            entry = finding.suppression
            why = (
                f"Suppressed: {entry.get('reason')} (approved by {entry.get('approved_by')}, "
                f"expires {entry.get('expires')}; {entry.get('entry')})"
            )
            out.append(_annotation("notice", finding, [*_lines(finding), why]))
    summary = report.summary()
    sev = summary["by_severity"]
    tail = (
        f"salesmirror: {summary['findings']} finding(s) ({sev['high']} high, {sev['medium']} medium, {sev['low']} low)"
    )
    if "baseline" in summary:
        counts = summary["baseline"]
        tail += f"; baseline: {counts['new']} new, {counts['unchanged']} unchanged, {counts['gone']} gone"
    if "suppressed" in summary:
        tail += f"; {summary['suppressed']} suppressed"
    out.append(tail + f"; {summary['read']} events read, {summary['rejected']} rejected.")
    return "\n".join(out) + "\n"
