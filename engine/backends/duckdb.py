"""The default batch backend: DuckDB, embedded, in memory.

The events are loaded once (zero-copy from Arrow), the roster is resolved once
into scope tables, and every compiled rule then runs as a few SQL statements
over those shared tables. The base tables are this backend's own business;
the setup (engine.lang.setup) and the rule plans are sqlglot trees rendered
for DuckDB here.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import duckdb
import pyarrow as pa

from engine import limits
from engine.backends.base import Origin, RuleResult
from engine.errors import EngineError, Problem
from engine.ingest.store import TABLE as STORE_TABLE
from engine.ingest.store import EventStore
from engine.lang.counter import FOUND
from engine.lang.derive import plan_notes
from engine.lang.plan import CompiledRule
from engine.lang.setup import (
    INFER_ABSENCE_DAYS,
    OUTLIERS,
    OUTLIERS_LISTED,
    SETUP_SCRATCH,
    outlier_warnings,
    setup_plan,
)
from engine.lang.sqlplan import EVENTS, RAW, SCOPES_MANAGER, SPAN


class DuckDBBackend:
    """Holds one connection with the loaded log; run compiled rules against it."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(
        self,
        events: pa.Table | EventStore,
        *,
        threads: int | None = None,
        infer_absence_days: float = INFER_ABSENCE_DAYS,
    ) -> None:
        self._notes: list[str] = []  # where rules run so far used a cut-off, in words
        if isinstance(events, EventStore):
            # The load's own database, through a connection of our own (its temporary tables are
            # ours, dropped on close): the events are read where ingestion put them, never copied out.
            self.con = events.cursor()
            if threads:
                self.con.execute(f"SET threads = {int(threads)}")
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT * FROM main.{STORE_TABLE}")
            try:
                with limits.memory_guard("resolving the roster"):
                    self._setup(infer_absence_days)
            finally:
                self.con.execute(f"DROP VIEW IF EXISTS {RAW}")
            return
        self.con = duckdb.connect(database=":memory:")
        limits.apply(self.con)
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        # The Arrow table is scanned in place (no copy) while the roster is resolved;
        # sm_ev then holds every event, with file, line and source, for the rules.
        self.con.register(RAW, events)
        try:
            with limits.memory_guard("resolving the roster"):
                self._setup(infer_absence_days)
        finally:
            self.con.unregister(RAW)

    def _setup(self, infer_absence_days: float) -> None:
        """The setup plan's tables (roster, scopes, absences), then its scratch tables dropped."""
        for table, plan in setup_plan(infer_absence_days):
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {plan.sql(dialect=self.dialect)}")
        for table in SETUP_SCRATCH:
            self.con.execute(f"DROP TABLE IF EXISTS {table}")

    def span(self) -> tuple[Any, Any]:
        row = self.con.execute(f"SELECT span_start, span_end FROM {SPAN}").fetchone()
        return (row[0], row[1]) if row else (None, None)

    def warnings(self) -> list[str]:
        total = self.con.execute(f"SELECT COUNT(*) FROM {OUTLIERS}").fetchone()
        listed = self.con.execute(
            f"SELECT id, ts, file, line, trimmed FROM {OUTLIERS} ORDER BY ts, id LIMIT {OUTLIERS_LISTED}"
        ).fetchall()
        return outlier_warnings(listed, total[0] if total else 0, self.span()) + self._notes

    def managers(self) -> list[str]:
        return [r[0] for r in self.con.execute(f"SELECT DISTINCT manager FROM {SCOPES_MANAGER} ORDER BY 1").fetchall()]

    def origins(self, ids: list[str]) -> dict[str, Origin]:
        """file, line and source record of the given events (for citing evidence)."""
        if not ids:
            return {}
        rows = self.con.execute(
            f"SELECT id, file, line, source FROM {EVENTS} WHERE id IN (SELECT UNNEST(?))", [ids]
        ).fetchall()
        return {r[0]: Origin(file=r[1], line=r[2], source=r[3]) for r in rows}

    def run(self, rule: CompiledRule) -> RuleResult:
        names: list[str] = []
        try:
            with limits.memory_guard(f"rule '{rule.id}'"):
                return self._run(rule, names)
        except duckdb.Error as exc:
            raise EngineError(
                [Problem(rule.loaded.path, 0, 0, f"rule '{rule.id}' failed to run (please report this): {exc}")]
            ) from exc
        finally:
            for name in reversed(names):
                self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def _run(self, rule: CompiledRule, names: list[str]) -> RuleResult:
        """Materialise each stage (recording it for clean-up), then fetch the results."""
        if rule.presence is not None:  # a log with none of what the rule needs: it cannot judge anyone
            present = self._fetch(rule.render("presence", rule.presence, self.dialect))[0]
            missing = [types for index, types in enumerate(rule.needs) if not present[f"n{index}"]]
            if missing:
                return RuleResult([], [], missing=missing)
        for name, stage in rule.stages:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {rule.render(name, stage, self.dialect)}")
            names.append(name)
        assert rule.findings is not None
        findings = self._fetch(rule.render("findings", rule.findings, self.dialect))
        if rule.counter and findings:
            self._counter_evidence(rule, findings, names)
        assessment = self._fetch(rule.render("assessment", rule.assessment, self.dialect)) if rule.assessment else []
        coverage = (
            self._fetch(rule.render("coverage", rule.coverage, self.dialect)) if rule.coverage is not None else []
        )
        small = (
            self._fetch(rule.render("small_teams", rule.small_teams, self.dialect))
            if rule.small_teams is not None
            else []
        )
        self._note_cut_offs(rule)
        return RuleResult(findings, assessment, coverage=coverage, small_teams=small)

    def _counter_evidence(self, rule: CompiledRule, findings: list[dict[str, Any]], names: list[str]) -> None:
        """Look up each finding's counter-evidence (engine.lang.counter) into its row's ``sm_counter``."""
        found = pa.table(
            {
                "sm_idx": pa.array(range(len(findings)), pa.int64()),
                "manager": pa.array([row["manager"] for row in findings], pa.string()),
                "window_start": pa.array([row["window_start"] for row in findings], pa.timestamp("us")),
                "window_end": pa.array([row["window_end"] for row in findings], pa.timestamp("us")),
            }
        )
        table = f"{rule.prefix}{FOUND}"
        self.con.register("sm_found_rows", found)
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM sm_found_rows")
        finally:
            self.con.unregister("sm_found_rows")
        names.append(table)
        for row in findings:
            row["sm_counter"] = []
        for plan in rule.counter:
            for hit in self._fetch(rule.render(f"counter:{plan.name}", plan.query, self.dialect)):
                findings[int(hit["sm_idx"])]["sm_counter"].append(
                    {"name": plan.name, "count": hit["n"], "value": hit["value"], "ids": list(hit["ids"] or [])}
                )

    def _note_cut_offs(self, rule: CompiledRule) -> None:
        """Word each cut-off the rule's plan applied to some event (engine.lang.derive.Note)."""
        notes = rule.rendered_notes.get(self.dialect)
        if notes is None:  # found in the trees once per rule (watch runs a rule at every tick)
            found = {(n.query.sql(dialect=self.dialect), n.text) for _, stage in rule.stages for n in plan_notes(stage)}
            notes = rule.rendered_notes[self.dialect] = sorted(found)
        for sql, text in notes:
            row = self.con.execute(sql).fetchone()
            if row and row[0]:
                origin = self.origins([row[1]]).get(row[1])
                where = f" ({origin.file}:{origin.line})" if origin else ""
                self._notes.append(f"rule '{rule.id}': {row[0]:,} event(s) (e.g. '{row[1]}'{where}) {text}")

    def _fetch(self, sql: str) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.con.close()


_REGEX_LOCK = threading.Lock()
_regex_con: list[duckdb.DuckDBPyConnection] = []  # one small connection, opened on first use


@functools.lru_cache(maxsize=4096)
def check_regex(pattern: str) -> str | None:
    """Why DuckDB's regex engine (RE2) refuses ``pattern``, or None: asked of DuckDB itself, once per pattern."""
    with _REGEX_LOCK:
        if not _regex_con:
            _regex_con.append(duckdb.connect(database=":memory:"))
            limits.apply(_regex_con[0])
        try:
            _regex_con[0].execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as exc:
            reason = str(exc).split("Error: ", 1)[-1].strip()
            return (
                f"DuckDB's regex engine (RE2) refuses it: {reason} "
                "(RE2 has no look-arounds, back-references or possessive quantifiers)"
            )
    return None
