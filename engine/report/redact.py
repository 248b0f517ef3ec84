"""Pseudonymise people in a report for sharing beyond HR."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re

from engine.report.model import Report


def pseudonym(person: str, kind: str) -> str:
    """Stable across runs and reports, so redacted outputs can still be compared."""
    digest = hashlib.sha256(person.encode("utf-8")).hexdigest()[:8]
    return f"{kind}-{digest}"


def redact(report: Report) -> Report:
    """A copy of ``report`` with manager, rep and actor ids replaced in every field and text."""
    out = copy.deepcopy(report)
    names: dict[str, str] = {}
    findings = out.findings + out.suppressed + out.unchanged  # the last two: set aside by the CI check
    for finding in findings:
        names.setdefault(finding.manager, pseudonym(finding.manager, "manager"))
        if finding.rep:
            names.setdefault(finding.rep, pseudonym(finding.rep, "rep"))
        for entry in finding.reps:  # a team finding's reps
            if entry.get("rep"):
                names.setdefault(entry["rep"], pseudonym(entry["rep"], "rep"))
    for item in out.not_assessed:
        if item.manager is not None:
            names.setdefault(item.manager, pseudonym(item.manager, "manager"))
    for manager in out.managers:
        names.setdefault(manager, pseudonym(manager, "manager"))
    for gone in out.gone:  # baseline entries: their people may no longer be in the log
        names.setdefault(gone.manager, pseudonym(gone.manager, "manager"))
        if gone.rep:
            names.setdefault(gone.rep, pseudonym(gone.rep, "rep"))
    if not names:
        return out
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?![\w-])"
    )

    def scrub(text: str) -> str:
        return pattern.sub(lambda m: names[m.group(1)], text)

    for finding in findings:
        finding.manager = names[finding.manager]
        finding.rep = names.get(finding.rep, finding.rep) if finding.rep else None
        finding.message = scrub(finding.message)
        finding.advice = scrub(finding.advice)
        finding.notes = [scrub(note) for note in finding.notes]
        for entry in finding.reps:
            if entry.get("rep"):
                entry["rep"] = names[entry["rep"]]
        finding.sources = {}  # source records may carry names in ids or owners
        if finding.suppression:  # the reason may name people; the approver is one
            finding.suppression["reason"] = scrub(str(finding.suppression.get("reason", "")))
            approver = str(finding.suppression.get("approved_by", ""))
            finding.suppression["approved_by"] = pseudonym(approver, "approver")
    for item in out.not_assessed:
        item.manager = names[item.manager] if item.manager is not None else None
        item.reason = scrub(item.reason)
    out.managers = sorted(names[m] for m in out.managers)
    out.gone = [dataclasses.replace(m, manager=names[m.manager], rep=names[m.rep] if m.rep else None) for m in out.gone]
    out.warnings = [scrub(warning) for warning in out.warnings]  # e.g. a suppression's warning names its manager
    out.sort()
    return out
