"""The default batch backend: DuckDB, embedded, in memory.

The events are loaded once (zero-copy from Arrow), the roster is resolved once
into scope tables, and every compiled rule then runs as a few SQL statements
over those shared tables. The base tables are this backend's own business;
the rule plans are dialect-neutral sqlglot trees rendered for DuckDB here.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from engine.backends.base import Origin, RuleResult
from engine.errors import EngineError, Problem
from engine.lang.plan import CompiledRule

# Roster intervals per (manager, rep): each add until the next removal of the same pair,
# or, for a removal with no add before it, from the start of the log.
_SETUP = """
CREATE OR REPLACE TEMP TABLE sm_span AS
SELECT date_trunc('day', MIN(ts)) AS span_start, date_trunc('day', MAX(ts)) + INTERVAL 1 DAY AS span_end
FROM sm_raw WHERE type NOT IN ('team_member_added', 'team_member_removed');

CREATE OR REPLACE TEMP TABLE sm_roster_ev AS
SELECT manager, rep, ts, id, type FROM sm_raw
WHERE type IN ('team_member_added', 'team_member_removed') AND manager IS NOT NULL AND rep IS NOT NULL;

CREATE OR REPLACE TEMP TABLE sm_roster_raw AS
SELECT a.manager, a.rep, a.ts AS r_start, a.id AS start_id, MIN(r.ts) AS r_end, arg_min(r.id, r.ts) AS end_id
FROM sm_roster_ev a LEFT JOIN sm_roster_ev r
  ON r.type = 'team_member_removed' AND r.manager = a.manager AND r.rep = a.rep AND r.ts > a.ts
WHERE a.type = 'team_member_added'
GROUP BY a.manager, a.rep, a.ts, a.id
UNION ALL
SELECT r.manager, r.rep, TIMESTAMP '1900-01-01' AS r_start, NULL AS start_id, r.ts AS r_end, r.id AS end_id
FROM sm_roster_ev r
WHERE r.type = 'team_member_removed' AND NOT EXISTS (
  SELECT 1 FROM sm_roster_ev a WHERE a.type = 'team_member_added' AND a.manager = r.manager
  AND a.rep = r.rep AND a.ts < r.ts);

-- Merge overlapping intervals of the same pair (a rep added twice without a removal).
CREATE OR REPLACE TEMP TABLE sm_roster AS
WITH ordered AS (
  SELECT *, COALESCE(r_end, TIMESTAMP '9999-01-01') AS r_stop FROM sm_roster_raw
), marked AS (
  SELECT *, CASE WHEN r_start <= MAX(r_stop) OVER (PARTITION BY manager, rep ORDER BY r_start, start_id
    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS is_new FROM ordered
), grouped AS (
  SELECT *, SUM(is_new) OVER (PARTITION BY manager, rep ORDER BY r_start, start_id ROWS UNBOUNDED PRECEDING) AS grp
  FROM marked
)
SELECT manager, rep, MIN(r_start) AS r_start, MAX(r_stop) AS r_stop,
       arg_min(start_id, r_start) AS start_id, arg_max(end_id, r_stop) AS end_id
FROM grouped GROUP BY manager, rep, grp;

CREATE OR REPLACE TEMP TABLE sm_lookup AS
SELECT rep AS person, manager, 'rep' AS role, r_start, r_stop FROM sm_roster
UNION ALL
SELECT manager AS person, manager, 'manager' AS role, MIN(r_start), MAX(r_stop) FROM sm_roster GROUP BY manager;

CREATE OR REPLACE TEMP TABLE sm_ev_resolved AS
WITH needs AS (
  SELECT * FROM sm_raw WHERE manager IS NULL OR actor_role IS NULL
), by_rep AS (
  SELECT n.seq, l.manager FROM needs n JOIN sm_lookup l
    ON l.person = n.rep AND l.role = 'rep' AND n.ts >= l.r_start AND n.ts < l.r_stop
  QUALIFY ROW_NUMBER() OVER (PARTITION BY n.seq ORDER BY l.r_start DESC, l.manager) = 1
), by_actor AS (
  SELECT n.seq, l.manager, l.role FROM needs n JOIN sm_lookup l
    ON l.person = n.actor AND n.ts >= l.r_start AND n.ts < l.r_stop
  QUALIFY ROW_NUMBER() OVER (PARTITION BY n.seq ORDER BY l.role, l.r_start DESC, l.manager) = 1
), resolved AS (
  SELECT n.* REPLACE (
      COALESCE(n.manager, r.manager, a.manager) AS manager,
      COALESCE(n.actor_role, a.role) AS actor_role)
  FROM needs n LEFT JOIN by_rep r USING (seq) LEFT JOIN by_actor a USING (seq)
)
SELECT * FROM sm_raw WHERE manager IS NOT NULL AND actor_role IS NOT NULL
UNION ALL SELECT * FROM resolved;

-- rep_on_team: was the event's rep on some manager's team at that moment (NULL without a rep)?
CREATE OR REPLACE TEMP TABLE sm_ev AS
SELECT e.*, CASE WHEN e.rep IS NULL THEN NULL ELSE EXISTS (
  SELECT 1 FROM sm_lookup l WHERE l.role = 'rep' AND l.person = e.rep AND e.ts >= l.r_start AND e.ts < l.r_stop
) END AS rep_on_team
FROM sm_ev_resolved e
ORDER BY type, ts, id;
DROP TABLE sm_ev_resolved;

-- Who led what, clipped to the log. Managers without roster entries are assessed over the whole log.
CREATE OR REPLACE TEMP TABLE sm_scopes_p AS
SELECT r.manager, r.rep, GREATEST(r.r_start, sp.span_start) AS s_start, LEAST(r.r_stop, sp.span_end) AS s_end,
       r.start_id, r.end_id
FROM sm_roster r CROSS JOIN sm_span sp
WHERE GREATEST(r.r_start, sp.span_start) < LEAST(r.r_stop, sp.span_end)
UNION ALL
SELECT DISTINCT e.manager, e.rep, sp.span_start, sp.span_end, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR)
FROM sm_ev e CROSS JOIN sm_span sp
WHERE e.manager IS NOT NULL AND e.rep IS NOT NULL AND sp.span_start IS NOT NULL
  AND e.manager NOT IN (SELECT manager FROM sm_roster);

CREATE OR REPLACE TEMP TABLE sm_scopes_m AS
WITH marked AS (
  SELECT manager, s_start, s_end, CASE WHEN s_start <= MAX(s_end) OVER (PARTITION BY manager ORDER BY s_start, s_end
    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS is_new FROM sm_scopes_p
), grouped AS (
  SELECT *, SUM(is_new) OVER (PARTITION BY manager ORDER BY s_start, s_end ROWS UNBOUNDED PRECEDING) AS grp FROM marked
)
SELECT manager, MIN(s_start) AS s_start, MAX(s_end) AS s_end FROM grouped GROUP BY manager, grp
UNION ALL
SELECT DISTINCT e.manager, sp.span_start, sp.span_end FROM sm_ev e CROSS JOIN sm_span sp
WHERE e.manager IS NOT NULL AND sp.span_start IS NOT NULL
  AND e.manager NOT IN (SELECT manager FROM sm_scopes_p);
"""


class DuckDBBackend:
    """Holds one connection with the loaded log; run compiled rules against it."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, events: pa.Table, *, threads: int | None = None) -> None:
        self.con = duckdb.connect(database=":memory:")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        # The Arrow table is scanned in place (no copy) while the roster is resolved;
        # sm_ev then holds every event, with file, line and source, for the rules.
        self.con.register("sm_raw", events)
        try:
            self.con.execute(_SETUP)
        finally:
            self.con.unregister("sm_raw")

    def span(self) -> tuple[Any, Any]:
        row = self.con.execute("SELECT span_start, span_end FROM sm_span").fetchone()
        return (row[0], row[1]) if row else (None, None)

    def managers(self) -> list[str]:
        return [r[0] for r in self.con.execute("SELECT DISTINCT manager FROM sm_scopes_m ORDER BY 1").fetchall()]

    def origins(self, ids: list[str]) -> dict[str, Origin]:
        """file, line and source record of the given events (for citing evidence)."""
        if not ids:
            return {}
        rows = self.con.execute(
            "SELECT id, file, line, source FROM sm_ev WHERE id IN (SELECT UNNEST(?))", [ids]
        ).fetchall()
        return {r[0]: Origin(file=r[1], line=r[2], source=r[3]) for r in rows}

    def run(self, rule: CompiledRule) -> RuleResult:
        names: list[str] = []
        try:
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
        for name, stage in rule.stages:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {stage.sql(dialect=self.dialect)}")
            names.append(name)
        assert rule.findings is not None
        findings = self._fetch(rule.findings.sql(dialect=self.dialect))
        assessment = self._fetch(rule.assessment.sql(dialect=self.dialect)) if rule.assessment else []
        return RuleResult(findings, assessment)

    def _fetch(self, sql: str) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.con.close()
