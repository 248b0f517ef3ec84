"""Peer-relative thresholds: a manager judged against the other managers of the same run.

With ``peer:`` a window fires only when the rule's own threshold is crossed
*and* the manager stands out among peers: the managers whose window for the
same calendar period (or, for whole windows, whose led period) was assessed.
Three measures, compared with the rule's direction (``gte``/``gt``: high is
bad; ``lt``/``lte``: low is bad):

- ``percentile``: the share of peers strictly below the manager (above, for
  "at least" rules): PERCENT_RANK, so a value most peers share is never "top";
- ``median_multiple``: the metric over the peers' median;
- ``zscore``: distance from the peers' mean in standard deviations.

With ``by: attrs.<field>`` the peers are the managers of the same group: each
manager's group is the value most of their qualifying events carry (a sales
motion, a region), so field sales is compared with field sales. Fewer than
``min_peers`` peers: the window is not assessed (below the minimum
data). With ``among: any`` every manager whose window has the metric at all is
a peer, also below the rule's own minimum data: where most managers have too
few events to be judged one by one (two or three forecast misses a quarter),
together they still show what the org's norm is. The finding carries ``peers``, ``peer_median`` and ``peer_percentile``,
so it can say "top 5% of 44 managers; org median 0.31". A market shock that
moves the whole org moves the median with it, and no one stands out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from engine.lang.parts import Peer
from engine.lang.sqlplan import parse

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule

PEER_METRICS = ["peers", "peer_median", "peer_percentile"]
PEER_GROUP_VALUE = "x_pg"  # the qualifying rows' value of ``peer.by`` (engine.lang.compiler.scoped)


def peer_layer(rc: RuleCompiler, out: CompiledRule, spec: Peer, scored: exp.Expr) -> tuple[exp.Expr, str, str]:
    """The scored windows with the peer columns added; and the SQL of "enough peers" and of the peer test.

    ``scored`` holds ``sm_metric``, ``sm_covered`` and ``sm_base_supported`` (the
    rule's own minimum data); peers are the windows meeting both, per period.
    """
    loc = ("logic", "peer")
    value = rc.number(spec.value, loc + ("value",))
    min_peers = int(rc.number(spec.min_peers, loc + ("min_peers",), integer=True))
    if min_peers < 2:
        rc.report(loc + ("min_peers",), "min_peers must be at least 2: one manager has no peers")
    high_is_bad = out.op not in ("lt", "lte")
    period = f"date_trunc('{out.window.unit}', w_start)" if out.window.mode == "calendar" else "1"
    eligible = "sm_covered AND sm_metric IS NOT NULL" + (" AND sm_base_supported" if spec.among == "assessed" else "")
    order = "sm_metric" if high_is_bad else "sm_metric DESC"
    group, joined = "''", ""
    if spec.by is not None:  # peers within a group: each manager's most frequent value of the field
        out.stages.append((f"{rc.prefix}pg", parse(_GROUPS.format(q=f"{rc.prefix}q", v=PEER_GROUP_VALUE))))
        group, joined = "COALESCE(g.peer_group, '')", f" LEFT JOIN {rc.prefix}pg g ON g.manager = w.manager"
        out.peer_group = True
    ranked = (
        f"SELECT w.*, {period} AS sm_period, {group} AS sm_pgroup, CASE WHEN {eligible} THEN 1 ELSE 0 END AS sm_peer "
        f"FROM (:w) w{joined}"
    )
    stats = (
        "SELECT sm_period, sm_pgroup, COUNT(*) AS peers, MEDIAN(sm_metric) AS peer_median, AVG(sm_metric) AS sm_mean, "
        f"STDDEV_POP(sm_metric) AS sm_sd FROM ({ranked}) r WHERE sm_peer = 1 GROUP BY sm_period, sm_pgroup"
    )
    positioned = (
        "SELECT r.*, s.peers, s.peer_median, s.sm_mean, s.sm_sd, CASE WHEN r.sm_peer = 1 THEN "
        f"PERCENT_RANK() OVER (PARTITION BY r.sm_period, r.sm_pgroup, r.sm_peer ORDER BY r.{order}) END "
        f"AS peer_percentile FROM ({ranked}) r LEFT JOIN ({stats}) s ON s.sm_period = r.sm_period "
        "AND s.sm_pgroup = r.sm_pgroup"
    )
    sign = "" if high_is_bad else "-"
    test = {
        "percentile": f"peer_percentile >= {value}",
        "median_multiple": (
            f"sm_metric >= {value} * peer_median" if high_is_bad else f"sm_metric * {value} <= peer_median"
        ),
        "zscore": f"sm_sd > 0 AND {sign}(sm_metric - sm_mean) / sm_sd >= {value}",
    }[spec.measure]
    out.peer = spec.measure
    return parse(positioned, {"w": scored}), f"COALESCE(peers, 0) >= {min_peers}", f"COALESCE({test}, FALSE)"


# a manager's peer group: the value most of their qualifying rows carry (ties: the smallest)
_GROUPS = (
    "SELECT manager, v AS peer_group FROM (SELECT manager, {v} AS v, ROW_NUMBER() OVER "
    "(PARTITION BY manager ORDER BY COUNT(*) DESC, {v}) AS sm_rank FROM {q} WHERE {v} IS NOT NULL "
    "GROUP BY manager, {v}) x WHERE sm_rank = 1"
)


def peer_findings(out: CompiledRule) -> None:
    """Add the peer columns to a peer-relative rule's findings (its islands carry them)."""
    if out.peer is None or out.findings is None:
        return
    assert isinstance(out.findings, exp.Select)
    names = PEER_METRICS + (["peer_group"] if out.peer_group else [])
    columns = [f"r.{name}" for name in PEER_METRICS] + (["r.sm_pgroup AS peer_group"] if out.peer_group else [])
    out.findings = out.findings.select(*columns, append=True)
    out.metric_names = out.metric_names + names
