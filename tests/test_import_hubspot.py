"""The HubSpot importer: the hand-written v3 export in fixtures/importers/hubspot and the real samples."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.importers import import_source

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "importers" / "hubspot"
REALDATA = ROOT.parent / "shared" / "realdata"
RULES = ROOT / "rules"

needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(), reason="../shared/realdata (the real export samples) is absent"
)


def _mapping(tmp_path: Path, text: str = 'teams:\n  East: "501"\n') -> str:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _types(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(e["type"]) for e in events)


def test_fixture_events_and_accounting(tmp_path: Path) -> None:
    imported = import_source("hubspot", str(FIXTURE), _mapping(tmp_path))
    report = imported.report
    assert report.problems == [] and report.errors == []
    assert _types(imported.events) == {
        "one_on_one_held": 12,
        "close_date_pushed": 4,
        "deal_created": 3,
        "team_member_added": 2,
        "call_logged": 2,
        "deal_owner_changed": 2,
        "deal_closed_won": 2,
        "deal_stage_changed": 1,
        "meeting_held": 1,
    }
    calls = report.objects["calls"]
    assert (calls.read, calls.events, dict(calls.skipped)) == (
        3,
        2,
        {"calls with no duration (never connected or not dialled)": 1},
    )
    (call,) = [e for e in imported.events if e["type"] == "call_logged" and e["actor"] == "502"]
    assert call["attrs"] == {"duration_s": 300, "outcome": "connected"}  # milliseconds to seconds


def test_user_ids_become_owner_ids_and_unknown_users_are_reported(tmp_path: Path) -> None:
    imported = import_source("hubspot", str(FIXTURE), _mapping(tmp_path))
    takeovers = [e for e in imported.events if e["type"] == "deal_owner_changed"]
    # the history's sourceId is 'userId:9001', the owner 501's user: the change is 501's
    assert {(e["actor"], e["rep"], e["attrs"]["to_role"]) for e in takeovers} == {
        ("501", "502", "manager"),
        ("501", "503", "manager"),
    }
    assert imported.report.unknown_users == {"calls": Counter({"user:9999": 1})}
    assert any(e["actor"] == "user:9999" for e in imported.events)


def test_teams_need_the_mapping_for_a_manager(tmp_path: Path) -> None:
    without = import_source("hubspot", str(FIXTURE), _mapping(tmp_path, "timezone: UTC\n"))
    assert _types(without.events)["team_member_added"] == 0
    assert any("77 (East)" in note and "no manager" in note for note in without.report.notes)
    by_id = import_source("hubspot", str(FIXTURE), _mapping(tmp_path, 'teams: {"77": "user:9001"}\n'))
    teams = {(e["manager"], e["rep"]) for e in by_id.events if e["type"] == "team_member_added"}
    assert teams == {("501", "502"), ("501", "503")}


def test_fixture_findings_cite_deal_history(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    out.write_text(import_source("hubspot", str(FIXTURE), _mapping(tmp_path)).jsonl(), encoding="utf-8")
    rules = [
        str(RULES / "glory-grabber" / "late-takeover.yaml"),
        str(RULES / "turnaround-promoter" / "manager-pushes-dates.yaml"),
        str(RULES / "_library.yaml"),
    ]
    report = engine.check([str(out)], rules=rules)
    assert {(f.rule, f.manager) for f in report.findings} == {
        ("glory-grabber/late-takeover", "501"),
        ("turnaround-promoter/manager-pushes-dates", "501"),
    }
    for finding in report.findings:
        assert {(s["system"], s["object"]) for s in finding.sources.values()} == {("hubspot", "deals")}


def test_same_export_gives_the_same_bytes_in_any_order(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path)
    first = import_source("hubspot", str(FIXTURE), mapping).jsonl()
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for path in FIXTURE.iterdir():
        doc = json.loads(path.read_text())
        doc["results"].reverse()
        (shuffled / path.name).write_text(json.dumps(doc))
    assert import_source("hubspot", str(shuffled), mapping).jsonl() == first


def test_malformed_json_is_reported_with_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "deals.json"
    bad.write_text('{"results": [\n  {"id": "1",}\n]}\n')
    imported = import_source("hubspot", str(bad))
    (error,) = imported.report.errors
    assert (error.line, error.col, error.message.startswith("malformed JSON")) == (
        2,
        14,
        True,
    )  # the stray closing brace


@needs_realdata
def test_connector_capture_with_properties_with_history(tmp_path: Path) -> None:
    folder = REALDATA / "hubspot_api_v3_estuary_snapshots"
    docs = [pair for name in sorted(folder.iterdir()) for pair in json.loads(name.read_text())]
    counts = Counter(collection.rpartition("/")[2] for collection, _ in docs)
    imported = import_source("hubspot", str(folder))
    report = imported.report
    assert report.problems == [] and report.errors == []
    assert report.objects["deals"].read == counts["deals"]
    assert report.objects["owners"].read == counts["owners"]
    assert _types(imported.events) == {"deal_created": counts["deals"]}
    # the deal created by user 63843671 is credited to that user's owner, 722900407
    owners = {str(doc["userId"]): doc["id"] for collection, doc in docs if collection.endswith("owners")}
    deals = [doc for collection, doc in docs if collection.endswith("deals")]
    expected = {str(d["id"]): owners[d["properties"]["hs_created_by_user_id"]] for d in deals}
    assert {e["deal"]: e["actor"] for e in imported.events} == expected


@needs_realdata
def test_api_cassettes(tmp_path: Path) -> None:
    folder = REALDATA / "hubspot_api_v3_airbyte_ai_connectors_cassettes"
    imported = import_source("hubspot", str(folder))
    report = imported.report
    assert report.errors == [] and report.problems == []
    listed = json.loads((folder / "deals_list_limit_2.json").read_text())["results"]
    one = json.loads((folder / "deals_get.json").read_text())
    ids = {d["id"] for d in listed} | {one["id"]}
    # deals with no owner and no creator cannot be credited to anyone: skipped, with the reason
    assert all("hubspot_owner_id" not in d["properties"] for d in listed)
    assert report.objects["deals"].read == len(ids)
    assert report.objects["deals"].skipped == {"deals with no owner, creator or create date": len(ids)}
    assert imported.events == []


@needs_realdata
@pytest.mark.parametrize("sub", ["", "older_2023-03_de053f2"])
def test_fivetran_tables(tmp_path: Path, sub: str) -> None:
    folder = REALDATA / "fivetran_dbt_hubspot_seeds" / sub
    imported = import_source("hubspot", str(folder))
    report = imported.report
    assert report.problems == [] and report.errors == []
    with open(folder / "owner_data.csv", newline="") as handle:
        owners = list(csv.DictReader(handle))
    assert report.objects["owners"].read == len({o["owner_id"] for o in owners})
    for stats in report.objects.values():
        assert stats.events + sum(stats.skipped.values()) >= stats.read
    if not sub:
        with open(folder / "deal_data.csv", newline="") as handle:
            deals = list(csv.DictReader(handle))
        dated = [d for d in deals if d["owner_id"] and d["property_createdate"]]
        assert _types(imported.events)["deal_created"] == len(dated)
        assert any("no manager" in note for note in report.notes)
    path = tmp_path / "events.jsonl"
    path.write_text(imported.jsonl(), encoding="utf-8")
    checked = engine.check(
        [str(path)], rules=[str(RULES / "glory-grabber" / "late-takeover.yaml"), str(RULES / "_library.yaml")]
    )
    assert checked.findings == [] and checked.evaluated == len(imported.events)
