"""Read a log and its rules once, then evaluate them period by period.

``engine.check`` answers one question about one log; an audit asks the same
question of two periods (this quarter and the last) and also needs the
events themselves (the time and type of each piece of evidence). So the log
is loaded once, with every problem of every layer reported together exactly
as ``check`` does, and each period is evaluated on its slice of the table.
"""

from __future__ import annotations

from engine.api import DEFAULT_MAX_EVIDENCE, Prepared, evaluate
from engine.audit.periods import Period, slice_log
from engine.report.model import Report

__all__ = ["evaluate_period"]


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
