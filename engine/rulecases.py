"""Rule test cases: YAML files of small logs that must, or must not, make a rule fire.

One file per rule (``fixtures/rules/<rule id>.yaml``)::

    rule: glory-grabber/late-takeover
    cases:
      - name: takes-over-and-closes
        params: {min_takeovers: 1}                 # optional overrides
        roster: [[rep-1, mgr-1, 2026-01-01]]         # optional: rep, manager, start[, end]
        events:
          - {id: e1, ts: "2026-01-05T10:00:00Z", type: deal_owner_changed, actor: mgr-1, deal: d1,
             attrs: {to: mgr-1, to_role: manager}}
          - repeat: 3                                  # n copies, ids <id>1..<id>n, ts every <every>
            every: 1d
            event: {id: call-, ts: "2026-01-06T09:00:00Z", type: call_listened, actor: mgr-1, rep: rep-1}
        expect:                                      # each expected finding, matched on the keys given
          - {manager: mgr-1, metrics: {count: 1}, evidence: [e1, e2]}
      - name: rep-closes-after-manager-joins
        events: [...]
        expect: []                                   # a look-alike: must not fire
    background:                                      # optional: roster and events added to every case
      roster: [[rep-9, mgr-9, 2026-01-01]]           # (other teams: a peer-relative rule's peers);
      events: [...]                                  # a case with 'background: false' goes without

The same runner serves pytest (one test per case) and ``salesmirror rules test``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

from engine.api import evaluate, prepare_rules
from engine.config import Settings
from engine.errors import Problem, RuleError
from engine.ingest import load_records
from engine.lang.params import parse_duration
from engine.lang.plan import CompiledRule
from engine.lang.yamlpos import YamlProblems, read_located
from engine.report.model import Finding, iso

CASE_MAX_NODES = 100_000  # a case file holds whole logs, so it may be far larger than a rule


@dataclass
class Case:
    rule: str
    name: str
    events: list[dict[str, Any]]
    expect: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    line: int = 0

    @property
    def id(self) -> str:
        return f"{self.rule}::{self.name}"


@dataclass
class Outcome:
    case: Case
    passed: bool
    detail: str
    findings: list[Finding] = field(default_factory=list)


def _text(value: Any) -> Any:
    """YAML turns unquoted timestamps into datetimes; events want RFC 3339 text."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def _expand(items: list[Any], where: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict) and "repeat" in item:
            template = dict(item["event"])
            start = datetime.fromisoformat(str(_text(template["ts"])).replace("Z", "+00:00"))
            step = parse_duration(item.get("every", "1d"))
            prefix = str(template.get("id", "ev-"))
            for index in range(int(item["repeat"])):
                event = dict(template)
                event["id"] = f"{prefix}{index + 1}"
                event["ts"] = _text(start + step * index)
                events.append(event)
        elif isinstance(item, dict):
            events.append(item)
        else:
            raise ValueError(f"{where}: an event must be a mapping or a repeat block")
    return events


def _roster(rows: list[Any], prefix: str = "roster") -> list[dict[str, Any]]:
    events = []
    for index, row in enumerate(rows):
        rep, manager, start, *rest = [_text(v) for v in row]
        events.append(
            {
                "id": f"{prefix}-{index + 1}-in",
                "ts": start,
                "type": "team_member_added",
                "actor": manager,
                "manager": manager,
                "rep": rep,
            }
        )
        if rest and rest[0]:
            events.append(
                {
                    "id": f"{prefix}-{index + 1}-out",
                    "ts": rest[0],
                    "type": "team_member_removed",
                    "actor": manager,
                    "manager": manager,
                    "rep": rep,
                }
            )
    return events


def load_cases(path: str) -> list[Case]:
    """Cases of one fixture file; raises RuleError with positions for malformed files."""
    try:
        doc = read_located(path, max_nodes=CASE_MAX_NODES)
    except YamlProblems as exc:
        raise RuleError(exc.problems) from None
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("rule"), str) or not isinstance(data.get("cases"), list):
        raise RuleError([doc.problem((), "a case file needs 'rule: <id>' and a list of 'cases'")])
    background: list[dict[str, Any]] = []
    if "background" in data:  # the same other teams in every case (peers of the run, say)
        raw_bg = data["background"]
        if not isinstance(raw_bg, dict) or set(raw_bg) - {"roster", "events", "description"}:
            raise RuleError([doc.problem(("background",), "background takes roster, events and a description")])
        try:
            background = _roster(raw_bg.get("roster", []), "bg-roster") + _expand(
                _text(raw_bg.get("events", [])), f"{path} background"
            )
        except (ValueError, KeyError, TypeError) as err:
            raise RuleError([doc.problem(("background",), f"invalid background: {err}")]) from None
    cases = []
    for index, raw in enumerate(data["cases"]):
        loc = ("cases", index)
        if not isinstance(raw, dict) or "name" not in raw or "events" not in raw or "expect" not in raw:
            raise RuleError([doc.problem(loc, "each case needs name, events and expect")])
        if raw.get("background", True) not in (True, False):
            raise RuleError([doc.problem(loc + ("background",), "background: false leaves it out; nothing else")])
        try:
            events = _roster(raw.get("roster", [])) + _expand(_text(raw["events"]), f"{path} case {raw['name']}")
        except (ValueError, KeyError, TypeError) as err:
            raise RuleError([doc.problem(loc + ("events",), f"invalid events: {err}")]) from None
        if raw.get("background", True):
            events = background + events
        cases.append(
            Case(
                rule=data["rule"],
                name=str(raw["name"]),
                events=events,
                expect=_text(raw["expect"]) or [],
                params=raw.get("params") or {},
                path=path,
                line=doc.where(loc)[0],
            )
        )
    return cases


def find_case_files(paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found += [os.path.join(root, f) for f in sorted(files) if f.endswith((".yaml", ".yml"))]
        else:
            found.append(path)
    return found


def _matches(finding: Finding, expected: dict[str, Any]) -> list[str]:
    """Differences between a finding and the keys an expectation gives."""
    actual = finding.to_dict()
    problems = []
    for key, want in expected.items():
        if key == "metrics":
            for name, value in want.items():
                got = actual["metrics"].get(name)
                if (
                    not (isinstance(got, (int, float)) and isinstance(value, (int, float)) and abs(got - value) < 1e-3)
                    and got != value
                ):
                    problems.append(f"metrics.{name} is {got!r}, expected {value!r}")
        elif key == "window":
            for end, value in want.items():
                if actual["window"][end] != value:
                    problems.append(f"window.{end} is {actual['window'][end]}, expected {value}")
        elif key == "evidence_includes":
            missing = [e for e in want if e not in actual["evidence"]]
            if missing:
                problems.append(f"evidence lacks {missing}")
        elif actual.get(key) != want:
            problems.append(f"{key} is {actual.get(key)!r}, expected {want!r}")
    return problems


@lru_cache(maxsize=64)
def _compiled(rules_dirs: tuple[str, ...] | None, params: str) -> list[CompiledRule]:
    """Rules compiled once per rule set and parameter override (cases share them)."""
    overrides = json.loads(params)
    settings = Settings(params=overrides)
    return prepare_rules(list(rules_dirs) if rules_dirs else None, settings=settings)[1]


def run_case(case: Case, rules_dirs: list[str] | None = None) -> Outcome:
    """Evaluate one case's log with its rule alone and compare the findings with the expectation."""
    params = json.dumps({case.rule: case.params} if case.params else {}, sort_keys=True, default=str)
    try:
        compiled = _compiled(tuple(rules_dirs) if rules_dirs else None, params)
    except RuleError as exc:
        return Outcome(case, False, "rules failed to load: " + "; ".join(map(str, exc.problems)))
    chosen = [c for c in compiled if c.id == case.rule]
    if not chosen:
        return Outcome(case, False, f"no rule '{case.rule}' in the rule directories")
    loaded = load_records(case.events, name=f"<{case.id}>")
    if loaded.problems:
        return Outcome(case, False, "invalid case events: " + "; ".join(p.message for p in loaded.problems))
    findings = evaluate(loaded, chosen).findings
    if len(findings) != len(case.expect):
        got = "; ".join(f"{f.manager} {f.rep or ''} {iso(f.window_start)} {f.metrics}" for f in findings) or "none"
        return Outcome(case, False, f"expected {len(case.expect)} finding(s), got {len(findings)}: {got}", findings)
    problems: list[str] = []
    for index, (finding, expected) in enumerate(zip(findings, case.expect)):
        problems += [f"finding {index + 1}: {p}" for p in _matches(finding, expected)]
    return Outcome(case, not problems, "; ".join(problems) or "ok", findings)


def as_problem(outcome: Outcome) -> Problem:
    return Problem(outcome.case.path, outcome.case.line, 0, f"{outcome.case.id}: {outcome.detail}")
