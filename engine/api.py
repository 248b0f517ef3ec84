"""The public Python API. The CLI is a thin wrapper over :func:`check`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

from engine.backends import get_backend
from engine.config import Settings, read_config, resolve_overrides
from engine.errors import ConfigError, InvalidInput, Problem, RuleError
from engine.findings import (
    SEVERITY_ORDER,
    Finding,
    NotAssessed,
    build_findings,
    build_not_assessed,
    iso,
)
from engine.ingest import LoadResult, load_events, write_rejects
from engine.lang.compiler import compile_rules
from engine.lang.loader import RuleSet, collect_rules, default_rules_dir
from engine.lang.plan import CompiledRule

DEFAULT_MAX_EVIDENCE = 50


@dataclass
class Report:
    """What one check produced: findings, what could not be judged, and the counts."""

    findings: list[Finding]
    not_assessed: list[NotAssessed]
    read: int
    evaluated: int
    rejected: int
    rules: list[str]
    managers: list[str]
    span: tuple[Any, Any]
    warnings: list[str] = field(default_factory=list)
    fail_on: str | None = None  # from the config file, when it sets one

    def summary(self) -> dict[str, Any]:
        by_severity = {s: 0 for s in SEVERITY_ORDER}
        for finding in self.findings:
            by_severity[finding.severity] += 1
        return {
            "events": self.evaluated,
            "rejected": self.rejected,
            "findings": len(self.findings),
            "read": self.read,
            "evaluated": self.evaluated,
            "by_severity": by_severity,
            "rules": len(self.rules),
            "managers": len(self.managers),
            "span": {"start": iso(self.span[0]), "end": iso(self.span[1])},
        }

    def to_dict(self, *, with_origins: bool = False) -> dict[str, Any]:
        return {
            "findings": [f.to_dict(with_origins=with_origins) for f in self.findings],
            "summary": self.summary(),
            "not_assessed": [n.to_dict() for n in self.not_assessed],
        }

    def to_json(self, *, with_origins: bool = False) -> str:
        return json.dumps(self.to_dict(with_origins=with_origins), indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    def at_or_above(self, level: str) -> list[Finding]:
        if level == "never":
            return []
        floor = SEVERITY_ORDER[level]
        return [f for f in self.findings if SEVERITY_ORDER[f.severity] >= floor]


def prepare_rules(
    rules_dirs: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    sets: Sequence[str] = (),
) -> tuple[RuleSet, list[CompiledRule]]:
    """Load, configure and compile rules (every problem reported together)."""
    settings = replace(settings or Settings(), sets=list(sets))  # never change the caller's settings
    directories = list(rules_dirs) if rules_dirs else [default_rules_dir()]
    directories += settings.extra_rules
    ruleset, problems = collect_rules(directories)
    overrides: dict[str, dict[str, Any]] = {}
    if not problems:  # overrides name rules, which must all have loaded to be checked
        try:
            overrides = resolve_overrides(settings, ruleset)
        except ConfigError as exc:
            problems.extend(exc.problems)
    enabled = {r.rule.id for r in ruleset.rules if r.rule.id not in settings.disable and r.rule.status != "deprecated"}
    compiled: list[CompiledRule] = []
    try:
        compiled = compile_rules(ruleset, overrides, only=enabled)
    except RuleError as exc:
        problems.extend(exc.problems)
    if problems:
        raise RuleError(problems)
    for rule in compiled:
        rule.severity_override = settings.severity.get(rule.id)
    return ruleset, compiled


def evaluate(
    loaded: LoadResult,
    compiled: Sequence[CompiledRule],
    *,
    max_evidence: int = DEFAULT_MAX_EVIDENCE,
    with_origins: bool = False,
) -> Report:
    """Run compiled rules over loaded events: no I/O, no printing."""
    backend = get_backend("duckdb")(loaded.table)
    try:
        findings: list[Finding] = []
        not_assessed: list[NotAssessed] = []
        for rule in compiled:
            result = backend.run(rule)
            findings.extend(build_findings(rule, result.findings, max_evidence=max_evidence))
            not_assessed.extend(build_not_assessed(rule, result.assessment))
        cited = sorted({i for f in findings for i in f.evidence})
        origins = backend.origins(cited)
        for finding in findings:
            for event_id in finding.evidence:
                origin = origins.get(event_id)
                if origin is None:
                    continue
                if origin.source:
                    finding.sources[event_id] = json.loads(origin.source)
                finding.origins[event_id] = f"{origin.file}:{origin.line}"
        findings.sort(key=Finding.sort_key)
        not_assessed.sort(key=lambda n: (n.manager, n.rule))
        return Report(
            findings=findings,
            not_assessed=not_assessed,
            read=loaded.read,
            evaluated=loaded.evaluated,
            rejected=len(loaded.problems),
            rules=[r.id for r in compiled],
            managers=backend.managers(),
            span=backend.span(),
            warnings=list(loaded.warnings),
        )
    finally:
        backend.close()


def check(
    events: Sequence[str],
    *,
    rules: Sequence[str] | None = None,
    roster: str | None = None,
    config: str | None = None,
    sets: Sequence[str] = (),
    rejects: str | None = None,
    stdin: BinaryIO | None = None,
    max_evidence: int = DEFAULT_MAX_EVIDENCE,
) -> Report:
    """Check event logs against rules and return the report.

    Raises RuleError / ConfigError for bad rules or settings and InvalidInput
    when events are invalid and no ``rejects`` file was given (strict mode).
    """
    settings = read_config(config)
    _, compiled = prepare_rules(rules, settings=settings, sets=sets)
    loaded = load_events(list(events), roster=roster, stdin=stdin)
    if loaded.problems:
        if rejects is None:
            raise InvalidInput([Problem(p.path, p.line, 0, p.message) for p in loaded.problems])
        write_rejects(rejects, loaded.problems)
    elif rejects is not None:
        write_rejects(rejects, [])
    report = evaluate(loaded, compiled, max_evidence=max_evidence)
    report.fail_on = settings.fail_on
    return report
