"""Read a log and its rules once, then evaluate them period by period.

``engine.check`` answers one question about one log; an audit asks the same
question of two periods (this quarter and the last) and also needs the
events themselves (the time and type of each piece of evidence). So the log
is loaded once, with every problem of every layer reported together exactly
as ``check`` does, and each period is evaluated on its slice of the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from engine.api import DEFAULT_MAX_EVIDENCE, evaluate, prepare_rules, refuse_outputs_over_inputs
from engine.audit.periods import Period, slice_log
from engine.config import Settings, read_config
from engine.errors import ConfigError, InputError, InvalidInput, Problem, ProblemsFound, RuleError, SalesmirrorError
from engine.ingest import LoadResult, load_events, write_rejects
from engine.lang.plan import CompiledRule
from engine.report.model import Report

__all__ = ["Prepared", "evaluate_period", "prepare"]


@dataclass
class Prepared:
    """A loaded log with its compiled rules and settings, ready to be evaluated per period."""

    loaded: LoadResult
    compiled: list[CompiledRule]
    settings: Settings
    inputs: list[str]


def prepare(
    events: Sequence[str],
    *,
    rules: Sequence[str] | None = None,
    roster: str | None = None,
    config: str | None = None,
    sets: Sequence[str] = (),
    rejects: str | None = None,
    stdin: BinaryIO | None = None,
    outputs: dict[str, str | None] | None = None,
) -> Prepared:
    """Read config, rules and events; raise one error holding every problem of every layer.

    ``outputs`` names the files the command will write (``{"-o": path}``), refused
    when one of them is an input.
    """
    refuse_outputs_over_inputs({**(outputs or {}), "--rejects": rejects}, [*events, roster, config])
    errors: list[SalesmirrorError] = []
    try:
        settings = read_config(config)
    except ConfigError as exc:
        errors.append(exc)
        settings = Settings()
    compiled: list[CompiledRule] = []
    try:
        _, compiled = prepare_rules(rules, settings=settings, sets=sets)
    except RuleError as exc:
        errors.append(exc)
    loaded = load_events(list(events), roster=roster, stdin=stdin, raise_input_errors=False)
    if loaded.input_errors:
        errors.append(InputError(loaded.input_errors))
    if loaded.problems and rejects is None:
        errors.append(InvalidInput([Problem(p.path, p.line, 0, p.message) for p in loaded.problems]))
    if errors:
        raise errors[0] if len(errors) == 1 else ProblemsFound(errors)
    if rejects is not None:
        write_rejects(rejects, loaded.problems)
    return Prepared(loaded, compiled, settings, list(events))


def evaluate_period(prepared: Prepared, period: Period | None, *, max_evidence: int = DEFAULT_MAX_EVIDENCE) -> Report:
    """The rules' report on the events of ``period`` (the whole log for ``None``)."""
    report = evaluate(
        slice_log(prepared.loaded, period),
        prepared.compiled,
        max_evidence=max_evidence,
        inputs=prepared.inputs,
        infer_absence_days=prepared.settings.infer_absence_days,
    )
    report.fail_on = prepared.settings.fail_on
    return report
