"""Incremental evaluation: the compiled plans of ``engine.lang`` run over the live store.

Nothing here re-implements a rule. At a tick the store's events before the
tick's instant are set up exactly as ``check`` sets up a log (roster,
scopes, span, absences, logging coverage) on the store's own connection, and
every compiled rule runs as it would in ``check``. A finding is emitted only
when no later event can change it (:func:`settle_margin`): every event still
to come lies at or after the watermark, so a finding whose window ended long
enough before the end of the log so far is final. How long is "enough"
follows from what the plans read after a window's end:

- a calendar window merges with the next one if that fires too, and a trend
  compares it with the next: one more period (a quarter at most 92 days);
- a sliding window merges with any later window overlapping it: one more
  window length;
- a sequence's first step is answered (or, with ``absent``, left unanswered)
  by a second step up to ``within`` later;
- a rep with no events for ``infer_absence`` days is taken to be away, which
  can reach back into a window from an event that has not come yet: that
  many days more, plus the day the span is rounded up to;
- a rule judged over the whole period led (``whole`` windows, ``absence``)
  changes until that period ends, which only the end of the log decides, so
  it is settled when the input ends.

Where a rule's plan clips a team's time to when it logs what the rule needs
(``engine.lang.coverage``), a team that has not yet logged a burst of it is
not judged early either: its first events could still move the start of its
logging. At the end of a finite input :func:`final_report` evaluates the
whole store through ``engine.api.evaluate`` itself, so what the end of the
log decides is decided exactly as ``check`` decides it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from engine.api import evaluate
from engine.backends import register_backend
from engine.backends.base import BACKENDS
from engine.backends.duckdb import DuckDBBackend
from engine.ingest import EVENT_SCHEMA, LoadResult
from engine.lang.params import parse_duration
from engine.lang.plan import CompiledRule
from engine.lang.setup import LOGGING_BURST_DAYS, SETUP_SCRATCH, setup_plan
from engine.lang.sqlplan import LOGGED, RAW
from engine.live.store import EVENT_COLUMNS, Store
from engine.report.build import build_findings
from engine.report.fingerprint import fingerprint
from engine.report.model import Finding, Report

__all__ = ["StoreBackend", "Tick", "final_report", "settle_margin", "tick_findings"]

_PERIOD_DAYS = {"week": 7, "month": 31, "quarter": 92}  # the longest of each calendar period
_SPAN_ROUNDING = timedelta(days=1)  # the span ends at the end of its last day
_names = itertools.count(1)


class StoreBackend(DuckDBBackend):
    """The DuckDB backend on the store's own connection, over the store's events before a cut.

    The events are not copied out of the database into Arrow (a 10M-event
    store would not fit): the setup plan reads them through a view, and its
    tables are temporary tables of the store's connection, dropped by
    :meth:`close`, which leaves the connection open for the next tick.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, cut: datetime | None, infer_absence_days: float) -> None:
        self.con = con
        self._notes: list[str] = []
        statements = _setup_sql(infer_absence_days)
        self._tables = [table for table, _ in statements]
        where = "" if cut is None else f"WHERE ts < TIMESTAMP '{cut.isoformat(sep=' ')}'"
        columns = ", ".join(EVENT_COLUMNS)
        order = "ROW_NUMBER() OVER (ORDER BY ts, id) - 1 AS seq"
        view = f"SELECT {order}, {columns} FROM events {where}"
        ordered = ", ".join(f.name for f in EVENT_SCHEMA)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT {ordered} FROM ({view}) v")
        try:
            for table, sql in statements:
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
            for table in SETUP_SCRATCH:
                self.con.execute(f"DROP TABLE IF EXISTS {table}")
        finally:
            self.con.execute(f"DROP VIEW IF EXISTS {RAW}")

    def logged(self) -> dict[tuple[str, str], datetime]:
        """Per (manager, family): the first event of the family in the team's log so far."""
        rows = self.con.execute(f"SELECT manager, family, l_start FROM {LOGGED} WHERE manager IS NOT NULL").fetchall()
        return {(str(r[0]), str(r[1])): r[2] for r in rows}

    def close(self) -> None:
        for table in reversed(self._tables):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")


@functools.lru_cache(maxsize=8)
def _setup_sql(infer_absence_days: float) -> list[tuple[str, str]]:
    """The setup plan rendered for DuckDB once per absence setting (parsing it costs more than running it on a small log)."""
    return [(table, plan.sql(dialect="duckdb")) for table, plan in setup_plan(infer_absence_days)]


def _seconds(value: Any, params: dict[str, Any]) -> float:
    """A duration as written in a rule (``30d`` or ``$param``) in seconds; 0 when there is none."""
    if value is None:
        return 0.0
    if isinstance(value, str) and value.startswith("$"):
        value = params.get(value[1:])
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)):
        return float(value)
    return parse_duration(value).total_seconds() if value else 0.0


def settle_margin(rule: CompiledRule, infer_absence_days: float) -> timedelta | None:
    """How long after a finding's window ends no later event can change it; None: only the end of the log.

    See the module's docstring for each term.
    """
    logic = rule.loaded.rule.logic
    if rule.window.mode == "whole" or logic.kind == "absence":
        return None
    if rule.window.mode == "calendar":
        reach = timedelta(days=_PERIOD_DAYS.get(rule.window.unit, 92))
    else:
        reach = timedelta(seconds=rule.window.seconds)
    if logic.kind == "sequence":
        reach += timedelta(seconds=_seconds(getattr(logic, "within", None), rule.params))
    return reach + timedelta(days=infer_absence_days) + _SPAN_ROUNDING


def finding_key(finding: Finding) -> str:
    """What makes two findings the same: rule, people, window, metrics and evidence (JSON, canonical)."""
    import hashlib
    import json

    data = finding.to_dict()
    identity = [
        data["rule"],
        data["manager"],
        data["rep"],
        data["deal"],
        data["window"],
        data["metrics"],
        data["evidence"],
        data["group"],
    ]
    text = json.dumps(identity, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Tick:
    """What one tick settled: findings in the order ``check`` sorts them."""

    cut: datetime
    limit: datetime  # the end of the log so far: the cut, or the end of the last day with events if earlier
    findings: list[Finding]


def tick_findings(
    store: Store,
    rules: Sequence[CompiledRule],
    cut: datetime,
    *,
    infer_absence_days: float,
    max_evidence: int,
) -> Tick:
    """Run the given windowed rules over the store's events before ``cut``; the findings now settled."""
    runner = StoreBackend(store.con, cut, infer_absence_days)
    settled: list[Finding] = []
    limit = cut
    try:
        span_end = runner.span()[1]
        if span_end is None:
            return Tick(cut, cut, [])
        limit = min(cut, span_end)
        logged = runner.logged()
        for rule in rules:
            margin = settle_margin(rule, infer_absence_days)
            if margin is None:
                continue
            result = runner.run(rule)
            if result.missing:
                continue
            for finding in build_findings(
                rule,
                result.findings,
                max_evidence=max_evidence,
                origins=runner.origins,
                coverage=result.coverage,
                assessment=result.assessment,
            ):
                if finding.window_end + margin > limit:
                    continue
                if not _logging_known(rule, finding, logged, limit):
                    continue
                finding.fingerprint = fingerprint(finding)
                settled.append(finding)
    finally:
        runner.close()
    settled.sort(key=Finding.sort_key)
    return Tick(cut, limit, settled)


def _logging_known(
    rule: CompiledRule, finding: Finding, logged: dict[tuple[str, str], datetime], limit: datetime
) -> bool:
    """Whether the team's start of logging, which the rule clips to, can no longer move.

    It is the team's first event of each family when a burst follows it: once
    that first event and the burst's days lie before the end of the log so
    far, later events cannot change it. A team with none yet could still
    start, which would clip its earlier time away, so it waits for the end.
    """
    if not rule.logged_families or rule.loaded.rule.logic.coverage == "off":
        return True
    burst = timedelta(days=LOGGING_BURST_DAYS)
    for family in rule.logged_families:
        first = logged.get((finding.manager, family))
        if first is None or first + burst > limit:
            return False
    return True


def final_report(
    store: Store,
    compiled: Sequence[CompiledRule],
    *,
    read: int,
    rejected: int,
    warnings: Sequence[str],
    infer_absence_days: float,
    max_evidence: int,
    inputs: Sequence[str],
) -> Report:
    """``check``'s report over everything in the store: ``engine.api.evaluate`` on a backend reading the store.

    The backend is registered under a name of its own for the call and
    withdrawn after it, so evaluate's every step (fairness, not assessed,
    warnings, fingerprints, order) is the one ``check`` runs.
    """
    name = f"live-store-{next(_names)}"

    def factory(_table: object, *, infer_absence_days: float) -> StoreBackend:
        return StoreBackend(store.con, None, infer_absence_days)

    register_backend(name, factory)
    try:
        evaluated = store.count()
        loaded = LoadResult(
            table=EVENT_SCHEMA.empty_table(), read=read, evaluated=evaluated, warnings=sorted(set(warnings))
        )
        report = evaluate(
            loaded,
            compiled,
            max_evidence=max_evidence,
            backend=name,
            inputs=inputs,
            infer_absence_days=infer_absence_days,
        )
    finally:
        BACKENDS.unregister(name)
    report.rejected = rejected
    return report
