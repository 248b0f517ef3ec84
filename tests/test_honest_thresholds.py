"""Honest thresholds (issue 8, points 8 and 9).

A finding shows its threshold as configured and spells out any pro-rating; only
"at least" thresholds are pro-rated, counts to whole numbers; ``rules explain``
prints the whole logic; sliding-window rules say whom they could not judge.
Each test builds its own small log, so every number can be worked out by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import engine
from cli import main
from engine.lang.explain import explain
from engine.lang.loader import load_rules
from engine.report.formats.base import RenderOptions
from engine.report.formats.text import render_text
from tests.helpers import D, added, ev, removed, run_rule, write_events

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
LIBRARY = str(RULES / "_library.yaml")


def shipped(tmp_path: Path, rule_dir: str, events: list[dict[str, Any]]) -> engine.Report:
    """Run the shipped rules of one directory (with the shared library) on a log."""
    log = write_events(tmp_path / "events.jsonl", events)
    return engine.check([str(log)], rules=[str(RULES / rule_dir), LIBRARY])


def of(report: engine.Report, rule: str, manager: str) -> list[Any]:
    return [f for f in report.findings if f.rule == rule and f.manager == manager]


# ---- pro-rating an "at least" threshold: the shipped call-listening rule ----------------------

LISTENING = "call-listening/monthly-minimum"


def _handover_on_the_5th(new_calls: int) -> list[dict[str, Any]]:
    """mgr-1 leads two reps until 5 May, mgr-2 from then: May is covered 27 of 31 days for mgr-2.

    mgr-1 listens to twelve calls in April (the team logs listening well before May);
    mgr-2 listens to ``new_calls`` in the rest of May.
    """
    events = [
        added("j1", "2026-01-01", "mgr-1", "rep-1"),
        added("j2", "2026-01-01", "mgr-1", "rep-2"),
        removed("j3", "2026-05-05", "mgr-1", "rep-1"),
        removed("j4", "2026-05-05", "mgr-1", "rep-2"),
        added("j5", "2026-05-05", "mgr-2", "rep-1"),
        added("j6", "2026-05-05", "mgr-2", "rep-2"),
        ev("open", "2026-04-01 09:00", "email_sent", "rep-1"),
        ev("end", "2026-05-31 17:00", "email_sent", "rep-2"),
    ]
    events += [ev(f"a{d}", f"2026-04-{d:02d} 14:00", "call_listened", "mgr-1", rep="rep-1") for d in range(2, 26, 2)]
    events += [
        ev(
            f"m{i}",
            f"2026-05-{6 + 2 * i:02d} 14:00",
            "call_listened",
            "mgr-2",
            rep="rep-2",
        )
        for i in range(new_calls)
    ]
    return events


def test_partial_month_applies_a_whole_number_from_the_configured_twelve(
    tmp_path: Path,
) -> None:
    report = shipped(tmp_path, "call-listening", _handover_on_the_5th(10))
    (finding,) = of(report, LISTENING, "mgr-2")
    assert (finding.window_start, finding.window_end) == (
        D("2026-05-05"),
        D("2026-06-01"),
    )
    assert finding.metrics["count"] == 10
    # 12 x 27/31 = 10.45, rounded up: 11; the value as configured stays 12
    assert finding.threshold == {
        "metric": "count",
        "op": "<",
        "value": 12,
        "window": "month",
        "applied": 11,
        "prorated": {"covered_days": 27, "period_days": 31},
    }
    assert "(a full month calls for at least 12)" in finding.message
    assert of(report, LISTENING, "mgr-1") == []  # April's twelve meet the bar; May's 4 days are not judged
    assert [(n.manager, n.rule) for n in report.not_assessed if n.rule == LISTENING] == [("mgr-1", LISTENING)]


def test_partial_month_the_rounded_bar_is_met_exactly(tmp_path: Path) -> None:
    # eleven listens: not below 11 (the unrounded bar, 10.45, would say the same for whole counts)
    report = shipped(tmp_path, "call-listening", _handover_on_the_5th(11))
    assert of(report, LISTENING, "mgr-2") == []


def test_full_month_has_no_applied_value(tmp_path: Path) -> None:
    events = [
        added("j1", "2026-01-01", "mgr-1", "rep-1"),
        ev("open", "2026-05-01 09:00", "email_sent", "rep-1"),
        ev("end", "2026-05-31 17:00", "email_sent", "rep-1"),
    ] + [ev(f"l{d}", f"2026-05-{d:02d} 14:00", "call_listened", "mgr-1", rep="rep-1") for d in range(4, 24, 2)]
    (finding,) = of(shipped(tmp_path, "call-listening", events), LISTENING, "mgr-1")
    assert finding.threshold == {
        "metric": "count",
        "op": "<",
        "value": 12,
        "window": "month",
    }


def test_json_report_carries_the_configured_and_applied_values(tmp_path: Path) -> None:
    report = shipped(tmp_path, "call-listening", _handover_on_the_5th(10))
    data = json.loads(report.to_json())
    (threshold,) = [f["threshold"] for f in data["findings"] if f["manager"] == "mgr-2"]
    assert list(threshold) == ["metric", "op", "value", "window", "applied", "prorated"]
    assert (threshold["value"], threshold["applied"], threshold["prorated"]) == (
        12,
        11,
        {"covered_days": 27, "period_days": 31},
    )


# ---- the text report ------------------------------------------------------------------------

UNROUNDED = re.compile(r"\d+\.\d{3,}")


def test_text_spells_out_the_prorating_without_unrounded_numbers(
    tmp_path: Path,
) -> None:
    report = shipped(tmp_path, "call-listening", _handover_on_the_5th(10))
    text = render_text(report, RenderOptions())
    assert "needs at least 12 a month; this month was covered 27 of 31 days, so 11" in text
    assert "10.45" not in text and UNROUNDED.search(text) is None, text
    assert "fires when count <" not in text


def test_text_of_a_full_month_names_the_configured_value_only(tmp_path: Path) -> None:
    events = [
        added("j1", "2026-01-01", "mgr-1", "rep-1"),
        ev("open", "2026-05-01 09:00", "email_sent", "rep-1"),
        ev("end", "2026-05-31 17:00", "email_sent", "rep-1"),
        ev("l1", "2026-05-04 14:00", "call_listened", "mgr-1", rep="rep-1"),
    ]
    text = render_text(shipped(tmp_path, "call-listening", events), RenderOptions())
    assert "count 1  (needs at least 12 a month)" in text


def test_a_prorated_sum_is_shown_with_two_decimals_at_most(tmp_path: Path) -> None:
    # a sum cannot be told to be whole, so its bar is not rounded: 100 x 27/31 = 87.0968 in JSON, 87.1 in text
    events = [
        ev("span-a", "2026-05-01", "forecast_updated", "ops"),
        ev("span-b", "2026-05-31", "forecast_updated", "ops"),
        added("j1", "2026-05-05", "m1", "r1"),
        ev(
            "w1",
            "2026-05-10",
            "deal_closed_won",
            "r1",
            rep="r1",
            deal="D1",
            attrs={"amount": 40},
        ),
    ]
    logic = {
        "kind": "threshold",
        "where": {"type": "deal_closed_won"},
        "metric": {"sum": "attrs.amount"},
        "window": {"calendar": "month"},
        "op": "lt",
        "value": 100,
    }
    report = run_rule(tmp_path, events, logic)
    (finding,) = report.findings
    assert finding.threshold["value"] == 100 and finding.threshold["applied"] == round(100 * 27 / 31, 4)
    text = render_text(report, RenderOptions())
    assert "needs sum_amount of at least 100 a month; this month was covered 27 of 31 days, so 87.1" in text
    assert UNROUNDED.search(text) is None, text


# ---- "too many" thresholds are never lowered --------------------------------------------------

PUSHES = "turnaround-promoter/manager-pushes-dates"


def _pushes_after_a_promotion(count: int) -> list[dict[str, Any]]:
    """mgr-2 takes the team over on 10 Feb (50 of Q1's 90 days) and pushes ``count`` reps' close dates."""
    events = [
        added("j1", "2026-01-01", "mgr-1", "rep-1"),
        removed("j2", "2026-02-10", "mgr-1", "rep-1"),
        added("j3", "2026-02-10", "mgr-2", "rep-1"),
        ev(
            "start",
            "2026-01-02 09:00",
            "deal_created",
            "rep-1",
            rep="rep-1",
            deal="d-1",
            attrs={"amount": 1000},
        ),
        ev("end", "2026-03-31 17:00", "email_sent", "rep-1"),
    ]
    events += [
        ev(
            f"p{i}",
            f"2026-03-{2 + 5 * i:02d} 16:00",
            "close_date_pushed",
            "mgr-2",
            rep="rep-1",
            deal="d-1",
        )
        for i in range(count)
    ]
    return events


def test_too_many_rule_is_not_prorated_on_a_partial_quarter(tmp_path: Path) -> None:
    # 3 pushes in 50 days: pro-rated, the bar would have been 4 x 50/90 = 2.2 and this would fire
    assert (
        of(
            shipped(tmp_path, "turnaround-promoter", _pushes_after_a_promotion(3)),
            PUSHES,
            "mgr-2",
        )
        == []
    )


def test_too_many_rule_on_a_partial_quarter_fires_at_the_full_value(
    tmp_path: Path,
) -> None:
    report = shipped(tmp_path, "turnaround-promoter", _pushes_after_a_promotion(4))
    (finding,) = of(report, PUSHES, "mgr-2")
    assert finding.threshold == {
        "metric": "count",
        "op": ">=",
        "value": 4,
        "window": "quarter",
    }
    assert "fires when count >= 4, quarter window" in render_text(report, RenderOptions())


def test_too_many_custom_rule_keeps_its_value_even_with_prorate_true(
    tmp_path: Path,
) -> None:
    events = [
        ev("span-a", "2026-05-01", "forecast_updated", "ops"),
        ev("span-b", "2026-05-31", "forecast_updated", "ops"),
        added("j1", "2026-05-05", "m1", "r1"),
        *[ev(f"c{i}", f"2026-05-{10 + i:02d}", "coaching_session", "m1", rep="r1") for i in range(3)],
    ]
    logic = {
        "kind": "threshold",
        "where": {"type": "coaching_session"},
        "window": {"calendar": "month", "prorate": True},
        "op": "gte",
        "value": 4,
    }
    # pro-rated, 4 x 27/31 = 3.5 would have been met by three sessions
    assert run_rule(tmp_path, events, logic).findings == []


# ---- window minimums as parameters ------------------------------------------------------------


def test_min_coverage_takes_a_parameter(tmp_path: Path) -> None:
    events = [
        ev("span-a", "2026-05-01", "forecast_updated", "ops"),
        ev("span-b", "2026-05-31", "forecast_updated", "ops"),
        added("j1", "2026-05-20", "m1", "r1"),  # 12 of 31 days: 0.39
        ev("l1", "2026-05-22 10:00", "call_listened", "m1", rep="r1"),
    ]
    logic = {
        "kind": "threshold",
        "where": {"type": "call_listened"},
        "window": {"calendar": "month", "min_coverage": "$cover"},
        "op": "lt",
        "value": 5,  # 5 x 12/31 = 1.9, rounded up: 2; one listen falls short
    }
    params = {
        "cover": {
            "type": "float",
            "default": 0.3,
            "min": 0,
            "max": 1,
            "doc": "Share of the month led.",
        }
    }
    (finding,) = run_rule(tmp_path, events, logic, params=params).findings
    assert finding.threshold["applied"] == 2
    assert finding.threshold["prorated"] == {"covered_days": 12, "period_days": 31}
    quiet = run_rule(
        tmp_path / "b",
        events,
        logic,
        params={"cover": {**params["cover"], "default": 0.5}},
    )
    assert quiet.findings == [] and [n.manager for n in quiet.not_assessed] == ["m1"]


def test_shipped_rules_have_no_literal_minimums() -> None:
    ruleset = load_rules([str(RULES)])
    for loaded in ruleset.rules:
        logic = loaded.doc.data["logic"]
        window = logic.get("window")
        written = {k: v for k, v in logic.items() if k.startswith("min_") or k == "first_min"}
        if isinstance(window, dict):
            written.update({k: v for k, v in window.items() if k.startswith("min_")})
        literal = {k: v for k, v in written.items() if not (isinstance(v, str) and v.startswith("$"))}
        assert literal == {}, f"{loaded.rule.id}: make {sorted(literal)} a documented parameter"


# ---- rules explain ------------------------------------------------------------------------------


def explained(rule_id: str) -> str:
    result = CliRunner().invoke(main, ["rules", "explain", rule_id], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_explain_call_listening_prints_the_whole_logic() -> None:
    out = explained(LISTENING)
    assert "How it decides" in out and "  kind: threshold" in out
    assert "[by_manager: actor is the same as manager]" in out  # the macro named and expanded
    assert "whose actions count: the manager's own (actor is the manager)" in out
    assert "window: calendar months" in out
    assert "min_coverage: $min_coverage (default 0.75)" in out
    assert "prorating: the value scales with the share of the month covered" in out
    assert "fires when: count < $min_calls (default 12)" in out
    assert "min_coverage (float, default 0.75, min 0, max 1):" in out


def test_explain_ratio_names_each_part_and_its_minimums() -> None:
    out = explained("glory-grabber/closing-share")
    assert "kind: ratio" in out
    assert "whose actions count: manager_closed: the manager's own (actor is the manager);" in out
    assert "team_won: anyone's (no actor filter)" in out
    assert "unless: a qualifying event does not count when an event where [own_deal_opened:" in out
    assert "min_numerator: $min_manager_wins (default 3)" in out
    assert "min_denominator: $min_team_wins (default 8)" in out
    assert "prorating: none" in out
    assert "window: calendar quarters" in out and "min_coverage: $min_coverage (default 0.5)" in out


def test_explain_sequence_prints_its_steps_and_sliding_window() -> None:
    out = explained("knee-jerk-reactionary/strategy-churn")
    assert "kind: sequence" in out
    assert "first step: type is strategy_changed; actor is the same as manager" in out
    assert "whose second steps: the manager's own (actor is the manager)" in out
    assert "within: $bed_down (default 30d) from the first step to the second" in out
    assert "window: sliding $window (default 90d)" in out
    assert "fires when: count >= $min_churn (default 2)" in out
    assert "first_min: 1" in out


def test_explain_absence_and_lists() -> None:
    out = explained("detached-dictator/rep-without-contact")
    assert "kind: absence" in out and "group by: manager, rep" in out
    assert "a gap without a qualifying event lasts at least $max_gap (default 35d)" in out
    out = explained("platitude-peddler/empty-messages")
    assert "derived courtesy: lexicon of attrs.text against @courtesy_words (thanks, thank," in out
    assert "min_denominator: $min_messages (default 1)" in out


def test_explain_prints_the_data_coverage_setting(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules" / "t"
    rules_dir.mkdir(parents=True)
    (rules_dir / "rule.yaml").write_text(
        "id: t/rule\ntrait: t\ntitle: T\nseverity: low\n"
        "logic: {kind: match, where: {type: kpi_set}, coverage: 'off'}\n"
        "message: m\nadvice: a\ndocs: {why: w, instead: i, false_positives: f}\n",
        encoding="utf-8",
    )
    ruleset = load_rules([str(tmp_path / "rules")])
    loaded = ruleset.get("t/rule")
    assert loaded is not None
    out = explain(loaded.rule, ruleset.macros, ruleset.lists)
    assert "  data coverage: off" in out
    assert "fires when: count >= 1 (min_events)" in out
    assert "whose actions count: anyone's (no actor filter)" in out


# ---- sliding windows: not-assessed entries ----------------------------------------------------

CHURN = "knee-jerk-reactionary/strategy-churn"


def _churn_log() -> list[dict[str, Any]]:
    """A half-year log: mgr-1 leads rep-1 throughout, mgr-2 leads rep-2 for ten days in March."""
    return [
        added("j1", "2026-01-01", "mgr-1", "rep-1"),
        added("j2", "2026-03-01", "mgr-2", "rep-2"),
        removed("j3", "2026-03-11", "mgr-2", "rep-2"),
        ev("open", "2026-01-01 09:00", "email_sent", "rep-1"),
        ev(
            "s1",
            "2026-02-02 09:00",
            "strategy_changed",
            "mgr-1",
            attrs={"area": "process"},
        ),
        ev(
            "s2",
            "2026-03-05 09:00",
            "strategy_changed",
            "mgr-2",
            attrs={"area": "territory"},
        ),
        ev("end", "2026-06-30 17:00", "email_sent", "rep-1"),
    ]


def test_ten_day_tenure_under_a_ninety_day_sliding_rule_is_not_assessed(
    tmp_path: Path,
) -> None:
    report = shipped(tmp_path, "knee-jerk-reactionary", _churn_log())
    assert report.findings == []
    entries = [n for n in report.not_assessed if n.rule == CHURN]
    assert [(n.manager, n.windows, n.not_assessed) for n in entries] == [("mgr-2", 1, 1)]
    assert entries[0].reason == (
        "1 led period of 10 days in the log, shorter than the 90-day window and with no finding"
    )
    text = render_text(report, RenderOptions(verbose=True))
    assert "mgr-2  knee-jerk-reactionary/strategy-churn: 1 of 1 window(s); 1 led period of 10 days" in text


def test_short_tenure_with_a_finding_is_judged(tmp_path: Path) -> None:
    # mgr-2 changes strategy three times in the ten days: the finding stands, so nothing is "not assessed"
    events = _churn_log() + [
        ev(
            "s3",
            "2026-03-06 09:00",
            "strategy_changed",
            "mgr-2",
            attrs={"area": "messaging"},
        ),
        ev(
            "s4",
            "2026-03-08 09:00",
            "strategy_changed",
            "mgr-2",
            attrs={"area": "priorities"},
        ),
    ]
    report = shipped(tmp_path, "knee-jerk-reactionary", events)
    assert [f.manager for f in report.findings if f.rule == CHURN] == ["mgr-2"]
    assert [n for n in report.not_assessed if n.rule == CHURN] == []


def test_several_short_periods_give_their_range_of_days(tmp_path: Path) -> None:
    events = _churn_log() + [
        added("j4", "2026-05-01", "mgr-2", "rep-3"),
        removed("j5", "2026-05-21", "mgr-2", "rep-3"),
    ]
    report = shipped(tmp_path, "knee-jerk-reactionary", events)
    (entry,) = [n for n in report.not_assessed if n.rule == CHURN]
    assert (entry.manager, entry.windows, entry.not_assessed) == ("mgr-2", 2, 2)
    assert entry.reason.startswith("2 led periods of 10 to 20 days in the log, each shorter than the 90-day window")


def test_sliding_window_below_the_minimum_data_is_unsupported(tmp_path: Path) -> None:
    events = [
        ev("span-a", "2026-01-01", "forecast_updated", "ops"),
        ev("span-b", "2026-06-30", "forecast_updated", "ops"),
        added("j1", "2026-01-01", "m1", "r1"),
        ev("c1", "2026-02-01 10:00", "call_logged", "r1", rep="r1"),
    ]
    logic = {
        "kind": "threshold",
        "where": {"type": "call_logged"},
        "window": {"sliding": "30d"},
        "op": "gte",
        "value": 5,
        "min_events": 2,
    }
    report = run_rule(tmp_path, events, logic)
    assert report.findings == []
    assert [(n.manager, n.windows, n.not_assessed, n.reason) for n in report.not_assessed] == [
        ("m1", 1, 1, "1 led period(s) below the rule's minimum data")
    ]
