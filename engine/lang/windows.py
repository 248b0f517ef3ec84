"""Windows, scoring and islands: the part of a plan every rule kind shares.

A kind produces a stage ``<prefix>q`` of qualifying rows (group keys, ts,
scope, value columns). From there the shared path is: cut the rows into
windows (whole led period, calendar periods, or a sliding window ending at
each row), aggregate, score each window (metric, threshold, covered,
supported, fire), merge firing windows that touch into islands, and pick each
island's peak window and evidence. The stages and the two final queries are
added to the :class:`CompiledRule`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from engine.lang.parts import OP_SYMBOL
from engine.lang.sqlplan import cols, interval, join_on, ordered_ids, parse, quoted, seconds_between

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule

Metrics = list[tuple[str, str, str]]  # (name, value column of the q stage, aggregate)

_AGGREGATES = {
    "count": "COALESCE(SUM({c}), 0)",
    "distinct": "COUNT(DISTINCT {c})",
    "sum": "COALESCE(SUM({c}), 0)",
    "avg": "AVG({c})",
    "max": "MAX({c})",
    "min": "MIN({c})",
}
_WINDOW_AGGREGATES = {
    "distinct": "NULL",  # rejected by the model for sliding windows
    "count": "SUM({c}) OVER sm_w",
    "sum": "SUM({c}) OVER sm_w",
    "avg": "AVG({c}) OVER sm_w",
    "max": "MAX({c}) OVER sm_w",
    "min": "MIN({c}) OVER sm_w",
}
_CALENDAR_STEP = {"week": "INTERVAL 7 DAY", "month": "INTERVAL 1 MONTH", "quarter": "INTERVAL 3 MONTH"}


def windowed(
    rc: RuleCompiler,
    out: CompiledRule,
    q: exp.Expr,
    metrics: Metrics,
    metric_expr: str,
    support: list[str],
    prorated: bool,
    evidence_filter: str,
    gates: list[str] | None = None,
) -> None:
    """Aggregate the qualifying rows ``q`` per window, score the windows and find the islands."""
    p, g = rc.prefix, rc.group
    out.stages.append((f"{p}q", q))
    win = out.window
    if win.mode == "sliding":
        aggs = ", ".join(
            f"{_WINDOW_AGGREGATES[how].format(c='q.' + col)} AS {quoted(name)}" for name, col, how in metrics
        )
        w_sql = (
            f"SELECT {cols(g, 'q')}, q.s_start, q.s_end, GREATEST(q.ts - :dur, q.s_start) AS w_start, "
            f"q.ts AS w_end, 1.0 AS coverage, q.id AS anchor_id, q.x_cnt AS anchor, {aggs} "
            f"FROM {p}q q WINDOW sm_w AS (PARTITION BY {cols(g, 'q')}, q.s_start ORDER BY q.ts "
            f"RANGE BETWEEN :dur PRECEDING AND CURRENT ROW)"
        )
        w = parse(w_sql, {"dur": interval(win.seconds)})
        w = parse("SELECT * FROM (:w) x WHERE x.anchor = 1", {"w": w})
        covered = "TRUE"
    else:
        win_sql, covered = fixed_windows(rc, out)
        aggs = ", ".join(f"{_AGGREGATES[how].format(c='q.' + col)} AS {quoted(name)}" for name, col, how in metrics)
        w_sql = (
            f"SELECT {cols(g, 'w')}, w.s_start, w.s_end, w.w_start, w.w_end, w.coverage, "
            f"MIN(q.id) AS anchor_id, {aggs} FROM ({win_sql}) w LEFT JOIN {p}q q ON "
            f"{join_on(g, 'q', 'w')} AND q.ts >= w.w_start AND q.ts < w.w_end "
            f"GROUP BY {cols(g, 'w')}, w.s_start, w.s_end, w.w_start, w.w_end, w.coverage"
        )
        w = parse(w_sql)
    score(rc, out, w, covered, metric_expr, support, gates or [], prorated)
    names = [m[0] for m in metrics] + (["ratio"] if out.metric_name == "ratio" else [])
    islands(rc, out, names, evidence_filter, inclusive=win.mode == "sliding")


def fixed_windows(rc: RuleCompiler, out: CompiledRule) -> tuple[str, str]:
    """SQL of the whole or calendar windows of every group, and the 'covered' test."""
    p, g, win = rc.prefix, rc.group, out.window
    scope = rc.scope_table()
    universe = f"SELECT DISTINCT {cols(g)}, s_start, s_end FROM {scope or p + 'q'}"
    if win.mode == "whole":
        win_sql = (
            f"SELECT {cols(g, 'u')}, u.s_start, u.s_end, u.s_start AS w_start, u.s_end AS w_end, "
            f"1.0 AS coverage FROM ({universe}) u"
        )
        return win_sql, f"{seconds_between('w_start', 'w_end')} >= {win.min_days * 86400}"
    step = _CALENDAR_STEP[win.unit]
    win_sql = (
        f"SELECT {cols(g, 'u')}, u.s_start, u.s_end, GREATEST(t.p, u.s_start) AS w_start, "
        f"LEAST(t.p + {step}, u.s_end) AS w_end, "
        f"{seconds_between('GREATEST(t.p, u.s_start)', f'LEAST(t.p + {step}, u.s_end)')} / "
        f"{seconds_between('t.p', f't.p + {step}')} AS coverage "
        f"FROM ({universe}) u CROSS JOIN UNNEST(generate_series(date_trunc('{win.unit}', u.s_start), u.s_end, {step})) AS t(p) "
        f"WHERE GREATEST(t.p, u.s_start) < LEAST(t.p + {step}, u.s_end)"
    )
    return win_sql, f"coverage >= {win.min_coverage}"


def score(
    rc: RuleCompiler,
    out: CompiledRule,
    w: exp.Expr,
    covered: str,
    metric_expr: str,
    support: list[str],
    gates: list[str],
    prorated: bool,
) -> None:
    """Add the scored-windows stage (metric, threshold, covered, supported, fire) and the assessment."""
    p = rc.prefix
    threshold = f"{out.threshold} * coverage" if prorated else f"{out.threshold}"
    supported = " AND ".join(f"({s})" for s in support) if support else "TRUE"
    scored_sql = (
        f"SELECT *, {metric_expr} AS sm_metric, {threshold} AS sm_threshold, "
        f"({covered}) AS sm_covered, ({supported}) AS sm_supported FROM (:w) x"
    )
    scored = parse(scored_sql, {"w": w})
    gate = "".join(f" AND ({condition})" for condition in gates)
    fire = f"sm_covered AND sm_supported{gate} AND sm_metric IS NOT NULL AND sm_metric {OP_SYMBOL[out.op]} sm_threshold"
    scored = parse(f"SELECT *, COALESCE({fire}, FALSE) AS sm_fire FROM (:s) y", {"s": scored})
    out.stages.append((f"{p}w", scored))
    out.assessment = (
        assessment(p, unsupported="SUM(CASE WHEN sm_covered AND NOT sm_supported THEN 1 ELSE 0 END)")
        if out.window.mode != "sliding"
        else None
    )


def assessment(prefix: str, *, unsupported: str) -> exp.Expr:
    """Per manager: windows scored, those not covered enough (partial) and those below the minimum data."""
    return parse(
        f"SELECT manager, COUNT(*) AS windows, SUM(CASE WHEN NOT sm_covered THEN 1 ELSE 0 END) AS partial, "
        f"{unsupported} AS unsupported FROM {prefix}w GROUP BY manager"
    )


def islands(
    rc: RuleCompiler,
    out: CompiledRule,
    names: list[str],
    evidence_filter: str,
    inclusive: bool,
    source: str | None = None,
    span: str | None = None,
) -> None:
    """Merge firing windows that touch into one finding per island, with its peak window and evidence."""
    p, g = rc.prefix, rc.group
    peak = {"gt": "sm_metric DESC", "gte": "sm_metric DESC", "lt": "sm_metric ASC", "lte": "sm_metric ASC"}.get(
        out.op, "w_start"
    )
    part = cols(g)
    metric_cols = ", ".join(f"r.{quoted(n)}" for n in names if n != "ratio")
    marked = (
        f"SELECT *, CASE WHEN w_start <= MAX(w_end) OVER (PARTITION BY {part} ORDER BY w_start, w_end, anchor_id "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS sm_new "
        f"FROM {p}w WHERE sm_fire"
    )
    numbered = (
        f"SELECT *, SUM(sm_new) OVER (PARTITION BY {part} ORDER BY w_start, w_end, anchor_id "
        f"ROWS UNBOUNDED PRECEDING) AS sm_island FROM ({marked}) m"
    )
    ranked = (
        f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {part}, sm_island ORDER BY {peak}, w_start, anchor_id) AS sm_rank, "
        f"MIN(w_start) OVER (PARTITION BY {part}, sm_island) AS f_start, "
        f"MAX(w_end) OVER (PARTITION BY {part}, sm_island) AS f_end, "
        f"COUNT(*) OVER (PARTITION BY {part}, sm_island) AS f_windows FROM ({numbered}) i"
    )
    out.stages.append((f"{p}f", parse(f"SELECT * FROM ({ranked}) r WHERE sm_rank = 1")))
    upper = "<=" if inclusive else "<"
    ev_filter = f" AND {evidence_filter}" if evidence_filter else ""
    span = span or f"q.ts >= f.f_start AND q.ts {upper} f.f_end"
    ids = ordered_ids("q.ts" if source else "q.ev_ts", "q.id")
    evidence = (
        f"SELECT {cols(g, 'f')}, f.f_start, {ids} AS evidence, MIN(q.ev_ts) AS first_ts "
        f"FROM {p}f f JOIN {source or p + 'q'} q ON {join_on(g, 'q', 'f')} AND {span}{ev_filter} "
        f"GROUP BY {cols(g, 'f')}, f.f_start"
    )
    using = ", ".join(g + ["f_start"])
    # A sliding window reaches back its full length from each firing event; the finding
    # starts at its first qualifying event instead, which is what a reader needs.
    start = "GREATEST(r.f_start, COALESCE(e.first_ts, r.f_start))" if inclusive else "r.f_start"
    sql = (
        f"SELECT {cols(g, 'r')}, {start} AS window_start, r.f_end AS window_end, r.f_windows AS windows, "
        f"r.w_start AS peak_start, r.w_end AS peak_end, r.coverage, r.sm_metric AS metric, r.sm_threshold AS threshold, "
        f"{metric_cols}, COALESCE(e.evidence, []) AS evidence "
        f"FROM {p}f r LEFT JOIN ({evidence}) e USING ({using}) ORDER BY {cols(g, 'r')}, r.f_start"
    )
    out.findings = parse(sql)
