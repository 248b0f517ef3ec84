"""Confidence, persistence and counter-evidence on every finding (issue 9, first part).

Each log is built here; the numbers are worked out next to the events.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.report.confidence import wilson
from tests.helpers import ev, findings, one, run_rule

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "events.jsonl.gz"


def test_wilson_interval_of_a_share() -> None:
    low, high = wilson(11, 23)  # 47.8 %: about 29 % to 67 %
    assert round(low, 3) == 0.292 and round(high, 3) == 0.67
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(5, 5)
    assert high == 1.0 and 0.56 < low < 0.57


def marks() -> list[dict[str, Any]]:
    return [ev("start", "2026-01-01 08:00", "email_sent", "r1"), ev("end", "2026-03-31 17:00", "email_sent", "r1")]


COUNT = {"kind": "threshold", "where": {"type": "kpi_set"}, "window": {"calendar": "month"}, "op": "gte", "value": 2}


def test_a_count_just_past_the_line_in_one_month_is_a_watch_item(tmp_path: Path) -> None:
    # January: 2 KPI lists (= 2, just past); one month; the manager's own measure: 0 + 0 + 1 points
    events = marks() + [
        ev("k1", "2026-01-10 09:00", "kpi_set", manager="m1", attrs={"kpis": ["a"]}),
        ev("k2", "2026-01-20 09:00", "kpi_set", manager="m1", attrs={"kpis": ["b"]}),
    ]
    found = one(run_rule(tmp_path, events, COUNT))
    assert found.verdict == "watch"
    assert found.confidence["level"] == "low" and found.confidence["score"] == 0.25
    assert found.confidence["basis"][0] == "count 2 against 2: just past the line"
    assert found.persistence == {"windows": 1, "mode": "month", "assessed": 3}


def test_a_wide_lasting_count_is_high_confidence(tmp_path: Path) -> None:
    # 4 lists in each of January and February (twice the line), one month merged after another
    events = marks() + [
        ev(f"k{m}{i}", f"2026-0{m}-{5 + 5 * i:02d} 09:00", "kpi_set", manager="m1", attrs={"kpis": ["a"]})
        for m in (1, 2)
        for i in range(4)
    ]
    found = one(run_rule(tmp_path, events, COUNT))
    assert (found.verdict, found.confidence["level"], found.confidence["score"]) == ("finding", "high", 1.0)
    assert found.confidence["basis"][1] == "holds in 2 of 3 months assessed"


SHARE = {
    "kind": "ratio",
    "where": {"type": "deal_closed_won"},
    "numerator": {"name": "mine", "where": {"actor": {"same_as": "manager"}}},
    "denominator": {"name": "all", "where": {}},
    "op": "gte",
    "value": 0.2,
}


@pytest.mark.parametrize(("mine", "total", "strong"), [(9, 10, True), (3, 10, False)])
def test_a_share_is_judged_by_its_interval(tmp_path: Path, mine: int, total: int, strong: bool) -> None:
    # 9 of 10: interval 60-98 %, wholly past 20 %; 3 of 10: 11-60 %, reaches 20 %
    events = marks() + [
        ev(f"w{i}", f"2026-02-{1 + i:02d} 12:00", "deal_closed_won", "m1" if i < mine else "r1", manager="m1")
        for i in range(total)
    ]
    found = one(run_rule(tmp_path, events, SHARE, message="{ratio}"))
    basis = found.confidence["basis"][0]
    assert basis.startswith(f"{mine} of {total} ({mine * 10}%; 95% interval ")
    assert ("wholly past 20%" in basis) is strong
    assert ("the interval reaches 20%" in basis) is not strong


COUNTER = [
    {"name": "coaching", "where": {"type": "one_on_one_held"}, "says": "held {count} one-on-ones"},
    {
        "name": "attainment",
        "where": {"type": "quota_result"},
        "metric": {"avg": "attrs.attainment"},
        "at_least": 1.0,
        "says": "team attainment {value:.0%}",
    },
]


def _with_counter(tmp_path: Path, attainment: float) -> engine.Report:
    from tests.helpers import rule_doc, write_events

    doc = rule_doc("t/rule", COUNT, message="{count}")
    doc["counter_evidence"] = COUNTER
    rules = tmp_path / "rules" / "t"
    rules.mkdir(parents=True)
    import yaml

    (rules / "rule.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    events = marks() + [
        ev("k1", "2026-01-10 09:00", "kpi_set", manager="m1", attrs={"kpis": ["a"]}),
        ev("k2", "2026-01-20 09:00", "kpi_set", manager="m1", attrs={"kpis": ["b"]}),
        ev("o1", "2026-01-12 10:00", "one_on_one_held", manager="m1", rep="r1"),
        ev("o2", "2026-01-19 10:00", "one_on_one_held", manager="m1", rep="r1"),
        ev("o3", "2026-02-19 10:00", "one_on_one_held", manager="m1", rep="r1"),  # outside the finding's month
        ev("q1", "2026-01-31 10:00", "quota_result", "ops", manager="m1", rep="r1", attrs={"attainment": attainment}),
    ]
    log = write_events(tmp_path / "events.jsonl", events)
    return engine.check([str(log)], rules=[str(tmp_path / "rules")])


def test_counter_evidence_counts_the_managers_facts_in_the_window(tmp_path: Path) -> None:
    found = one(_with_counter(tmp_path, 1.12))
    assert found.counter_evidence == [
        {"name": "coaching", "says": "held 2 one-on-ones", "value": 2, "evidence": ["o1", "o2"], "evidence_total": 2},
        {"name": "attainment", "says": "team attainment 112%", "value": 1.12, "evidence": ["q1"], "evidence_total": 1},
    ]


def test_counter_evidence_below_its_bar_is_not_shown(tmp_path: Path) -> None:
    found = one(_with_counter(tmp_path, 0.8))  # 80 % does not speak for the manager
    assert [c["name"] for c in found.counter_evidence] == ["coaching"]


def test_counter_evidence_templates_are_checked_at_load(tmp_path: Path) -> None:
    from tests.helpers import rule_doc

    doc = rule_doc("t/rule", COUNT, message="{count}")
    doc["counter_evidence"] = [{"name": "c", "where": {"type": "one_on_one_held"}, "says": "held {cuont}"}]
    rules = tmp_path / "rules" / "t"
    rules.mkdir(parents=True)
    import yaml

    (rules / "rule.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(engine.RuleError) as caught:
        engine.prepare_rules([str(tmp_path / "rules")])
    (problem,) = caught.value.problems
    assert problem.line > 0 and "cuont" in problem.message


def test_every_demo_finding_carries_confidence_persistence_and_counter_evidence() -> None:
    report = engine.check([str(DEMO)])
    data = json.loads(report.to_json())
    assert data["findings"]
    for finding in data["findings"]:
        assert finding["confidence"]["level"] in ("low", "medium", "high")
        assert 0 <= finding["confidence"]["score"] <= 1 and len(finding["confidence"]["basis"]) == 3
        assert isinstance(finding["counter_evidence"], list) and finding["persistence"]["windows"] >= 1
        assert finding["verdict"] == ("watch" if finding["confidence"]["level"] == "low" else "finding")
    assert findings(report, "detached-dictator/rep-without-contact")[0].counter_evidence
