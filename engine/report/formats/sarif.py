"""``--format sarif``: SARIF 2.1.0, the static-analysis exchange format code-scanning tools read.

One run. ``tool.driver.rules`` describes every rule that ran, as configured;
each finding is a ``result`` whose physical location is the input file and
line of its first evidence event (the other listed evidence events are
``relatedLocations``) and whose logical locations name the manager, the rep
or deal, and the CRM record of that first event. ``partialFingerprints``
carries the finding's stable fingerprint (``engine.report.fingerprint``), so
a code-scanning service tracks it from run to run however the log changes.

SARIF has its own words for what the CI check sets aside, so nothing is left
out of the document: findings a suppression file accepts are results with a
``suppressions`` entry (kind ``external``, status ``accepted``, the reason as
justification, the entry's file and line as its location); with a baseline,
every result has a ``baselineState`` (``new`` or ``unchanged``; the baseline's
own entries that have gone are counted in the run's properties).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from engine.report.fingerprint import fingerprint, period
from engine.report.formats.base import DEFAULT_OPTIONS, RenderOptions
from engine.report.formats.text import measured
from engine.report.model import Finding, Report, RuleMeta

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
FINGERPRINT_KEY = "salesmirrorFinding/v1"
STDIN = "<stdin>"  # how origins name standard input (engine.ingest.sources)


def _name(rule_id: str) -> str:
    """A rule's SARIF ``name``: an identifier-like spelling of its id (knee-jerk-reactionary/strategy-churn -> KneeJerkReactionaryStrategyChurn)."""
    words = rule_id.replace("/", "-").replace("_", "-").split("-")
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def _help(rule: RuleMeta) -> dict[str, str]:
    docs = rule.docs
    wrong = list(docs.false_positives)
    text = f"Why: {docs.why}\n\nInstead: {docs.instead}"
    markdown = f"**Why.** {docs.why}\n\n**Instead.** {docs.instead}"
    if wrong:
        text += "\n\nWhen the rule is wrong:\n" + "\n".join(f"- {item}" for item in wrong)
        markdown += "\n\n**When the rule is wrong:**\n\n" + "\n".join(f"- {item}" for item in wrong)
    if docs.references:
        text += "\n\nReferences:\n" + "\n".join(f"- {item}" for item in docs.references)
        markdown += "\n\n**References:**\n\n" + "\n".join(f"- {item}" for item in docs.references)
    return {"text": text, "markdown": markdown}


def _descriptor(rule: RuleMeta) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": _name(rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.docs.why},
        "help": _help(rule),
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "warning")},
        "properties": {
            "trait": rule.trait,
            "severity": rule.severity,
            "status": rule.status,
            "parameters": {param.name: _plain(param.value) for param in rule.params},
            "tags": [rule.trait],
        },
    }


def _plain(value: Any) -> Any:
    """A parameter value as JSON has it (they are already text, numbers or lists; anything else as text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def _uri(path: str) -> str:
    """A file as a URI reference: relative paths stay relative (code scanning wants them so)."""
    if os.path.isabs(path):
        return "file://" + quote(path.replace(os.sep, "/"), safe="/")
    return quote(path.replace(os.sep, "/"), safe="/")


def _split_origin(origin: str) -> tuple[str, int] | None:
    """``file:line`` (as findings cite evidence) into its parts."""
    path, sep, line = origin.rpartition(":")
    if not sep or not line.isdigit() or int(line) < 1:
        return None
    return path, int(line)


class _Artifacts:
    """The input files, numbered in the run's ``artifacts`` as results first cite them (inputs first)."""

    def __init__(self, inputs: Iterable[str]) -> None:
        self.index: dict[str, int] = {}
        for path in inputs:
            self.add(STDIN if path == "-" else path)
        self.first = next((path for path in self.index if path != STDIN), None)

    def add(self, path: str) -> int:
        return self.index.setdefault(path, len(self.index))

    def location(self, path: str) -> dict[str, Any]:
        where: dict[str, Any] = {"index": self.add(path)}
        if path != STDIN:
            where["uri"] = _uri(path)
        return where

    def listing(self) -> list[dict[str, Any]]:
        out = []
        for path in self.index:
            if path == STDIN:
                out.append({"description": {"text": "standard input"}})
            else:
                out.append({"location": {"uri": _uri(path)}})
        return out


def _physical(artifacts: _Artifacts, origin: str | None) -> dict[str, Any] | None:
    split = _split_origin(origin) if origin else None
    if split is None:
        return None
    path, line = split
    return {"artifactLocation": artifacts.location(path), "region": {"startLine": line}}


def _logical(finding: Finding) -> list[dict[str, Any]]:
    places = [{"name": finding.manager, "kind": "manager"}]
    if finding.rep:
        places.append({"name": finding.rep, "kind": "rep"})
    if finding.deal:
        places.append({"name": finding.deal, "kind": "deal"})
    first = finding.evidence[0] if finding.evidence else None
    record = finding.sources.get(first) if first else None
    if isinstance(record, dict) and record.get("record_id"):
        parts = [str(record.get(k)) for k in ("system", "object", "record_id") if record.get(k)]
        places.append({"name": str(record["record_id"]), "fullyQualifiedName": "/".join(parts), "kind": "record"})
    return places


def _suppression(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "external",
        "status": "accepted",
        "justification": str(entry.get("reason", "")),
        "properties": {"approvedBy": entry.get("approved_by"), "expires": entry.get("expires")},
    }
    path, _, rest = str(entry.get("entry", "")).rpartition(":")
    path, _, line = path.rpartition(":")
    if path and line.isdigit() and rest.isdigit():
        region = {"startLine": int(line), "startColumn": int(rest)}
        out["location"] = {"physicalLocation": {"artifactLocation": {"uri": _uri(path)}, "region": region}}
    return out


def _who(finding: Finding) -> str:
    who = finding.manager
    who += f", rep {finding.rep}" if finding.rep else ""
    who += f", deal {finding.deal}" if finding.deal else ""
    return who


def _result(finding: Finding, rules: dict[str, int], artifacts: _Artifacts, baseline: bool) -> dict[str, Any]:
    data = finding.to_dict()
    result: dict[str, Any] = {"ruleId": finding.rule}
    if finding.rule in rules:
        result["ruleIndex"] = rules[finding.rule]
    result["kind"] = "fail"
    result["level"] = LEVELS.get(finding.severity, "warning")
    result["message"] = {"text": f"{_who(finding)}: {finding.message} ({measured(finding)})"}
    cited = [(event_id, finding.origins.get(event_id)) for event_id in finding.evidence]
    primary: dict[str, Any] = {}
    physical = _physical(artifacts, cited[0][1]) if cited else None
    if physical is not None:
        primary["physicalLocation"] = physical
        primary["message"] = {"text": f"first evidence event: {cited[0][0]}"}
    elif not cited and artifacts.first is not None:
        # a finding about what the log lacks (no call listened in a month) has no event to point at:
        # it is about the log as a whole, and code-scanning services want a file for every result
        primary["physicalLocation"] = {"artifactLocation": artifacts.location(artifacts.first)}
        primary["message"] = {"text": "no evidence event: the finding is about what the log lacks"}
    primary["logicalLocations"] = _logical(finding)
    result["locations"] = [primary]
    related: list[dict[str, Any]] = []
    for event_id, origin in cited[1:]:
        place = _physical(artifacts, origin)
        if place is not None:
            related.append(
                {"id": len(related) + 1, "physicalLocation": place, "message": {"text": f"evidence event: {event_id}"}}
            )
    if related:
        result["relatedLocations"] = related
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(finding)}
    score = finding.confidence.get("score") if finding.confidence else None
    if isinstance(score, (int, float)) and not isinstance(score, bool):
        result["rank"] = round(max(0.0, min(1.0, float(score))) * 100, 1)
    if baseline and finding.baseline:
        result["baselineState"] = finding.baseline
    if finding.suppression:
        result["suppressions"] = [_suppression(finding.suppression)]
    result["properties"] = {
        "manager": finding.manager,
        "rep": finding.rep,
        "deal": finding.deal,
        "trait": finding.trait,
        "severity": finding.severity,
        "title": finding.title,
        "verdict": finding.verdict,
        "period": period(finding),
        "window": data["window"],
        "metrics": data["metrics"],
        "threshold": data["threshold"],
        "confidence": data["confidence"],
        "persistence": data["persistence"],
        "counterEvidence": data["counter_evidence"],
        "notes": data["notes"],
        "evidence": data["evidence"],
        "evidenceTotal": data["evidence_total"],
        "sources": data["sources"],
        "group": data["group"],
        **({"reps": data["reps"]} if "reps" in data else {}),
    }
    return result


def render_sarif(report: Report, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    from engine import __version__  # at render time: engine imports the formats while it loads

    rules = {rule.id: index for index, rule in enumerate(report.rules)}
    artifacts = _Artifacts(report.inputs)
    everything = sorted([*report.findings, *report.unchanged, *report.suppressed], key=Finding.sort_key)
    baseline = report.baseline_file is not None
    results = [_result(finding, rules, artifacts, baseline) for finding in everything]
    summary = report.summary()
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if options.command:
        invocation["commandLine"] = shlex.join(options.command)
        invocation["arguments"] = list(options.command[1:])
    if report.warnings:
        invocation["toolExecutionNotifications"] = [
            {"level": "warning", "message": {"text": warning}} for warning in report.warnings
        ]
    invocation["properties"] = {
        "read": report.read,
        "evaluated": report.evaluated,
        "rejected": report.rejected,
        "findings": summary["findings"],
        **{key: summary[key] for key in ("suppressed", "baseline") if key in summary},
    }
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "salesmirror",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_descriptor(rule) for rule in report.rules],
            }
        },
        "invocations": [invocation],
        "artifacts": artifacts.listing(),
        "results": results,
        "properties": {
            "summary": summary,
            "notAssessed": [item.to_dict() for item in report.not_assessed],
            **({"baselineGone": [mark.to_dict() for mark in report.gone]} if baseline else {}),
        },
    }
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
