"""Trends (issue 9): a metric's change from one calendar month to the next.

One manager's team logs a number of calls each month; the rules judge the
change from month to month. Counts and changes are worked out next to the
events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import engine
from engine.errors import RuleError
from tests.helpers import D, added, ev, findings, one, run_rule, write_events, write_rule

CALLS: dict[str, Any] = {
    "kind": "threshold",
    "where": {"type": "call_logged"},
    "window": {"calendar": "month"},
    "min_events": 10,
    "trend": {"of": "count"},
    "op": "gte",
    "value": 1.5,
}


def team(per_month: dict[str, int], manager: str = "m1", *, joined: str = "2026-01-01") -> list[dict[str, Any]]:
    """``per_month['2026-02'] = n``: n calls by the team's rep that month (one every few hours from the 2nd)."""
    events = [added(f"in-{manager}", joined, manager, f"r-{manager}")]
    for month, count in per_month.items():
        for i in range(count):
            day, hour = 2 + i // 6, 8 + (i % 6)
            events.append(
                ev(f"{manager}-{month}-{i}", f"{month}-{day:02d} {hour:02d}:00", "call_logged", f"r-{manager}",
                   rep=f"r-{manager}")
            )  # fmt: skip
    last = max(per_month)  # the log runs to the end of its last month, so that month is covered
    events.append(ev(f"end-{manager}", f"{last}-28 17:00", "email_sent", f"r-{manager}", rep=f"r-{manager}"))
    return events


def test_a_rise_of_half_fires_over_both_months(tmp_path: Path) -> None:
    found = one(run_rule(tmp_path, team({"2026-01": 20, "2026-02": 30, "2026-03": 29}), CALLS))
    # February over January: 30 / 20 = 1.5; March over February: 29 / 30 does not rise
    assert (found.window_start, found.window_end) == (D("2026-01-02"), D("2026-03-01"))  # from the log's first day
    assert found.metrics["count_before"] == 20 and found.metrics["count"] == 30
    assert found.metrics["count_change"] == 1.5
    assert found.persistence["windows"] == 1


def test_a_steady_team_is_quiet_and_assessed(tmp_path: Path) -> None:
    report = run_rule(tmp_path, team({"2026-01": 20, "2026-02": 24, "2026-03": 29}), CALLS)
    assert findings(report) == []  # 1.2 and 1.21: below 1.5
    reasons = [n.reason for n in report.not_assessed if n.rule == "t/rule"]
    assert reasons == ["1 window(s) with no month before it to compare with, or below the rule's minimum data"]


def test_two_rises_in_a_row_are_one_finding_with_two_windows(tmp_path: Path) -> None:
    found = one(run_rule(tmp_path, team({"2026-01": 12, "2026-02": 18, "2026-03": 30}), CALLS))
    assert (found.window_start, found.window_end) == (D("2026-01-02"), D("2026-03-29"))  # to the log's last day
    assert found.persistence["windows"] == 2
    assert found.metrics["count_change"] == pytest.approx(30 / 18, abs=1e-4)  # the peak window


def test_a_rise_from_too_little_data_is_not_assessed(tmp_path: Path) -> None:
    report = run_rule(tmp_path, team({"2026-01": 6, "2026-02": 30}), CALLS)
    assert findings(report) == []  # January's 6 calls are below min_events: no base to compare with
    assert [n.not_assessed for n in report.not_assessed if n.rule == "t/rule"] == [2]


def test_a_fall_is_judged_with_an_at_most_change(tmp_path: Path) -> None:
    rule = {**CALLS, "op": "lte", "value": 0.5}
    found = one(run_rule(tmp_path, team({"2026-01": 40, "2026-02": 18}), rule))
    assert found.metrics["count_change"] == 0.45


def test_a_difference_instead_of_a_ratio(tmp_path: Path) -> None:
    rule = {**CALLS, "trend": {"of": "count", "change": "difference"}, "op": "gte", "value": 15}
    found = one(run_rule(tmp_path, team({"2026-01": 20, "2026-02": 36}), rule))
    assert found.metrics["count_change"] == 16


def test_months_are_compared_within_a_led_period_only(tmp_path: Path) -> None:
    # m1 leads until February; m2 takes over on 1 March: m2's March is not compared with m1's February
    events = team({"2026-01": 20, "2026-02": 20}) + [
        ev("out", "2026-03-01", "team_member_removed", "hr", manager="m1", rep="r-m1", attrs={"reason": "transferred"}),
        added("in-m2", "2026-03-01", "m2", "r-m1"),
    ]
    events += [e for e in team({"2026-03": 40}) if e["type"] == "call_logged"]
    report = run_rule(tmp_path, events, CALLS)
    assert findings(report) == []
    assert {n.manager for n in report.not_assessed if n.rule == "t/rule"} == {"m1", "m2"}


MSG = "calls rose to {calls_change:.0%} ({calls_before} to {calls}); wins per call {ratio_before} to {ratio}"


def test_also_and_after(tmp_path: Path) -> None:
    rule = {
        "kind": "ratio",
        "where": {"type": ["call_logged", "deal_closed_won"]},
        "numerator": {"name": "wins", "where": {"type": "deal_closed_won"}},
        "denominator": {"name": "calls", "where": {"type": "call_logged"}},
        "min_numerator": 0,
        "min_denominator": 10,
        "window": {"calendar": "month"},
        "trend": {
            "of": "calls",
            "also": [{"of": "ratio", "change": "difference", "op": "lte", "value": 0}],
            "after": {"where": {"type": "activity_mandate_set", "actor": {"same_as": "manager"}}, "within": "30d"},
        },
        "op": "gte",
        "value": 1.5,
    }
    base = team({"2026-01": 20, "2026-02": 30})
    wins = [ev(f"w{i}", f"2026-0{1 + i // 2}-20 12:00", "deal_closed_won", "r-m1", rep="r-m1") for i in range(4)]
    mandate = ev("mandate", "2026-01-25 09:00", "activity_mandate_set", "m1", attrs={"metric": "calls"})
    # calls 20 -> 30 (1.5), wins 2 -> 2: wins per call fell from 0.1 to 0.067, after m1's mandate
    found = one(run_rule(tmp_path / "a", base + wins + [mandate], rule, message=MSG))
    assert found.evidence == ["mandate"]
    assert "calls rose to 150% (20 to 30)" in found.message
    assert found.metrics["ratio_before"] == 0.1 and found.metrics["ratio"] == pytest.approx(0.0667, abs=1e-4)
    # no mandate: the same rise is quiet
    assert findings(run_rule(tmp_path / "b", base + wins, rule, message=MSG)) == []
    # a mandate from someone else is not the manager's
    vp = {**mandate, "actor": "vp-1"}
    assert findings(run_rule(tmp_path / "c", base + wins + [vp], rule, message=MSG)) == []
    # more wins per call: the extra calls bought progress
    more = wins + [ev(f"x{i}", "2026-02-21 12:00", "deal_closed_won", "r-m1", rep="r-m1") for i in range(3)]
    assert findings(run_rule(tmp_path / "d", base + more + [mandate], rule, message=MSG)) == []


def test_the_same_findings_whatever_the_order(tmp_path: Path) -> None:
    events = team({"2026-01": 20, "2026-02": 30})
    first = one(run_rule(tmp_path / "a", events, CALLS))
    second = one(run_rule(tmp_path / "b", list(reversed(events)), CALLS))
    assert first.metrics == second.metrics and first.window_start == second.window_start


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"window": {"sliding": "30d"}}, "'trend' compares consecutive calendar windows"),
        ({"trend": {"of": "calls"}}, "trend.of names 'calls', which is not a metric of this rule"),
        ({"peer": {"measure": "percentile", "value": 0.9}}, "'trend' and 'peer' cannot be combined"),
        ({"group_by": ["manager", "rep"], "trend": {"after": {"where": {"type": "x"}}}}, "group_by [manager]"),
    ],
)
def test_misuse_is_a_rule_error_at_its_place(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    rules = tmp_path / "rules"
    path = write_rule(rules, "t/rule", {**CALLS, **change})
    log = write_events(tmp_path / "events.jsonl", team({"2026-01": 20}))
    with pytest.raises(RuleError) as caught:
        engine.check([str(log)], rules=[str(rules)])
    problem = caught.value.problems[0]
    assert message in problem.message
    assert problem.path == str(path) and problem.line > 0
