"""The public Python API. The CLI is a thin wrapper over :func:`check`."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any, BinaryIO

from engine.backends import get_backend
from engine.config import Settings, read_config, resolve_overrides
from engine.errors import (
    ConfigError,
    InputError,
    InvalidInput,
    Problem,
    ProblemsFound,
    RuleError,
    SalesmirrorError,
    UsageError,
)
from engine.ingest import LoadResult, load_events, write_rejects
from engine.lang.compiler import compile_rules
from engine.lang.loader import RuleSet, collect_rules, default_rules_dir
from engine.lang.plan import CompiledRule
from engine.lang.setup import INFER_ABSENCE_DAYS
from engine.progress import Steps
from engine.report import fairness
from engine.report.baseline import apply_baseline, read_baseline
from engine.report.build import build_findings, build_not_assessed, rule_meta
from engine.report.fingerprint import Mark, fingerprint
from engine.report.model import Finding, NotAssessed, Report
from engine.report.suppress import Suppression, apply_suppressions, check_names, collect_suppressions

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_MAX_EVIDENCE",
    "Prepared",
    "Report",
    "check",
    "evaluate",
    "prepare",
    "prepare_rules",
    "refuse_outputs_over_inputs",
]

DEFAULT_MAX_EVIDENCE = 50
DEFAULT_BACKEND = "duckdb"


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
    ruleset, problems = collect_rules(directories, if_missing=settings.rules_if_missing)
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
    with_origins: bool = False,  # accepted for compatibility: findings always carry their origins
    backend: str = DEFAULT_BACKEND,
    inputs: Sequence[str] = (),
    infer_absence_days: float = INFER_ABSENCE_DAYS,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run compiled rules over loaded events: no I/O, no printing.

    ``inputs`` names the event files the log came from, for formats that cite them.
    ``infer_absence_days``: a rep with no events for this long is taken to be away (0: never).
    ``progress`` is told each rule's id once it has run (engine.progress draws it).
    """
    # the events where ingestion keeps them (a DuckDB store) when it made them; a hand-made result's table
    events = loaded.store if loaded.store is not None else loaded.table
    runner = get_backend(backend)(events, infer_absence_days=infer_absence_days)
    try:
        findings: list[Finding] = []
        not_assessed: list[NotAssessed] = []
        missing: list[str] = []  # said once per rule: the log lacks what it needs
        for rule in compiled:
            result = runner.run(rule)
            if progress is not None:
                progress(rule.id)
            if result.missing:
                entry, warning = fairness.missing_not_assessed(rule, result.missing)
                not_assessed.append(entry)
                missing.append(warning)
                continue
            findings += build_findings(
                rule,
                result.findings,
                max_evidence=max_evidence,
                origins=runner.origins,
                coverage=result.coverage,
                assessment=result.assessment,
            )
            not_assessed += fairness.merge_not_assessed(
                build_not_assessed(rule, result.assessment)
                + fairness.coverage_not_assessed(rule, result.coverage)
                + fairness.small_team_not_assessed(rule, result.small_teams)
            )
        report = Report(
            findings=findings,
            not_assessed=not_assessed,
            read=loaded.read,
            evaluated=loaded.evaluated,
            rejected=len(loaded.problems),
            rules=[rule_meta(r) for r in compiled],
            managers=runner.managers(),
            span=runner.span(),
            # then what the backend left out or cut short, and the rules that could not judge anyone
            warnings=list(loaded.warnings) + runner.warnings() + missing,
            inputs=list(inputs),
        )
    finally:
        runner.close()
    for finding in report.findings:  # before any redaction, so a redacted report keeps them
        finding.fingerprint = fingerprint(finding)
    report.sort()
    return report


def refuse_outputs_over_inputs(outputs: dict[str, str | None], inputs: Sequence[str | None]) -> None:
    """UsageError when an output path (``{"--rejects": path}``) is one of the inputs: it would be truncated."""

    def same(a: str, b: str) -> bool:
        try:
            return os.path.samefile(a, b)
        except OSError:  # one of them does not exist (yet): compare the paths
            return os.path.abspath(a) == os.path.abspath(b)

    clashes = [
        Problem(option, 0, 0, f"{option} {path} is also an input; refusing to overwrite it")
        for option, path in outputs.items()
        if path and path != "-"
        for given in inputs
        if given and given != "-" and same(path, given)
    ]
    if clashes:
        raise UsageError(clashes)


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
    backend: str = DEFAULT_BACKEND,
    suppressions: Sequence[str] | None = None,
    baseline: str | None = None,
    today: date | None = None,
    sources: Sequence[str] = (),
    mapping: str | None = None,
    progress: Steps | None = None,
) -> Report:
    """Check event logs against rules and return the report.

    ``progress`` shows the steps (reading, each rule) where someone watches (engine.progress).

    ``sources`` are CRM exports read directly (``salesforce:PATH``, see
    ``engine.importers``; ``mapping`` is their mapping file): each is imported
    whole, and its events are checked as the lines of a JSONL file would be,
    named by the spec in problems and evidence.

    Every layer is read even when an earlier one has problems, so one run
    reports them all: the config, the rules and ``--set``, and the inputs
    (whole files that cannot be read, and invalid records when no ``rejects``
    file was given). One layer's problems raise that layer's error
    (ConfigError, RuleError, InputError, InvalidInput); several layers' raise
    ProblemsFound holding each. UsageError when ``rejects`` is an input.

    ``suppressions`` are suppression files (``None``: the config's
    ``suppressions:``, if any); findings they accept move to
    ``report.suppressed``, judged for expiry against ``today`` (default: today's
    date in UTC). ``baseline`` is a baseline file: findings it holds move to
    ``report.unchanged``, and ``report.findings`` keeps only the new ones.
    Both files are read and checked with the other layers, every problem at
    ``file:line:col`` (ConfigError).
    """
    steps = progress if progress is not None else Steps(None)
    with steps.step("reading the config, the rules and the events"):
        prepared = prepare(
            events,
            rules=rules,
            roster=roster,
            config=config,
            sets=sets,
            rejects=rejects,
            stdin=stdin,
            suppressions=suppressions,
            baseline=baseline,
            sources=sources,
            mapping=mapping,
        )
    settings = prepared.settings
    with steps.bar("evaluating the rules", len(prepared.compiled)) as advance:
        report = evaluate(
            prepared.loaded,
            prepared.compiled,
            max_evidence=max_evidence,
            backend=backend,
            inputs=prepared.inputs,
            infer_absence_days=settings.infer_absence_days,
            progress=advance,
        )
    report.fail_on = settings.fail_on
    if prepared.suppression_files:
        apply_suppressions(
            report, prepared.suppressions, prepared.suppression_files, today or datetime.now(timezone.utc).date()
        )
    if baseline is not None:
        apply_baseline(report, prepared.baseline, baseline)
    return report


@dataclass
class Prepared:
    """Everything a check reads before it evaluates: settings, compiled rules, the loaded log, CI files."""

    settings: Settings
    compiled: list[CompiledRule]
    loaded: LoadResult
    inputs: list[str]  # the event files and sources, as given
    suppression_files: list[str] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    baseline: list[Mark] = field(default_factory=list)


def prepare(
    events: Sequence[str],
    *,
    rules: Sequence[str] | None = None,
    roster: str | None = None,
    config: str | None = None,
    sets: Sequence[str] = (),
    rejects: str | None = None,
    stdin: BinaryIO | None = None,
    suppressions: Sequence[str] | None = None,
    baseline: str | None = None,
    sources: Sequence[str] = (),
    mapping: str | None = None,
    outputs: dict[str, str | None] | None = None,
) -> Prepared:
    """Read every layer of a check, raising one error that holds every problem of every layer.

    What :func:`check` evaluates once and an audit (``engine.audit``) evaluates
    period by period. ``outputs`` names further files the caller will write
    (``{"-o": path}``): refused, like ``rejects``, when one is an input.
    """
    refuse_outputs_over_inputs(
        {**(outputs or {}), "--rejects": rejects}, [*events, roster, config, baseline, *(suppressions or ())]
    )
    errors: list[SalesmirrorError] = []
    try:
        settings = read_config(config)
    except ConfigError as exc:
        errors.append(exc)
        settings = Settings()  # the rules are still checked, with their defaults
    compiled: list[CompiledRule] = []
    ruleset: RuleSet | None = None
    try:
        ruleset, compiled = prepare_rules(rules, settings=settings, sets=sets)
    except RuleError as exc:
        errors.append(exc)
    files = list(settings.suppressions if suppressions is None else suppressions)
    entries, marks = _read_ci_files(files, baseline, ruleset, errors)
    imported, notes = _import_sources(sources, mapping, errors)
    loaded = load_events(list(events), roster=roster, stdin=stdin, raise_input_errors=False, records=imported)
    loaded.warnings.extend(notes)
    if loaded.input_errors:  # whole inputs that could not be used: the log is incomplete
        errors.append(InputError(loaded.input_errors))
    if loaded.problems and rejects is None:
        errors.append(InvalidInput([Problem(p.path, p.line, 0, p.message) for p in loaded.problems]))
    if errors:
        raise errors[0] if len(errors) == 1 else ProblemsFound(errors)
    if rejects is not None:
        write_rejects(rejects, loaded.problems)
    return Prepared(settings, compiled, loaded, [*events, *sources], files, entries, marks)


def _import_sources(
    sources: Sequence[str], mapping: str | None, errors: list[SalesmirrorError]
) -> tuple[list[tuple[str, list[dict[str, Any]]]], list[str]]:
    """Each CRM export as (spec, events), and the imports' notes; what could not be imported goes to ``errors``."""
    found: list[tuple[str, list[dict[str, Any]]]] = []
    notes: list[str] = []
    if not sources:
        return found, notes
    from engine.importers import import_notes, import_spec  # the importers load only when a source is named

    for spec in sources:
        try:
            imported = import_spec(spec, mapping)
        except SalesmirrorError as exc:
            errors.append(exc)
            continue
        found.append((spec, imported.events))
        notes += import_notes(spec, imported)
    return found, notes


def _read_ci_files(
    files: Sequence[str], baseline: str | None, ruleset: RuleSet | None, errors: list[SalesmirrorError]
) -> tuple[list[Suppression], list[Mark]]:
    """Read the suppression files and the baseline, adding their problems to ``errors``.

    Entries naming a rule or trait no loaded rule has are problems too, once the
    rules have loaded (without them there is nothing to check the names against).
    """
    marks: list[Mark] = []
    entries, problems = collect_suppressions(files)
    if ruleset is not None and entries:
        ids = {r.rule.id for r in ruleset.rules}
        problems += check_names(entries, ids, {r.rule.trait for r in ruleset.rules})
    if baseline is not None:
        try:
            marks = read_baseline(baseline)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        errors.append(ConfigError(problems))
    return entries, marks
