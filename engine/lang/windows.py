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

from engine.lang.coverage import away_adjusted
from engine.lang.parts import OP_SYMBOL
from engine.lang.peers import peer_layer
from engine.lang.sqlplan import cols, interval, join_on, ordered_ids, parse, quoted, seconds_between
from engine.lang.trends import CHANGE, trend_layer

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule

Metrics = list[tuple[str, str, str]]  # (name, value column of the q stage, aggregate)

AGGREGATES = {  # a metric's aggregate over a window's rows (also counter-evidence)
    "count": "COALESCE(SUM({c}), 0)",
    "distinct": "COUNT(DISTINCT {c})",
    "sum": "COALESCE(SUM({c}), 0)",
    "avg": "AVG({c})",
    "max": "MAX({c})",
    "min": "MIN({c})",
    # the distinct non-empty items of the window's lists (each row's value a list, or NULL)
    "items": (
        "ARRAY_LENGTH(LIST_DISTINCT(LIST_FILTER(COALESCE(FLATTEN(ARRAY_AGG({c}) FILTER (WHERE {c} IS NOT NULL)), []), "
        "sm_k -> NOT sm_k IS NULL)))"
    ),
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
        aggs = ", ".join(f"{AGGREGATES[how].format(c='q.' + col)} AS {quoted(name)}" for name, col, how in metrics)
        w_sql = (
            f"SELECT {cols(g, 'w')}, w.s_start, w.s_end, w.w_start, w.w_end, w.coverage, "
            f"MIN(q.id) AS anchor_id, {aggs} FROM ({win_sql}) w LEFT JOIN {p}q q ON "
            f"{join_on(g, 'q', 'w')} AND q.ts >= w.w_start AND q.ts < w.w_end "
            f"GROUP BY {cols(g, 'w')}, w.s_start, w.s_end, w.w_start, w.w_end, w.coverage"
        )
        w = parse(w_sql)
    gates = list(gates or [])
    names = [m[0] for m in metrics]
    trend = rc.rule.logic.trend if win.mode == "calendar" else None
    if trend is not None:  # the change from the window before (engine.lang.trends)
        w, metric_expr, support, more = trend_layer(rc, out, trend, w, names, covered, metric_expr, support)
        covered, prorated = "sm_own_covered", False
        gates += more
    counted = any(name == out.metric_name and how == "count" for name, _, how in metrics)
    score(rc, out, w, covered, metric_expr, support, gates, prorated, counted=counted)
    names = names + (["ratio"] if out.metric_name == "ratio" else [])
    source = span = None
    if out.trend_after is not None:  # the evidence is the manager's events that started the trend
        source, reach = out.trend_after
        span = f"q.ts >= f.f_start - INTERVAL {int(reach)} SECOND AND q.ts < f.f_end"
        evidence_filter = ""
    if trend is not None:
        names = list(out.metric_names)
    islands(rc, out, names, evidence_filter, inclusive=win.mode == "sliding", source=source, span=span)


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
    win_sql = away_adjusted(rc, out, win_sql)  # days away do not count as covered (engine.lang.coverage)
    return win_sql, f"coverage >= {win.min_coverage}"


AT_LEAST_OPS = ("lt", "lte")  # "fires when below": the rule asks for at least so much


def prorates(out: CompiledRule, prorated: bool) -> bool:
    """Whether a plan scales its threshold by the covered share of each calendar period.

    Only an "at least" threshold (op ``lt``/``lte``) of a count or sum is scaled: a
    manager who led 27 of 31 days is asked for 27/31 of the month's amount. A "too
    many" threshold (``gt``/``gte``/``eq``/``ne``) is never scaled: lowering it for a
    short period would make the rule fire on less, the opposite of fair.
    """
    return prorated and out.window.mode == "calendar" and out.window.prorate and out.op in AT_LEAST_OPS


def score(
    rc: RuleCompiler,
    out: CompiledRule,
    w: exp.Expr,
    covered: str,
    metric_expr: str,
    support: list[str],
    gates: list[str],
    prorated: bool,
    *,
    counted: bool = False,
) -> None:
    """Add the scored-windows stage (metric, threshold, covered, supported, fire) and the assessment.

    ``sm_threshold`` is the value each window is judged against: the rule's own, or,
    when the plan pro-rates (:func:`prorates`), the rule's value times the window's
    coverage, rounded up to a whole number for a count (12 a month, 27 of 31 days
    covered: 10.45, so 11). ``sm_prorated`` says whether that window's value was scaled.
    """
    p = rc.prefix
    scaled = prorates(out, prorated)
    threshold = f"CAST({out.threshold} AS DOUBLE)"
    if scaled:
        share = f"ROUND({out.threshold} * coverage, 9)"  # 9 decimals: 12 * 0.5 stays 6, never 6.0000000001
        threshold = f"CAST({'CEIL(' + share + ')' if counted else share} AS DOUBLE)"
    supported = " AND ".join(f"({s})" for s in support) if support else "TRUE"
    peer = rc.rule.logic.peer if out.window.mode != "sliding" else None
    support_name = "sm_base_supported" if peer is not None else "sm_supported"
    scored_sql = (
        f"SELECT *, {metric_expr} AS sm_metric, {threshold} AS sm_threshold, "
        f"{'coverage < 1' if scaled else 'FALSE'} AS sm_prorated, "
        f"({covered}) AS sm_covered, ({supported}) AS {support_name} FROM (:w) x"
    )
    scored = parse(scored_sql, {"w": w})
    gate = "".join(f" AND ({condition})" for condition in gates)
    if peer is not None:  # judged against the other managers too (engine.lang.peers)
        scored, enough, test = peer_layer(rc, out, peer, scored)
        scored = parse(f"SELECT *, (sm_base_supported AND {enough}) AS sm_supported FROM (:s) z", {"s": scored})
        gate += f" AND {test}"
    if out.trend is not None:  # the judged change under its own name, for the finding's metrics
        scored = parse(f"SELECT *, sm_metric AS {quoted(out.trend + CHANGE)} FROM (:s) t", {"s": scored})
    fire = f"sm_covered AND sm_supported{gate} AND sm_metric IS NOT NULL AND sm_metric {OP_SYMBOL[out.op]} sm_threshold"
    scored = parse(f"SELECT *, COALESCE({fire}, FALSE) AS sm_fire FROM (:s) y", {"s": scored})
    out.stages.append((f"{p}w", scored))
    if out.window.mode == "sliding":
        out.assessment = sliding_assessment(rc, out, bool(support))
    else:
        out.assessment = assessment(p, unsupported="SUM(CASE WHEN sm_covered AND NOT sm_supported THEN 1 ELSE 0 END)")


def assessment(prefix: str, *, unsupported: str) -> exp.Expr:
    """Per manager: windows scored, those not covered enough (partial) and those below the minimum data."""
    return parse(
        f"SELECT manager, COUNT(*) AS windows, SUM(CASE WHEN NOT sm_covered THEN 1 ELSE 0 END) AS partial, "
        f"{unsupported} AS unsupported FROM {prefix}w GROUP BY manager"
    )


def sliding_assessment(rc: RuleCompiler, out: CompiledRule, needs_support: bool) -> exp.Expr:
    """Per manager, what a sliding-window rule could judge: each led period counts as one window.

    A sliding window exists only at qualifying events, so the periods a group was
    led (its scopes, clipped to the log) are what the rule looked at. A period
    shorter than the window length that produced no finding is *partial*: too short
    to show the pattern's absence (a finding made in a short period stands, since
    what it found is there whatever came after). A period long enough whose windows
    all fall below the rule's minimum data (and produced no finding) is
    *unsupported*. ``sm_short_min_days``/``sm_short_max_days`` give the partial
    periods' lengths for the reason.
    """
    p, g = rc.prefix, rc.group
    universe = f"SELECT DISTINCT {cols(g)}, s_start, s_end FROM {rc.scope_table() or p + 'q'}"
    per_period = (
        f"SELECT {cols(g, 'u')}, u.s_start, {seconds_between('u.s_start', 'u.s_end')} AS sm_led_s, "
        f"MAX(CASE WHEN w.sm_fire THEN 1 ELSE 0 END) AS sm_fired, "
        f"MAX(CASE WHEN w.sm_supported THEN 1 ELSE 0 END) AS sm_any_supported "
        f"FROM ({universe}) u LEFT JOIN {p}w w ON {join_on(g, 'w', 'u')} AND w.s_start = u.s_start "
        f"GROUP BY {cols(g, 'u')}, u.s_start, u.s_end"
    )
    length = out.window.seconds
    short = f"sm_fired = 0 AND sm_led_s < {length}"
    unsupported = (
        f"SUM(CASE WHEN sm_fired = 0 AND sm_led_s >= {length} AND sm_any_supported = 0 THEN 1 ELSE 0 END)"
        if needs_support
        else "0"
    )
    return parse(
        f"SELECT manager, COUNT(*) AS windows, SUM(CASE WHEN {short} THEN 1 ELSE 0 END) AS partial, "
        f"{unsupported} AS unsupported, MIN(CASE WHEN {short} THEN sm_led_s END) / 86400 AS sm_short_min_days, "
        f"MAX(CASE WHEN {short} THEN sm_led_s END) / 86400 AS sm_short_max_days "
        f"FROM ({per_period}) x GROUP BY manager"
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
    metric_cols = ", ".join(f"r.{quoted(n)}" for n in names if n != "ratio" or out.metric_name != "ratio")
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
        f"r.w_start AS peak_start, r.w_end AS peak_end, r.coverage, r.sm_metric AS metric, r.sm_threshold AS threshold, r.sm_prorated, "
        f"{metric_cols}, COALESCE(e.evidence, []) AS evidence "
        f"FROM {p}f r LEFT JOIN ({evidence}) e USING ({using}) ORDER BY {cols(g, 'r')}, r.f_start"
    )
    out.findings = parse(sql)
