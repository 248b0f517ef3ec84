"""The ``absence`` kind: the longest gap without a qualifying event in each led period."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator
from sqlglot import exp

from engine.lang.kinds.base import Kind
from engine.lang.parts import Base, shape_error
from engine.lang.sqlplan import AWAY_MANAGER, AWAY_PAIR, cols, join_on, parse, seconds_between
from engine.lang.windows import assessment

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule

METRICS = ["longest_gap_days", "gaps_over", "contacts", "scope_days", "away_days"]


class AbsenceLogic(Base):
    kind: Literal["absence"]
    max_gap: str = Field(description="Longest tolerated gap without a qualifying event.")

    def zero_conditions(self) -> list[dict[str, Any]] | None:
        return [self.where]

    @model_validator(mode="after")
    def _combinations(self) -> AbsenceLogic:
        self.no_unless("absence rules measure gaps between all qualifying events")
        self.roster_groups("absence rules group by manager or by manager and rep (the roster)")
        if self.window_mode != "whole":
            raise shape_error("absence rules measure gaps over the whole led period; drop 'window'", "window")
        return self


def compile_absence(rc: RuleCompiler, logic: Any, out: CompiledRule) -> None:
    assert isinstance(logic, AbsenceLogic)
    loc = ("logic",)
    scope = rc.scope_table()
    assert scope is not None  # the model allows only roster groups
    max_gap = rc.duration(logic.max_gap, loc + ("max_gap",))
    rows = rc.filtered(logic.where, loc + ("where",))
    q = rc.scoped(
        "SELECT r.*, r.ts AS sm_ts, r.ts AS sm_ev_ts FROM (:rows) r", {"rows": rows}, {"x_cnt": exp.Literal.number(1)}
    )
    p, g = rc.prefix, rc.group
    out.stages.append((f"{p}q", q))
    by_rep = not set(g) <= {"manager"}  # pair scopes carry the roster events that open and close them
    start_id = "s.start_id" if by_rep else "CAST(NULL AS VARCHAR)"
    end_id = "s.end_id" if by_rep else "CAST(NULL AS VARCHAR)"
    # Points in time per led period: its start (o=0), every contact (o=1), its end (o=2).
    points = (
        f"SELECT {cols(g, 'q')}, q.s_start, q.s_end, q.ts AS t, 1 AS o, q.id AS pid FROM {p}q q "
        f"UNION ALL SELECT {cols(g, 's')}, s.s_start, s.s_end, s.s_start, 0, {start_id} FROM {scope} s "
        f"UNION ALL SELECT {cols(g, 's')}, s.s_start, s.s_end, s.s_end, 2, {end_id} FROM {scope} s"
    )
    gaps = (
        f"SELECT *, LEAD(t) OVER sm_o AS t_next, LEAD(pid) OVER sm_o AS pid_next FROM ({points}) x "
        f"WINDOW sm_o AS (PARTITION BY {cols(g)}, s_start ORDER BY t, o, pid)"
    )
    # Days the rep or the manager was away (recorded, or no events at all) are no one's gap.
    manager_only = set(g) <= {"manager"}
    away_table = AWAY_MANAGER if manager_only else AWAY_PAIR
    away_on = "a.manager = y.manager" + ("" if manager_only else " AND a.rep = y.rep")
    overlap = seconds_between("GREATEST(y.t, a.a_start)", "LEAST(y.t_next, a.a_end)")
    keys = f"{cols(g, 'y')}, y.s_start, y.t, y.o, COALESCE(y.pid, '')"
    away = (
        f"SELECT {cols(g, 'y')}, y.s_start, y.t, y.o, COALESCE(y.pid, '') AS pk, SUM({overlap}) AS away_s "
        f"FROM ({gaps}) y JOIN {away_table} a ON {away_on} AND a.a_start < y.t_next AND a.a_end > y.t "
        f"WHERE y.t_next IS NOT NULL GROUP BY {keys}"
    )
    with_away = (
        f"SELECT y.*, COALESCE(w.away_s, 0) AS away_s FROM ({gaps}) y LEFT JOIN ({away}) w "
        f"ON {join_on(g, 'w', 'y')} AND w.s_start = y.s_start AND w.t = y.t AND w.o = y.o "
        "AND w.pk = COALESCE(y.pid, '')"
    )
    gap = f"({seconds_between('t', 't_next')} - away_s)"
    per = (
        f"SELECT *, {gap} AS gap_s, "
        f"ROW_NUMBER() OVER (PARTITION BY {cols(g)}, s_start ORDER BY {gap} DESC, t) AS sm_rank, "
        f"SUM(CASE WHEN {gap} >= {max_gap} THEN 1 ELSE 0 END) OVER (PARTITION BY {cols(g)}, s_start) AS gaps_over, "
        f"SUM(CASE WHEN o = 1 THEN 1 ELSE 0 END) OVER (PARTITION BY {cols(g)}, s_start) AS contacts, "
        f"SUM({gap}) OVER (PARTITION BY {cols(g)}, s_start) AS present_s "
        f"FROM ({with_away}) y WHERE t_next IS NOT NULL"
    )
    led = seconds_between("s_start", "s_end")
    scored = (
        f"SELECT *, gap_s / 86400 AS longest_gap_days, away_s / 86400 AS away_days, {led} / 86400 AS scope_days, "
        f"present_s >= {max_gap} AS sm_covered, TRUE AS sm_supported, "
        f"gap_s >= {max_gap} AND present_s >= {max_gap} AS sm_fire "
        f"FROM ({per}) z WHERE sm_rank = 1"
    )
    out.stages.append((f"{p}w", parse(scored)))
    out.metric_name = "longest_gap_days"
    out.metric_names = list(METRICS)
    out.op = "gte"
    out.threshold = max_gap / 86400.0
    evidence = "list_filter([pid, pid_next], x -> x IS NOT NULL)"
    out.findings = parse(
        f"SELECT {cols(g)}, t AS window_start, t_next AS window_end, 1 AS windows, t AS peak_start, "
        f"t_next AS peak_end, 1.0 AS coverage, longest_gap_days AS metric, {max_gap / 86400.0} AS threshold, "
        f"{', '.join(METRICS)}, {evidence} AS evidence FROM {p}w WHERE sm_fire ORDER BY {cols(g)}, t"
    )
    out.assessment = assessment(p, unsupported="0")
    out.away = True


KIND: Kind = Kind("absence", AbsenceLogic, compile_absence)
