"""``--format junit``: JUnit XML, the test-report shape every CI server reads.

A rule is a ``testsuite`` and each manager in the log a ``testcase`` of it,
so a CI server's test view reads as "which rule, which manager":

* **failed** when the rule found something about the manager: the
  ``failure`` lists the findings (what, when, the metric against its
  threshold, evidence, advice); its ``type`` is the highest severity;
* **skipped** when the rule could not judge the manager at all (too little
  data, too short a tenure: the not-assessed reason), or when everything it
  found is accepted by a suppression (the reason, approver and expiry);
* **passed** otherwise, with ``system-out`` saying what was left out: windows
  not assessed, findings already in the baseline, suppressed findings.

``classname`` is the rule id with its ``/`` as a dot (``excuse-maker.external-blame``)
so servers that group by package group by trait. Times are 0: the rules run
together in one database pass, and a per-test time would be invented (and
would make the same input give different output). Characters XML 1.0 cannot
hold are written as ``\\xNN`` text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from engine.report.formats.base import DEFAULT_OPTIONS, RenderOptions
from engine.report.formats.text import measured
from engine.report.model import SEVERITY_ORDER, Finding, NotAssessed, Report

_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: other characters (control codes, lone surrogates) as ``\\xNN``/``\\uNNNN``."""

    def shown(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _NOT_XML.sub(shown, text)


def _day(finding: Finding) -> str:
    return f"{finding.window_start:%Y-%m-%d} .. {finding.window_end:%Y-%m-%d}"


def _about(finding: Finding) -> str:
    who = f" rep {finding.rep}" if finding.rep else ""
    who += f" deal {finding.deal}" if finding.deal else ""
    return f"{finding.severity.upper()} {_day(finding)}{who}"


def _described(finding: Finding, options: RenderOptions) -> list[str]:
    lines = [_about(finding), f"  {finding.message}", f"  {measured(finding)}"]
    if finding.verdict == "watch":
        lines.append("  low confidence: a watch item, not a verdict")
    for fact in finding.counter_evidence:
        lines.append(f"  for the manager: {fact.get('says')}")
    shown = finding.evidence if options.verbose else finding.evidence[:5]
    cited = [f"{e} ({finding.origins[e]})" if options.origins and e in finding.origins else e for e in shown]
    more = finding.evidence_total - len(shown)
    if cited:
        lines.append(f"  evidence: {', '.join(cited)}" + (f" (+{more} more)" if more > 0 else ""))
    lines.append(f"  advice: {finding.advice}")
    lines += [f"  note: {note}" for note in finding.notes]
    return lines


def _suppressed_line(finding: Finding) -> str:
    entry = finding.suppression
    return (
        f"{_about(finding)} suppressed: {entry.get('reason')} (approved by {entry.get('approved_by')}, "
        f"expires {entry.get('expires')}; {entry.get('entry')})"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _case(
    suite: ET.Element,
    rule: str,
    manager: str,
    found: list[Finding],
    suppressed: list[Finding],
    known: list[Finding],
    unjudged: NotAssessed | None,
    options: RenderOptions,
) -> str:
    """Add one testcase; say whether it failed, was skipped or passed."""
    case = ET.SubElement(suite, "testcase", name=_xml_text(manager), classname=rule.replace("/", "."), time="0")
    out: list[str] = []
    outcome = "passed"
    if found:
        worst = max(found, key=lambda f: SEVERITY_ORDER[f.severity])
        body = "\n\n".join("\n".join(_described(f, options)) for f in found)
        first = f"{_count(len(found), 'finding')}: {found[0].message}"
        failure = ET.SubElement(case, "failure", message=_xml_text(first), type=worst.severity)
        failure.text = _xml_text(body)
        outcome = "failed"
    elif unjudged is not None and unjudged.not_assessed >= unjudged.windows and not known and not suppressed:
        ET.SubElement(case, "skipped", message=_xml_text(f"not assessed: {unjudged.reason}"))
        outcome = "skipped"
    elif suppressed and not known:
        reasons = "; ".join(str(f.suppression.get("reason")) for f in suppressed)
        ET.SubElement(case, "skipped", message=_xml_text(f"suppressed: {reasons}"))
        outcome = "skipped"
    if unjudged is not None and outcome != "skipped":
        counted = f"{unjudged.not_assessed} of {unjudged.windows} window(s) " if unjudged.windows else ""
        out.append(f"not assessed: {counted}{unjudged.reason}")
    if known:
        out.append(f"{_count(len(known), 'finding')} already in the baseline, not reported again:")
        out += ["  " + _about(f) + f" {f.message}" for f in known]
    if suppressed:
        out += [_suppressed_line(f) for f in suppressed]
    if out:
        ET.SubElement(case, "system-out").text = _xml_text("\n".join(out))
    return outcome


def render_junit(report: Report, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    by_case: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_case[(finding.rule, finding.manager)].append(finding)
    quiet: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in report.suppressed:
        quiet[(finding.rule, finding.manager)].append(finding)
    known: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in report.unchanged:
        known[(finding.rule, finding.manager)].append(finding)
    unjudged: dict[tuple[str, str | None], NotAssessed] = {(n.rule, n.manager): n for n in report.not_assessed}
    managers = sorted(
        set(report.managers)
        | {f.manager for f in [*report.findings, *report.suppressed, *report.unchanged]}
        | {n.manager for n in report.not_assessed if n.manager is not None}
    )
    root = ET.Element("testsuites", name="salesmirror")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for rule in report.rules:
        suite = ET.Element("testsuite", name=rule.id)
        props = ET.SubElement(suite, "properties")
        for name, value in [("trait", rule.trait), ("severity", rule.severity), ("title", rule.title)]:
            ET.SubElement(props, "property", name=name, value=_xml_text(value))
        for param in rule.params:
            ET.SubElement(props, "property", name=f"param.{param.name}", value=_xml_text(str(param.value)))
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for manager in managers:
            key = (rule.id, manager)
            reason = unjudged.get(key) or unjudged.get((rule.id, None))
            outcome = _case(suite, rule.id, manager, by_case[key], quiet[key], known[key], reason, options)
            counts["tests"] += 1
            counts["failures"] += outcome == "failed"
            counts["skipped"] += outcome == "skipped"
        suite.attrib.update(
            tests=str(counts["tests"]),
            failures=str(counts["failures"]),
            errors="0",
            skipped=str(counts["skipped"]),
            time="0",
        )
        root.append(suite)
        for total, number in counts.items():
            totals[total] += number
    root.attrib.update(
        tests=str(totals["tests"]),
        failures=str(totals["failures"]),
        errors="0",
        skipped=str(totals["skipped"]),
        time="0",
    )
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
