"""The Gong importer: the hand-written API responses in fixtures/importers/gong and the real cassettes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.importers import import_source

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "importers" / "gong"
REALDATA = ROOT.parent / "shared" / "realdata" / "gong_api_airbyte_ai_connectors_cassettes"
RULES = ROOT / "rules"
MANAGER, REP1, REP2, REP3 = (f"741000000000000000{n}" for n in range(1, 5))

needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(), reason="../shared/realdata (the real export samples) is absent"
)


def _types(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(e["type"]) for e in events)


def test_fixture_events() -> None:
    imported = import_source("gong", str(FIXTURE))
    assert imported.report.problems == [] and imported.report.errors == []
    assert _types(imported.events) == {
        "one_on_one_held": 12,  # internal calls titled 1:1, with the other internal party as rep
        "meeting_held": 4,
        "team_member_added": 3,
        "call_listened": 2,  # two calls of others; the second day on the same call is the same listen
        "call_logged": 1,  # the Outbound telephony call
    }
    meetings = [e for e in imported.events if e["type"] == "one_on_one_held"]
    assert {(e["actor"], e["rep"]) for e in meetings} == {(MANAGER, REP1)}
    assert all(e["attrs"]["duration_min"] == 30 for e in meetings)
    listened = {e["rep"]: e["attrs"]["feedback_given"] for e in imported.events if e["type"] == "call_listened"}
    assert listened == {REP2: False, REP3: True}
    skipped = imported.report.objects["activity_day_by_day"].skipped
    assert skipped["own calls listened to (not coaching)"] == 1


def test_ids_stay_exact_strings(tmp_path: Path) -> None:
    # A 19-digit id written as a JSON number is read as its exact digits, never through a float.
    doc = {
        "users": [
            {"id": 7410000000000000123, "managerId": None},
            {"id": 7410000000000000124, "managerId": 7410000000000000123},
        ]
    }
    calls = {
        "calls": [
            {
                "id": 8600000000000000999,
                "started": "2026-01-05T10:00:00+01:00",
                "duration": 60,
                "primaryUserId": 7410000000000000124,
                "direction": "Outbound",
            }
        ]
    }
    (tmp_path / "users.json").write_text(json.dumps(doc))
    (tmp_path / "calls.json").write_text(json.dumps(calls))
    imported = import_source("gong", str(tmp_path))
    ids = {e["source"]["record_id"] for e in imported.events}
    assert ids == {"8600000000000000999", "7410000000000000124"}
    assert float(7410000000000000124) != 7410000000000000124  # why it matters


def test_fixture_finding_cites_the_stats_records(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    out.write_text(import_source("gong", str(FIXTURE)).jsonl(), encoding="utf-8")
    report = engine.check(
        [str(out)], rules=[str(RULES / "call-listening" / "monthly-minimum.yaml"), str(RULES / "_library.yaml")]
    )
    (finding,) = report.findings
    assert finding.manager == MANAGER
    assert {s["object"] for s in finding.sources.values()} == {"activity_day_by_day"}


def test_order_of_responses_does_not_matter(tmp_path: Path) -> None:
    first = import_source("gong", str(FIXTURE)).jsonl()
    for path in FIXTURE.iterdir():
        doc = json.loads(path.read_text())
        for value in doc.values():
            if isinstance(value, list):
                value.reverse()
        (tmp_path / path.name).write_text(json.dumps(doc))
    assert import_source("gong", str(tmp_path)).jsonl() == first


@needs_realdata
def test_real_cassettes(tmp_path: Path) -> None:
    imported = import_source("gong", str(REALDATA))
    report = imported.report
    assert report.problems == [] and report.errors == []
    users = json.loads((REALDATA / "users_list.json").read_text())["users"]
    calls = {}
    for name in ("calls_list.json", "calls_list_november.json", "calls_extensive_list.json"):
        for item in json.loads((REALDATA / name).read_text())["calls"]:
            meta = item.get("metaData", item)
            calls[meta["id"]] = meta
    assert report.objects["users"].read == len(users) + 1  # users_get repeats one of them
    assert _types(imported.events)["team_member_added"] == sum(1 for u in users if u["managerId"])
    assert report.objects["calls"].read == len(calls)
    assert _types(imported.events)["meeting_held"] + _types(imported.events)["call_logged"] == len(calls)
    # the users come from another workspace than the calls: their hosts are reported, not dropped
    hosts = {m["primaryUserId"] for m in calls.values()} - {u["id"] for u in users}
    assert set(report.unknown_users["calls"]) == hosts
    days = json.loads((REALDATA / "stats_activity_day_by_day_list.json").read_text())["usersDetailedActivities"]
    listened = {(p["userId"], c) for p in days for d in p["userDailyActivityStats"] for c in d["othersCallsListenedTo"]}
    assert _types(imported.events)["call_listened"] == len(listened)
    aggregate = json.loads((REALDATA / "stats_activity_aggregate_list.json").read_text())["usersAggregateActivityStats"]
    assert (
        report.objects["activity_aggregate"].read == len(aggregate) and report.objects["activity_aggregate"].events == 0
    )
    path = tmp_path / "events.jsonl"
    path.write_text(imported.jsonl(), encoding="utf-8")
    checked = engine.check(
        [str(path)], rules=[str(RULES / "call-listening" / "monthly-minimum.yaml"), str(RULES / "_library.yaml")]
    )
    assert checked.evaluated == len(imported.events)
    # the two reporting lines name managers whose listening is not in these stats: judged or not assessed, never dropped
    judged = {f.manager for f in checked.findings} | {n.manager for n in checked.not_assessed}
    assert judged >= {u["managerId"] for u in users if u["managerId"]}
