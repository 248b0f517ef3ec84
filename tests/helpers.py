"""Small builders shared by the rule-language tests.

Every test writes its own hand-built event log (JSONL) and its own rule files
into ``tmp_path`` and runs them through the public API, so the expected
numbers can be worked out by hand from the events the test itself lists.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

import engine

DOCS = {
    "why": "Why the pattern hurts.",
    "instead": "What to do instead.",
    "false_positives": "When the rule is wrong.",
}


def at(text: str) -> str:
    """'2026-01-05' or '2026-01-05 10:30' -> '2026-01-05T00:00:00Z' / '2026-01-05T10:30:00Z'."""
    text = text.strip().replace(" ", "T")
    if "T" not in text:
        text += "T00:00:00"
    elif text.count(":") == 1:
        text += ":00"
    return text + "Z"


def D(text: str) -> datetime:
    """A naive UTC datetime, as findings carry them: D('2026-01-05 10:00')."""
    return datetime.fromisoformat(at(text)[:-1])


def ev(event_id: str, when: str, event_type: str, actor: str = "m1", **fields: Any) -> dict[str, Any]:
    """One canonical event; ``fields`` may hold manager, rep, deal, attrs, actor_role, source."""
    event: dict[str, Any] = {"id": event_id, "ts": at(when), "type": event_type, "actor": actor}
    for key, value in fields.items():
        if value is not None:
            event[key] = value
    return event


def added(event_id: str, when: str, manager: str, rep: str, actor: str = "hr") -> dict[str, Any]:
    return ev(event_id, when, "team_member_added", actor, manager=manager, rep=rep)


def removed(
    event_id: str, when: str, manager: str, rep: str, reason: str = "transferred", actor: str = "hr"
) -> dict[str, Any]:
    return ev(event_id, when, "team_member_removed", actor, manager=manager, rep=rep, attrs={"reason": reason})


def write_events(path: Path, events: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events), encoding="utf-8")
    return path


def rule_doc(
    rule_id: str,
    logic: dict[str, Any],
    *,
    params: dict[str, Any] | None = None,
    message: str = "{count}",
    advice: str = "Do better.",
    severity: str = "low",
    trait: str = "test-trait",
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": rule_id,
        "trait": trait,
        "title": f"Test rule {rule_id}",
        "severity": severity,
    }
    if params:
        doc["params"] = params
    doc.update({"logic": logic, "message": message, "advice": advice, "docs": dict(DOCS)})
    return doc


def write_rule(rules_dir: Path, rule_id: str, logic: dict[str, Any], **kw: Any) -> Path:
    """Write a rule as ``rules_dir/<prefix>/<leaf>.yaml`` (the file name is the id's last part)."""
    prefix, leaf = rule_id.rsplit("/", 1)
    target = rules_dir / prefix / f"{leaf}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(rule_doc(rule_id, logic, **kw), sort_keys=False), encoding="utf-8")
    return target


def write_library(
    rules_dir: Path, lists: dict[str, Any] | None = None, macros: dict[str, Any] | None = None, name: str = "_lib.yaml"
) -> Path:
    rules_dir.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {}
    if lists:
        body["lists"] = lists
    if macros:
        body["macros"] = macros
    target = rules_dir / name
    target.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return target


def run_rule(
    tmp_path: Path,
    events: list[dict[str, Any]],
    logic: dict[str, Any],
    *,
    rule_id: str = "t/rule",
    lists: dict[str, Any] | None = None,
    macros: dict[str, Any] | None = None,
    **kw: Any,
) -> engine.Report:
    """Write one rule (and optionally a _lib.yaml) plus the log, run check, return the report."""
    rules_dir = tmp_path / "rules"
    write_rule(rules_dir, rule_id, logic, **kw)
    if lists or macros:
        write_library(rules_dir, lists, macros)
    log = write_events(tmp_path / "events.jsonl", events)
    return engine.check([str(log)], rules=[str(rules_dir)])


def findings(report: engine.Report, rule_id: str = "t/rule") -> list[Any]:
    return [f for f in report.findings if f.rule == rule_id]


def one(report: engine.Report, rule_id: str = "t/rule") -> Any:
    """The single finding of ``rule_id`` (fails loudly when there are none or several)."""
    found = findings(report, rule_id)
    assert len(found) == 1, [(f.manager, f.rep, f.deal, f.window_start, f.window_end, f.metrics) for f in found]
    return found[0]


def shuffled_copy(events: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    out = list(events)
    random.Random(seed).shuffle(out)
    return out
