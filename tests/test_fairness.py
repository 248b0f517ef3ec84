"""The fairness constructs of issue 8, each with a case that fires and a look-alike that must not.

- ``team:`` (k of n reps): one finding about the manager, breadth and severity;
- absences: ``person_absent`` and a rep's stretch with no events at all, left out of gaps;
- data coverage: a log without the events a rule needs, a team whose logging starts late;
- ``merge:``: events of one decision counted once;
- ``away_within`` and ``min_team``;
- severity earned: a finding on one rep or one window is never the rule's top severity.

Every log is built here; the expected numbers are worked out next to the events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import engine
from engine.report.redact import redact
from tests.helpers import added, ev, findings, one
from tests.helpers import run_rule as _run_rule

START = "2026-01-05 09:00"
END = "2026-03-31 17:00"
GAP = {"kind": "absence", "group_by": ["manager", "rep"], "where": {"type": "one_on_one_held"}, "max_gap": "35d"}
TEAM = {**GAP, "team": {"min_reps": 2, "min_share": 0.25, "alone": 70, "full": {"min_reps": 3, "min_share": 0.5}}}


def weekly(rep: str, first: str = "2026-01-06", weeks: int = 12, manager: str = "m1") -> list[dict[str, Any]]:
    """A one-on-one with ``rep`` every week from ``first`` (10:00)."""
    from datetime import date, timedelta

    day = date.fromisoformat(first)
    return [
        ev(f"{rep}-oo-{i}", f"{day + timedelta(days=7 * i)} 10:00", "one_on_one_held", manager, rep=rep)
        for i in range(weeks)
    ]


def selling(rep: str, manager: str = "m1", every_days: int = 3) -> list[dict[str, Any]]:
    """A rep's own calls every few days over the whole log (so no stretch reads as leave)."""
    from datetime import date, timedelta

    day, out = date(2026, 1, 5), []
    while day <= date(2026, 3, 31):
        out.append(ev(f"{rep}-call-{day}", f"{day} 15:00", "call_logged", rep, rep=rep, manager=manager))
        day += timedelta(days=every_days)
    return out


def team_log(reps: int, neglected: dict[str, list[str]], manager: str = "m1") -> list[dict[str, Any]]:
    """``reps`` reps with weekly one-on-ones, except the neglected ones, who get one on each listed day."""
    events = [ev("start", START, "email_sent", "r1", rep="r1"), ev("end", END, "email_sent", "r1", rep="r1")]
    for index in range(1, reps + 1):
        rep = f"r{index}"
        events.append(added(f"in-{rep}", "2026-01-01", manager, rep))
        events += selling(rep, manager)
        if rep in neglected:
            events += [
                ev(f"{rep}-oo-{day}", f"{day} 10:00", "one_on_one_held", manager, rep=rep) for day in neglected[rep]
            ]
        else:
            events += weekly(rep, manager=manager)
    return events


def run_rule(tmp_path: Path, events: list[dict[str, Any]], logic: dict[str, Any], **kw: Any) -> engine.Report:
    kw.setdefault("message", "{metric}")
    return _run_rule(tmp_path, events, logic, **kw)


# -- team: k of n ----------------------------------------------------------------------------------


def test_team_one_rep_with_one_long_gap_is_not_a_finding(tmp_path: Path) -> None:
    # r2: 2026-01-06 -> 2026-02-20 = 45 days (> 35, < 70); 1 of 4 reps, under min_reps 2
    report = run_rule(tmp_path, team_log(4, {"r2": ["2026-01-06", "2026-02-20", "2026-02-27", "2026-03-06"]}), TEAM)
    assert findings(report) == []


def test_team_two_reps_make_one_finding_about_the_manager(tmp_path: Path) -> None:
    # r2 and r3 each 45 days without contact: 2 of 4 reps (50 %), one manager finding listing both
    gap = ["2026-01-06", "2026-02-20", "2026-02-27", "2026-03-06", "2026-03-13", "2026-03-20", "2026-03-27"]
    report = run_rule(tmp_path, team_log(4, {"r2": gap, "r3": gap}), TEAM, severity="high", message="{reps}")
    found = one(report)
    assert found.rep is None
    assert found.metrics["reps_over"] == 2 and found.metrics["team_reps"] == 4
    assert found.metrics["team_share"] == 0.5 and found.metrics["longest_gap_days"] == 45
    assert [r["rep"] for r in found.reps] == ["r2", "r3"]
    assert {"r2-oo-2026-01-06", "r2-oo-2026-02-20", "r3-oo-2026-01-06", "r3-oo-2026-02-20"} <= set(found.evidence)
    # two of four is breadth but not the full breadth (3 reps and half the team): one level lower
    assert found.severity == "medium"
    assert any("severity lowered from high to medium" in note for note in found.notes)
    assert found.message == "r2 (45), r3 (45)"


def test_team_full_breadth_keeps_the_rules_severity(tmp_path: Path) -> None:
    gap = ["2026-01-06", "2026-02-20", "2026-02-27", "2026-03-06", "2026-03-13", "2026-03-20", "2026-03-27"]
    report = run_rule(tmp_path, team_log(5, {"r1": gap, "r2": gap, "r3": gap}), TEAM, severity="high")
    found = one(report)
    assert (found.metrics["reps_over"], found.metrics["team_reps"], found.severity) == (3, 5, "high")
    assert found.notes == []


def test_team_one_rep_past_alone_fires_one_level_lower(tmp_path: Path) -> None:
    # r2: last contact 2026-01-06 10:00 -> 2026-04-01 = 84.6 days > 70: reported alone, as medium
    report = run_rule(tmp_path, team_log(4, {"r2": ["2026-01-06"]}), TEAM, severity="high")
    found = one(report)
    assert found.metrics["reps_over"] == 1 and found.severity == "medium"
    assert found.metrics["longest_gap_days"] > 70


def test_team_redaction_covers_the_reps_listed(tmp_path: Path) -> None:
    gap = ["2026-01-06", "2026-02-20", "2026-02-27", "2026-03-06", "2026-03-13", "2026-03-20", "2026-03-27"]
    report = run_rule(tmp_path, team_log(4, {"r2": gap, "r3": gap}), TEAM, message="{reps}")
    hidden = redact(report)
    text = hidden.to_json()
    assert '"r2"' not in text and '"r3"' not in text and "r2 (" not in text


# -- absences --------------------------------------------------------------------------------------


def test_recorded_leave_is_left_out_of_the_gap(tmp_path: Path) -> None:
    # r2 away 2026-01-12..2026-02-20 (40 days, recorded); contacts 01-06 and 02-23: gap 48 days, 40 away
    gap = ["2026-01-06", "2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"]
    events = team_log(2, {"r2": gap})
    events.append(
        ev("leave", "2026-01-10 08:00", "person_absent", "r2", attrs={"from": "2026-01-12", "to": "2026-02-20"})
    )
    assert findings(run_rule(tmp_path, events, {**GAP, "team": {"min_reps": 1, "min_share": 0}})) == []
    # without the record the same gap is a finding (r2's calls go on, so nothing is inferred)
    events.pop()
    found = one(run_rule(tmp_path / "b", events, {**GAP, "team": {"min_reps": 1, "min_share": 0}}))
    assert found.reps[0]["metrics"]["away_days"] == 0


def test_a_stretch_without_any_event_of_the_rep_counts_as_leave(tmp_path: Path) -> None:
    # r2 has no event at all from 01-07 to 02-22 (unrecorded leave of 46 days): not neglect
    events = [e for e in team_log(2, {"r2": ["2026-01-06", "2026-02-23", "2026-03-02", "2026-03-09"]})]
    events = [e for e in events if not (e.get("rep") == "r2" and "2026-01-07" <= e["ts"][:10] <= "2026-02-22")]
    assert findings(run_rule(tmp_path, events, {**GAP, "team": {"min_reps": 1, "min_share": 0}})) == []


# -- data coverage ---------------------------------------------------------------------------------

LISTEN = {
    "kind": "threshold",
    "where": {"type": "call_listened"},
    "window": {"calendar": "month"},
    "op": "lt",
    "value": 2,
}


def test_a_log_without_any_event_a_rule_needs_is_not_assessed_once(tmp_path: Path) -> None:
    report = run_rule(tmp_path, team_log(2, {}), LISTEN)
    assert findings(report) == []
    rule_wide = [n for n in report.not_assessed if n.rule == "t/rule"]
    assert len(rule_wide) == 1 and rule_wide[0].manager is None and "call_listened" in rule_wide[0].reason
    assert sum("t/rule" in w and "not assessed" in w for w in report.warnings) == 1


def test_a_team_whose_logging_starts_late_is_judged_from_then(tmp_path: Path) -> None:
    # m1 listens twice a week, but its team's listening is logged only from 2026-03-02; m2's from the start
    events = team_log(2, {}) + [added("in-x1", "2026-01-01", "m2", "x1")] + selling("x1", "m2")
    events += weekly("x1", manager="m2")
    for week in range(12):
        for day, suffix in ((0, "a"), (2, "b")):
            when = f"2026-01-{5 + day:02d}" if week == 0 else None
            from datetime import date, timedelta

            d = date(2026, 1, 5) + timedelta(days=7 * week + day)
            events.append(ev(f"m2-l-{week}{suffix}", f"{d} 11:00", "call_listened", "m2", rep="x1"))
            if d >= date(2026, 3, 2):
                events.append(ev(f"m1-l-{week}{suffix}", f"{d} 11:00", "call_listened", "m1", rep="r1"))
            del when
    report = run_rule(tmp_path, events, LISTEN)
    assert findings(report) == []  # January and February are not judged for m1: nothing was logged
    reasons = [n.reason for n in report.not_assessed if n.rule == "t/rule" and n.manager == "m1"]
    assert reasons and "before 2026-03-02" in reasons[0] and "listened-call" in reasons[0]


# -- one decision counts once ----------------------------------------------------------------------

CHURN = {
    "kind": "threshold",
    "where": {"type": "strategy_changed"},
    "window": {"sliding": "30d"},
    "op": "gte",
    "value": 3,
}


def test_a_reorganisation_logged_area_by_area_is_one_decision(tmp_path: Path) -> None:
    areas = ["target_market", "messaging", "territory", "process"]
    events = team_log(1, {}) + [
        ev(f"s{i}", f"2026-02-10 {9 + i:02d}:00", "strategy_changed", "m1", attrs={"area": a})
        for i, a in enumerate(areas)
    ]
    merged = {**CHURN, "merge": {"same": ["actor"], "within": "4h"}}
    assert findings(run_rule(tmp_path, events, merged)) == []
    assert len(findings(run_rule(tmp_path / "plain", events, CHURN))) == 1
    # three changes on three different days are three decisions
    spread = team_log(1, {}) + [
        ev(f"s{i}", f"2026-02-{10 + 3 * i} 09:00", "strategy_changed", "m1", attrs={"area": a})
        for i, a in enumerate(areas[:3])
    ]
    found = one(run_rule(tmp_path / "spread", spread, merged))
    assert found.metrics["count"] == 3
    assert any("counted as one decision" in note for note in found.notes)


# -- min_team and away_within ----------------------------------------------------------------------


def test_min_team_leaves_small_teams_unjudged_with_the_reason(tmp_path: Path) -> None:
    rule = {"kind": "threshold", "where": {"type": "one_on_one_held"}, "op": "gte", "value": 1, "min_team": 3}
    report = run_rule(tmp_path, team_log(2, {}), rule)
    assert findings(report) == []
    reasons = [n.reason for n in report.not_assessed if n.rule == "t/rule"]
    assert reasons == ["a team of 2 rep(s), under the 3 this rule needs to compare fairly; that time is not assessed"]
    assert len(findings(run_rule(tmp_path / "three", team_log(3, {}), rule))) == 1


def test_away_within_leaves_out_results_that_follow_a_leave(tmp_path: Path) -> None:
    events = team_log(1, {}) + [
        ev("q1", "2026-02-02 09:00", "quota_result", "ops", rep="r1", attrs={"period": "2026-01", "attainment": 0.2}),
        ev("leave", "2026-01-01 08:00", "person_absent", "r1", attrs={"from": "2026-01-12", "to": "2026-01-30"}),
    ]
    rule = {"kind": "match", "group_by": ["manager", "rep"], "where": {"type": "quota_result"}}
    assert len(findings(run_rule(tmp_path, events, rule))) == 1
    assert findings(run_rule(tmp_path / "away", events, {**rule, "away_within": "30d"})) == []


# -- severity earned -------------------------------------------------------------------------------


def test_a_high_finding_on_one_window_is_reported_as_medium(tmp_path: Path) -> None:
    rule = {
        "kind": "threshold",
        "where": {"type": "email_sent"},
        "window": {"calendar": "quarter"},
        "op": "gte",
        "value": 2,
    }
    found = one(run_rule(tmp_path, team_log(1, {}), rule, severity="high"))
    assert found.severity == "medium"
    assert found.notes and "one calendar quarter" in found.notes[0]


def test_shipped_rules_where_zero_makes_a_finding_name_what_they_need() -> None:
    _, compiled = engine.prepare_rules()
    needing = {r.id: r.needs for r in compiled if r.needs}
    assert "call-listening/monthly-minimum" in needing and needing["call-listening/monthly-minimum"] == [
        ["call_listened"]
    ]
    assert "detached-dictator/rep-without-contact" in needing
    too_many = {r.id for r in compiled if r.op in ("gt", "gte") and r.loaded.rule.logic.kind != "absence"}
    sequences_absent = {r.id for r in compiled if getattr(r.loaded.rule.logic, "absent", False)}
    # (nor does a ratio, unless its numerator counts what is missing and it names what it needs)
    ratios_needing = {r.id for r in compiled if getattr(r.loaded.rule.logic, "needs", None)}
    assert not (set(needing) & (too_many - sequences_absent - ratios_needing))  # a "too many" rule never waits


def test_inferred_leave_is_a_config_setting(tmp_path: Path) -> None:
    # r2 has no event at all for 46 days (as in the inferred-leave test above)
    events = team_log(2, {"r2": ["2026-01-06", "2026-02-23", "2026-03-02", "2026-03-09"]})
    events = [e for e in events if not (e.get("rep") == "r2" and "2026-01-07" <= e["ts"][:10] <= "2026-02-22")]
    logic = {**GAP, "team": {"min_reps": 1, "min_share": 0}}
    assert findings(run_rule(tmp_path, events, logic)) == []
    rules = str(tmp_path / "rules")
    for setting, fires in (("off", True), ("60d", True), ("10d", False)):
        config = tmp_path / f"{setting}.yaml"
        config.write_text(f"infer_absence: {setting}\n", encoding="utf-8")
        report = engine.check([str(tmp_path / "events.jsonl")], rules=[rules], config=str(config))
        assert bool(findings(report)) is fires, setting
    bad = tmp_path / "bad.yaml"
    bad.write_text("infer_absence: soon\n", encoding="utf-8")
    try:
        engine.check([str(tmp_path / "events.jsonl")], rules=[rules], config=str(bad))
    except engine.ConfigError as exc:
        assert "bad.yaml:1:" in str(exc.problems[0].path) + ":" + str(exc.problems[0].line) + ":"
        assert "duration" in exc.problems[0].message
    else:
        raise AssertionError("an invalid infer_absence was accepted")
