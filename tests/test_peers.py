"""Peer-relative thresholds (issue 9): a manager judged against the other managers of the run.

Six managers each explain forecast misses; the rule fires on an external-blame
share of at least 0.5 (its own line) and, with ``peer``, only when the manager
also stands out. Shares are worked out next to the events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import engine
from tests.helpers import ev, findings, one, run_rule

RULE: dict[str, Any] = {
    "kind": "ratio",
    "where": {"type": "forecast_miss_explained"},
    "numerator": {"name": "external", "where": {"attrs.cause_category": {"in": ["market", "pricing"]}}},
    "denominator": {"name": "explained", "where": {}},
    "op": "gte",
    "value": 0.5,
    "min_denominator": 4,
}


def org(external: dict[str, int], total: int = 4) -> list[dict[str, Any]]:
    """Each manager explains ``total`` misses, ``external[m]`` of them by outside causes."""
    events = [ev("start", "2026-01-01 08:00", "email_sent", "ops"), ev("end", "2026-03-31 17:00", "email_sent", "ops")]
    for manager, outside in external.items():
        for i in range(total):
            cause = "market" if i < outside else "execution"
            events.append(
                ev(
                    f"{manager}-x{i}",
                    f"2026-02-{2 + i:02d} 10:00",
                    "forecast_miss_explained",
                    manager,
                    manager=manager,
                    attrs={"period": "2026-01", "cause_category": cause},
                )
            )
    return events


NORMAL = {"m1": 4, "m2": 1, "m3": 1, "m4": 1, "m5": 0, "m6": 1}  # m1 4/4 = 1.0; median 0.25; z 2.1
SHOCK = {"m1": 4, "m2": 4, "m3": 3, "m4": 4, "m5": 3, "m6": 4}  # a market-shock quarter: median 1.0


def test_without_peers_an_org_wide_shock_flags_almost_everyone(tmp_path: Path) -> None:
    assert len(findings(run_rule(tmp_path, org(SHOCK), RULE, message="{ratio}"))) == 6


@pytest.mark.parametrize(
    "peer",
    [
        {"measure": "median_multiple", "value": 1.5, "min_peers": 5},
        {"measure": "percentile", "value": 0.8, "min_peers": 5},
        {"measure": "zscore", "value": 1.5, "min_peers": 5},
    ],
)
def test_a_manager_who_stands_out_is_flagged_and_a_shock_flags_no_one(tmp_path: Path, peer: dict[str, Any]) -> None:
    rule = {**RULE, "peer": peer}
    found = one(run_rule(tmp_path / "normal", org(NORMAL), rule, message="{ratio}"))
    assert found.manager == "m1"
    assert found.metrics["peers"] == 6 and found.metrics["peer_median"] == 0.25
    assert found.metrics["peer_percentile"] == 1
    # in the shock quarter m1 blames outside causes as much as everyone: no one stands out
    assert findings(run_rule(tmp_path / "shock", org(SHOCK), rule, message="{ratio}")) == []


def test_too_few_peers_is_not_assessed(tmp_path: Path) -> None:
    rule = {**RULE, "peer": {"measure": "median_multiple", "value": 1.5, "min_peers": 8}}
    report = run_rule(tmp_path, org(NORMAL), rule, message="{ratio}")
    assert findings(report) == []
    reasons = {n.manager: n.reason for n in report.not_assessed if n.rule == "t/rule"}
    assert set(reasons) == set(NORMAL) and all("minimum data" in r for r in reasons.values())


def test_peer_needs_a_common_period(tmp_path: Path) -> None:
    rule = {**RULE, "window": {"sliding": "30d"}, "peer": {"measure": "zscore", "value": 2}}
    with pytest.raises(engine.RuleError) as caught:
        run_rule(tmp_path, org(NORMAL), rule, message="{ratio}")
    assert "sliding window has no common period" in caught.value.problems[0].message


def test_among_any_counts_managers_below_the_minimum_as_peers(tmp_path: Path) -> None:
    # m1 explains 4 misses, all external; the others explain 2 each, too few to judge (min_denominator 4)
    events = org({"m1": 4}) + [e for e in org({m: 0 for m in ("m2", "m3", "m4", "m5", "m6")}, total=2)
                              if e["type"] == "forecast_miss_explained"]  # fmt: skip
    assessed_only = {**RULE, "peer": {"measure": "median_multiple", "value": 1.5, "min_peers": 5}}
    report = run_rule(tmp_path / "assessed", events, assessed_only, message="{ratio}")
    assert findings(report) == []  # only m1 is assessed: one manager has no peers
    assert any(n.manager == "m1" and "minimum data" in n.reason for n in report.not_assessed)
    any_peer = {**RULE, "peer": {**assessed_only["peer"], "among": "any"}}
    found = one(run_rule(tmp_path / "any", events, any_peer, message="{ratio}"))
    assert found.manager == "m1" and found.metrics["peers"] == 6 and found.metrics["peer_median"] == 0
    # the same org in a shock: everyone's two misses are the market's, so m1 does not stand out
    shock = org({"m1": 4}) + [e for e in org({m: 2 for m in ("m2", "m3", "m4", "m5", "m6")}, total=2)
                             if e["type"] == "forecast_miss_explained"]  # fmt: skip
    assert findings(run_rule(tmp_path / "shock", shock, any_peer, message="{ratio}")) == []


def segmented(external: dict[str, tuple[str, int]], total: int = 4) -> list[dict[str, Any]]:
    """Like org(), each manager's explanations tagged with their sales motion (attrs.segment)."""
    events = org({m: outside for m, (_, outside) in external.items()}, total)
    for event in events:
        if event["type"] == "forecast_miss_explained":
            event["attrs"]["segment"] = external[event["actor"]][0]
    return events


def test_peers_within_a_group_compare_like_with_like(tmp_path: Path) -> None:
    # enterprise deals slip for outside reasons more often: its managers sit at 3 of 4, the smb ones at 1 of 4
    motions = {m: ("enterprise", 3) for m in ("m1", "m2", "m3")} | {m: ("smb", 1) for m in ("m4", "m5", "m6")}
    whole_org = {**RULE, "peer": {"measure": "median_multiple", "value": 1.3, "min_peers": 3}}
    by_motion = {**RULE, "peer": {**whole_org["peer"], "by": "attrs.segment"}}
    # against the whole org (median 0.5) every enterprise manager looks like an excuse maker ...
    assert {
        f.manager for f in findings(run_rule(tmp_path / "org", segmented(motions), whole_org, message="{ratio}"))
    } == {
        "m1",
        "m2",
        "m3",
    }
    # ... against their own motion no one stands out
    assert findings(run_rule(tmp_path / "motion", segmented(motions), by_motion, message="{ratio}")) == []
    # and an enterprise manager who blames outside causes for everything still does
    motions["m1"] = ("enterprise", 4)
    found = one(run_rule(tmp_path / "m1", segmented(motions), by_motion, message="{ratio} {peer_group}"))
    assert found.manager == "m1" and found.metrics["peer_group"] == "enterprise"
    assert found.metrics["peers"] == 3 and found.metrics["peer_median"] == 0.75
