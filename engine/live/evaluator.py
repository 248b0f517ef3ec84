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
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from engine.api import evaluate
from engine.backends import register_backend
from engine.backends.base import BACKENDS
from engine.backends.duckdb import DuckDBBackend
from engine.ingest import EVENT_SCHEMA, LoadResult
from engine.lang.coverage import LOGGING_GRACE_DAYS, condition_types
from engine.lang.loader import RuleSet
from engine.lang.params import parse_duration
from engine.lang.plan import CompiledRule
from engine.lang.setup import LOGGING_BURST_DAYS, OUTLIERS, ROSTER_TYPES, SETUP_SCRATCH, _family_case, setup_plan
from engine.lang.sqlplan import EVENTS, LOGGED, LOGGED_REP, RAW, TYPES, seconds_between
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

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        cut: datetime | None,
        infer_absence_days: float,
        since: datetime | None = None,
        far: tuple[datetime, frozenset[str]] | None = None,
    ) -> None:
        self.con = con
        self._notes: list[str] = []
        self.since = since
        statements = _setup_sql(infer_absence_days)
        self._tables = [table for table, _ in statements]
        columns = ", ".join(EVENT_COLUMNS)
        before = "" if cut is None else f"ts < {_timestamp(cut)}"
        if since is None:
            source = "events" + (f" WHERE {before}" if before else "")
        else:  # the slice: its events, and the standing roster events of any time (engine.live.store)
            roster = f"type IN {ROSTER_TYPES}"
            far_part = ""
            if far is not None and far[1]:
                listed = ", ".join(_literal(t) for t in sorted(far[1]))
                far_part = (
                    f" UNION ALL SELECT {columns} FROM events WHERE ts >= {_timestamp(far[0])} "
                    f"AND ts < {_timestamp(since)} AND type IN ({listed}) AND NOT {roster}"
                )
            source = (
                f"(SELECT {columns} FROM events WHERE ts >= {_timestamp(since)} AND {before or 'TRUE'} "
                f"AND NOT {roster}{far_part} UNION ALL SELECT {columns} FROM standing WHERE {roster}"
                f"{' AND ' + before if before else ''}) s"
            )
        order = "ROW_NUMBER() OVER (ORDER BY ts, id) - 1 AS seq"
        view = f"SELECT {order}, {columns} FROM {source}"
        ordered = ", ".join(f.name for f in EVENT_SCHEMA)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT {ordered} FROM ({view}) v")
        try:
            for table, sql in statements:
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
            for table in SETUP_SCRATCH:
                self.con.execute(f"DROP TABLE IF EXISTS {table}")
        finally:
            self.con.execute(f"DROP VIEW IF EXISTS {RAW}")

    def has_outliers(self) -> bool:
        row = self.con.execute(f"SELECT COUNT(*) FROM {OUTLIERS}").fetchone()
        return bool(row and row[0])

    def use_whole_log_coverage(self) -> None:
        """Replace the slice's own record of when families are logged with the whole log's (:class:`Coverage`)."""
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {LOGGED} AS SELECT CASE WHEN whole THEN NULL ELSE manager END AS manager, "
            "family, l_start, l_end, events, early FROM acc_logged"
        )
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {LOGGED_REP} AS SELECT rep, family, l_start FROM acc_logged_r")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {TYPES} AS SELECT type, SUM(events) AS events FROM (SELECT type, events "
            f"FROM acc_types UNION ALL SELECT type, COUNT(*) FROM {EVENTS} WHERE type IN {ROSTER_TYPES} GROUP BY type) "
            "t GROUP BY type"
        )

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
    sliced: int = 0  # rule runs over a slice of the store
    whole: int = 0  # rule runs over the whole store
    again: int = 0  # of the sliced runs: found again over a wider slice or the whole store (a finding reached past it)


def window_length(rule: CompiledRule) -> timedelta:
    """The longest one window of a windowed rule can be: its sliding length, or its calendar period's."""
    if rule.window.mode == "sliding":
        return timedelta(seconds=rule.window.seconds)
    return timedelta(days=_PERIOD_DAYS.get(rule.window.unit, 92))


@dataclass(frozen=True)
class Reach:
    """How far before a window's start a rule's plan reads events (:func:`rule_reach`).

    ``near`` is read for every event type; ``far`` further back, only for the
    types ``far_types``: the earlier events a ``prior``, ``unless`` or ``without`` looks
    for (a win is a manager's own book when they opened the deal up to two
    years before), which are a condition on the earlier event alone.
    """

    near: timedelta
    far: timedelta = timedelta(0)
    far_types: frozenset[str] = frozenset()


def rule_reach(rule: CompiledRule, infer_absence_days: float, ruleset: RuleSet | None = None) -> Reach | None:
    """How far before a window's start the rule's plan may read events; None: it reads the whole log.

    An upper bound, not an estimate: one more window (a trend compares with
    the one before), every duration the rule names anywhere added up (each
    ``within``, lookback and merge gap, as written and as set, since they can
    chain), the absence inference, the logging burst and grace, and two days
    for rounding. With the rule set, a ``prior``, ``unless`` or ``without`` whose earlier
    event's condition names its types is read back only for those types
    (:class:`Reach`). A rule whose peers are grouped by their most frequent
    value (``peer.by``) depends on everything a manager ever logged, so it is
    not sliced.
    """
    if rule.peer_group:
        return None
    lookbacks: list[tuple[timedelta, set[str]]] = []
    model = rule.loaded.rule.model_dump()
    model.pop("params", None)  # their values count where the rule refers to them ($name), as set
    if ruleset is not None:
        for spec in _lookbacks(model):
            types = condition_types(spec.get("where"), ruleset.macros, ruleset.lists)
            if types is not None:
                lookbacks.append((max(_durations(spec.get("within"), rule.params), default=timedelta(0)), types))
                spec.clear()  # its durations are the far reach's, not the near one's
    near = window_length(rule)
    for duration in _durations(model, rule.params):
        near += duration
    near += timedelta(days=infer_absence_days + LOGGING_GRACE_DAYS + LOGGING_BURST_DAYS + 2)
    if not lookbacks:
        return Reach(near)
    far_types = frozenset(t for _, found in lookbacks for t in found)
    return Reach(near, max(d for d, _ in lookbacks), far_types)


def _lookbacks(value: Any) -> Iterator[dict[str, Any]]:
    """The ``prior``, ``unless`` and sequence ``without`` specs in a rule's model (dicts, cleared once taken)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if (
                key in ("prior", "unless", "without")
                and isinstance(item, dict)
                and "where" in item
                and "within" in item
            ):
                yield item
            else:
                yield from _lookbacks(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _lookbacks(item)


def _durations(value: Any, params: dict[str, Any]) -> Iterator[timedelta]:
    """Every duration in a rule's model: literals such as ``30d`` and the values of ``$param`` references."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _durations(item, params)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _durations(item, params)
    elif isinstance(value, timedelta):
        yield value
    elif isinstance(value, str):
        if value.startswith("$"):
            yield from _durations(params.get(value[1:]), {})
        elif _DURATION_TEXT.match(value):
            yield parse_duration(value)


_DURATION_TEXT = re.compile(r"^\s*[0-9]+(?:\.[0-9]+)?\s*[smhdw]\s*$")
_SLICE_SHARE = 0.6  # a slice is set up on its own only when under this share of the one before it


@dataclass
class _Plan:
    rule: CompiledRule
    margin: timedelta
    since: datetime | None  # the slice's start; None: the whole store
    reliable: datetime | None  # a finding starting before this may reach past the slice's start
    far_since: datetime | None = None  # and from here on, the events of far_types (Reach)
    far_types: frozenset[str] = frozenset()


def tick_findings(
    store: Store,
    rules: Sequence[CompiledRule],
    cut: datetime,
    *,
    infer_absence_days: float,
    max_evidence: int,
    settled_until: datetime | None = None,
    slicing: bool = True,
    reaches: Mapping[str, Reach | None] | None = None,
) -> Tick:
    """Run the given windowed rules over the store's events before ``cut``; the findings now settled.

    ``settled_until`` is the previous tick's end of log: every finding settled
    by then was emitted then. A rule then reads only a slice of the store, from
    far enough before the earliest window this tick can settle
    (:func:`rule_reach`), so a tick costs what the last months cost, not what
    the whole stream has. Rules whose slices start near each other share one.
    A finding of a slice that starts before the slice's reliable part (firing
    windows that touch merge, so a finding can reach back indefinitely) is
    found again over wider slices (:func:`_widened`), and over the whole store
    only when a slice would hold it all. The slices judge coverage by the whole
    log's record of when each family is logged, kept up tick by tick
    (:func:`_accumulate`).
    """
    if reaches is None:
        reaches = {rule.id: rule_reach(rule, infer_absence_days) for rule in rules}
    until = settled_until if slicing else None
    acc_cut = store.get("acc_cut")  # read once a tick: every plan starts its slice from the same record
    absences: dict[datetime, bool] = {}

    def absent_into(since: datetime) -> bool:
        if since not in absences:
            absences[since] = _absence_reaches_into(store, since)
        return absences[since]

    plans = [
        _plan(rule, reaches.get(rule.id), infer_absence_days, store, until, acc_cut, absent_into) for rule in rules
    ]
    settled: list[Finding] = []
    limit = cut
    again: list[_Plan] = []  # found again over the whole store
    back: list[tuple[_Plan, datetime]] = []  # found again over a wider slice: each with its finding's start
    for part in _groups(plans, cut, store.first_ts):
        far = None if part.far_since is None else (part.far_since, part.far_types)
        runner = StoreBackend(store.con, cut, infer_absence_days, part.since, far)
        try:
            span_end = runner.span()[1]
            if span_end is None:
                return Tick(cut, cut, [])
            limit = min(cut, span_end)
            _accumulate(store, runner, cut)  # (a slice starts before the record's last instant: see _plan)
            if part.since is not None:
                if runner.has_outliers():  # a gap of a year in the slice: its span is not the store's
                    again.extend(part.plans)
                    continue
                runner.use_whole_log_coverage()
            logged = runner.logged()
            for plan in part.plans:
                found = _settled(runner, plan, limit, logged, settled_until, infer_absence_days, max_evidence)
                if isinstance(found, datetime):
                    back.append((plan, found))
                else:
                    settled.extend(found)
        finally:
            runner.close()
    gaps = len(again)  # slices with a year-long gap, found again over the whole store
    widened = 0
    for plan, start in back:
        reach = reaches.get(plan.rule.id)
        assert reach is not None and plan.reliable is not None
        while True:
            wider = _widened(plan, start, reach, store, absent_into)
            if wider is None:
                again.append(plan)
                break
            widened += 1
            refound = _on_slice(store, wider, cut, limit, settled_until, infer_absence_days, max_evidence)
            if refound is None:
                again.append(plan)
                break
            if not isinstance(refound, datetime):
                settled.extend(refound)
                break
            plan, start = wider, refound
    if again:
        runner = StoreBackend(store.con, cut, infer_absence_days)
        try:
            logged = runner.logged()
            for plan in again:
                whole = _Plan(plan.rule, plan.margin, None, None)
                found = _settled(runner, whole, limit, logged, settled_until, infer_absence_days, max_evidence)
                assert not isinstance(found, datetime)  # the whole store has nothing before it
                settled.extend(found)
        finally:
            runner.close()
    settled.sort(key=Finding.sort_key)
    sliced = sum(1 for p in plans if p.since is not None)
    return Tick(
        cut,
        limit,
        settled,
        sliced=sliced + widened,
        whole=len(plans) - sliced + len(again),
        again=gaps + len(back),
    )


def _widened(
    plan: _Plan, start: datetime, reach: Reach, store: Store, absent_into: Callable[[datetime], bool]
) -> _Plan | None:
    """A wider slice for a plan one of whose findings starts at ``start``, before the plan's reliable part.

    Its reliable part begins before ``start`` by one more window and by as
    much again as ``start`` was before the old one, so a long chain of
    firing windows is caught up with in a few steps, each costing what its
    months cost; None when that slice would hold the whole store (or an
    absence recorded before it reaches into it).
    """
    assert plan.reliable is not None
    reliable = start - window_length(plan.rule) - (plan.reliable - start)
    return _sliced(plan.rule, plan.margin, reliable - reach.near, reliable, reach, store, absent_into)


def _on_slice(
    store: Store,
    plan: _Plan,
    cut: datetime,
    limit: datetime,
    settled_until: datetime | None,
    infer_absence_days: float,
    max_evidence: int,
) -> list[Finding] | datetime | None:
    """One plan over a slice of its own (:func:`_settled`); None when the slice has a year-long gap in it."""
    far = None if plan.far_since is None else (plan.far_since, plan.far_types)
    runner = StoreBackend(store.con, cut, infer_absence_days, plan.since, far)
    try:
        if runner.has_outliers():
            return None
        runner.use_whole_log_coverage()
        return _settled(runner, plan, limit, runner.logged(), settled_until, infer_absence_days, max_evidence)
    finally:
        runner.close()


def _plan(
    rule: CompiledRule,
    reach: Reach | None,
    infer_absence_days: float,
    store: Store,
    settled_until: datetime | None,
    acc_cut: int | None,
    absent_into: Callable[[datetime], bool],
) -> _Plan:
    margin = settle_margin(rule, infer_absence_days)
    assert margin is not None  # only windowed rules tick
    if settled_until is None or reach is None or acc_cut is None or store.first_ts is None:
        return _Plan(rule, margin, None, None)
    reliable = settled_until - margin - window_length(rule)
    since = min(reliable - reach.near, _at_us(acc_cut))  # the slice holds every event the record has not taken in
    return _sliced(rule, margin, since, reliable, reach, store, absent_into) or _Plan(rule, margin, None, None)


def _sliced(
    rule: CompiledRule,
    margin: timedelta,
    since: datetime,
    reliable: datetime,
    reach: Reach,
    store: Store,
    absent_into: Callable[[datetime], bool],
) -> _Plan | None:
    """The plan over the slice from ``since``; None when it would hold the whole store or miss an absence."""
    assert store.first_ts is not None
    if since <= store.first_ts or absent_into(since):
        return None
    if not reach.far_types:
        return _Plan(rule, margin, since, reliable)
    return _Plan(rule, margin, since, reliable, since - reach.far, reach.far_types)


@dataclass
class _Slice:
    """What one setup of a tick reads: events from ``since`` (None: all), and before it those of ``far_types``."""

    since: datetime | None
    plans: list[_Plan]
    far_since: datetime | None = None
    far_types: frozenset[str] = frozenset()

    def take(self, plan: _Plan) -> None:
        """Add a plan starting at or after ``since``: its far part widens the slice's."""
        self.plans.append(plan)
        if plan.far_since is not None and self.since is not None:
            self.far_since = plan.far_since if self.far_since is None else min(self.far_since, plan.far_since)
            self.far_types |= plan.far_types


def _groups(plans: list[_Plan], cut: datetime, first: datetime | None) -> list[_Slice]:
    """The slices a tick sets up, each with its plans: as few as pay for themselves.

    Setting a slice up costs about what its events cost, so a plan joins the
    slice before it (which holds all it needs) unless its own slice is under
    :data:`_SLICE_SHARE` of that one; a slice holding most of the store is
    the whole store.
    """

    def length(since: datetime | None) -> float:
        start = since if first is None else first if since is None else max(since, first)
        return 0.0 if start is None else (cut - start).total_seconds()

    ordered = sorted(plans, key=lambda p: (p.since is not None, p.since or cut, p.rule.id))
    groups: list[_Slice] = []
    for plan in ordered:
        if groups and length(plan.since) >= _SLICE_SHARE * length(groups[-1].since):
            groups[-1].take(plan)
        elif not groups and plan.since is not None and length(plan.since) >= _SLICE_SHARE * length(None):
            groups.append(_Slice(None, [plan]))
        else:
            groups.append(_Slice(plan.since, []))
            groups[-1].take(plan)
    return groups


def _absence_reaches_into(store: Store, since: datetime) -> bool:
    """Whether an absence recorded before ``since`` covers days from it on (a slice would not see it)."""
    row = store.con.execute(
        "SELECT COUNT(*) FROM standing WHERE type = 'person_absent' AND ts < ? AND "
        "TRY_CAST(json_extract_string(attrs, '$.to') AS DATE) >= CAST(? AS DATE) - 1",
        [since, since],
    ).fetchone()
    return bool(row and row[0])


def _settled(
    runner: StoreBackend,
    plan: _Plan,
    limit: datetime,
    logged: dict[tuple[str, str], datetime],
    settled_until: datetime | None,
    infer_absence_days: float,
    max_evidence: int,
) -> list[Finding] | datetime:
    """The findings this tick settles, or the earliest start of one reaching back past the slice's reliable part."""
    rule = plan.rule
    result = runner.run(rule)
    if result.missing:
        return []
    out: list[Finding] = []
    back: datetime | None = None
    for finding in build_findings(
        rule,
        result.findings,
        max_evidence=max_evidence,
        origins=runner.origins,
        coverage=result.coverage,
        assessment=result.assessment,
    ):
        if finding.window_end + plan.margin > limit:
            continue
        if plan.since is not None:
            assert settled_until is not None and plan.reliable is not None
            if finding.window_end + plan.margin <= settled_until:
                continue  # settled, and emitted, by an earlier tick
            if finding.window_start < plan.reliable:
                back = finding.window_start if back is None else min(back, finding.window_start)
                continue
        if not _logging_known(rule, finding, logged, limit):
            continue
        finding.fingerprint = fingerprint(finding)
        out.append(finding)
    return out if back is None else back


def _accumulate(store: Store, runner: StoreBackend, cut: datetime) -> None:
    """Take the events since the last tick into the whole log's record of when each family is logged.

    It holds what the setup's ``sm_logged``, ``sm_logged_r`` and ``sm_types``
    would hold over the whole store before ``cut``: first and last event,
    count, and the events of the first burst, per team and family and for the
    whole log; each rep's first event of a family; the count of each type.
    Events before the last tick's instant are final (later ones are late), so
    adding the newer ones keeps it exact. Read from the runner's resolved
    events (``sm_ev``: manager filled from the roster, outliers out).
    """
    done = store.get("acc_cut")
    if done is not None and _at_us(done) >= cut:
        return
    since = "TRUE" if done is None else f"ts >= {_timestamp(_at_us(done))}"
    fam = _family_case("type")
    burst = LOGGING_BURST_DAYS * 86400
    rows = (
        f"SELECT FALSE AS whole, manager, {fam} AS family, ts FROM {EVENTS} WHERE manager IS NOT NULL "
        f"AND type NOT IN {ROSTER_TYPES} AND {since} UNION ALL SELECT TRUE, NULL, {fam}, ts FROM {EVENTS} "
        f"WHERE type NOT IN {ROSTER_TYPES} AND {since}"
    )
    con = store.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE sm_acc_rows AS {rows}")
    key = "o.whole = k.whole AND o.manager IS NOT DISTINCT FROM k.manager AND o.family = k.family"
    starts = (
        "SELECT k.whole, k.manager, k.family, COALESCE(o.l_start, k.first) AS l_start FROM "
        "(SELECT whole, manager, family, MIN(ts) AS first FROM sm_acc_rows GROUP BY whole, manager, family) k "
        f"LEFT JOIN acc_logged o ON {key}"
    )
    added = (
        "SELECT r.whole, r.manager, r.family, MIN(r.ts) AS first, MAX(r.ts) AS last, COUNT(*) AS n, "
        f"SUM(CASE WHEN {seconds_between('s.l_start', 'r.ts')} < {burst} THEN 1 ELSE 0 END) AS e "
        f"FROM sm_acc_rows r JOIN ({starts}) s ON s.whole = r.whole AND s.manager IS NOT DISTINCT FROM r.manager "
        "AND s.family = r.family GROUP BY r.whole, r.manager, r.family"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sm_acc_merged AS SELECT COALESCE(o.whole, k.whole) AS whole, "
        "COALESCE(o.manager, k.manager) AS manager, COALESCE(o.family, k.family) AS family, "
        "COALESCE(o.l_start, k.first) AS l_start, GREATEST(o.l_end, k.last) AS l_end, "
        "COALESCE(o.events, 0) + COALESCE(k.n, 0) AS events, "
        "CAST(COALESCE(o.early, 0) + COALESCE(k.e, 0) AS BIGINT) AS early "
        f"FROM acc_logged o FULL OUTER JOIN ({added}) k ON {key}"
    )
    con.execute("DELETE FROM acc_logged")
    con.execute("INSERT INTO acc_logged SELECT * FROM sm_acc_merged")
    reps = (
        f"SELECT rep, {fam} AS family, MIN(ts) AS l_start FROM {EVENTS} WHERE rep IS NOT NULL "
        f"AND type NOT IN {ROSTER_TYPES} AND {since} GROUP BY rep, {fam}"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sm_acc_merged AS SELECT COALESCE(o.rep, k.rep) AS rep, "
        "COALESCE(o.family, k.family) AS family, LEAST(o.l_start, k.l_start) AS l_start "
        f"FROM acc_logged_r o FULL OUTER JOIN ({reps}) k ON o.rep = k.rep AND o.family = k.family"
    )
    con.execute("DELETE FROM acc_logged_r")
    con.execute("INSERT INTO acc_logged_r SELECT * FROM sm_acc_merged")
    types = f"SELECT type, COUNT(*) AS n FROM {EVENTS} WHERE type NOT IN {ROSTER_TYPES} AND {since} GROUP BY type"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sm_acc_merged AS SELECT COALESCE(o.type, k.type) AS type, "
        f"COALESCE(o.events, 0) + COALESCE(k.n, 0) AS events FROM acc_types o FULL OUTER JOIN ({types}) k "
        "ON o.type = k.type"
    )
    con.execute("DELETE FROM acc_types")
    con.execute("INSERT INTO acc_types SELECT * FROM sm_acc_merged")
    for table in ("sm_acc_rows", "sm_acc_merged"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    store.put("acc_cut", _us_since_epoch(cut))


_EPOCH = datetime(1970, 1, 1)


def _at_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _us_since_epoch(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _timestamp(value: datetime) -> str:
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


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
