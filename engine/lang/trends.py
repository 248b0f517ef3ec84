"""Trends: a metric's change from one calendar window to the next.

With ``trend:`` a calendar rule no longer judges a window's metric on its own
but the change from the window before it (later / earlier, or later - earlier):
"the team's activity rose by a third from January to February". The rule's
``op`` and ``value`` judge the change of ``trend.of``; ``trend.also`` adds
further changes that must hold between the same two windows (and conversion
did not improve); ``trend.after`` asks for an event of the manager's shortly
before the later window (the mandate that started it), whose events become the
finding's evidence.

Both windows must be covered and meet the rule's minimum data, and the earlier
one must be the later one's direct predecessor in the same led period;
otherwise the later window is below the minimum data (not assessed). A change
"by a ratio" from zero is undefined, so it is not assessed either: the rule
cannot say "up 50%" from nothing. A finding covers both windows compared, so
its period reads "January to February", and consecutive rises merge into one
finding whose persistence counts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from engine.lang.parts import OP_SYMBOL, Trend
from engine.lang.sqlplan import cols, parse, quoted

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule

BEFORE = "_before"  # suffix of a metric's value in the earlier window
CHANGE = "_change"  # suffix of the judged change


def _change(name: str, how: str) -> str:
    now, before = quoted(name), quoted(name + BEFORE)
    if how == "difference":
        return f"CAST({now} AS DOUBLE) - {before}"
    return f"CAST({now} AS DOUBLE) / NULLIF({before}, 0)"


def trend_layer(
    rc: RuleCompiler,
    out: CompiledRule,
    spec: Trend,
    w: exp.Expr,
    names: list[str],
    covered: str,
    metric_expr: str,
    support: list[str],
) -> tuple[exp.Expr, str, list[str], list[str]]:
    """The windows with each metric's earlier value; the change, the support test and the gates.

    ``w`` holds the calendar windows (group keys, scope, ``w_start``/``w_end``,
    ``coverage``, ``anchor_id`` and a column per name in ``names``).
    Returns the windows (``w_start`` moved to the earlier window's start), the
    SQL of the judged change, the support test and the further gates.
    """
    loc = ("logic", "trend")
    g = rc.group
    base = out.metric_name
    known = [*names, "ratio"] if base == "ratio" else list(names)
    of = spec.of or base
    if of not in known:
        rc.report(loc + ("of",), f"trend.of names '{of}', which is not a metric of this rule ({', '.join(known)})")
    for index, also in enumerate(spec.also):
        if also.of not in known:
            rc.report(loc + ("also", index, "of"), f"'{also.of}' is not a metric of this rule ({', '.join(known)})")
    supported = " AND ".join(f"({s})" for s in support) if support else "TRUE"
    own = ", ".join(quoted(n) for n in names)
    ratio = f", {metric_expr} AS {quoted('ratio')}" if base == "ratio" else ""
    marked = (
        f"SELECT {cols(g, 'w')}, w.s_start, w.s_end, w.w_start AS sm_own_start, w.w_end, w.coverage, "
        f"w.anchor_id, {own}{ratio}, ({covered}) AS sm_own_covered, ({supported}) AS sm_own_supported FROM (:w) w"
    )
    lags = ", ".join(f"LAG({quoted(n)}) OVER sm_t AS {quoted(n + BEFORE)}" for n in known)
    lagged = (
        f"SELECT *, COALESCE(LAG(sm_own_start) OVER sm_t, sm_own_start) AS w_start, "
        f"LAG(w_end) OVER sm_t AS sm_prev_end, LAG(sm_own_covered) OVER sm_t AS sm_prev_covered, "
        f"LAG(sm_own_supported) OVER sm_t AS sm_prev_supported, {lags} FROM ({marked}) m "
        f"WINDOW sm_t AS (PARTITION BY {cols(g)}, s_start ORDER BY sm_own_start)"
    )
    change = _change(of, spec.change)
    trend_support = (
        "sm_own_supported AND COALESCE(sm_prev_end = sm_own_start AND sm_prev_covered AND sm_prev_supported, FALSE) "
        f"AND ({change}) IS NOT NULL"
    )
    gates = [
        f"COALESCE(({_change(a.of, a.change)}) {OP_SYMBOL[a.op]} {rc.number(a.value, loc + ('also', i, 'value'))}, FALSE)"
        for i, a in enumerate(spec.also)
    ]
    windows = parse(lagged, {"w": w})
    if spec.after is not None:
        windows = _after_count(rc, out, spec, windows)
        gates.append("sm_after > 0")
    out.metric_name = of + CHANGE
    extra = [n + BEFORE for n in known] + [of + CHANGE]
    out.metric_names = [n for n in out.metric_names if n != "ratio"] + (["ratio"] if base == "ratio" else []) + extra
    out.trend = of
    return windows, change, [trend_support], gates


def _after_count(rc: RuleCompiler, out: CompiledRule, spec: Trend, windows: exp.Expr) -> exp.Expr:
    """The windows with ``sm_after``: the manager's events in ``within`` before each later window.

    Those events' rows become a stage of their own, which the finding's evidence
    is drawn from. Counted with a join rather than EXISTS in the select list,
    which Spark SQL does not take.
    """
    assert spec.after is not None
    loc = ("logic", "trend", "after")
    rows = rc.filtered(spec.after.where, loc + ("where",))
    within = int(rc.duration(spec.after.within, loc + ("within",)))
    after = rc.scoped(
        "SELECT r.*, r.ts AS sm_ts, r.ts AS sm_ev_ts FROM (:rows) r", {"rows": rows}, {"x_cnt": exp.Literal.number(1)}
    )
    stage = f"{rc.prefix}ta"
    out.stages.append((stage, after))
    out.trend_after = (stage, float(within))
    keys = cols(rc.group, "w")
    counted = (
        f"SELECT {keys}, w.s_start, w.sm_own_start, COUNT(a.id) AS sm_after FROM (:w) w JOIN {stage} a "
        f"ON a.manager = w.manager AND a.ts < w.sm_own_start AND a.ts >= w.sm_own_start - INTERVAL {within} SECOND "
        f"GROUP BY {keys}, w.s_start, w.sm_own_start"
    )
    on = " AND ".join(
        [*(f"c.{k} = w.{k}" for k in rc.group), "c.s_start = w.s_start", "c.sm_own_start = w.sm_own_start"]
    )
    return parse(
        f"SELECT w.*, COALESCE(c.sm_after, 0) AS sm_after FROM (:w) w LEFT JOIN ({counted}) c ON {on}",
        {"w": windows},
    )
