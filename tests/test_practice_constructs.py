"""The constructs the practice checks of issue 9 brought to the rule language, each with a
firing case and a look-alike that must stay quiet, its errors at file:line:col, and its
plans portable to Spark SQL:

- derive ``prior``: 1 or 0 for an earlier event on the same keys (with mappings such as
  ``{rep: attrs.from}``), or with ``value`` a number from the latest such event;
- derive ``on_team``: how many of the people a field names were on the event's
  manager's team at the event's time;
- metric ``items``: the distinct items across the list attributes of a window;
- condition ``contains_field``: a list attribute holds another field of the same event;
- ratio ``needs``: the events a ratio reads by their absence, judged only where logged.

Each test builds its own small log; the expected numbers are worked out in the comments.
Names follow ``test_<construct>_<case>`` so ``pytest -k prior`` selects one construct.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine.api import prepare_rules
from engine.errors import RuleError
from engine.lang.compiler import compile_rules
from engine.lang.loader import default_rules_dir, load_rules
from engine.lang.plan import CompiledRule
from engine.lang.portable import portability_problems
from tests.helpers import D, added, ev, findings, one, removed, run_rule, shuffled_copy, write_rule

# m1 leads r1 and r2 from before the log; two ops events pin the log to [Jan 5, Feb 1) 2026.
TEAM = [
    added("a-r1", "2025-12-01", "m1", "r1"),
    added("a-r2", "2025-12-01", "m1", "r2"),
    ev("f-start", "2026-01-05 00:00", "forecast_updated", "ops"),
    ev("f-end", "2026-01-31 23:00", "forecast_updated", "ops"),
]
SPAN = (D("2026-01-05"), D("2026-02-01"))
TEAM_LEN = len(TEAM)


def review(event_id: str, when: str, deal: str, rep: str = "r1", actor: str = "m1", **attrs: Any) -> dict[str, Any]:
    return ev(event_id, when, "deal_review", actor, rep=rep, deal=deal, attrs={"decision": "advance", **attrs})


def listened(event_id: str, when: str, deal: str, rep: str = "r1", actor: str = "m1") -> dict[str, Any]:
    return ev(event_id, when, "call_listened", actor, rep=rep, deal=deal, attrs={"feedback_given": True})


SEEN = {
    "prior": {
        "where": {"type": ["call_listened", "ride_along"]},
        "same": ["deal", "actor"],
        "within": "30d",
    }
}
UNSEEN_REVIEWS = {"kind": "match", "where": {"type": "deal_review", "seen": 0}, "derive": {"seen": SEEN}}


# ---------------------------------------------------------------------------------------------
# prior: is there an earlier event like this on the same keys?


def test_prior_fires_for_reviews_with_no_inspection_before(tmp_path: Path) -> None:
    events = TEAM + [
        listened("l-d1", "2026-01-06 09:00", "D1"),  # D1 seen 2 days before its review
        review("v-d1", "2026-01-08 10:00", "D1"),
        review("v-d2", "2026-01-08 11:00", "D2"),  # D2: never listened to
        listened("l-d3", "2026-01-09 12:00", "D3"),  # D3: listened to only after its review
        review("v-d3", "2026-01-09 10:00", "D3"),
        listened("l-d4", "2026-01-06 09:00", "D4", actor="coach"),  # D4: a coach's listen, not m1's
        review("v-d4", "2026-01-10 10:00", "D4"),
        listened("l-d9", "2026-01-06 09:00", "D9"),  # another deal's call does not see D5
        review("v-d5", "2026-01-10 11:00", "D5"),
    ]
    finding = one(run_rule(tmp_path, events, UNSEEN_REVIEWS))
    # v-d1 is answered by l-d1; the other four reviews have no earlier listen by m1 on their deal
    assert finding.evidence == ["v-d2", "v-d3", "v-d4", "v-d5"]
    assert finding.metrics["count"] == 4
    assert (finding.window_start, finding.window_end) == SPAN


def test_prior_quiet_when_every_review_was_inspected(tmp_path: Path) -> None:
    events = TEAM + [
        listened("l-d1", "2026-01-06 09:00", "D1"),
        review("v-d1", "2026-01-08 10:00", "D1"),
        ev("ra-d2", "2026-01-07 14:00", "ride_along", "m1", rep="r1", deal="D2"),
        review("v-d2", "2026-01-08 11:00", "D2"),
        listened("l-d3", "2026-01-09 10:00", "D3"),  # at the very instant of the review: counts
        review("v-d3", "2026-01-09 10:00", "D3"),
    ]
    assert findings(run_rule(tmp_path, events, UNSEEN_REVIEWS)) == []


def test_prior_within_is_a_hard_edge(tmp_path: Path) -> None:
    # a 30-day lookback: 29 days 23 hours before counts, 30 days 1 hour before does not
    frame = [
        added("a-r1", "2025-11-01", "m1", "r1"),
        ev("f-start", "2025-12-01 00:00", "forecast_updated", "ops"),
        ev("f-end", "2026-01-31 23:00", "forecast_updated", "ops"),
    ]
    events = frame + [
        listened("l-d1", "2025-12-10 11:00", "D1"),
        review("v-d1", "2026-01-09 10:00", "D1"),  # 29d 23h after l-d1: seen
        listened("l-d2", "2025-12-10 09:00", "D2"),
        review("v-d2", "2026-01-09 10:00", "D2"),  # 30d 1h after l-d2: not seen
    ]
    finding = one(run_rule(tmp_path, events, UNSEEN_REVIEWS))
    assert finding.evidence == ["v-d2"]


def test_prior_mapping_pairs_different_fields(tmp_path: Path) -> None:
    # {rep: attrs.from}: the earlier event's rep is the one this event names as attrs.from
    derive = {
        "coached_before": {
            "prior": {"where": {"type": "coaching_session"}, "same": [{"rep": "attrs.from"}], "within": "14d"}
        }
    }
    logic = {"kind": "match", "where": {"type": "deal_owner_changed", "coached_before": 0}, "derive": derive}
    moved = {"to": "r2", "to_role": "rep"}
    events = TEAM + [
        ev("c-r1", "2026-01-06", "coaching_session", "m1", rep="r1", attrs={"topic": "discovery"}),
        ev("o-1", "2026-01-08", "deal_owner_changed", "m1", rep="r2", deal="D1", attrs={"from": "r1", **moved}),
        # r2 was coached, but the deal came from r3: the mapping compares rep with attrs.from
        ev("c-r2", "2026-01-06", "coaching_session", "m1", rep="r2", attrs={"topic": "discovery"}),
        ev("o-2", "2026-01-09", "deal_owner_changed", "m1", rep="r2", deal="D2", attrs={"from": "r3", **moved}),
    ]
    finding = one(run_rule(tmp_path, events, logic))
    assert finding.evidence == ["o-2"]


def test_prior_older_than_looks_only_further_back(tmp_path: Path) -> None:
    # "was the call recorder already on a month before?": a listen 31-60 days before counts, a recent one does not
    frame = [
        added("a-r1", "2025-10-01", "m1", "r1"),
        ev("f-start", "2025-11-01 00:00", "forecast_updated", "ops"),
        ev("f-end", "2026-01-31 23:00", "forecast_updated", "ops"),
    ]
    derive = {
        "recorded": {
            "prior": {"where": {"type": "call_listened"}, "same": ["actor"], "within": "60d", "older_than": "30d"}
        }
    }
    logic = {"kind": "match", "where": {"type": "deal_review", "recorded": 1}, "derive": derive}
    events = frame + [
        listened("l-old", "2025-12-01 09:00", "X1"),
        review("v-1", "2026-01-05 10:00", "D1"),  # l-old 35 days before: recorded
        listened("l-new", "2026-01-10 09:00", "X2", actor="m2"),
        review("v-2", "2026-01-12 10:00", "D2", actor="m2"),  # m2's only listen is 2 days before: not yet
        review("v-3", "2026-01-31 10:00", "D3"),  # l-old is 61 days before, past within
    ]
    assert one(run_rule(tmp_path, events, logic)).evidence == ["v-1"]


PRIOR_RESULT = {
    "from_result": {
        "prior": {
            "where": {"type": "quota_result"},
            "same": [{"rep": "attrs.from"}],
            "within": "45d",
            "value": "attrs.attainment",
        }
    }
}


def result(event_id: str, when: str, rep: str, attainment: Any) -> dict[str, Any]:
    return ev(event_id, when, "quota_result", "ops", rep=rep, attrs={"period": "2025-12", "attainment": attainment})


def moved(event_id: str, when: str, giver: str, deal: str) -> dict[str, Any]:
    attrs = {"from": giver, "to": "r2", "to_role": "rep"}
    return ev(event_id, when, "deal_owner_changed", "m1", rep="r2", deal=deal, attrs=attrs)


def test_prior_value_takes_the_latest_result(tmp_path: Path) -> None:
    logic = {
        "kind": "threshold",
        "where": {"type": "deal_owner_changed", "from_result": {"lt": 0.7}},
        "derive": PRIOR_RESULT,
        "metric": {"max": "from_result", "name": "worst"},
        "op": "gte",
        "value": 0,
    }
    events = TEAM + [
        result("q-old", "2026-01-02", "r1", 1.2),  # r1 over quota, then under: the latest counts
        result("q-new", "2026-01-06", "r1", 0.55),
        moved("o-1", "2026-01-08", "r1", "D1"),
        result("q-r3a", "2026-01-06", "r3", 0.4),  # r3 under, then over: not struggling now
        result("q-r3b", "2026-01-07", "r3", 1.1),
        moved("o-2", "2026-01-08", "r3", "D2"),
        moved("o-3", "2026-01-08", "r4", "D3"),  # r4 has no result at all: neither weak nor strong
        result("q-r5", "2026-01-09", "r5", 0.2),  # r5's result comes after the move
        moved("o-4", "2026-01-08 12:00", "r5", "D4"),
    ]
    finding = one(run_rule(tmp_path, events, logic, message="{worst}"))
    assert finding.evidence == ["o-1"]
    assert finding.metrics["worst"] == 0.55


def test_prior_value_ties_in_time_are_settled_by_id(tmp_path: Path) -> None:
    # two results at the same instant: the latest by (ts, id) is q-b, whatever the input order
    logic = {
        "kind": "threshold",
        "where": {"type": "deal_owner_changed"},
        "derive": PRIOR_RESULT,
        "metric": {"max": "from_result", "name": "latest"},
        "op": "gte",
        "value": 0,
    }
    events = TEAM + [
        result("q-b", "2026-01-06", "r1", 0.9),
        result("q-a", "2026-01-06", "r1", 0.3),
        moved("o-1", "2026-01-08", "r1", "D1"),
    ]
    for seed in (1, 2, 3):
        report = run_rule(tmp_path / str(seed), shuffled_copy(events, seed), logic, message="{latest}")
        assert one(report).metrics["latest"] == 0.9


def test_prior_value_quiet_without_a_numeric_result(tmp_path: Path) -> None:
    # the latest event that carries a number counts: a text score is no value, and a result
    # older than the lookback is none either
    derive = {
        "score": {
            "prior": {
                "where": {"type": "x_health"},
                "same": [{"rep": "attrs.from"}],
                "within": "45d",
                "value": "attrs.score",
            }
        }
    }
    logic = {"kind": "match", "where": {"type": "deal_owner_changed", "score": {"lt": 0.7}}, "derive": derive}
    events = TEAM + [
        ev("h-1", "2026-01-06", "x_health", "ops", rep="r1", attrs={"score": "n/a"}),
        moved("o-1", "2026-01-08", "r1", "D1"),
        ev("h-2", "2025-11-01", "x_health", "ops", rep="r2", attrs={"score": 0.1}),  # 68 days before
        moved("o-2", "2026-01-08", "r2", "D2"),
    ]
    assert findings(run_rule(tmp_path, events, logic)) == []
    # the same moves with a numeric score in the lookback fire
    events[TEAM_LEN] = ev("h-1", "2026-01-06", "x_health", "ops", rep="r1", attrs={"score": 0.2})
    assert one(run_rule(tmp_path / "numeric", events, logic)).evidence == ["o-1"]


# ---------------------------------------------------------------------------------------------
# on_team: people of the manager's team at the event's time among those a field names

TEAM_PRESENT = {"present": {"on_team": "attrs.participants"}}


def meeting(event_id: str, when: str, *people: str, actor: str = "m1") -> dict[str, Any]:
    return ev(event_id, when, "meeting_held", actor, attrs={"with_customer": False, "participants": list(people)})


def test_on_team_counts_team_members_among_participants(tmp_path: Path) -> None:
    logic = {
        "kind": "threshold",
        "where": {"type": "meeting_held"},
        "derive": TEAM_PRESENT,
        "metric": {"sum": "present", "name": "members"},
        "op": "gte",
        "value": 3,
    }
    events = TEAM + [
        meeting("mt-1", "2026-01-06 10:00", "m1", "r1", "vp"),  # r1: 1 (m1 himself never counts)
        meeting("mt-2", "2026-01-07 10:00", "m1", "r1", "r2", "r1"),  # r1 and r2, r1 named twice: 2
        meeting("mt-3", "2026-01-08 10:00", "m1", "vp", "ops"),  # no one from the team: 0
        meeting("mt-4", "2026-01-08 11:00", "m1", "x7"),  # x7 is on no roster: 0
    ]
    finding = one(run_rule(tmp_path, events, logic, message="{members}"))
    assert finding.metrics["members"] == 3
    assert finding.metrics["count"] == 4


def test_on_team_follows_the_roster_at_the_events_time(tmp_path: Path) -> None:
    # r2 leaves m1's team on Jan 10 and joins m2's: a meeting of m1's with r2 after that is internal
    logic = {"kind": "match", "where": {"type": "meeting_held", "present": 0}, "derive": TEAM_PRESENT}
    events = TEAM + [
        removed("x-r2", "2026-01-10 08:00", "m1", "r2"),
        added("a-r2-m2", "2026-01-10 08:00", "m2", "r2"),
        meeting("mt-1", "2026-01-09 10:00", "m1", "r2"),  # r2 still on m1's team: not internal
        meeting("mt-2", "2026-01-12 10:00", "m1", "r2"),  # r2 is m2's now: nobody of m1's team
        meeting("mt-3", "2026-01-12 11:00", "m2", "r2", actor="m2"),  # m2's meeting with r2: team
    ]
    finding = one(run_rule(tmp_path, events, logic))
    assert finding.manager == "m1" and finding.evidence == ["mt-2"]


def test_on_team_quiet_when_every_meeting_has_the_team(tmp_path: Path) -> None:
    logic = {"kind": "match", "where": {"type": "meeting_held", "present": 0}, "derive": TEAM_PRESENT}
    events = TEAM + [meeting("mt-1", "2026-01-06 10:00", "m1", "r1"), meeting("mt-2", "2026-01-07", "m1", "r2", "vp")]
    assert findings(run_rule(tmp_path, events, logic)) == []


def test_on_team_reads_a_single_id_too(tmp_path: Path) -> None:
    # attrs.from holds one id: 1 while r1 is on the team, 0 for someone who is not
    logic = {
        "kind": "match",
        "where": {"type": "deal_owner_changed", "giver_here": 1},
        "derive": {"giver_here": {"on_team": "attrs.from"}},
    }
    events = TEAM + [moved("o-1", "2026-01-08", "r1", "D1"), moved("o-2", "2026-01-08", "gone", "D2")]
    assert one(run_rule(tmp_path, events, logic)).evidence == ["o-1"]


# ---------------------------------------------------------------------------------------------
# items: distinct items across a window's lists


def kpis(event_id: str, when: str, *names: Any) -> dict[str, Any]:
    return ev(event_id, when, "kpi_set", "m1", attrs={"kpis": list(names)})


ITEMS = {
    "kind": "threshold",
    "where": {"type": "kpi_set"},
    "metric": {"items": "attrs.kpis"},
    "op": "gt",
    "value": 4,
    "window": {"calendar": "month", "min_coverage": 0},
}


def test_items_counts_distinct_entries_across_lists(tmp_path: Path) -> None:
    events = TEAM + [
        kpis("k1", "2026-01-06", "win rate", "pipeline", "calls"),
        kpis("k2", "2026-01-12", "calls", "win rate", "cycle"),  # two repeat: 4 so far
        kpis("k3", "2026-01-20", "cycle", "discount", None),  # a null entry is no KPI: 5
    ]
    finding = one(run_rule(tmp_path, events, ITEMS, message="{items_kpis}"))
    assert finding.metrics["items_kpis"] == 5 and finding.metrics["count"] == 3
    assert finding.evidence == ["k1", "k2", "k3"]


def test_items_quiet_when_the_lists_overlap(tmp_path: Path) -> None:
    # three lists, one KPI list's worth of names: 4 distinct, not more than 4
    events = TEAM + [
        kpis("k1", "2026-01-06", "win rate", "pipeline", "calls", "cycle"),
        kpis("k2", "2026-01-12", "calls", "win rate"),
        kpis("k3", "2026-01-20", "cycle"),
    ]
    assert findings(run_rule(tmp_path, events, ITEMS, message="{items_kpis}")) == []


def test_items_windows_do_not_add_up(tmp_path: Path) -> None:
    # January holds 3 KPIs, February 3 others: 6 over the two months, never more than 4 in one
    frame = TEAM[:3] + [ev("f-end", "2026-02-27 23:00", "forecast_updated", "ops")]
    events = frame + [kpis("k1", "2026-01-06", "a", "b", "c"), kpis("k2", "2026-02-03", "d", "e", "f")]
    assert findings(run_rule(tmp_path, events, ITEMS, message="{items_kpis}")) == []
    whole = {**ITEMS, "window": "whole"}
    assert one(run_rule(tmp_path / "whole", events, whole, message="{items_kpis}")).metrics["items_kpis"] == 6


def test_items_ignores_values_that_are_not_lists(tmp_path: Path) -> None:
    logic = {**ITEMS, "where": {"type": "x_scorecard"}, "metric": {"items": "attrs.names"}, "value": 1}
    events = TEAM + [
        ev("s1", "2026-01-06", "x_scorecard", "m1", attrs={"names": "win rate"}),  # text, not a list
        ev("s2", "2026-01-07", "x_scorecard", "m1", attrs={"names": {"a": 1}}),
        ev("s3", "2026-01-08", "x_scorecard", "m1", attrs={"names": ["calls", "cycle"]}),
    ]
    finding = one(run_rule(tmp_path, events, logic, message="{items_names}"))
    assert finding.metrics["items_names"] == 2


# ---------------------------------------------------------------------------------------------
# contains_field: a list attribute holds another field of the same event


def test_contains_field_fires_when_the_list_holds_the_field(tmp_path: Path) -> None:
    logic = {"kind": "match", "where": {"type": "meeting_held", "attrs.participants": {"contains_field": "manager"}}}
    events = TEAM + [
        meeting("mt-1", "2026-01-06", "r1", "m1", "buyer", actor="r1"),  # the rep's meeting, m1 there
        meeting("mt-2", "2026-01-07", "r1", "buyer", actor="r1"),  # m1 not there
        meeting("mt-3", "2026-01-08", "r2", "m9", actor="r2"),  # another manager there
    ]
    assert one(run_rule(tmp_path, events, logic)).evidence == ["mt-1"]


def test_contains_field_quiet(tmp_path: Path) -> None:
    logic = {"kind": "match", "where": {"type": "meeting_held", "attrs.participants": {"contains_field": "manager"}}}
    events = TEAM + [meeting("mt-1", "2026-01-06", "r1", "buyer", actor="r1")]
    assert findings(run_rule(tmp_path, events, logic)) == []


# ---------------------------------------------------------------------------------------------
# ratio needs: what a ratio reads by its absence is judged only where it is logged

NEEDS_RATIO = {
    "kind": "ratio",
    "where": {"type": "deal_review"},
    "derive": {"seen": SEEN},
    "numerator": {"name": "unseen", "where": {"seen": 0}},
    "denominator": {"name": "reviews", "where": {}},
    "op": "gte",
    "value": 0.5,
    "min_numerator": 2,
    "min_denominator": 2,
    "needs": [{"type": "call_listened"}],
}


def test_needs_fires_where_the_answers_are_logged(tmp_path: Path) -> None:
    events = TEAM + [
        listened("l-d1", "2026-01-06 09:00", "D1"),
        review("v-d1", "2026-01-08 10:00", "D1"),
        review("v-d2", "2026-01-08 11:00", "D2"),
        review("v-d3", "2026-01-09 11:00", "D3"),
    ]
    finding = one(run_rule(tmp_path, events, NEEDS_RATIO, message="{unseen}"))
    assert (finding.metrics["unseen"], finding.metrics["reviews"]) == (2, 3)


def test_needs_without_any_in_the_log_is_not_assessed(tmp_path: Path) -> None:
    # no call_listened anywhere: three unseen reviews are no evidence of anything
    events = TEAM + [review("v-d1", "2026-01-08 10:00", "D1"), review("v-d2", "2026-01-08 11:00", "D2")]
    report = run_rule(tmp_path, events, NEEDS_RATIO, message="{unseen}")
    assert findings(report) == []
    assert any(n.rule == "t/rule" for n in report.not_assessed)
    without = {k: v for k, v in NEEDS_RATIO.items() if k != "needs"}
    assert one(run_rule(tmp_path / "without", events, without, message="{unseen}")).metrics["unseen"] == 2


def test_needs_judges_a_team_from_when_it_logs_them(tmp_path: Path) -> None:
    # the call recorder comes to m1's team on Jan 20 (a burst of listens); the reviews before it
    # cannot be judged, the one after it was seen
    frame = [added("a-r1", "2025-12-01", "m1", "r1"), ev("f-start", "2026-01-05 00:00", "forecast_updated", "ops")]
    frame.append(ev("f-end", "2026-02-27 23:00", "forecast_updated", "ops"))
    burst = [listened(f"l-{i}", f"2026-01-{20 + i} 09:00", f"X{i}") for i in range(5)]
    events = (
        frame
        + burst
        + [
            review("v-d1", "2026-01-08 10:00", "D1"),
            review("v-d2", "2026-01-09 10:00", "D2"),
            review("v-d3", "2026-01-12 10:00", "D3"),
            listened("l-d4", "2026-02-02 09:00", "D4"),
            review("v-d4", "2026-02-03 10:00", "D4"),
        ]
    )
    report = run_rule(tmp_path, events, NEEDS_RATIO, message="{unseen}")
    assert findings(report) == []
    without = {k: v for k, v in NEEDS_RATIO.items() if k != "needs"}
    assert one(run_rule(tmp_path / "without", events, without, message="{unseen}")).metrics["unseen"] == 3


# ---------------------------------------------------------------------------------------------
# errors at file:line:col

HEAD = "id: t/rule\ntrait: test-trait\ntitle: A test rule\nseverity: low\n"
TAIL = 'message: "{count}"\nadvice: Do better.\ndocs: {why: Because., instead: Do this., false_positives: Rarely.}\n'


def problems(tmp_path: Path, logic: str) -> list[tuple[int, int, str]]:
    rules = tmp_path / "rules" / "t"
    rules.mkdir(parents=True)
    (rules / "rule.yaml").write_text(HEAD + textwrap.dedent(logic) + TAIL, encoding="utf-8")
    with pytest.raises(RuleError) as info:
        compile_rules(load_rules([str(tmp_path / "rules")]))
    return [(p.line, p.col, p.message) for p in info.value.problems]


def test_prior_errors_point_at_the_key(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        logic:
          kind: match
          where: {type: deal_review, seen: 0}
          derive:
            seen:
              prior:
                where: {type: call_listened, attrs.feedbak_given: true}
                same: [deal, {actr: actor}]
                within: 30days
        """,
    )
    # every part of the prior is reported (its where, a key, the duration); the rule's where then
    # cannot use the derived name either
    fields = "id, ts, type, actor, actor_role, manager, rep, deal, rep_on_team, attrs.<name>, source.<name>"
    assert found == [
        (7, 30, f"unknown field 'seen' (fields: {fields})"),
        (11, 38, "unknown attribute 'attrs.feedbak_given' for call_listened (did you mean 'attrs.feedback_given'?)"),
        (12, 23, "unknown field 'actr' (did you mean 'actor'?)"),
        (13, 17, "'30days' is not a duration (use a number and a unit: 30d, 2w, 12h)"),
    ]


def test_prior_mapping_of_two_pairs_is_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        logic:
          kind: match
          where: {type: deal_review}
          derive:
            seen:
              prior:
                where: {type: call_listened}
                same: [deal, {rep: attrs.from, deal: deal}]
                within: 30d
        """,
    )
    assert [(line, message) for line, _, message in found] == [
        (12, "a mapping in 'same' pairs one field of the earlier event with one of this")
    ]


def test_prior_older_than_must_be_shorter_than_within(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        logic:
          kind: match
          where: {type: deal_review}
          derive:
            seen:
              prior:
                where: {type: call_listened}
                same: [manager]
                within: 30d
                older_than: 30d
        """,
    )
    assert [(line, message) for line, _, message in found] == [
        (14, "older_than must be shorter than within (the earlier event lies between)")
    ]


def test_on_team_and_items_errors(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        logic:
          kind: threshold
          where: {type: kpi_set}
          derive:
            who: {on_team: ts}
          metric: {items: deal}
          op: gt
          value: 7
        """,
    )
    assert [(line, message) for line, _, message in found] == [
        (9, "'on_team' reads a field naming people (rep, actor, attrs.<name>), not 'ts'"),
        (10, "'items' counts the items of a list attribute (attrs.<name>), not 'deal'"),
    ]


def test_items_needs_a_fixed_window(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        logic:
          kind: threshold
          where: {type: kpi_set}
          metric: {items: attrs.kpis}
          window: {sliding: 30d}
          op: gt
          value: 7
        """,
    )
    assert found == [(8, 11, "items metrics need a calendar or whole window, not a sliding one")]


def test_contains_field_needs_a_list_attribute(tmp_path: Path) -> None:
    found = problems(
        tmp_path, "logic:\n  kind: match\n  where: {type: meeting_held, actor: {contains_field: manager}}\n"
    )
    assert [(line, message) for line, _, message in found] == [
        (7, "'contains_field' applies to list attributes (attrs.<name>)")
    ]


# ---------------------------------------------------------------------------------------------
# portable plans, and the four shipped rules that use the constructs

PRACTICE_RULES = (
    "show-me-not-tell-me/uninspected-advance",
    "leaning-on-the-strong/deals-moved-to-strong",
    "kpi-overload/kpis-in-total",
    "meeting-focus/internal-meetings",
)


@pytest.fixture(scope="module")
def practice_rules() -> dict[str, CompiledRule]:
    """The shipped rules that use the constructs, compiled alone."""
    ruleset = load_rules([default_rules_dir()])
    compiled = compile_rules(ruleset, only=set(PRACTICE_RULES))
    return {rule.id: rule for rule in compiled}


@pytest.mark.parametrize("rule_id", PRACTICE_RULES)
def test_the_practice_rules_plans_are_portable(practice_rules: dict[str, CompiledRule], rule_id: str) -> None:
    rule = practice_rules[rule_id]
    trees = [tree for _, tree in rule.stages] + [t for t in (rule.findings, rule.assessment, rule.presence) if t]
    trees += [plan.query for plan in rule.counter]
    assert rule.loaded.rule.status == "experimental"  # in the default run, marked as new
    for tree in trees:
        assert portability_problems(tree) == []


@pytest.mark.parametrize("derive", [SEEN, {"prior": PRIOR_RESULT["from_result"]["prior"]}, {"on_team": "rep"}])
def test_the_derived_values_are_portable(tmp_path: Path, derive: dict[str, Any]) -> None:
    logic = {"kind": "match", "where": {"type": "deal_owner_changed", "x": {"gte": 0}}, "derive": {"x": derive}}
    write_rule(tmp_path / "rules", "t/rule", logic)
    (rule,) = prepare_rules([str(tmp_path / "rules")])[1]
    for _, tree in rule.stages:
        assert portability_problems(tree) == []
