"""Baselines: the accepted state of a log's findings, so a CI check reports only what is new.

A baseline file is JSON written by ``salesmirror baseline create`` or ``check
--write-baseline``: one entry (a :class:`~engine.report.fingerprint.Mark`) per
finding, holding its fingerprint and enough to recognise it (rule, manager,
rep, deal, period, window, severity, title). It holds no time of writing, so
the same findings always give the same file, and no evidence ids or file
lines, which change when the log does.

``check --baseline FILE`` matches today's findings against it
(:func:`engine.report.fingerprint.compare`): a finding it already holds is
*unchanged* and set aside in ``report.unchanged``; an entry no finding
matches any more is *gone*; the rest are *new* and are all that stays in
``report.findings``, so the exit code counts only them. A finding that has
become more severe than its entry counts as new: what was accepted was the
lesser one. Suppressed findings are neither new nor unchanged, but keep their
entry from counting as gone, and are never written to a baseline (when the
suppression expires the finding must show again).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.errors import ConfigError, Problem
from engine.lang.yamlpos import MAX_NODES, Located, YamlProblems, read_located
from engine.report.fingerprint import VERSION, Mark, compare, mark
from engine.report.model import SEVERITY_ORDER, Finding, Report

__all__ = ["FORMAT_VERSION", "apply_baseline", "baseline_text", "read_baseline", "write_baseline"]

FORMAT_VERSION = 1
_HEX = re.compile(r"[0-9a-f]{32}")


def _order(item: Mark) -> tuple[Any, ...]:
    return (item.rule, item.manager, item.period, item.rep or "", item.deal or "", item.window_start, item.fingerprint)


def baseline_text(findings: Sequence[Finding | Mark]) -> str:
    """The baseline document for ``findings``, in a stable order."""
    marks = sorted((f if isinstance(f, Mark) else mark(f) for f in findings), key=_order)
    document = {
        "salesmirror_baseline": FORMAT_VERSION,
        "fingerprints": VERSION,
        "findings": [m.to_dict() for m in marks],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_baseline(path: str, findings: Sequence[Finding | Mark]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(baseline_text(findings))


def _time(value: Any) -> datetime:
    """An RFC 3339 UTC time as the report writes it (``2026-01-05T00:00:00Z``) to a naive UTC datetime."""
    if not isinstance(value, str) or not value.endswith("Z"):
        raise ValueError("give a UTC time such as 2026-01-05T00:00:00Z")
    try:
        return datetime.fromisoformat(value[:-1])
    except ValueError:
        raise ValueError(f"'{value}' is not a valid time") from None


def _text(value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError("must be text" + (" or null" if optional else ""))
    return value


def _entry(doc: Located, index: int, entry: Any) -> tuple[Mark | None, list[Problem]]:
    where = ("findings", index)
    label = f"invalid baseline entry {index + 1}"
    if not isinstance(entry, dict):
        return None, [doc.problem(where, f"{label}: an entry must be an object")]
    problems: list[Problem] = []

    def take(key: str, read: Any) -> Any:
        if key not in entry:
            problems.append(doc.problem(where, f"{label}: '{key}' is missing"))
            return None
        try:
            return read(entry[key])
        except ValueError as err:
            problems.append(doc.problem((*where, key), f"{label}: {key}: {err}"))
            return None

    def fingerprint(value: Any) -> str:
        if not isinstance(value, str) or not _HEX.fullmatch(value):
            raise ValueError("must be 32 lower-case hex digits")
        return value

    def severity(value: Any) -> str:
        if value not in SEVERITY_ORDER:
            raise ValueError(f"must be one of {', '.join(SEVERITY_ORDER)}")
        return str(value)

    def window(value: Any) -> tuple[datetime, datetime]:
        if not isinstance(value, dict) or set(value) != {"start", "end"}:
            raise ValueError("must be an object with start and end")
        return _time(value["start"]), _time(value["end"])

    def group(value: Any) -> tuple[tuple[str, str | None], ...]:
        if not isinstance(value, dict):
            raise ValueError("must be an object")
        return tuple(sorted((str(k), None if v is None else str(v)) for k, v in value.items()))

    values = {
        "fingerprint": take("fingerprint", fingerprint),
        "rule": take("rule", _text),
        "manager": take("manager", _text),
        "rep": take("rep", lambda v: _text(v, optional=True)),
        "deal": take("deal", lambda v: _text(v, optional=True)),
        "period": take("period", _text),
        "window": take("window", window),
        "severity": take("severity", severity),
    }
    grouped = group(entry["group"]) if isinstance(entry.get("group"), dict) else ()
    if "group" in entry and not isinstance(entry["group"], dict):
        problems.append(doc.problem((*where, "group"), f"{label}: group: must be an object"))
    title = entry.get("title", "")
    if problems:
        return None, problems
    start, end = values["window"]
    return (
        Mark(
            fingerprint=values["fingerprint"],
            rule=values["rule"],
            manager=values["manager"],
            rep=values["rep"],
            deal=values["deal"],
            group=grouped,
            period=values["period"],
            window_start=start,
            window_end=end,
            severity=values["severity"],
            title=title if isinstance(title, str) else "",
        ),
        [],
    )


def read_baseline(path: str) -> list[Mark]:
    """The entries of a baseline file; ConfigError listing every problem, each at ``file:line:col``.

    The file is JSON, read with the project's positional YAML loader (JSON is
    YAML's flow style) so problems have their line and column; the node limit
    follows the file's size, since a baseline grows with the findings it holds.
    """
    try:
        size = os.path.getsize(path)
        doc = read_located(path, max_nodes=max(MAX_NODES, size))
    except OSError as err:
        raise ConfigError([Problem(path, 0, 0, f"cannot read baseline: {err.strerror or err}")]) from None
    except YamlProblems as exc:
        located = [Problem(p.path, p.line, p.col, f"invalid baseline: {p.message}") for p in exc.problems]
        raise ConfigError(located) from None
    data = doc.data
    made_by = "salesmirror baseline create or check --write-baseline"
    if not isinstance(data, dict) or data.get("salesmirror_baseline") is None:
        raise ConfigError([doc.problem((), f"invalid baseline: not a salesmirror baseline (make one with {made_by})")])
    if data.get("salesmirror_baseline") != FORMAT_VERSION:
        raise ConfigError(
            [
                doc.problem(
                    ("salesmirror_baseline",),
                    f"invalid baseline: format {data.get('salesmirror_baseline')!r} is not {FORMAT_VERSION}, "
                    f"the one this salesmirror reads; make it again with {made_by}",
                )
            ]
        )
    if data.get("fingerprints") != VERSION:
        raise ConfigError(
            [
                doc.problem(
                    ("fingerprints",),
                    f"invalid baseline: its fingerprints are {data.get('fingerprints')!r}, not {VERSION}; "
                    f"make it again with {made_by}",
                )
            ]
        )
    entries = data.get("findings")
    if not isinstance(entries, list):
        raise ConfigError([doc.problem(("findings",), "invalid baseline: 'findings' must be a list")])
    marks: list[Mark] = []
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        found, trouble = _entry(doc, index, entry)
        problems += trouble
        if found is not None:
            marks.append(found)
    if problems:
        raise ConfigError(problems)
    return marks


def apply_baseline(report: Report, marks: Sequence[Mark], path: str) -> None:
    """Keep only new findings in ``report.findings``; set aside the unchanged; list what has gone."""
    report.baseline_file = path
    current = list(report.findings) + list(report.suppressed)
    result = compare(list(marks), current)
    matched: dict[int, Mark] = {id(after): before for before, after in result.persisting}
    new: list[Finding] = []
    unchanged: list[Finding] = []
    for finding in report.findings:
        before = matched.get(id(finding))
        if before is None:
            finding.baseline = "new"
            new.append(finding)
        elif SEVERITY_ORDER[finding.severity] > SEVERITY_ORDER[before.severity]:
            finding.baseline = "new"
            finding.notes.append(
                f"counted as new: the baseline holds it as {before.severity}, and it is {finding.severity} now"
            )
            new.append(finding)
        else:
            finding.baseline = "unchanged"
            unchanged.append(finding)
    for finding in report.suppressed:  # set aside already; the state says whether the baseline knew it
        finding.baseline = "unchanged" if id(finding) in matched else "new"
    report.findings = new
    report.unchanged = unchanged
    report.gone = list(result.gone)
    report.sort()
