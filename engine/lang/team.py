"""Team-level findings ("k of n"): per-rep results turned into one finding about the manager.

A rule grouped by manager and rep judges each rep's situation; the manager is
judged by how many of their reps are past the line. With ``team:`` the
per-rep findings of the kind's plan become one row per manager:

- ``reps_over`` (k): reps with at least one per-rep finding;
- ``team_reps`` (n): reps the rule assessed for the manager (a covered and
  supported window: led long enough, enough data);
- ``team_share``: k / n;
- the rule's metric at its worst over those reps, and each rep's own result
  (``reps``: rep, metric, window, evidence, sorted by rep).

It fires on breadth (k >= ``min_reps`` and k >= ``min_share`` * n, in a team of
at least ``min_team`` assessed reps) or on one rep alone past ``alone``. The
rule's own severity needs ``full`` breadth, or breadth and a rep past
``alone``; anything less is one level lower (``sm_tier`` 0), so a finding
resting on one rep is never the rule's top severity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.lang.parts import OP_SYMBOL, Team
from engine.lang.sqlplan import parse, quoted

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule

TEAM_METRICS = ["reps_over", "team_reps", "team_share"]


def plan_team(rc: RuleCompiler, spec: Team, out: CompiledRule) -> None:
    """Replace the per-rep findings query with the team roll-up."""
    assert out.findings is not None
    loc = ("logic", "team")
    min_reps = rc.number(spec.min_reps, loc + ("min_reps",), integer=True)
    min_share = rc.number(spec.min_share, loc + ("min_share",))
    min_team = rc.number(spec.min_team, loc + ("min_team",), integer=True)
    full_reps = rc.number(spec.full.min_reps, loc + ("full", "min_reps"), integer=True)
    full_share = rc.number(spec.full.min_share, loc + ("full", "min_share"))
    if min_reps < 1:
        rc.report(loc + ("min_reps",), "min_reps must be at least 1")
    if not 0 <= min_share <= 1 or not 0 <= full_share <= 1:
        rc.report(loc, "min_share is a share of the team, from 0 to 1")
    op = OP_SYMBOL[out.op]
    worst = "MIN" if out.op in ("lt", "lte") else "MAX"
    alone = "FALSE"
    if spec.alone is not None:
        alone_value = rc.number(spec.alone, loc + ("alone",))
        alone = f"COALESCE({worst}(metric) {op} {alone_value}, FALSE)"
    p = rc.prefix
    per_rep_cols = [n for n in out.metric_names if n != "ratio"]
    # (metric names are plain identifiers: see MetricName)
    details = ", ".join(
        ["'rep': r.rep", "'metric': r.metric", "'window_start': r.window_start", "'window_end': r.window_end"]
        + ["'windows': r.windows", "'evidence': r.evidence"]
        + [f"'m_{n}': r.{quoted(n)}" for n in per_rep_cols]
    )
    # each rep: their findings merged (worst metric, whole span, evidence in window order)
    per_rep = (
        f"SELECT manager, rep, {worst}(metric) AS metric, MIN(window_start) AS window_start, "
        "MAX(window_end) AS window_end, MAX(windows) AS windows, MAX(threshold) AS threshold, "
        + "".join(f"{worst if n == out.metric_name else 'MAX'}({quoted(n)}) AS {quoted(n)}, " for n in per_rep_cols)
        + "FLATTEN(LIST_TRANSFORM(LIST_SORT(ARRAY_AGG({'t': window_start, 'e': evidence})), x -> x.e)) AS evidence "
        "FROM (:findings) f GROUP BY manager, rep"
    )
    assessed = (
        f"SELECT manager, COUNT(DISTINCT rep) AS team_reps FROM {p}w WHERE sm_covered AND sm_supported GROUP BY manager"
    )
    rolled = (
        "SELECT r.manager, MAX(t.team_reps) AS team_reps, COUNT(*) AS reps_over, "
        f"{worst}(r.metric) AS metric, MIN(r.window_start) AS window_start, MAX(r.window_end) AS window_end, "
        "MAX(r.windows) AS windows, MAX(r.threshold) AS threshold, "
        + (f"{worst}(r.{quoted(out.metric_name)}) AS {quoted(out.metric_name)}, " if out.metric_name != "ratio" else "")
        + f"{alone.replace('metric', 'r.metric')} AS sm_alone, "
        f"LIST_SORT(ARRAY_AGG({{{details}}})) AS reps, "
        "FLATTEN(LIST_TRANSFORM(LIST_SORT(ARRAY_AGG({'r': r.rep, 'e': r.evidence})), x -> x.e)) AS evidence "
        f"FROM ({per_rep}) r JOIN ({assessed}) t ON t.manager = r.manager GROUP BY r.manager"
    )
    breadth = f"(reps_over >= {min_reps} AND reps_over >= {min_share} * team_reps AND team_reps >= {min_team})"
    full = f"(reps_over >= {full_reps} AND reps_over >= {full_share} * team_reps AND team_reps >= {min_team})"
    metric_col = f", {quoted(out.metric_name)}" if out.metric_name != "ratio" else ""
    sql = (
        "SELECT manager, CAST(NULL AS VARCHAR) AS rep, window_start, window_end, windows, "
        "window_start AS peak_start, window_end AS peak_end, 1.0 AS coverage, metric, threshold"
        f"{metric_col}, reps_over, team_reps, CAST(reps_over AS DOUBLE) / team_reps AS team_share, reps, evidence, "
        f"CASE WHEN {full} OR ({breadth} AND sm_alone) THEN 1 ELSE 0 END AS sm_tier "
        f"FROM ({rolled}) z WHERE {breadth} OR sm_alone ORDER BY manager"
    )
    out.findings = parse(sql, {"findings": out.findings})
    out.team = True
    out.rep_metrics = per_rep_cols
    out.metric_names = ([out.metric_name] if out.metric_name != "ratio" else []) + TEAM_METRICS
