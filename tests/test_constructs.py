"""Every construct of the rule language (docs/RULES.md), each with a firing case
and a look-alike that must stay quiet.

Each test builds its own small log; the expected numbers, windows and evidence
are worked out by hand in the comments next to the events. Names follow
``test_<construct>_<case>`` so ``pytest -k sequence`` selects one construct.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import engine
from tests.helpers import (
    D,
    added,
    ev,
    findings,
    one,
    removed,
    run_rule,
    shuffled_copy,
    write_events,
    write_library,
    write_rule,
)

# Filter tests share one frame: two manager-less "ops" events pin the log's span
# to [Jan 5, Jan 10) 2026 without belonging to any manager, and m1 has no roster
# entries, so m1 is judged over exactly that span (whole window).
FRAME = [
    ev("f-start", "2026-01-05 00:00", "forecast_updated", "ops"),
    ev("f-end", "2026-01-09 23:00", "forecast_updated", "ops"),
]
FRAME_START, FRAME_END = D("2026-01-05"), D("2026-01-10")


def m1(event_id: str, when: str, event_type: str, actor: str = "m1", **fields: Any) -> dict[str, Any]:
    """An event of manager m1 (explicit ``manager``)."""
    fields.setdefault("manager", "m1")
    return ev(event_id, when, event_type, actor, **fields)


def match(where: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"kind": "match", "where": where, **extra}


def assert_match(
    report: engine.Report,
    evidence: list[str],
    *,
    manager: str = "m1",
    start: dt.datetime = FRAME_START,
    end: dt.datetime = FRAME_END,
) -> Any:
    finding = one(report)
    assert finding.rule == "t/rule"
    assert finding.manager == manager
    assert finding.metrics["count"] == len(evidence)
    assert finding.evidence == evidence
    assert (finding.window_start, finding.window_end) == (start, end)
    return finding


def run_filter(tmp_path: Path, events: list[dict[str, Any]], where: dict[str, Any], **kw: Any) -> engine.Report:
    return run_rule(tmp_path, FRAME + events, match(where), **kw)


# ---------------------------------------------------------------------------------------------
# filters


def test_filter_type_equality_fires(tmp_path: Path) -> None:
    events = [
        m1("e1", "2026-01-06 09:00", "call_listened", rep="r1"),
        m1("e2", "2026-01-06 10:00", "call_logged", "r1", rep="r1"),  # look-alike type
        m1("e3", "2026-01-07 09:00", "call_listened", rep="r2"),
    ]
    report = run_filter(tmp_path, events, {"type": "call_listened"})
    finding = assert_match(report, ["e1", "e3"])
    assert finding.rep is None and finding.deal is None  # grouped by manager only


def test_filter_type_equality_quiet(tmp_path: Path) -> None:
    events = [
        m1("e1", "2026-01-06 09:00", "call_logged", "r1", rep="r1"),
        m1("e2", "2026-01-06 10:00", "one_on_one_held", rep="r1"),
    ]
    assert findings(run_filter(tmp_path, events, {"type": "call_listened"})) == []


def test_filter_type_list_fires(tmp_path: Path) -> None:
    events = [
        m1("e1", "2026-01-06", "ride_along", rep="r1"),
        m1("e2", "2026-01-07", "coaching_session", rep="r1"),
        m1("e3", "2026-01-08", "one_on_one_held", rep="r1"),  # not in the list
    ]
    report = run_filter(tmp_path, events, {"type": ["ride_along", "coaching_session"]})
    assert_match(report, ["e1", "e2"])


def test_filter_type_list_quiet(tmp_path: Path) -> None:
    events = [
        m1("e1", "2026-01-06", "one_on_one_held", rep="r1"),
        m1("e2", "2026-01-07", "team_meeting", attrs={"focus": "skills"}),
    ]
    assert findings(run_filter(tmp_path, events, {"type": ["ride_along", "coaching_session"]})) == []


def test_filter_attrs_string_equality_fires(tmp_path: Path) -> None:
    events = [
        m1("e1", "2026-01-06", "team_meeting", attrs={"focus": "skills"}),
        m1("e2", "2026-01-07", "team_meeting", attrs={"focus": "pipeline"}),
        m1("e3", "2026-01-08", "team_meeting", attrs={"focus": "skills"}),
    ]
    report = run_filter(tmp_path, events, {"type": "team_meeting", "attrs.focus": "skills"})
    assert_match(report, ["e1", "e3"])


def test_filter_attrs_string_equality_quiet(tmp_path: Path) -> None:
    events = [
        m1("e1", "2026-01-06", "team_meeting", attrs={"focus": "pipeline"}),
        m1("e2", "2026-01-07", "team_meeting"),  # no focus at all
        m1("e3", "2026-01-08", "coaching_session", rep="r1", attrs={"topic": "skills"}),
    ]
    report = run_filter(tmp_path, events, {"type": "team_meeting", "attrs.focus": "skills"})
    assert findings(report) == []


AMOUNTS = [  # amounts chosen so that text comparison would give the opposite answer
    m1("d9", "2026-01-06", "deal_created", "r1", rep="r1", deal="D9", attrs={"amount": 9}),
    m1("d100", "2026-01-06 01:00", "deal_created", "r1", rep="r1", deal="D100", attrs={"amount": 100}),
    m1("d50k", "2026-01-07", "deal_created", "r1", rep="r1", deal="D50K", attrs={"amount": 50000}),
    m1("d120k", "2026-01-08", "deal_created", "r1", rep="r1", deal="D120K", attrs={"amount": 120000}),
]


def test_filter_numeric_lt_fires(tmp_path: Path) -> None:
    # numerically only 9 < 20 (as text, "100" < "20" and "9" > "20")
    report = run_filter(tmp_path, AMOUNTS, {"type": "deal_created", "attrs.amount": {"lt": 20}})
    assert_match(report, ["d9"])


def test_filter_numeric_gte_fires(tmp_path: Path) -> None:
    # numerically 50000 and 120000 (as text, "9" >= "50000" and "120000" < "50000")
    report = run_filter(tmp_path, AMOUNTS, {"type": "deal_created", "attrs.amount": {"gte": 50000}})
    assert_match(report, ["d50k", "d120k"])


def test_filter_numeric_gt_and_lte_fires(tmp_path: Path) -> None:
    report = run_filter(tmp_path, AMOUNTS, {"type": "deal_created", "attrs.amount": {"gt": 9, "lte": 50000}})
    assert_match(report, ["d100", "d50k"])


def test_filter_numeric_quiet(tmp_path: Path) -> None:
    report = run_filter(tmp_path, AMOUNTS, {"type": "deal_created", "attrs.amount": {"gt": 120000}})
    assert findings(report) == []


def test_filter_in_fires(tmp_path: Path) -> None:
    events = [
        m1("x1", "2026-01-06", "forecast_miss_explained", attrs={"cause_category": "market"}),
        m1("x2", "2026-01-07", "forecast_miss_explained", attrs={"cause_category": "execution"}),
        m1("x3", "2026-01-08", "forecast_miss_explained", attrs={"cause_category": "pricing"}),
    ]
    report = run_filter(
        tmp_path, events, {"type": "forecast_miss_explained", "attrs.cause_category": {"in": ["market", "pricing"]}}
    )
    assert_match(report, ["x1", "x3"])


def test_filter_in_quiet(tmp_path: Path) -> None:
    events = [
        m1("x1", "2026-01-06", "forecast_miss_explained", attrs={"cause_category": "execution"}),
        m1("x2", "2026-01-07", "forecast_miss_explained", attrs={"cause_category": "product"}),
    ]
    report = run_filter(
        tmp_path, events, {"type": "forecast_miss_explained", "attrs.cause_category": {"in": ["market", "pricing"]}}
    )
    assert findings(report) == []


def test_filter_not_in_fires(tmp_path: Path) -> None:
    events = [
        m1("x1", "2026-01-06", "forecast_miss_explained", attrs={"cause_category": "market"}),
        m1("x2", "2026-01-07", "forecast_miss_explained", attrs={"cause_category": "execution"}),
        m1("x3", "2026-01-08", "forecast_miss_explained", attrs={"cause_category": "skills"}),
        m1("x4", "2026-01-08 01:00", "forecast_miss_explained"),  # missing: no comparison holds
    ]
    report = run_filter(
        tmp_path, events, {"type": "forecast_miss_explained", "attrs.cause_category": {"not_in": ["market", "pricing"]}}
    )
    assert_match(report, ["x2", "x3"])


def test_filter_not_in_quiet(tmp_path: Path) -> None:
    events = [
        m1("x1", "2026-01-06", "forecast_miss_explained", attrs={"cause_category": "market"}),
        m1("x2", "2026-01-07", "forecast_miss_explained", attrs={"cause_category": "pricing"}),
    ]
    report = run_filter(
        tmp_path, events, {"type": "forecast_miss_explained", "attrs.cause_category": {"not_in": ["market", "pricing"]}}
    )
    assert findings(report) == []


def test_filter_regex_fires(tmp_path: Path) -> None:
    events = [
        m1("t1", "2026-01-06", "message_sent", attrs={"audience": "team", "text": "You MUST log every call"}),
        m1("t2", "2026-01-07", "message_sent", attrs={"audience": "team", "text": "Mustard for lunch"}),
        m1("t3", "2026-01-08", "message_sent", attrs={"audience": "rep", "text": "this must be done"}),
    ]
    report = run_filter(tmp_path, events, {"type": "message_sent", "attrs.text": {"regex": "(?i)\\bmust\\b"}})
    assert_match(report, ["t1", "t3"])


def test_filter_regex_quiet(tmp_path: Path) -> None:
    events = [
        m1("t1", "2026-01-06", "message_sent", attrs={"audience": "team", "text": "Mustard for lunch"}),
        m1("t2", "2026-01-07", "message_sent", attrs={"audience": "team", "text": "we mustn't stop"}),
    ]
    report = run_filter(tmp_path, events, {"type": "message_sent", "attrs.text": {"regex": "(?i)\\bmust\\b"}})
    assert findings(report) == []


def test_filter_exists_fires(tmp_path: Path) -> None:
    events = [
        m1("c1", "2026-01-06", "call_logged", "r1", rep="r1", deal="D1"),
        m1("c2", "2026-01-07", "call_logged", "r1", rep="r1"),
    ]
    report = run_filter(tmp_path, events, {"type": "call_logged", "deal": {"exists": True}})
    assert_match(report, ["c1"])


def test_filter_exists_false_fires(tmp_path: Path) -> None:
    events = [
        m1("c1", "2026-01-06", "call_logged", "r1", rep="r1", deal="D1"),
        m1("c2", "2026-01-07", "call_logged", "r1", rep="r1", attrs={"outcome": "connected"}),
    ]
    report = run_filter(tmp_path, events, {"type": "call_logged", "deal": {"exists": False}})
    assert_match(report, ["c2"])


def test_filter_exists_quiet(tmp_path: Path) -> None:
    events = [
        m1("c1", "2026-01-06", "call_logged", "r1", rep="r1"),
        m1("c2", "2026-01-07", "email_sent", "r1", rep="r1", deal="D1"),
    ]
    report = run_filter(tmp_path, events, {"type": "call_logged", "deal": {"exists": True}})
    assert findings(report) == []


def test_filter_exists_on_attribute_fires(tmp_path: Path) -> None:
    events = [
        m1("c1", "2026-01-06", "call_logged", "r1", rep="r1", attrs={"duration_s": 0}),
        m1("c2", "2026-01-07", "call_logged", "r1", rep="r1", attrs={"outcome": "voicemail"}),
    ]
    report = run_filter(tmp_path, events, {"type": "call_logged", "attrs.duration_s": {"exists": True}})
    assert_match(report, ["c1"])


def test_filter_contains_fires(tmp_path: Path) -> None:
    events = [
        m1("g1", "2026-01-06", "meeting_held", "r1", rep="r1", attrs={"participants": ["r1", "m1"]}),
        m1("g2", "2026-01-07", "meeting_held", "r1", rep="r1", attrs={"participants": ["r1", "m10"]}),
        m1("g3", "2026-01-08", "meeting_held", "r1", rep="r1", attrs={"participants": ["m1"]}),
    ]
    report = run_filter(tmp_path, events, {"type": "meeting_held", "attrs.participants": {"contains": "m1"}})
    assert_match(report, ["g1", "g3"])


def test_filter_contains_quiet(tmp_path: Path) -> None:
    events = [  # a longer id that starts with m1, and a meeting without participants
        m1("g1", "2026-01-06", "meeting_held", "r1", rep="r1", attrs={"participants": ["r1", "m10"]}),
        m1("g2", "2026-01-07", "meeting_held", "r1", rep="r1", attrs={"with_customer": True}),
    ]
    report = run_filter(tmp_path, events, {"type": "meeting_held", "attrs.participants": {"contains": "m1"}})
    assert findings(report) == []


def test_filter_same_as_fires(tmp_path: Path) -> None:
    events = [
        m1("w1", "2026-01-06", "deal_closed_won", "m1", rep="r1", deal="D1", attrs={"amount": 10}),
        m1("w2", "2026-01-07", "deal_closed_won", "r1", rep="r1", deal="D2", attrs={"amount": 10}),
    ]
    report = run_filter(tmp_path, events, {"type": "deal_closed_won", "actor": {"same_as": "manager"}})
    assert_match(report, ["w1"])


def test_filter_same_as_quiet(tmp_path: Path) -> None:
    events = [m1("w2", "2026-01-07", "deal_closed_won", "r1", rep="r1", deal="D2")]
    report = run_filter(tmp_path, events, {"type": "deal_closed_won", "actor": {"same_as": "manager"}})
    assert findings(report) == []


def test_filter_differs_from_fires(tmp_path: Path) -> None:
    events = [
        m1("w1", "2026-01-06", "deal_closed_won", "m1", rep="r1", deal="D1"),
        m1("w2", "2026-01-07", "deal_closed_won", "r1", rep="r1", deal="D2"),
    ]
    report = run_filter(tmp_path, events, {"type": "deal_closed_won", "actor": {"differs_from": "manager"}})
    assert_match(report, ["w2"])


def test_filter_differs_from_quiet(tmp_path: Path) -> None:
    events = [m1("w1", "2026-01-06", "deal_closed_won", "m1", rep="r1", deal="D1")]
    report = run_filter(tmp_path, events, {"type": "deal_closed_won", "actor": {"differs_from": "manager"}})
    assert findings(report) == []


def test_filter_not_fires_and_matches_missing(tmp_path: Path) -> None:
    events = [
        m1("t1", "2026-01-06", "team_meeting", attrs={"focus": "skills"}),
        m1("t2", "2026-01-07", "team_meeting", attrs={"focus": "pipeline"}),
        m1("t3", "2026-01-08", "team_meeting"),  # no focus: the comparison fails, so `not` holds
    ]
    report = run_filter(tmp_path, events, {"type": "team_meeting", "not": {"attrs.focus": "skills"}})
    assert_match(report, ["t2", "t3"])


def test_filter_not_quiet(tmp_path: Path) -> None:
    events = [m1("t1", "2026-01-06", "team_meeting", attrs={"focus": "skills"})]
    report = run_filter(tmp_path, events, {"type": "team_meeting", "not": {"attrs.focus": "skills"}})
    assert findings(report) == []


def test_filter_missing_attribute_never_satisfies_comparison(tmp_path: Path) -> None:
    events = [
        m1("o1", "2026-01-06", "one_on_one_held", rep="r1", attrs={"duration_min": 20}),
        m1("o2", "2026-01-07", "one_on_one_held", rep="r1", attrs={"duration_min": 45}),
        m1("o3", "2026-01-08", "one_on_one_held", rep="r1"),  # no duration
    ]
    report = run_filter(tmp_path, events, {"type": "one_on_one_held", "attrs.duration_min": {"lt": 30}})
    assert_match(report, ["o1"])


def test_filter_missing_attribute_ne_quiet(tmp_path: Path) -> None:
    events = [
        m1("v1", "2026-01-06", "deal_review", rep="r1", deal="D1", attrs={"decision": "disqualify"}),
        m1("v2", "2026-01-07", "deal_review", rep="r1", deal="D2"),  # missing: `ne` does not hold
    ]
    report = run_filter(tmp_path, events, {"type": "deal_review", "attrs.decision": {"ne": "disqualify"}})
    assert findings(report) == []


def test_filter_missing_attribute_satisfies_not(tmp_path: Path) -> None:
    events = [
        m1("o1", "2026-01-06", "one_on_one_held", rep="r1", attrs={"duration_min": 20}),
        m1("o2", "2026-01-07", "one_on_one_held", rep="r1", attrs={"duration_min": 45}),
        m1("o3", "2026-01-08", "one_on_one_held", rep="r1"),
    ]
    report = run_filter(tmp_path, events, {"type": "one_on_one_held", "not": {"attrs.duration_min": {"gte": 30}}})
    assert_match(report, ["o1", "o3"])


def test_filter_any_fires(tmp_path: Path) -> None:
    events = [
        m1("a1", "2026-01-06", "ride_along", rep="r1"),
        m1("a2", "2026-01-07", "team_meeting", attrs={"focus": "skills"}),
        m1("a3", "2026-01-08", "team_meeting", attrs={"focus": "morale"}),
    ]
    report = run_filter(
        tmp_path, events, {"any": [{"type": "ride_along"}, {"type": "team_meeting", "attrs.focus": "skills"}]}
    )
    assert_match(report, ["a1", "a2"])


def test_filter_any_quiet(tmp_path: Path) -> None:
    events = [
        m1("a3", "2026-01-08", "team_meeting", attrs={"focus": "morale"}),
        m1("a4", "2026-01-08 02:00", "coaching_session", rep="r1"),
    ]
    report = run_filter(
        tmp_path, events, {"any": [{"type": "ride_along"}, {"type": "team_meeting", "attrs.focus": "skills"}]}
    )
    assert findings(report) == []


def test_filter_all_fires(tmp_path: Path) -> None:
    events = [
        m1("a1", "2026-01-06", "team_meeting", attrs={"focus": "morale"}),
        m1("a2", "2026-01-07", "team_event", attrs={"kind": "party"}),
        m1("a3", "2026-01-08", "team_meeting", attrs={"focus": "admin"}),
    ]
    report = run_filter(tmp_path, events, {"all": [{"type": "team_meeting"}, {"attrs.focus": "morale"}]})
    assert_match(report, ["a1"])


def test_filter_all_quiet(tmp_path: Path) -> None:
    events = [m1("a3", "2026-01-08", "team_meeting", attrs={"focus": "admin"})]
    report = run_filter(tmp_path, events, {"all": [{"type": "team_meeting"}, {"attrs.focus": "morale"}]})
    assert findings(report) == []


TS_EVENTS = [
    m1("s1", "2026-01-07 23:59", "coaching_session", rep="r1"),
    m1("s2", "2026-01-08 00:00", "coaching_session", rep="r1"),
    m1("s3", "2026-01-09 12:00", "coaching_session", rep="r1"),
]


def test_filter_ts_gte_date_fires(tmp_path: Path) -> None:
    report = run_filter(tmp_path, TS_EVENTS, {"type": "coaching_session", "ts": {"gte": "2026-01-08"}})
    assert_match(report, ["s2", "s3"])


def test_filter_ts_lt_date_fires(tmp_path: Path) -> None:
    report = run_filter(tmp_path, TS_EVENTS, {"type": "coaching_session", "ts": {"lt": "2026-01-08"}})
    assert_match(report, ["s1"])


def test_filter_ts_unquoted_yaml_date_fires(tmp_path: Path) -> None:
    # yaml.safe_dump writes a date object unquoted, so the rule file holds `gte: 2026-01-08`
    report = run_filter(tmp_path, TS_EVENTS, {"type": "coaching_session", "ts": {"gte": dt.date(2026, 1, 8)}})
    assert_match(report, ["s2", "s3"])


def test_filter_ts_quiet(tmp_path: Path) -> None:
    report = run_filter(tmp_path, TS_EVENTS, {"type": "coaching_session", "ts": {"gte": "2026-01-10"}})
    assert findings(report) == []


def test_filter_ts_unquoted_yaml_datetime_with_offset_fires(tmp_path: Path) -> None:
    # written unquoted (`gte: 2026-01-08 02:00:00+02:00`), YAML reads an aware datetime
    when = dt.datetime(2026, 1, 8, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    report = run_filter(tmp_path, TS_EVENTS, {"type": "coaching_session", "ts": {"gte": when}})
    assert_match(report, ["s2", "s3"])


def test_filter_ts_with_offset_fires(tmp_path: Path) -> None:
    # 2026-01-08T02:00:00+02:00 is 2026-01-08T00:00:00Z: s1 (23:59Z the day before) is earlier.
    report = run_filter(tmp_path, TS_EVENTS, {"type": "coaching_session", "ts": {"gte": "2026-01-08T02:00:00+02:00"}})
    assert_match(report, ["s2", "s3"])


def test_filter_bool_attribute_fires(tmp_path: Path) -> None:
    events = [
        m1("l1", "2026-01-06", "call_listened", rep="r1", attrs={"feedback_given": True}),
        m1("l2", "2026-01-07", "call_listened", rep="r1", attrs={"feedback_given": False}),
        m1("l3", "2026-01-08", "call_listened", rep="r1"),
    ]
    report = run_filter(tmp_path, events, {"type": "call_listened", "attrs.feedback_given": False})
    assert_match(report, ["l2"])


def test_filter_bool_attribute_quiet(tmp_path: Path) -> None:
    events = [
        m1("l2", "2026-01-07", "call_listened", rep="r1", attrs={"feedback_given": False}),
        m1("l3", "2026-01-08", "call_listened", rep="r1"),
    ]
    report = run_filter(tmp_path, events, {"type": "call_listened", "attrs.feedback_given": True})
    assert findings(report) == []


def test_filter_source_field_fires(tmp_path: Path) -> None:
    events = [
        m1(
            "s1",
            "2026-01-06",
            "one_on_one_held",
            rep="r1",
            source={"system": "salesforce", "object": "Event", "record_id": "00U1"},
        ),
        m1(
            "s2",
            "2026-01-07",
            "one_on_one_held",
            rep="r1",
            source={"system": "hubspot", "object": "meeting", "record_id": "77"},
        ),
        m1("s3", "2026-01-08", "one_on_one_held", rep="r1"),
    ]
    report = run_filter(tmp_path, events, {"type": "one_on_one_held", "source.system": "salesforce"})
    finding = assert_match(report, ["s1"])
    assert finding.sources == {"s1": {"system": "salesforce", "object": "Event", "record_id": "00U1"}}


def test_filter_source_field_quiet(tmp_path: Path) -> None:
    events = [
        m1(
            "s2",
            "2026-01-07",
            "one_on_one_held",
            rep="r1",
            source={"system": "hubspot", "object": "meeting", "record_id": "77"},
        )
    ]
    report = run_filter(tmp_path, events, {"type": "one_on_one_held", "source.system": "salesforce"})
    assert findings(report) == []


def test_filter_actor_role_resolved_from_roster(tmp_path: Path) -> None:
    events = FRAME + [
        added("j1", "2026-01-01", "m1", "r1"),
        ev("w1", "2026-01-06", "deal_closed_won", "m1", rep="r1", deal="D1"),  # m1 leads: manager
        ev("w2", "2026-01-07", "deal_closed_won", "r1", rep="r1", deal="D2"),  # r1: a rep
        ev("w3", "2026-01-08", "deal_closed_won", "m1", rep="r1", deal="D3", actor_role="rep"),  # as given
    ]
    report = run_rule(tmp_path, events, match({"type": "deal_closed_won", "actor_role": "manager"}))
    assert_match(report, ["w1"])


def test_filter_actor_role_quiet(tmp_path: Path) -> None:
    events = FRAME + [
        added("j1", "2026-01-01", "m1", "r1"),
        ev("w2", "2026-01-07", "deal_closed_won", "r1", rep="r1", deal="D2"),
    ]
    report = run_rule(tmp_path, events, match({"type": "deal_closed_won", "actor_role": "manager"}))
    assert findings(report) == []


LISTS = {"external": ["market", "competition", "pricing"], "contact_types": ["one_on_one_held", "ride_along"]}


def test_filter_named_list_in_fires(tmp_path: Path) -> None:
    events = [
        m1("x1", "2026-01-06", "forecast_miss_explained", attrs={"cause_category": "competition"}),
        m1("x2", "2026-01-07", "forecast_miss_explained", attrs={"cause_category": "execution"}),
    ]
    report = run_filter(
        tmp_path, events, {"type": "forecast_miss_explained", "attrs.cause_category": {"in": "@external"}}, lists=LISTS
    )
    assert_match(report, ["x1"])


def test_filter_named_list_as_value_fires(tmp_path: Path) -> None:
    events = [
        m1("c1", "2026-01-06", "ride_along", rep="r1"),
        m1("c2", "2026-01-07", "coaching_session", rep="r1"),
        m1("c3", "2026-01-08", "one_on_one_held", rep="r1"),
    ]
    report = run_filter(tmp_path, events, {"type": "@contact_types"}, lists=LISTS)
    assert_match(report, ["c1", "c3"])


def test_filter_named_list_quiet(tmp_path: Path) -> None:
    events = [
        m1("x2", "2026-01-07", "forecast_miss_explained", attrs={"cause_category": "execution"}),
        m1("c2", "2026-01-07 01:00", "coaching_session", rep="r1"),
    ]
    report = run_filter(
        tmp_path,
        events,
        {
            "any": [
                {"type": "forecast_miss_explained", "attrs.cause_category": {"in": "@external"}},
                {"type": "@contact_types"},
            ]
        },
        lists=LISTS,
    )
    assert findings(report) == []


MACROS = {
    "rep_contact": {"type": ["one_on_one_held", "call_listened"]},
    "skills_meeting": {"type": "team_meeting", "attrs.focus": "skills"},
    "method": {"any": [{"use": "rep_contact"}, {"use": "skills_meeting"}]},  # nested
    "with_rep": {"rep": {"exists": True}},
}


def test_filter_macro_fires(tmp_path: Path) -> None:
    events = [
        m1("k1", "2026-01-06", "one_on_one_held", rep="r1"),
        m1("k2", "2026-01-07", "ride_along", rep="r1"),
        m1("k3", "2026-01-08", "call_listened", rep="r2"),
    ]
    report = run_filter(tmp_path, events, {"use": "rep_contact"}, macros=MACROS)
    assert_match(report, ["k1", "k3"])


def test_filter_macro_list_fires(tmp_path: Path) -> None:
    # use: [a, b] means both
    events = [
        m1("k1", "2026-01-06", "one_on_one_held", rep="r1"),
        m1("k2", "2026-01-07", "call_listened"),  # no rep: fails with_rep
        m1("k3", "2026-01-08", "ride_along", rep="r1"),  # not a rep_contact
    ]
    report = run_filter(tmp_path, events, {"use": ["rep_contact", "with_rep"]}, macros=MACROS)
    assert_match(report, ["k1"])


def test_filter_nested_macro_fires(tmp_path: Path) -> None:
    events = [
        m1("k1", "2026-01-06", "call_listened", rep="r1"),
        m1("k2", "2026-01-07", "team_meeting", attrs={"focus": "skills"}),
        m1("k3", "2026-01-08", "team_meeting", attrs={"focus": "morale"}),
        m1("k4", "2026-01-09", "ride_along", rep="r1"),
    ]
    report = run_filter(tmp_path, events, {"use": "method"}, macros=MACROS)
    assert_match(report, ["k1", "k2"])


def test_filter_macro_quiet(tmp_path: Path) -> None:
    events = [
        m1("k3", "2026-01-08", "team_meeting", attrs={"focus": "morale"}),
        m1("k4", "2026-01-09", "ride_along", rep="r1"),
    ]
    report = run_filter(tmp_path, events, {"use": "method"}, macros=MACROS)
    assert findings(report) == []


def test_filter_library_shared_by_several_rules(tmp_path: Path) -> None:
    """One _lib.yaml serves every rule of the directory."""
    rules_dir = tmp_path / "rules"
    write_library(rules_dir, lists=LISTS, macros=MACROS)
    write_rule(rules_dir, "t/one", match({"use": "rep_contact"}))
    write_rule(rules_dir, "t/two", match({"type": "@contact_types"}))
    events = FRAME + [
        m1("k1", "2026-01-06", "one_on_one_held", rep="r1"),
        m1("k2", "2026-01-07", "ride_along", rep="r1"),
        m1("k3", "2026-01-08", "call_listened", rep="r1"),
    ]
    log = write_events(tmp_path / "ev.jsonl", events)
    report = engine.check([str(log)], rules=[str(rules_dir)])
    assert one(report, "t/one").evidence == ["k1", "k3"]
    assert one(report, "t/two").evidence == ["k1", "k2"]


# ---------------------------------------------------------------------------------------------
# group by


def test_group_by_manager_default_fires(tmp_path: Path) -> None:
    events = FRAME + [
        ev("a1", "2026-01-06", "coaching_session", "m1", manager="m1", rep="r1"),
        ev("a2", "2026-01-07", "coaching_session", "m1", manager="m1", rep="r2"),
        ev("b1", "2026-01-06", "coaching_session", "m2", manager="m2", rep="r3"),
    ]
    report = run_rule(
        tmp_path, events, {"kind": "threshold", "where": {"type": "coaching_session"}, "op": "gte", "value": 2}
    )
    finding = one(report)  # m2 has one session only
    assert (finding.manager, finding.rep, finding.deal) == ("m1", None, None)
    assert finding.metrics["count"] == 2
    assert finding.evidence == ["a1", "a2"]
    assert (finding.window_start, finding.window_end) == (FRAME_START, FRAME_END)


def test_group_by_manager_quiet(tmp_path: Path) -> None:
    events = FRAME + [
        ev("a1", "2026-01-06", "coaching_session", "m1", manager="m1", rep="r1"),
        ev("b1", "2026-01-06", "coaching_session", "m2", manager="m2", rep="r3"),
    ]
    report = run_rule(
        tmp_path, events, {"kind": "threshold", "where": {"type": "coaching_session"}, "op": "gte", "value": 2}
    )
    assert findings(report) == []


def test_group_by_manager_rep_fires(tmp_path: Path) -> None:
    events = FRAME + [
        m1("a1", "2026-01-06", "coaching_session", rep="r1"),
        m1("a2", "2026-01-07", "coaching_session", rep="r2"),
        m1("a3", "2026-01-08", "coaching_session", rep="r1"),
    ]
    report = run_rule(
        tmp_path,
        events,
        {
            "kind": "threshold",
            "where": {"type": "coaching_session"},
            "group_by": ["manager", "rep"],
            "op": "gte",
            "value": 2,
        },
    )
    finding = one(report)  # (m1, r1) has 2, (m1, r2) has 1; together 3 would fire by manager
    assert (finding.manager, finding.rep, finding.deal) == ("m1", "r1", None)
    assert finding.metrics["count"] == 2
    assert finding.evidence == ["a1", "a3"]
    assert (finding.window_start, finding.window_end) == (FRAME_START, FRAME_END)


def test_group_by_rep_adds_manager(tmp_path: Path) -> None:
    """group_by: [rep] still keys on the manager (added when omitted)."""
    events = FRAME + [
        ev("a1", "2026-01-06", "coaching_session", "m1", manager="m1", rep="r1"),
        ev("a2", "2026-01-07", "coaching_session", "m2", manager="m2", rep="r1"),
    ]
    report = run_rule(
        tmp_path,
        events,
        {"kind": "threshold", "where": {"type": "coaching_session"}, "group_by": ["rep"], "op": "gte", "value": 2},
    )
    assert findings(report) == []  # r1 had one session with each of two managers


def test_group_by_manager_deal_fires(tmp_path: Path) -> None:
    events = FRAME + [
        m1("p1", "2026-01-06", "close_date_pushed", "r1", rep="r1", deal="D1"),
        m1("p2", "2026-01-07", "close_date_pushed", "r2", rep="r2", deal="D2"),
        m1("p3", "2026-01-08", "close_date_pushed", "r1", rep="r1", deal="D1"),
        m1("p4", "2026-01-09", "close_date_pushed", "r3", rep="r3", deal="D3"),
    ]
    report = run_rule(
        tmp_path,
        events,
        {
            "kind": "threshold",
            "where": {"type": "close_date_pushed"},
            "group_by": ["manager", "deal"],
            "op": "gte",
            "value": 2,
        },
    )
    finding = one(report)
    assert (finding.manager, finding.rep, finding.deal) == ("m1", None, "D1")
    assert finding.metrics["count"] == 2
    assert finding.evidence == ["p1", "p3"]
    assert (finding.window_start, finding.window_end) == (FRAME_START, FRAME_END)


def test_group_by_empty_key_not_counted(tmp_path: Path) -> None:
    events = FRAME + [
        m1("a1", "2026-01-06", "coaching_session", rep="r1"),
        m1("a2", "2026-01-07", "coaching_session"),  # no rep: not part of any (manager, rep) group
    ]
    report = run_rule(
        tmp_path,
        events,
        {
            "kind": "threshold",
            "where": {"type": "coaching_session"},
            "group_by": ["manager", "rep"],
            "op": "gte",
            "value": 2,
        },
    )
    assert findings(report) == []


def test_group_by_empty_deal_not_counted(tmp_path: Path) -> None:
    events = FRAME + [
        m1("p1", "2026-01-06", "close_date_pushed", "r1", rep="r1", deal="D1"),
        m1("p2", "2026-01-07", "close_date_pushed", "r1", rep="r1"),
        m1("p3", "2026-01-08", "close_date_pushed", "r1", rep="r1", deal="D1"),
        m1("p4", "2026-01-08 01:00", "close_date_pushed", "r1", rep="r1"),
    ]
    report = run_rule(
        tmp_path,
        events,
        {
            "kind": "threshold",
            "where": {"type": "close_date_pushed"},
            "group_by": ["manager", "deal"],
            "op": "gte",
            "value": 2,
        },
    )
    finding = one(report)  # the two deal-less pushes are not a group of their own
    assert finding.deal == "D1" and finding.evidence == ["p1", "p3"]


def test_group_by_unresolved_manager_not_counted(tmp_path: Path) -> None:
    events = FRAME + [
        m1("a1", "2026-01-06", "coaching_session", rep="r1"),
        ev("a2", "2026-01-07", "coaching_session", "someone", rep="r9"),  # nobody's team
    ]
    report = run_rule(
        tmp_path, events, {"kind": "threshold", "where": {"type": "coaching_session"}, "op": "gte", "value": 2}
    )
    assert findings(report) == []


def test_group_by_manager_resolved_via_rep(tmp_path: Path) -> None:
    events = FRAME + [
        added("j1", "2026-01-01", "m1", "r1"),
        ev("c1", "2026-01-06", "call_logged", "r1", rep="r1"),  # no manager: r1 is on m1's team
        ev("c2", "2026-01-07", "call_logged", "r1", rep="r1"),
        ev("c3", "2026-01-08", "call_logged", "r7", rep="r7"),  # r7 is on nobody's team
    ]
    report = run_rule(
        tmp_path, events, {"kind": "threshold", "where": {"type": "call_logged"}, "op": "gte", "value": 2}
    )
    finding = one(report)
    assert finding.manager == "m1"
    assert finding.evidence == ["c1", "c2"]
    # the roster says m1 led from Jan 1, the log covers Jan 5 - Jan 9: clipped to the log
    assert (finding.window_start, finding.window_end) == (FRAME_START, FRAME_END)


def test_group_by_manager_resolved_via_actor(tmp_path: Path) -> None:
    events = FRAME + [
        added("j1", "2026-01-01", "m1", "r1"),
        ev("e1", "2026-01-06", "email_sent", "r1"),  # neither manager nor rep: found through the actor
        ev("e2", "2026-01-07", "email_sent", "r1"),
        ev("e3", "2026-01-08", "email_sent", "x9"),  # unknown actor
    ]
    report = run_rule(tmp_path, events, {"kind": "threshold", "where": {"type": "email_sent"}, "op": "gte", "value": 2})
    finding = one(report)
    assert finding.manager == "m1"
    assert finding.evidence == ["e1", "e2"]


def test_group_by_manager_resolved_via_manager_actor(tmp_path: Path) -> None:
    events = FRAME + [
        added("j1", "2026-01-01", "m1", "r1"),
        ev("k1", "2026-01-06", "kpi_set", "m1", attrs={"kpis": ["calls"]}),  # the actor leads the team
    ]
    report = run_rule(tmp_path, events, match({"type": "kpi_set"}))
    assert one(report).manager == "m1"
    assert one(report).evidence == ["k1"]


def test_group_by_manager_resolved_at_event_time(tmp_path: Path) -> None:
    """r1 moves from m1 to m2 on Jan 7; each call belongs to the manager of its day."""
    events = FRAME + [
        added("j1", "2026-01-01", "m1", "r1"),
        removed("j2", "2026-01-07", "m1", "r1"),
        added("j3", "2026-01-07", "m2", "r1"),
        ev("c1", "2026-01-05 10:00", "call_logged", "r1", rep="r1"),
        ev("c2", "2026-01-06 10:00", "call_logged", "r1", rep="r1"),
        ev("c3", "2026-01-08 10:00", "call_logged", "r1", rep="r1"),
    ]
    report = run_rule(
        tmp_path, events, {"kind": "threshold", "where": {"type": "call_logged"}, "op": "gte", "value": 2}
    )
    finding = one(report)  # m2 has only c3
    assert finding.manager == "m1"
    assert finding.evidence == ["c1", "c2"]
    assert (finding.window_start, finding.window_end) == (FRAME_START, D("2026-01-07"))


# ---------------------------------------------------------------------------------------------
# windows


# Filler marking the log's span without belonging to any manager.
def span_marks(first: str, last: str) -> list[dict[str, Any]]:
    return [ev("span-a", first, "forecast_updated", "ops"), ev("span-b", last, "forecast_updated", "ops")]


def calls(
    ids_days: list[tuple[str, str]], manager: str = "m1", event_type: str = "call_listened"
) -> list[dict[str, Any]]:
    return [ev(i, d, event_type, manager, manager=manager, rep="r1") for i, d in ids_days]


def at_work(rep: str, first: str, last: str, every_days: int = 3) -> list[dict[str, Any]]:
    """The rep's own work: an email at noon every ``every_days`` days from ``first`` up to ``last``.

    A rep who is neither actor nor rep of any event for 14 days is taken to be away
    (``engine/lang/setup.py``), so the hand-built logs give their reps this activity.
    ``email_sent`` matches none of the rules that use it, and inside the log's first
    and last days it does not move the span.
    """
    day, end, out = dt.date.fromisoformat(first), dt.date.fromisoformat(last), []
    while day <= end:
        out.append(ev(f"{rep}-mail-{day}", f"{day} 12:00", "email_sent", rep, rep=rep))
        day += dt.timedelta(days=every_days)
    return out


def test_window_whole_min_days_fires(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-02-09") + calls([("c1", "2026-01-10 12:00")])
    logic = {
        "kind": "threshold",
        "where": {"type": "call_listened"},
        "window": {"whole": True, "min_days": 28},
        "op": "lt",
        "value": 2,
    }
    finding = one(run_rule(tmp_path, events, logic))
    # span Jan 1 - Feb 10: 40 days >= 28
    assert (finding.window_start, finding.window_end) == (D("2026-01-01"), D("2026-02-10"))
    assert finding.metrics["count"] == 1 and finding.evidence == ["c1"]


def test_window_whole_min_days_not_assessed(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-01-20") + calls([("c1", "2026-01-10 12:00")])
    logic = {
        "kind": "threshold",
        "where": {"type": "call_listened"},
        "window": {"whole": True, "min_days": 28},
        "op": "lt",
        "value": 2,
    }
    report = run_rule(tmp_path, events, logic)
    assert findings(report) == []  # 20 days only
    assert [(n.rule, n.manager, n.windows, n.not_assessed) for n in report.not_assessed] == [("t/rule", "m1", 1, 1)]


SLIDING = {
    "kind": "threshold",
    "where": {"type": "call_listened"},
    "window": {"sliding": "7d"},
    "op": "gte",
    "value": 3,
}


def test_window_sliding_burst_fires(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-01-31") + calls(
        [("c1", "2026-01-10 12:00"), ("c2", "2026-01-12 12:00"), ("c3", "2026-01-14 12:00")]
    )
    finding = one(run_rule(tmp_path, events, SLIDING))
    # the 7 days up to c3: [Jan 7 12:00, Jan 14 12:00] hold c1, c2, c3; the finding starts at c1
    assert finding.manager == "m1"
    assert finding.metrics["count"] == 3
    assert (finding.window_start, finding.window_end) == (D("2026-01-10 12:00"), D("2026-01-14 12:00"))
    assert finding.evidence == ["c1", "c2", "c3"]


def test_window_sliding_spread_quiet(tmp_path: Path) -> None:
    # the same three calls spread over 10 days: no 7-day stretch holds more than two
    events = span_marks("2026-01-01", "2026-01-31") + calls(
        [("c1", "2026-01-10 12:00"), ("c2", "2026-01-15 12:00"), ("c3", "2026-01-20 12:00")]
    )
    assert findings(run_rule(tmp_path, events, SLIDING)) == []


def test_window_sliding_overlapping_windows_merge(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-01-31") + calls(
        [("c1", "2026-01-10 12:00"), ("c2", "2026-01-11 12:00"), ("c3", "2026-01-12 12:00"), ("c4", "2026-01-13 12:00")]
    )
    finding = one(run_rule(tmp_path, events, SLIDING))
    # windows up to c3 [Jan 5 12:00, Jan 12 12:00] (3) and up to c4 [Jan 6 12:00, Jan 13 12:00] (4)
    # merge; the finding runs from the first qualifying call to the last firing one
    assert (finding.window_start, finding.window_end) == (D("2026-01-10 12:00"), D("2026-01-13 12:00"))
    assert finding.metrics["count"] == 4  # the peak window
    assert finding.evidence == ["c1", "c2", "c3", "c4"]


def test_window_sliding_two_bursts_two_findings(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-03-31") + calls(
        [
            ("c1", "2026-01-10 12:00"),
            ("c2", "2026-01-11 12:00"),
            ("c3", "2026-01-12 12:00"),
            ("c4", "2026-03-01 12:00"),
            ("c5", "2026-03-02 12:00"),
            ("c6", "2026-03-03 12:00"),
        ]
    )
    found = findings(run_rule(tmp_path, events, SLIDING))
    assert [(f.manager, f.window_start, f.window_end, f.metrics["count"], f.evidence) for f in found] == [
        ("m1", D("2026-01-10 12:00"), D("2026-01-12 12:00"), 3, ["c1", "c2", "c3"]),
        ("m1", D("2026-03-01 12:00"), D("2026-03-03 12:00"), 3, ["c4", "c5", "c6"]),
    ]


def test_window_sliding_starts_at_first_event_not_before_log(tmp_path: Path) -> None:
    events = span_marks("2026-01-09", "2026-01-31") + calls(
        [("c1", "2026-01-10 12:00"), ("c2", "2026-01-11 12:00"), ("c3", "2026-01-12 12:00")]
    )
    finding = one(run_rule(tmp_path, events, SLIDING))
    # Jan 12 12:00 - 7d = Jan 5 12:00 is before the log (Jan 9): the finding starts at c1
    assert (finding.window_start, finding.window_end) == (D("2026-01-10 12:00"), D("2026-01-12 12:00"))


MONTHLY = {
    "kind": "threshold",
    "where": {"type": "call_listened"},
    "window": {"calendar": "month"},
    "op": "gte",
    "value": 3,
}


def test_window_calendar_month_fires_per_period(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-03-31") + calls(
        [
            ("j1", "2026-01-03"),
            ("j2", "2026-01-15"),
            ("j3", "2026-01-31 23:00"),  # Jan: 3
            ("f1", "2026-02-01 00:00"),
            ("f2", "2026-02-20"),  # Feb: 2
            ("m1", "2026-03-02"),
            ("m2", "2026-03-03"),
            ("m3", "2026-03-04"),  # Mar: 3
        ]
    )
    found = findings(run_rule(tmp_path, events, MONTHLY))
    assert [(f.manager, f.window_start, f.window_end, f.metrics["count"], f.evidence) for f in found] == [
        ("m1", D("2026-01-01"), D("2026-02-01"), 3, ["j1", "j2", "j3"]),
        ("m1", D("2026-03-01"), D("2026-04-01"), 3, ["m1", "m2", "m3"]),
    ]


def test_window_calendar_month_quiet(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-02-28") + calls(
        [
            ("j1", "2026-01-30"),
            ("j2", "2026-01-31"),
            ("f1", "2026-02-01"),
            ("f2", "2026-02-02"),  # 4 within a week, but split 2 + 2 by months
        ]
    )
    assert findings(run_rule(tmp_path, events, MONTHLY)) == []


def test_window_calendar_consecutive_months_merge(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-03-31") + calls(
        [
            ("j1", "2026-01-03"),
            ("j2", "2026-01-15"),
            ("j3", "2026-01-20"),
            ("f1", "2026-02-02"),
            ("f2", "2026-02-03"),
            ("f3", "2026-02-04"),
            ("f4", "2026-02-05"),
            ("m1", "2026-03-02"),
        ]
    )
    finding = one(run_rule(tmp_path, events, MONTHLY))
    assert (finding.window_start, finding.window_end) == (D("2026-01-01"), D("2026-03-01"))
    assert finding.metrics["count"] == 4  # the peak month
    assert finding.evidence == ["j1", "j2", "j3", "f1", "f2", "f3", "f4"]


def test_window_calendar_week_iso_monday(tmp_path: Path) -> None:
    # 2026-01-12 is a Monday. Mon 12, Tue 13 and Sun 18 are one ISO week; a Sunday-start
    # week would split them 2 + 1.
    events = span_marks("2026-01-05", "2026-01-25") + calls(
        [("w1", "2026-01-12 09:00"), ("w2", "2026-01-13 09:00"), ("w3", "2026-01-18 20:00"), ("w4", "2026-01-19 09:00")]
    )
    logic = {**MONTHLY, "window": {"calendar": "week"}}
    finding = one(run_rule(tmp_path, events, logic))
    assert (finding.window_start, finding.window_end) == (D("2026-01-12"), D("2026-01-19"))
    assert finding.metrics["count"] == 3
    assert finding.evidence == ["w1", "w2", "w3"]


def test_window_calendar_week_quiet(tmp_path: Path) -> None:
    # Sun 11, Mon 12, Tue 13: a Sunday-start week would hold all three
    events = span_marks("2026-01-05", "2026-01-25") + calls(
        [("w1", "2026-01-11 09:00"), ("w2", "2026-01-12 09:00"), ("w3", "2026-01-13 09:00")]
    )
    logic = {**MONTHLY, "window": {"calendar": "week"}}
    assert findings(run_rule(tmp_path, events, logic)) == []


def test_window_calendar_quarter_fires(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-06-30") + calls(
        [
            ("q1", "2026-01-10"),
            ("q2", "2026-02-10"),
            ("q3", "2026-03-31 23:00"),
            ("q4", "2026-04-01 00:00"),
            ("q5", "2026-06-01"),
        ]
    )
    logic = {**MONTHLY, "window": {"calendar": "quarter"}}
    finding = one(run_rule(tmp_path, events, logic))
    assert (finding.window_start, finding.window_end) == (D("2026-01-01"), D("2026-04-01"))
    assert finding.metrics["count"] == 3
    assert finding.evidence == ["q1", "q2", "q3"]


def test_window_calendar_quarter_quiet(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-06-30") + calls(
        [("q1", "2026-03-30"), ("q2", "2026-03-31"), ("q4", "2026-04-01"), ("q5", "2026-04-02")]
    )
    logic = {**MONTHLY, "window": {"calendar": "quarter"}}
    assert findings(run_rule(tmp_path, events, logic)) == []


def test_window_calendar_lt_fires_on_empty_period(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-03-31") + calls([("j1", "2026-01-10"), ("m1", "2026-03-10")])
    logic = {
        "kind": "threshold",
        "where": {"type": "call_listened"},
        "window": {"calendar": "month"},
        "op": "lt",
        "value": 1,
    }
    finding = one(run_rule(tmp_path, events, logic))
    assert finding.manager == "m1"
    assert (finding.window_start, finding.window_end) == (D("2026-02-01"), D("2026-03-01"))
    assert finding.metrics["count"] == 0
    assert finding.evidence == []


def test_window_calendar_lt_quiet(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-03-31") + calls(
        [("j1", "2026-01-10"), ("f1", "2026-02-10"), ("m1", "2026-03-10")]
    )
    logic = {
        "kind": "threshold",
        "where": {"type": "call_listened"},
        "window": {"calendar": "month"},
        "op": "lt",
        "value": 1,
    }
    report = run_rule(tmp_path, events, logic)
    assert findings(report) == []
    assert report.not_assessed == []


def test_window_calendar_min_coverage_not_assessed(tmp_path: Path) -> None:
    # the log starts Jan 20: January is covered 12/31 = 0.39 < 0.75 (default min_coverage)
    events = span_marks("2026-01-20", "2026-03-31") + calls(
        [("f1", "2026-02-02"), ("f2", "2026-02-03"), ("m1", "2026-03-02"), ("m2", "2026-03-03")]
    )
    logic = {
        "kind": "threshold",
        "where": {"type": "call_listened"},
        "window": {"calendar": "month"},
        "op": "lt",
        "value": 2,
    }
    report = run_rule(tmp_path, events, logic)
    assert findings(report) == []  # an empty January would fire if it were judged
    assert [(n.rule, n.manager, n.windows, n.not_assessed) for n in report.not_assessed] == [("t/rule", "m1", 3, 1)]


def test_window_calendar_low_min_coverage_prorates(tmp_path: Path) -> None:
    events = span_marks("2026-01-20", "2026-03-31") + calls(
        [("f1", "2026-02-02"), ("f2", "2026-02-03"), ("m1", "2026-03-02"), ("m2", "2026-03-03")]
    )
    logic = {
        "kind": "threshold",
        "where": {"type": "call_listened"},
        "window": {"calendar": "month", "min_coverage": 0.3},
        "op": "lt",
        "value": 2,
    }
    report = run_rule(tmp_path, events, logic)
    finding = one(report)
    assert (finding.window_start, finding.window_end) == (D("2026-01-20"), D("2026-02-01"))
    assert finding.metrics["count"] == 0
    # 2 a month, 12 of 31 days covered: 0.77, rounded up to 1 (a count); the value as configured stays 2
    assert finding.threshold["value"] == 2
    assert finding.threshold["applied"] == 1
    assert finding.threshold["prorated"] == {"covered_days": 12, "period_days": 31}
    assert report.not_assessed == []


def _joined_on_the_8th(n_calls: int) -> list[dict[str, Any]]:
    # The log covers January (an ops event on Jan 1 and on Jan 31); m1 took over r1 on Jan 8:
    # led 24 of 31 days (0.774 >= 0.75), so a monthly target of 12 becomes 12 * 24 / 31 = 9.29, rounded up to 10.
    days = [f"2026-01-{d:02d} 10:00" for d in range(9, 9 + n_calls)]
    return (
        span_marks("2026-01-01", "2026-01-31")
        + [added("j1", "2026-01-08", "m1", "r1")]
        + [ev(f"c{i}", day, "call_listened", "m1", rep="r1") for i, day in enumerate(days, 1)]
    )


PRORATED = {
    "kind": "threshold",
    "where": {"type": "call_listened"},
    "window": {"calendar": "month", "min_coverage": 0.75, "prorate": True},
    "op": "lt",
    "value": 12,
}


def test_window_calendar_prorate_fires(tmp_path: Path) -> None:
    finding = one(run_rule(tmp_path, _joined_on_the_8th(9), PRORATED))
    assert finding.manager == "m1"
    assert (finding.window_start, finding.window_end) == (D("2026-01-08"), D("2026-02-01"))
    assert finding.metrics["count"] == 9
    assert finding.threshold["value"] == 12
    assert finding.threshold["applied"] == 10
    assert finding.threshold["prorated"] == {"covered_days": 24, "period_days": 31}
    assert finding.evidence == [f"c{i}" for i in range(1, 10)]


def test_window_calendar_prorate_quiet(tmp_path: Path) -> None:
    # 10 calls >= 10 (9.29 rounded up): fine for a manager who joined on the 8th (12 would be asked of a full month)
    assert findings(run_rule(tmp_path, _joined_on_the_8th(10), PRORATED)) == []


def test_window_calendar_prorate_off_uses_full_threshold(tmp_path: Path) -> None:
    logic = {**PRORATED, "window": {"calendar": "month", "prorate": False}}
    finding = one(run_rule(tmp_path, _joined_on_the_8th(10), logic))
    assert finding.threshold == {"metric": "count", "op": "<", "value": 12, "window": "month"}
    assert finding.metrics["count"] == 10


def test_window_calendar_prorate_not_assessed_when_joined_late(tmp_path: Path) -> None:
    # joined on the 9th: 23/31 = 0.742 < 0.75. The one listened call (1 < 10) would fire if January
    # were judged; it also means the log holds call_listened, so the rule is assessed at all.
    events = span_marks("2026-01-01", "2026-01-31") + [
        added("j1", "2026-01-09", "m1", "r1"),
        ev("c1", "2026-01-10 10:00", "call_listened", "m1", rep="r1"),
    ]
    report = run_rule(tmp_path, events, PRORATED)
    assert findings(report) == []
    assert [(n.manager, n.windows, n.not_assessed) for n in report.not_assessed] == [("m1", 1, 1)]


ZERO_CALLS = {
    "kind": "threshold",
    "where": {"type": "call_listened"},
    "window": {"calendar": "month"},
    "op": "lt",
    "value": 1,
}


def listening_team(manager: str = "m9", rep: str = "r9") -> list[dict[str, Any]]:
    """Another team, listening to one call on the 5th of each month, January to April 2026.

    A log without any call_listened leaves ZERO_CALLS not assessed for everyone, and a
    log whose first one comes late clips every team to it: this team's calls put the
    type in the log from its first week. It has no roster entries, so it is judged over
    the whole log, and it is quiet there (one call a month, never fewer than 1).
    """
    return [
        ev(f"{manager}-l{month}", f"2026-{month:02d}-05 10:00", "call_listened", manager, manager=manager, rep=rep)
        for month in range(1, 5)
    ]


def test_window_clipped_to_roster_join(tmp_path: Path) -> None:
    # log: Jan 1 - Apr 30; m2 takes over r5 on Mar 1 and never listens to a call (m9's team does)
    events = span_marks("2026-01-01", "2026-04-30") + listening_team() + [added("j1", "2026-03-01", "m2", "r5")]
    report = run_rule(tmp_path, events, ZERO_CALLS)
    finding = one(report)
    assert finding.manager == "m2"
    assert (finding.window_start, finding.window_end) == (D("2026-03-01"), D("2026-05-01"))
    assert finding.metrics["count"] == 0
    assert report.not_assessed == []


def test_window_clipped_to_roster_removal(tmp_path: Path) -> None:
    # m3 leads r6 from before the log until Mar 1 (r6 transferred away); m9's team listens
    events = (
        span_marks("2026-01-01", "2026-04-30")
        + listening_team()
        + [
            added("j1", "2025-11-01", "m3", "r6"),
            removed("j2", "2026-03-01", "m3", "r6"),
        ]
    )
    finding = one(run_rule(tmp_path, events, ZERO_CALLS))
    assert finding.manager == "m3"
    assert (finding.window_start, finding.window_end) == (D("2026-01-01"), D("2026-03-01"))


def test_window_clipped_to_roster_quiet_outside_tenure(tmp_path: Path) -> None:
    # m4 led r7 in January only and listened then; the empty Feb-Apr are not m4's to answer for
    events = span_marks("2026-01-01", "2026-04-30") + [
        added("j1", "2026-01-01", "m4", "r7"),
        removed("j2", "2026-02-01", "m4", "r7"),
        ev("c1", "2026-01-15", "call_listened", "m4", rep="r7"),
    ]
    report = run_rule(tmp_path, events, ZERO_CALLS)
    assert findings(report) == []


def test_window_sliding_clipped_to_roster_join(tmp_path: Path) -> None:
    # calls before m2 joined belong to nobody's judged time
    events = span_marks("2026-01-01", "2026-01-31") + [
        ev("c1", "2026-01-10 12:00", "call_listened", "m2", manager="m2", rep="r5"),
        ev("c2", "2026-01-11 12:00", "call_listened", "m2", manager="m2", rep="r5"),
        added("j1", "2026-01-12", "m2", "r5"),
        ev("c3", "2026-01-12 12:00", "call_listened", "m2", manager="m2", rep="r5"),
    ]
    assert findings(run_rule(tmp_path, events, SLIDING)) == []


def test_window_whole_each_led_period(tmp_path: Path) -> None:
    # m1 led r1 in January and again in March; February and April are not m1's. m9's team
    # listens from Jan 5, so January is judged although m1's own first call is in February.
    events = (
        span_marks("2026-01-01", "2026-04-30")
        + listening_team()
        + [
            added("j1", "2026-01-01", "m1", "r1"),
            removed("j2", "2026-02-01", "m1", "r1"),
            added("j3", "2026-03-01", "m1", "r1"),
            removed("j4", "2026-04-01", "m1", "r1"),
            ev("c1", "2026-02-15", "call_listened", "m1", manager="m1", rep="r1"),  # outside both periods
        ]
    )
    logic = {"kind": "threshold", "where": {"type": "call_listened"}, "op": "lt", "value": 1}
    found = findings(run_rule(tmp_path, events, logic))
    assert [(f.manager, f.window_start, f.window_end, f.metrics["count"], f.evidence) for f in found] == [
        ("m1", D("2026-01-01"), D("2026-02-01"), 0, []),
        ("m1", D("2026-03-01"), D("2026-04-01"), 0, []),
    ]


# ---------------------------------------------------------------------------------------------
# kinds: match


def test_match_min_events_fires(tmp_path: Path) -> None:
    events = FRAME + [m1(f"k{i}", f"2026-01-0{5 + i}", "kpi_set", attrs={"kpis": ["a"]}) for i in (1, 2, 3)]
    report = run_rule(tmp_path, events, match({"type": "kpi_set"}, min_events=3))
    assert_match(report, ["k1", "k2", "k3"])


def test_match_min_events_quiet(tmp_path: Path) -> None:
    events = FRAME + [m1(f"k{i}", f"2026-01-0{5 + i}", "kpi_set", attrs={"kpis": ["a"]}) for i in (1, 2)]
    report = run_rule(tmp_path, events, match({"type": "kpi_set"}, min_events=3))
    assert findings(report) == []


def test_match_default_min_events_is_one(tmp_path: Path) -> None:
    events = FRAME + [m1("k1", "2026-01-06", "kpi_set", attrs={"kpis": ["a"]})]
    assert_match(run_rule(tmp_path, events, match({"type": "kpi_set"})), ["k1"])


# ---------------------------------------------------------------------------------------------
# kinds: threshold

DEALS_WON = FRAME + [
    m1("w1", "2026-01-06", "deal_closed_won", "r1", rep="r1", deal="D1", attrs={"amount": 100}),
    m1("w2", "2026-01-07", "deal_closed_won", "r2", rep="r2", deal="D2", attrs={"amount": 9}),
    m1("w3", "2026-01-08", "deal_closed_won", "r2", rep="r2", deal="D3", attrs={"amount": 50}),
    m1("w4", "2026-01-08 01:00", "deal_closed_lost", "r3", rep="r3", deal="D4"),
]


def threshold(metric: dict[str, Any], op: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "threshold",
        "where": {"type": "deal_closed_won"},
        "metric": metric,
        "op": op,
        "value": value,
        **extra,
    }


def test_threshold_count_fires(tmp_path: Path) -> None:
    finding = one(run_rule(tmp_path, DEALS_WON, threshold({"count": True}, "gte", 3)))
    assert finding.metrics == {"count": 3}
    assert finding.evidence == ["w1", "w2", "w3"]
    assert (finding.window_start, finding.window_end) == (FRAME_START, FRAME_END)
    assert finding.threshold == {"metric": "count", "op": ">=", "value": 3, "window": "whole"}


def test_threshold_count_quiet(tmp_path: Path) -> None:
    assert findings(run_rule(tmp_path, DEALS_WON, threshold({"count": True}, "gte", 4))) == []


def test_threshold_distinct_fires(tmp_path: Path) -> None:
    finding = one(
        run_rule(tmp_path, DEALS_WON, threshold({"distinct": "rep"}, "gte", 2), message="{distinct_rep} reps")
    )
    assert finding.metrics == {"count": 3, "distinct_rep": 2}  # r1, r2 (r3 lost)
    assert finding.message == "2 reps"
    assert finding.evidence == ["w1", "w2", "w3"]


def test_threshold_distinct_quiet(tmp_path: Path) -> None:
    assert findings(run_rule(tmp_path, DEALS_WON, threshold({"distinct": "rep"}, "gte", 3))) == []


def test_threshold_sum_fires(tmp_path: Path) -> None:
    finding = one(run_rule(tmp_path, DEALS_WON, threshold({"sum": "attrs.amount"}, "gte", 159)))
    assert finding.metrics["sum_amount"] == 159  # 100 + 9 + 50
    assert finding.threshold["metric"] == "sum_amount"


def test_threshold_sum_quiet(tmp_path: Path) -> None:
    assert findings(run_rule(tmp_path, DEALS_WON, threshold({"sum": "attrs.amount"}, "gt", 159))) == []


def test_threshold_avg_fires(tmp_path: Path) -> None:
    finding = one(run_rule(tmp_path, DEALS_WON, threshold({"avg": "attrs.amount"}, "eq", 53)))
    assert finding.metrics["avg_amount"] == 53  # 159 / 3


def test_threshold_avg_quiet(tmp_path: Path) -> None:
    assert findings(run_rule(tmp_path, DEALS_WON, threshold({"avg": "attrs.amount"}, "gt", 53))) == []


def test_threshold_max_fires(tmp_path: Path) -> None:
    # numerically 100 is the largest (as text "9" would be)
    finding = one(run_rule(tmp_path, DEALS_WON, threshold({"max": "attrs.amount"}, "gte", 100)))
    assert finding.metrics["max_amount"] == 100


def test_threshold_max_quiet(tmp_path: Path) -> None:
    assert findings(run_rule(tmp_path, DEALS_WON, threshold({"max": "attrs.amount"}, "gt", 100))) == []


def test_threshold_min_fires(tmp_path: Path) -> None:
    finding = one(run_rule(tmp_path, DEALS_WON, threshold({"min": "attrs.amount"}, "lt", 10)))
    assert finding.metrics["min_amount"] == 9


def test_threshold_min_quiet(tmp_path: Path) -> None:
    assert findings(run_rule(tmp_path, DEALS_WON, threshold({"min": "attrs.amount"}, "lt", 9))) == []


def test_threshold_metric_name(tmp_path: Path) -> None:
    finding = one(
        run_rule(
            tmp_path, DEALS_WON, threshold({"sum": "attrs.amount", "name": "won"}, "gte", 150), message="won {won:.0f}"
        )
    )
    assert finding.metrics["won"] == 159
    assert finding.message == "won 159"


def test_threshold_also_fires(tmp_path: Path) -> None:
    logic = threshold({"count": True}, "gte", 3, also=[{"metric": {"distinct": "rep"}, "op": "gte", "value": 2}])
    finding = one(run_rule(tmp_path, DEALS_WON, logic))
    assert finding.metrics == {"count": 3, "distinct_rep": 2}
    assert finding.evidence == ["w1", "w2", "w3"]


def test_threshold_also_quiet(tmp_path: Path) -> None:
    logic = threshold({"count": True}, "gte", 3, also=[{"metric": {"distinct": "rep"}, "op": "gte", "value": 3}])
    assert findings(run_rule(tmp_path, DEALS_WON, logic)) == []


def test_threshold_also_unmet_is_not_reported_as_not_assessed(tmp_path: Path) -> None:
    """`also` is part of the finding's condition, not minimum support: a window that fails it
    was judged (and passed); it must not be listed as 'below the rule's minimum data'."""
    logic = threshold({"count": True}, "gte", 3, also=[{"metric": {"distinct": "rep"}, "op": "gte", "value": 3}])
    report = run_rule(tmp_path, DEALS_WON, logic)
    assert findings(report) == []
    assert report.not_assessed == []


ONE_ON_ONES = {
    "kind": "threshold",
    "where": {"type": "one_on_one_held"},
    "metric": {"avg": "attrs.duration_min"},
    "op": "lt",
    "value": 30,
    "min_events": 3,
}


def test_threshold_min_events_fires(tmp_path: Path) -> None:
    events = FRAME + [
        m1(f"o{i}", f"2026-01-0{5 + i}", "one_on_one_held", rep="r1", attrs={"duration_min": d})
        for i, d in ((1, 20), (2, 25), (3, 15))
    ]
    finding = one(run_rule(tmp_path, events, ONE_ON_ONES))
    assert finding.metrics == {"count": 3, "avg_duration_min": 20}
    assert finding.evidence == ["o1", "o2", "o3"]


def test_threshold_min_events_not_assessed(tmp_path: Path) -> None:
    events = FRAME + [
        m1(f"o{i}", f"2026-01-0{5 + i}", "one_on_one_held", rep="r1", attrs={"duration_min": d})
        for i, d in ((1, 20), (2, 25))
    ]
    report = run_rule(tmp_path, events, ONE_ON_ONES)
    assert findings(report) == []  # avg 22.5 < 30, but two meetings are too few to judge
    assert [(n.rule, n.manager, n.windows, n.not_assessed) for n in report.not_assessed] == [("t/rule", "m1", 1, 1)]
    assert "minimum data" in report.not_assessed[0].reason


# ---------------------------------------------------------------------------------------------
# kinds: ratio


def misses(*categories: str | None) -> list[dict[str, Any]]:
    out = []
    for i, category in enumerate(categories, 1):
        attrs = {"cause_category": category} if category else {}
        out.append(m1(f"x{i}", f"2026-01-0{5 + i % 5} 0{i}:00", "forecast_miss_explained", attrs=attrs))
    return FRAME + out


RATIO = {
    "kind": "ratio",
    "where": {"type": "forecast_miss_explained"},
    "numerator": {"name": "external", "where": {"attrs.cause_category": {"in": ["market", "pricing", "competition"]}}},
    "denominator": {"name": "explained", "where": {}},
    "op": "gte",
    "value": 0.7,
    "min_numerator": 1,
    "min_denominator": 1,
}
RATIO_MSG = "{external} of {explained} ({ratio:.0%})"


def test_ratio_fires(tmp_path: Path) -> None:
    report = run_rule(tmp_path, misses("market", "pricing", "execution", "competition"), RATIO, message=RATIO_MSG)
    finding = one(report)
    assert finding.manager == "m1"
    assert finding.metrics == {"external": 3, "explained": 4, "ratio": 0.75}
    assert finding.message == "3 of 4 (75%)"
    assert finding.evidence == ["x1", "x2", "x4"]  # the numerator's events
    assert (finding.window_start, finding.window_end) == (FRAME_START, FRAME_END)


def test_ratio_quiet(tmp_path: Path) -> None:
    report = run_rule(tmp_path, misses("market", "execution", "skills", "competition"), RATIO, message=RATIO_MSG)
    assert findings(report) == []  # 2 / 4 = 0.5
    assert report.not_assessed == []


def test_ratio_min_numerator_is_a_volume_gate(tmp_path: Path) -> None:
    logic = {**RATIO, "min_numerator": 3}
    report = run_rule(tmp_path, misses("market", "pricing"), logic, message=RATIO_MSG)
    assert findings(report) == []  # 2 / 2 = 1.0, but two external misses are too few to be a pattern
    assert report.not_assessed == []  # the window was judged: the volume is simply not there


def test_ratio_min_denominator_not_assessed(tmp_path: Path) -> None:
    logic = {**RATIO, "min_denominator": 5}
    report = run_rule(tmp_path, misses("market", "pricing", "competition", "execution"), logic, message=RATIO_MSG)
    assert findings(report) == []  # 3 / 4 = 0.75, over 4 explanations only
    assert [(n.manager, n.windows, n.not_assessed) for n in report.not_assessed] == [("m1", 1, 1)]


def test_ratio_min_support_met_fires(tmp_path: Path) -> None:
    logic = {**RATIO, "min_numerator": 3, "min_denominator": 4}
    finding = one(run_rule(tmp_path, misses("market", "pricing", "competition", "execution"), logic, message=RATIO_MSG))
    assert finding.metrics == {"external": 3, "explained": 4, "ratio": 0.75}


def test_ratio_zero_denominator_never_fires(tmp_path: Path) -> None:
    # ratio of external blames to own-execution admissions: no admission at all
    logic = {
        **RATIO,
        "min_numerator": 0,
        "denominator": {"name": "own", "where": {"attrs.cause_category": "execution"}},
        "op": "gte",
        "value": 0.5,
    }
    report = run_rule(tmp_path, misses("market", "pricing", "competition"), logic, message="{external} / {own}")
    assert findings(report) == []
    assert [(n.manager, n.not_assessed) for n in report.not_assessed] == [("m1", 1)]


def test_ratio_lt_fires(tmp_path: Path) -> None:
    logic = {**RATIO, "op": "lt", "value": 0.5}
    finding = one(run_rule(tmp_path, misses("market", "execution", "skills", "process"), logic, message=RATIO_MSG))
    assert finding.metrics == {"external": 1, "explained": 4, "ratio": 0.25}
    assert finding.evidence == ["x1"]


# ---------------------------------------------------------------------------------------------
# kinds: sequence

TAKEOVER = {
    "kind": "sequence",
    "first": {"where": {"type": "deal_owner_changed", "attrs.to_role": "manager"}},
    "then": {"where": {"type": "deal_closed_won"}},
    "same": ["deal"],
    "pairs": [{"left": "then.actor", "op": "eq", "right": "first.attrs.to"}],
    "within": "30d",
    "op": "gte",
    "value": 2,
}


def takeover(
    a_id: str,
    a_day: str,
    b_id: str,
    b_day: str,
    deal: str,
    *,
    closer: str = "m1",
    b_deal: str | None = None,
    to: str = "m1",
) -> list[dict[str, Any]]:
    return [
        ev(
            a_id,
            a_day,
            "deal_owner_changed",
            "m1",
            manager="m1",
            rep="r1",
            deal=deal,
            attrs={"from": "r1", "to": to, "to_role": "manager"},
        ),
        ev(b_id, b_day, "deal_closed_won", closer, manager="m1", rep="r1", deal=b_deal or deal, attrs={"amount": 1000}),
    ]


def test_sequence_fires(tmp_path: Path) -> None:
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + takeover("a1", "2026-01-05", "b1", "2026-01-20", "D1")
        + takeover("a2", "2026-02-01", "b2", "2026-03-02 23:00", "D2")
    )  # 29d 23h: inside 30d
    finding = one(run_rule(tmp_path, events, TAKEOVER))
    assert (finding.manager, finding.deal) == ("m1", None)
    assert finding.metrics == {"count": 2}
    assert finding.evidence == ["a1", "b1", "a2", "b2"]
    assert (finding.window_start, finding.window_end) == (D("2026-01-01"), D("2026-04-01"))


def test_sequence_outside_within_quiet(tmp_path: Path) -> None:
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + takeover("a1", "2026-01-05", "b1", "2026-01-20", "D1")
        + takeover("a2", "2026-02-01", "b2", "2026-03-03 01:00", "D2")
    )  # 30d 1h: too late
    assert findings(run_rule(tmp_path, events, TAKEOVER)) == []


def test_sequence_different_key_quiet(tmp_path: Path) -> None:
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + takeover("a1", "2026-01-05", "b1", "2026-01-20", "D1")
        + takeover("a2", "2026-02-01", "b2", "2026-02-10", "D2", b_deal="D3")
    )  # won a different deal
    assert findings(run_rule(tmp_path, events, TAKEOVER)) == []


def test_sequence_b_before_a_quiet(tmp_path: Path) -> None:
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + takeover("a1", "2026-01-05", "b1", "2026-01-20", "D1")
        + takeover("a2", "2026-02-10", "b2", "2026-02-01", "D2")
    )  # won before the takeover
    assert findings(run_rule(tmp_path, events, TAKEOVER)) == []


def test_sequence_pairs_quiet(tmp_path: Path) -> None:
    # the second deal was handed to m1 but closed by the rep: then.actor != first.attrs.to
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + takeover("a1", "2026-01-05", "b1", "2026-01-20", "D1")
        + takeover("a2", "2026-02-01", "b2", "2026-02-10", "D2", closer="r1")
    )
    assert findings(run_rule(tmp_path, events, TAKEOVER)) == []


def test_sequence_pairs_fires(tmp_path: Path) -> None:
    logic = {**TAKEOVER, "value": 1}
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + takeover("a1", "2026-01-05", "b1", "2026-01-20", "D1", closer="r1")
        + takeover("a2", "2026-02-01", "b2", "2026-02-10", "D2")
    )
    finding = one(run_rule(tmp_path, events, logic))
    assert finding.metrics == {"count": 1}
    assert finding.evidence == ["a2", "b2"]


def test_sequence_sliding_window(tmp_path: Path) -> None:
    logic = {**TAKEOVER, "window": {"sliding": "30d"}}
    events = (
        span_marks("2026-01-01", "2026-06-30")
        + takeover("a1", "2026-01-05", "b1", "2026-01-20", "D1")
        + takeover("a2", "2026-02-01", "b2", "2026-02-10", "D2")
        + takeover("a3", "2026-05-01", "b3", "2026-05-10", "D3")
    )  # alone in its 30 days
    finding = one(run_rule(tmp_path, events, logic))
    # the 30 days up to b2 (Jan 11 - Feb 10) hold b1 and b2
    assert (finding.window_start, finding.window_end) == (D("2026-01-11"), D("2026-02-10"))
    assert finding.metrics == {"count": 2}
    assert finding.evidence == ["a1", "b1", "a2", "b2"]


CHURN = {
    "kind": "sequence",
    "first": {"where": {"type": "strategy_changed"}},
    "then": {"where": {"type": "strategy_changed"}},
    "same": ["manager"],
    "within": "30d",
    "op": "gte",
    "value": 1,
}


def changes(*days: str) -> list[dict[str, Any]]:
    return span_marks("2026-01-01", "2026-03-31") + [
        ev(f"s{i}", day, "strategy_changed", "m1", manager="m1", attrs={"area": "messaging"})
        for i, day in enumerate(days, 1)
    ]


def test_sequence_first_min_fires(tmp_path: Path) -> None:
    # s3 (Jan 20) has two changes in the 30 days before it (s1 Jan 1, s2 Jan 10); s2 only one
    finding = one(run_rule(tmp_path, changes("2026-01-01", "2026-01-10", "2026-01-20"), {**CHURN, "first_min": 2}))
    assert finding.metrics == {"count": 1}
    assert finding.evidence == ["s1", "s2", "s3"]


def test_sequence_first_min_quiet(tmp_path: Path) -> None:
    report = run_rule(tmp_path, changes("2026-01-01", "2026-01-10", "2026-01-20"), {**CHURN, "first_min": 3})
    assert findings(report) == []


def test_sequence_first_min_default_counts_each_b(tmp_path: Path) -> None:
    # with first_min 1, s2 and s3 both count; s4 comes 40 days after s3
    finding = one(
        run_rule(tmp_path, changes("2026-01-01", "2026-01-10", "2026-01-20", "2026-03-01"), {**CHURN, "value": 2})
    )
    assert finding.metrics == {"count": 2}
    assert finding.evidence == ["s1", "s2", "s3"]


WITHOUT = {
    "kind": "sequence",
    "first": {"where": {"type": "deal_owner_changed"}},
    "then": {"where": {"type": "deal_closed_won"}},
    "same": ["deal"],
    "within": "60d",
    "without": {"where": {"type": ["call_logged", "meeting_held"]}, "within": "30d"},
    "op": "gte",
    "value": 1,
}


def test_sequence_without_quiet_spell_fires(tmp_path: Path) -> None:
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + takeover("a1", "2026-01-05", "b1", "2026-02-20", "D1")
        + [
            ev("c1", "2026-01-10", "call_logged", "r1", manager="m1", rep="r1", deal="D1"),  # 41d before b1
            ev("c2", "2026-02-15", "call_logged", "r1", manager="m1", rep="r1", deal="D9"),  # another deal
        ]
    )
    finding = one(run_rule(tmp_path, events, WITHOUT))
    assert finding.metrics == {"count": 1}
    assert finding.evidence == ["a1", "b1"]


def test_sequence_without_activity_quiet(tmp_path: Path) -> None:
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + takeover("a1", "2026-01-05", "b1", "2026-02-20", "D1")
        + [
            ev("c1", "2026-02-10", "meeting_held", "r1", manager="m1", rep="r1", deal="D1"),  # 10d before b1
        ]
    )
    assert findings(run_rule(tmp_path, events, WITHOUT)) == []


ABSENT = {
    "kind": "sequence",
    "first": {"where": {"type": "quota_result", "attrs.attainment": {"lt": 0.7}}},
    "then": {"where": {"type": ["performance_plan_started", "coaching_session"]}},
    "same": ["rep"],
    "within": "45d",
    "absent": True,
    "group_by": ["manager", "rep"],
    "op": "gte",
    "value": 1,
}


def quota(event_id: str, day: str, rep: str, attainment: float) -> dict[str, Any]:
    return ev(
        event_id, day, "quota_result", rep, manager="m1", rep=rep, attrs={"period": "2025-Q4", "attainment": attainment}
    )


def test_sequence_absent_fires(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-04-30") + [
        quota("q1", "2026-01-05", "r1", 0.5),  # never followed up
        quota("q2", "2026-01-05", "r2", 0.5),
        ev("h2", "2026-02-01", "coaching_session", "m1", manager="m1", rep="r2"),  # 27d later
        quota("q4", "2026-01-05", "r4", 0.9),  # not a miss
    ]
    finding = one(run_rule(tmp_path, events, ABSENT))
    assert (finding.manager, finding.rep) == ("m1", "r1")
    assert finding.metrics == {"count": 1}
    assert finding.evidence == ["q1"]
    assert (finding.window_start, finding.window_end) == (D("2026-01-01"), D("2026-05-01"))


def test_sequence_absent_followed_up_quiet(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-04-30") + [
        quota("q2", "2026-01-05", "r2", 0.5),
        ev("h2", "2026-02-18", "performance_plan_started", "m1", manager="m1", rep="r2"),  # 44d later
    ]
    assert findings(run_rule(tmp_path, events, ABSENT)) == []


def test_sequence_absent_follow_up_too_late_fires(tmp_path: Path) -> None:
    events = span_marks("2026-01-01", "2026-04-30") + [
        quota("q2", "2026-01-05", "r2", 0.5),
        ev("h2", "2026-02-20", "performance_plan_started", "m1", manager="m1", rep="r2"),  # 46d later
    ]
    finding = one(run_rule(tmp_path, events, ABSENT))
    assert (finding.rep, finding.evidence) == ("r2", ["q2"])


# A coaching session with a rep who missed nothing: it answers no miss, but a log without any
# performance_plan_started or coaching_session leaves ABSENT not assessed for everyone.
ANSWER_LOGGED = ev("h9", "2026-02-01", "coaching_session", "m1", manager="m1", rep="r9")


def test_sequence_absent_near_end_of_log_not_counted(tmp_path: Path) -> None:
    # the log ends Apr 30 (span end May 1): a miss on Apr 1 could still be followed up by May 16
    events = span_marks("2026-01-01", "2026-04-30") + [ANSWER_LOGGED, quota("q3", "2026-04-01", "r3", 0.5)]
    assert findings(run_rule(tmp_path, events, ABSENT)) == []


def test_sequence_absent_exactly_within_before_end_counted(tmp_path: Path) -> None:
    # Mar 17 + 45d = May 1 = the end of the log: it is known that nothing followed
    events = span_marks("2026-01-01", "2026-04-30") + [ANSWER_LOGGED, quota("q3", "2026-03-17", "r3", 0.5)]
    finding = one(run_rule(tmp_path, events, ABSENT))
    assert (finding.rep, finding.evidence) == ("r3", ["q3"])


# ---------------------------------------------------------------------------------------------
# kinds: absence

ABSENCE = {
    "kind": "absence",
    "group_by": ["manager", "rep"],
    "where": {"type": ["one_on_one_held", "call_listened", "ride_along", "coaching_session"]},
    "max_gap": "35d",
}
ABSENCE_MSG = "{longest_gap_days:.0f} days"


def contact(event_id: str, day: str, rep: str = "r1", event_type: str = "one_on_one_held") -> dict[str, Any]:
    return ev(event_id, day, event_type, "m1", rep=rep)


# In these logs every rep is at work (an email every three days, at_work) unless a test says
# otherwise: a rep with no event at all for 14 days is taken to be away, and days away are no
# one's gap. The contacts themselves are also events of the rep.


def other_team(manager: str = "m2", rep: str = "r2") -> list[dict[str, Any]]:
    """A second team over Jan 1 - Mar 31: a one-on-one every 14 days from Jan 2, its rep at work.

    Its Jan 2 one-on-one shows the log holds one-on-ones from its first week, so a team with
    no contact at all, or with a lone late first one (a manager who rarely meets, not a tool
    connected late), is judged from the start of its period. Quiet: no gap over 14 days.
    """
    days = [dt.date(2026, 1, 2) + dt.timedelta(days=14 * i) for i in range(7)]  # Jan 2, 16, ... Mar 27
    return (
        [added(f"{manager}-in", "2026-01-01", manager, rep)]
        + [ev(f"{manager}-o{i}", f"{day} 10:00", "one_on_one_held", manager, rep=rep) for i, day in enumerate(days)]
        + at_work(rep, "2026-01-01", "2026-03-31")
    )


def test_absence_fires(tmp_path: Path) -> None:
    # scope Jan 1 - Apr 1 (90 days); gaps 9, 46, 13, 22 days; r1 at work throughout, nothing away
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + at_work("r1", "2026-01-01", "2026-03-31")
        + [
            added("j1", "2026-01-01", "m1", "r1"),
            contact("c1", "2026-01-10"),
            contact("c2", "2026-02-25", event_type="ride_along"),
            contact("c3", "2026-03-10"),
            contact("x1", "2026-02-01", event_type="call_logged"),  # not a contact
        ]
    )
    finding = one(run_rule(tmp_path, events, ABSENCE, message=ABSENCE_MSG))
    assert (finding.manager, finding.rep) == ("m1", "r1")
    assert (finding.window_start, finding.window_end) == (D("2026-01-10"), D("2026-02-25"))
    assert finding.metrics == {"longest_gap_days": 46, "gaps_over": 1, "contacts": 3, "scope_days": 90, "away_days": 0}
    assert finding.evidence == ["c1", "c2"]
    assert finding.message == "46 days"


def test_absence_gap_of_exactly_max_gap_fires(tmp_path: Path) -> None:
    # gaps 9, 35, 15, 24, 7 days: "at or over" max_gap
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + at_work("r1", "2026-01-01", "2026-03-31")
        + [
            added("j1", "2026-01-01", "m1", "r1"),
            contact("c1", "2026-01-10"),
            contact("c2", "2026-02-14"),
            contact("c3", "2026-03-01"),
            contact("c4", "2026-03-25"),
        ]
    )
    finding = one(run_rule(tmp_path, events, ABSENCE, message=ABSENCE_MSG))
    assert (finding.window_start, finding.window_end) == (D("2026-01-10"), D("2026-02-14"))
    assert finding.metrics == {"longest_gap_days": 35, "gaps_over": 1, "contacts": 4, "scope_days": 90, "away_days": 0}
    assert finding.evidence == ["c1", "c2"]


def test_absence_regular_contact_quiet(tmp_path: Path) -> None:
    # a one-on-one on the 12th of each month: gaps 11, 31, 28, 20 days. The first comes within
    # 14 days of the period's start, so one-on-ones count as logged from Jan 1 (a first one on
    # Jan 20, with no other team logging them, would leave Jan 1 - 20 not assessed).
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + [added("j1", "2026-01-01", "m1", "r1")]
        + at_work("r1", "2026-01-01", "2026-03-31")
        + [contact(f"c{i}", day) for i, day in enumerate(["2026-01-12", "2026-02-12", "2026-03-12"], 1)]
    )
    report = run_rule(tmp_path, events, ABSENCE, message=ABSENCE_MSG)
    assert findings(report) == []
    assert report.not_assessed == []


def test_absence_gap_from_start_cites_roster_event(tmp_path: Path) -> None:
    # m1's first contact with r1 comes 45 days after r1 joined. m2's team logs one-on-ones from
    # Jan 2 (other_team), so the log holds them from its first week: m1's lone late first
    # contact is a gap, not a tool connected late.
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + other_team()
        + at_work("r1", "2026-01-01", "2026-03-31")
        + [
            added("j1", "2026-01-01", "m1", "r1"),
            contact("c1", "2026-02-15"),
            contact("c2", "2026-03-01"),
            contact("c3", "2026-03-20"),
        ]
    )
    finding = one(run_rule(tmp_path, events, ABSENCE, message=ABSENCE_MSG))
    assert (finding.window_start, finding.window_end) == (D("2026-01-01"), D("2026-02-15"))
    assert finding.metrics["longest_gap_days"] == 45
    assert finding.evidence == ["j1", "c1"]


def test_absence_gap_to_end_of_tenure(tmp_path: Path) -> None:
    events = (
        span_marks("2026-01-01", "2026-04-30")
        + at_work("r1", "2026-01-01", "2026-03-30")  # at work while on m1's team
        + [
            added("j1", "2026-01-01", "m1", "r1"),
            removed("j2", "2026-03-31", "m1", "r1"),
            contact("c1", "2026-01-10"),
            contact("c2", "2026-02-01"),
            contact("c3", "2026-02-20"),
        ]
    )
    finding = one(run_rule(tmp_path, events, ABSENCE, message=ABSENCE_MSG))
    # Feb 20 -> Mar 31 (removal) is 39 days; the empty April is not m1's
    assert (finding.window_start, finding.window_end) == (D("2026-02-20"), D("2026-03-31"))
    assert finding.metrics == {"longest_gap_days": 39, "gaps_over": 1, "contacts": 3, "scope_days": 89, "away_days": 0}
    assert finding.evidence == ["c3", "j2"]


def test_absence_per_rep(tmp_path: Path) -> None:
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + at_work("r1", "2026-01-01", "2026-03-31")
        + at_work("r2", "2026-01-01", "2026-03-31")
        + [
            added("j1", "2026-01-01", "m1", "r1"),
            added("j2", "2026-01-01", "m1", "r2"),
            contact("c1", "2026-01-12", "r1"),  # gaps 11, 31, 28, 20 days; the team's first within 14 days
            contact("c2", "2026-02-12", "r1"),
            contact("c3", "2026-03-12", "r1"),
            contact("d1", "2026-01-20", "r2"),  # then nothing for 71 days
        ]
    )
    finding = one(run_rule(tmp_path, events, ABSENCE, message=ABSENCE_MSG))
    assert (finding.manager, finding.rep) == ("m1", "r2")
    assert (finding.window_start, finding.window_end) == (D("2026-01-20"), D("2026-04-01"))
    assert finding.metrics == {"longest_gap_days": 71, "gaps_over": 1, "contacts": 1, "scope_days": 90, "away_days": 0}
    assert finding.evidence == ["d1"]


def test_absence_short_roster_period_not_assessed(tmp_path: Path) -> None:
    # m2's team logs one-on-ones from Jan 2 (other_team), so the rule is assessed and m1, with no
    # contact at all, is judged from Jan 1
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + other_team()
        + at_work("r1", "2026-01-01", "2026-01-19")
        + [
            added("j1", "2026-01-01", "m1", "r1"),
            removed("j2", "2026-01-20", "m1", "r1"),  # 19 days
        ]
    )
    report = run_rule(tmp_path, events, ABSENCE, message=ABSENCE_MSG)
    assert findings(report) == []  # no contact at all, but 19 days < 35
    assert [(n.rule, n.manager, n.windows, n.not_assessed) for n in report.not_assessed] == [("t/rule", "m1", 1, 1)]


def test_absence_by_manager(tmp_path: Path) -> None:
    logic = {**ABSENCE, "group_by": ["manager"]}
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + at_work("r1", "2026-01-01", "2026-03-31")
        + at_work("r2", "2026-01-01", "2026-03-31")
        + [
            added("j1", "2026-01-01", "m1", "r1"),
            added("j2", "2026-01-01", "m1", "r2"),
            contact("c1", "2026-01-12", "r1"),  # gaps 11, 29, 43, 7 days; the first within 14 days
            contact("c2", "2026-02-10", "r2"),
            contact("c3", "2026-03-25", "r1"),
        ]
    )
    finding = one(run_rule(tmp_path, events, logic, message=ABSENCE_MSG))
    assert (finding.manager, finding.rep) == ("m1", None)
    assert (finding.window_start, finding.window_end) == (D("2026-02-10"), D("2026-03-25"))
    assert finding.metrics == {"longest_gap_days": 43, "gaps_over": 1, "contacts": 3, "scope_days": 90, "away_days": 0}
    assert finding.evidence == ["c2", "c3"]


def test_absence_recorded_leave_left_out_of_gap(tmp_path: Path) -> None:
    # Contacts as in test_absence_fires (gaps 9, 46, 13, 22 days). r1 is on recorded leave from
    # Feb 2 to Feb 11, both days included: Feb 2 00:00 - Feb 12 00:00, 10 days inside the 46-day
    # gap, which keeps 46 - 10 = 36 days (>= 35). r1 logs nothing while away: the emails stop
    # after Jan 31 12:00 and resume Feb 12 12:00, 12 days (< 14), so nothing more is inferred.
    work = [e for e in at_work("r1", "2026-01-01", "2026-03-31") if not "2026-02-02" <= e["ts"][:10] <= "2026-02-11"]
    events = (
        span_marks("2026-01-01", "2026-03-31")
        + work
        + [
            added("j1", "2026-01-01", "m1", "r1"),
            ev("leave", "2026-01-26 09:00", "person_absent", "r1", attrs={"from": "2026-02-02", "to": "2026-02-11"}),
            contact("c1", "2026-01-10"),
            contact("c2", "2026-02-25"),
            contact("c3", "2026-03-10"),
        ]
    )
    finding = one(run_rule(tmp_path, events, ABSENCE, message=ABSENCE_MSG))
    assert (finding.manager, finding.rep) == ("m1", "r1")
    assert (finding.window_start, finding.window_end) == (D("2026-01-10"), D("2026-02-25"))
    assert finding.metrics == {
        "longest_gap_days": 36,
        "gaps_over": 1,
        "contacts": 3,
        "scope_days": 90,
        "away_days": 10,
    }
    assert finding.evidence == ["c1", "c2"]
    assert finding.message == "36 days"
    # the same log without the record: the 12 silent days are too few to infer, all 46 days count
    events = [e for e in events if e["id"] != "leave"]
    twin = one(run_rule(tmp_path / "unrecorded", events, ABSENCE, message=ABSENCE_MSG))
    assert (twin.metrics["longest_gap_days"], twin.metrics["away_days"]) == (46, 0)


def test_absence_stretch_without_events_left_out_of_gap(tmp_path: Path) -> None:
    # Contacts Jan 10, Mar 10, Mar 25: gaps 9, 59, 15, 7 days. r1's emails stop after Jan 31
    # 12:00 and resume Feb 20 12:00: 20 days (>= 14) in which r1 is neither actor nor rep of any
    # event read as unrecorded leave, from their last event before to their first after. The
    # 59-day gap keeps 59 - 20 = 39 days (>= 35).
    contacts = [
        added("j1", "2026-01-01", "m1", "r1"),
        contact("c1", "2026-01-10"),
        contact("c2", "2026-03-10"),
        contact("c3", "2026-03-25"),
    ]
    silent = at_work("r1", "2026-01-01", "2026-01-31") + at_work("r1", "2026-02-20", "2026-03-31")
    events = span_marks("2026-01-01", "2026-03-31") + silent + contacts
    finding = one(run_rule(tmp_path, events, ABSENCE, message=ABSENCE_MSG))
    assert (finding.manager, finding.rep) == ("m1", "r1")
    assert (finding.window_start, finding.window_end) == (D("2026-01-10"), D("2026-03-10"))
    assert finding.metrics == {
        "longest_gap_days": 39,
        "gaps_over": 1,
        "contacts": 3,
        "scope_days": 90,
        "away_days": 20,
    }
    assert finding.evidence == ["c1", "c2"]
    # the same contacts with r1 at work throughout: nothing is left out of the 59 days
    events = span_marks("2026-01-01", "2026-03-31") + at_work("r1", "2026-01-01", "2026-03-31") + contacts
    twin = one(run_rule(tmp_path / "at_work", events, ABSENCE, message=ABSENCE_MSG))
    assert (twin.metrics["longest_gap_days"], twin.metrics["away_days"]) == (59, 0)


# ---------------------------------------------------------------------------------------------
# text predicates

ORIGINAL = "Q3 pricing update: discounts above 20 percent need VP approval."
ORIGINAL_NORM = "q3 pricing update discounts above 20 percent need vp approval"
CONTEXT = " For us: the Acme and Globex renewals go to Dana by Friday, so book an hour with me on Tuesday to plan both."


def relay(event_id: str, day: str, text: str) -> dict[str, Any]:
    return m1(event_id, day, "message_relayed", attrs={"source": "vp-sales", "original_text": ORIGINAL, "text": text})


SIMILAR = {
    "kind": "threshold",
    "where": {"type": "message_relayed", "similarity": {"gte": 0.85}},
    "derive": {"similarity": {"similarity": ["attrs.original_text", "attrs.text"]}},
    "metric": {"min": "similarity"},
    "op": "gte",
    "value": 0,
}


def test_similarity_verbatim_relay_fires(tmp_path: Path) -> None:
    events = FRAME + [relay("r1", "2026-01-06", "FYI: " + ORIGINAL), relay("r2", "2026-01-07", ORIGINAL + CONTEXT)]
    finding = one(run_rule(tmp_path, events, SIMILAR))
    # "fyi " is four insertions over the longer, normalised text
    n = len(ORIGINAL_NORM)
    expected = 1 - 4 / (n + 4)
    assert expected >= 0.85
    assert finding.metrics["min_similarity"] == round(expected, 4)
    assert finding.evidence == ["r1"]


def test_similarity_identical_after_case_and_punctuation(tmp_path: Path) -> None:
    events = FRAME + [relay("r1", "2026-01-06", ORIGINAL.upper().replace(":", " -"))]
    finding = one(run_rule(tmp_path, events, SIMILAR))
    assert finding.metrics["min_similarity"] == 1


def test_similarity_added_context_quiet(tmp_path: Path) -> None:
    events = FRAME + [relay("r2", "2026-01-07", ORIGINAL + CONTEXT)]
    assert findings(run_rule(tmp_path, events, SIMILAR)) == []


def test_similarity_added_context_scores_low(tmp_path: Path) -> None:
    logic = {**SIMILAR, "where": {"type": "message_relayed"}}
    events = FRAME + [relay("r2", "2026-01-07", ORIGINAL + CONTEXT)]
    finding = one(run_rule(tmp_path, events, logic))
    # appended context: the distance is the normalised length of what was added
    context_norm = (
        " for us the acme and globex renewals go to dana by friday so book an hour with me on tuesday to plan both"
    )
    n, k = len(ORIGINAL_NORM), len(context_norm)
    assert finding.metrics["min_similarity"] == round(1 - k / (n + k), 4)
    assert finding.metrics["min_similarity"] < 0.6


SLOGANS = {"slogan": ["believe", "win", "winners", "passion"]}


def message(event_id: str, day: str, text: str) -> dict[str, Any]:
    return m1(event_id, day, "message_sent", attrs={"audience": "team", "text": text})


LEXICON = {
    "kind": "threshold",
    "where": {"type": "message_sent", "sloganness": {"gte": 0.4}},
    "derive": {"sloganness": {"lexicon": "attrs.text", "words": "@slogan"}},
    "metric": {"max": "sloganness"},
    "op": "gte",
    "value": 0,
}


def test_lexicon_share_fires(tmp_path: Path) -> None:
    events = FRAME + [
        message("t1", "2026-01-06", "Believe it and WIN, winners never quit!"),  # 3 of 7 words
        message("t2", "2026-01-07", "Call Acme about the renewal before Friday"),  # 0 of 7
    ]
    finding = one(run_rule(tmp_path, events, LEXICON, lists=SLOGANS))
    assert finding.metrics["max_sloganness"] == round(3 / 7, 4)
    assert finding.evidence == ["t1"]


def test_lexicon_inline_words(tmp_path: Path) -> None:
    logic = {**LEXICON, "derive": {"sloganness": {"lexicon": "attrs.text", "words": ["passion", "win"]}}}
    events = FRAME + [message("t1", "2026-01-06", "passion to win")]  # 2 of 3
    finding = one(run_rule(tmp_path, events, logic))
    assert finding.metrics["max_sloganness"] == round(2 / 3, 4)


def test_lexicon_share_quiet(tmp_path: Path) -> None:
    events = FRAME + [
        message("t1", "2026-01-06", "Winning deals need a mutual plan with the buyer this week"),  # 0
        message("t2", "2026-01-07", "Believe the data: review stalled deals in the pipeline today"),  # 1/10
    ]
    assert findings(run_rule(tmp_path, events, LEXICON, lists=SLOGANS)) == []


SPECIFIC = {
    "kind": "match",
    "where": {"type": "message_sent", "concrete": {"gt": 0}},
    "derive": {"concrete": {"specificity": "attrs.text"}},
}
VAGUE = {
    "kind": "match",
    "where": {"type": "message_sent", "concrete": {"eq": 0}},
    "derive": {"concrete": {"specificity": "attrs.text"}},
}
SLOGAN_TEXTS = [
    ("v1", "Believe in yourself and keep pushing, winners never quit!"),
    ("v2", "Dare to soar beyond every horizon."),  # not a known slogan word in sight
    ("v3", "Energy and passion make the difference."),
]
CONCRETE_TEXTS = [
    ("s1", "Please get the signed order form for OPP-1234 back today."),  # a record id
    ("s2", "Pipeline review moves to Thursday at the usual place."),  # a weekday
    ("s3", "The renewal is worth 45000 this year."),  # an amount
    ("s4", "Loop in Globex legal before the pricing talk."),  # a name mid-sentence
]


def texts(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [message(i, f"2026-01-0{6 + n % 4} 0{n}:00", t) for n, (i, t) in enumerate(pairs)]


def test_specificity_slogans_score_zero(tmp_path: Path) -> None:
    events = FRAME + texts(SLOGAN_TEXTS + CONCRETE_TEXTS)
    report = run_rule(tmp_path, events, VAGUE)
    assert sorted(one(report).evidence) == ["v1", "v2", "v3"]


def test_specificity_concrete_messages_score_above_zero(tmp_path: Path) -> None:
    events = FRAME + texts(SLOGAN_TEXTS + CONCRETE_TEXTS)
    report = run_rule(tmp_path, events, SPECIFIC)
    assert sorted(one(report).evidence) == ["s1", "s2", "s3", "s4"]


def test_specificity_unseen_slogan_quiet(tmp_path: Path) -> None:
    # a slogan made of words no list holds still names nothing concrete
    events = FRAME + texts(
        [("v2", "Dare to soar beyond every horizon."), ("v4", "Tomorrowland awaits the bold and the brave of heart")]
    )
    assert findings(run_rule(tmp_path, events, SPECIFIC)) == []


def test_specificity_concrete_words_override(tmp_path: Path) -> None:
    # a list named concrete_words replaces the built-in work objects: "quote" no longer counts, "pallet" does
    events = FRAME + texts([("a1", "bring the quote soon"), ("a2", "check the pallet")])
    report = run_rule(tmp_path, events, SPECIFIC, lists={"concrete_words": ["pallet"]})
    assert one(report).evidence == ["a2"]


def test_specificity_counts_a_number_once(tmp_path: Path) -> None:
    # "count of concrete tokens": the one number 120 is one token (nothing else is concrete)
    logic = {**SPECIFIC, "kind": "threshold", "metric": {"max": "concrete"}, "op": "gte", "value": 0}
    events = FRAME + [message("t1", "2026-01-06", "Target is 120 this quarter")]
    finding = one(run_rule(tmp_path, events, logic))
    assert finding.metrics["max_concrete"] == 1


LENGTH = {
    "kind": "threshold",
    "where": {"type": "kpi_set", "kpi_count": {"gte": 5}},
    "derive": {"kpi_count": {"length": "attrs.kpis"}},
    "metric": {"max": "kpi_count"},
    "op": "gte",
    "value": 1,
}


def test_length_fires(tmp_path: Path) -> None:
    events = FRAME + [
        m1("k1", "2026-01-06", "kpi_set", attrs={"kpis": ["calls", "emails", "meetings", "demos", "quotes", "nps"]}),
        m1("k2", "2026-01-07", "kpi_set", attrs={"kpis": ["calls", "emails", "meetings"]}),
        m1("k3", "2026-01-08", "kpi_set"),  # no list: length 0
    ]
    finding = one(run_rule(tmp_path, events, LENGTH))
    assert finding.metrics == {"count": 1, "max_kpi_count": 6}
    assert finding.evidence == ["k1"]


def test_length_quiet(tmp_path: Path) -> None:
    events = FRAME + [
        m1("k1", "2026-01-06", "kpi_set", attrs={"kpis": ["a", "b", "c", "d"]}),
        m1("k3", "2026-01-08", "kpi_set"),
    ]
    assert findings(run_rule(tmp_path, events, LENGTH)) == []


WORDS = {
    "kind": "threshold",
    "where": {"type": "message_sent", "words": {"lt": 5}},
    "derive": {"words": {"word_count": "attrs.text"}},
    "metric": {"max": "words"},
    "op": "gte",
    "value": 0,
}


def test_word_count_fires(tmp_path: Path) -> None:
    events = FRAME + [
        message("t1", "2026-01-06", "Go team, go!"),  # 3 words
        message("t2", "2026-01-07", "Send the Acme quote before the Friday call"),  # 8 words
        message("t3", "2026-01-08", "Don't stop now"),  # 3 words
    ]
    finding = one(run_rule(tmp_path, events, WORDS))
    assert finding.metrics == {"count": 2, "max_words": 3}
    assert finding.evidence == ["t1", "t3"]


def test_word_count_quiet(tmp_path: Path) -> None:
    events = FRAME + [message("t2", "2026-01-07", "Send the Acme quote before the Friday call")]
    assert findings(run_rule(tmp_path, events, WORDS)) == []


# ---------------------------------------------------------------------------------------------
# one finding per rule, group and merged window


def test_once_threshold_crossed_once_fires_once(tmp_path: Path) -> None:
    # the count reaches 3 with c3 and stays above it for every later call in the burst
    events = span_marks("2026-01-01", "2026-01-31") + calls(
        [(f"c{i}", f"2026-01-{9 + i:02d} 12:00") for i in range(1, 7)]
    )
    finding = one(run_rule(tmp_path, events, SLIDING))
    assert (finding.window_start, finding.window_end) == (D("2026-01-10 12:00"), D("2026-01-15 12:00"))
    assert finding.metrics["count"] == 6
    assert finding.evidence == [f"c{i}" for i in range(1, 7)]


def test_once_per_group(tmp_path: Path) -> None:
    events = (
        span_marks("2026-01-01", "2026-01-31")
        + calls([("a1", "2026-01-10"), ("a2", "2026-01-11"), ("a3", "2026-01-12"), ("a4", "2026-01-13")])
        + calls([("b1", "2026-01-10"), ("b2", "2026-01-11"), ("b3", "2026-01-12")], manager="m2")
    )
    found = findings(run_rule(tmp_path, events, SLIDING))
    assert [(f.manager, f.metrics["count"], f.evidence) for f in found] == [
        ("m1", 4, ["a1", "a2", "a3", "a4"]),
        ("m2", 3, ["b1", "b2", "b3"]),
    ]


def test_once_whole_window(tmp_path: Path) -> None:
    events = FRAME + calls([(f"c{i}", f"2026-01-0{5 + i % 5} 0{i}:00") for i in range(1, 8)])
    logic = {"kind": "threshold", "where": {"type": "call_listened"}, "op": "gte", "value": 2}
    finding = one(run_rule(tmp_path, events, logic))
    assert finding.metrics["count"] == 7


# ---------------------------------------------------------------------------------------------
# parameters

PARAMS = {
    "burst": {"type": "int", "default": 3, "min": 1, "doc": "Calls in a burst."},
    "span": {"type": "duration", "default": "10d", "doc": "Sliding window."},
    "min_duration": {"type": "int", "default": 60, "doc": "Seconds for a real call."},
}
PARAM_LOGIC = {
    "kind": "threshold",
    "where": {"type": "call_logged", "attrs.duration_s": {"gte": "$min_duration"}},
    "window": {"sliding": "$span"},
    "op": "gte",
    "value": "$burst",
}


def param_run(tmp_path: Path, sets: tuple[str, ...] = ()) -> engine.Report:
    rules_dir = tmp_path / "rules"
    write_rule(rules_dir, "t/rule", PARAM_LOGIC, params=PARAMS, message="{count} calls in {span}")
    events = span_marks("2026-01-01", "2026-01-31") + [
        ev(f"c{i}", f"2026-01-{9 + i} 12:00", "call_logged", "r1", manager="m1", rep="r1", attrs={"duration_s": d})
        for i, d in enumerate([120, 30, 200, 300], 1)
    ]
    log = write_events(tmp_path / "ev.jsonl", events)
    return engine.check([str(log)], rules=[str(rules_dir)], sets=sets)


def test_params_defaults_fire(tmp_path: Path) -> None:
    finding = one(param_run(tmp_path))
    # calls of at least 60 s: c1 (Jan 10), c3 (Jan 12), c4 (Jan 13), all within 10 days
    assert finding.metrics == {"count": 3}
    assert finding.message == "3 calls in 10d"
    assert finding.threshold["value"] == 3
    assert (finding.window_start, finding.window_end) == (D("2026-01-10 12:00"), D("2026-01-13 12:00"))
    assert finding.evidence == ["c1", "c3", "c4"]


def test_params_set_override_quiet(tmp_path: Path) -> None:
    # two days up to c4 hold c3 and c4 only
    assert findings(param_run(tmp_path, ("t/rule.span=2d",))) == []


def test_params_set_override_fires(tmp_path: Path) -> None:
    finding = one(param_run(tmp_path, ("t/rule.min_duration=20", "t/rule.burst=4")))
    assert finding.metrics == {"count": 4}
    assert finding.threshold["value"] == 4
    assert finding.evidence == ["c1", "c2", "c3", "c4"]


# ---------------------------------------------------------------------------------------------
# determinism


def test_determinism_shuffled_log_same_json(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    write_rule(rules_dir, "t/takeover", TAKEOVER)
    write_rule(rules_dir, "t/monthly", {**ZERO_CALLS, "value": 2})
    write_rule(rules_dir, "t/absence", ABSENCE, message=ABSENCE_MSG)
    write_rule(rules_dir, "t/ratio", RATIO, message=RATIO_MSG)
    write_rule(rules_dir, "t/absent", ABSENT)
    events = (
        span_marks("2026-01-01", "2026-04-30")
        + [
            added("j1", "2026-01-01", "m1", "r1"),
            added("j2", "2026-01-01", "m1", "r2"),
            added("j3", "2026-02-10", "m2", "r3"),
        ]
        + takeover("a1", "2026-01-05", "b1", "2026-01-20", "D1")
        + takeover("a2", "2026-02-01", "b2", "2026-02-10", "D2")
        + calls([("c1", "2026-01-10"), ("c2", "2026-01-10"), ("c3", "2026-03-03")])
        + [
            contact("o1", "2026-01-10"),
            contact("o2", "2026-03-01", "r2"),
            ev("o3", "2026-03-02", "coaching_session", "m2", rep="r3"),
        ]
        + misses("market", "pricing", "competition", "execution")[2:]
        + [quota("q1", "2026-01-05", "r1", 0.5), quota("q2", "2026-01-05", "r2", 0.4)]
        # the reps at work while on a team, so the contact gaps are not taken for leave
        + at_work("r1", "2026-01-01", "2026-04-30")
        + at_work("r2", "2026-01-01", "2026-04-30")
        + at_work("r3", "2026-02-10", "2026-04-30")
    )
    outputs = []
    for seed in (None, 1, 2, 3):
        ordered = events if seed is None else shuffled_copy(events, seed)
        assert seed is None or ordered != events
        log = write_events(tmp_path / f"ev{seed}.jsonl", ordered)
        outputs.append(engine.check([str(log)], rules=[str(rules_dir)]).to_json())
    report = engine.check([str(tmp_path / "evNone.jsonl")], rules=[str(rules_dir)])
    assert {f.rule for f in report.findings} == {"t/takeover", "t/monthly", "t/absence", "t/ratio", "t/absent"}
    assert outputs[1] == outputs[0]
    assert outputs[2] == outputs[0]
    assert outputs[3] == outputs[0]
