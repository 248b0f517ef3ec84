"""The Salesforce importer: the hand-written export in fixtures/importers/salesforce and the real samples."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from engine.importers import import_source, load_source
from engine.importers.command import import_command
from engine.importers.values import salesforce_id
from engine.ingest import load_events

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "importers" / "salesforce"
REALDATA = ROOT.parent / "shared" / "realdata"
RULES = ROOT / "rules"
MANAGER, VP = salesforce_id("005Hp00000MgBbb"), salesforce_id("005Hp00000VpAaa")
REP1, REP2 = salesforce_id("005Hp00000RpCc1"), salesforce_id("005Hp00000RpCc2")

needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(), reason="../shared/realdata (the real export samples) is absent"
)


def _mapping(tmp_path: Path, text: str = "") -> str:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "loss_reason:\n  field: Loss_Reason__c\n  values: {Price: pricing, Competitor: competition}\n" + text,
        encoding="utf-8",
    )
    return str(path)


def _rules(*names: str) -> list[str]:
    return [str(RULES / name) for name in names] + [str(RULES / "_library.yaml")]


def _rows(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def _by_type(events: list[dict[str, object]]) -> Counter[str]:
    return Counter(str(e["type"]) for e in events)


# ------------------------------------------------------------------ the hand-written export


def test_fixture_accounts_for_every_record(tmp_path: Path) -> None:
    imported = import_source("salesforce", str(FIXTURE), _mapping(tmp_path))
    report = imported.report
    assert report.problems == [] and report.errors == []
    for name, stats in report.objects.items():
        # every record read either made events or was skipped with a reason
        assert stats.read == len(
            _rows(FIXTURE / f"{name}.csv" if name != "Opportunity" else FIXTURE / "opportunity.csv")
        )
        assert stats.events > 0 or sum(stats.skipped.values()) == stats.read, name
    tasks = report.objects["Task"]
    assert (tasks.read, tasks.events) == (6, 3)
    assert sorted(tasks.skipped.values()) == [1, 1, 1]
    assert any("list e-mails" in reason for reason in tasks.skipped)
    assert any("no duration" in reason for reason in tasks.skipped)
    field_history = report.objects["OpportunityFieldHistory"]
    assert field_history.events == 2  # the two owner changes; their name rows and the Amount change are skipped
    assert (
        field_history.skipped["owner changes written as names (Salesforce writes each one twice; the id row is used)"]
        == 2
    )
    assert _by_type(imported.events) == {
        "one_on_one_held": 12,
        "deal_created": 5,
        "team_member_added": 4,
        "close_date_pushed": 4,
        "deal_closed_won": 3,
        "call_logged": 2,
        "deal_owner_changed": 2,
        "email_sent": 1,
        "deal_stage_changed": 1,
        "ride_along": 1,
        "meeting_held": 1,
        "deal_closed_lost": 1,
    }


def test_fixture_every_event_names_its_source_record(tmp_path: Path) -> None:
    imported = import_source("salesforce", str(FIXTURE), _mapping(tmp_path))
    for event in imported.events:
        source = event["source"]
        assert source["system"] == "salesforce"
        assert str(event["id"]).startswith(f"salesforce:{source['object']}:{source['record_id']}")
        assert len(source["record_id"]) == 18


def test_fixture_one_on_ones_come_from_calendar_subjects(tmp_path: Path) -> None:
    events = import_source("salesforce", str(FIXTURE), _mapping(tmp_path)).events
    meetings = [e for e in events if e["type"] == "one_on_one_held"]
    assert {(e["actor"], e["rep"]) for e in meetings} == {(MANAGER, REP1)}
    assert all(e["attrs"] == {"duration_min": 30} for e in meetings)
    (ride,) = [e for e in events if e["type"] == "ride_along"]
    assert (ride["actor"], ride["rep"]) == (MANAGER, REP2)
    (demo,) = [e for e in events if e["type"] == "meeting_held"]
    assert demo["attrs"]["with_customer"] is True


def test_fixture_takeover_keeps_the_seller_as_rep_and_loss_reasons_map(tmp_path: Path) -> None:
    events = import_source("salesforce", str(FIXTURE), _mapping(tmp_path)).events
    takeovers = [e for e in events if e["type"] == "deal_owner_changed"]
    assert [(e["actor"], e["rep"], e["attrs"]["to"], e["attrs"]["to_role"]) for e in takeovers] == [
        (MANAGER, REP1, MANAGER, "manager"),
        (MANAGER, REP2, MANAGER, "manager"),
    ]
    wins = {e["deal"]: e for e in events if e["type"] == "deal_closed_won"}
    taken = wins[salesforce_id("006Hp00000Op001")]
    assert (taken["actor"], taken["rep"], taken["attrs"]["amount"]) == (MANAGER, REP1, 50000)
    (lost,) = [e for e in events if e["type"] == "deal_closed_lost"]
    assert lost["attrs"]["reason"] == "Price" and lost["attrs"]["reason_category"] == "pricing"
    pushes = [e["attrs"] for e in events if e["type"] == "close_date_pushed"]
    # PrevCloseDate gives the date before; the row that moved the date earlier is not a push
    assert [(p["from"], p["to"]) for p in pushes] == [
        ("2026-03-31", "2026-04-15"),
        ("2026-04-15", "2026-04-30"),
        ("2026-04-30", "2026-05-15"),
        ("2026-04-30", "2026-05-29"),
    ]


def test_fixture_findings_cite_the_crm_records(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    out.write_text(import_source("salesforce", str(FIXTURE), _mapping(tmp_path)).jsonl(), encoding="utf-8")
    report = engine.check(
        [str(out)],
        rules=_rules(
            "glory-grabber/late-takeover.yaml",
            "turnaround-promoter/manager-pushes-dates.yaml",
            "onboarding/no-early-coaching.yaml",
        ),
    )
    found = {(f.rule, f.manager) for f in report.findings}
    # the snapshot roster starts before the log, so nobody looks newly hired
    assert found == {("glory-grabber/late-takeover", MANAGER), ("turnaround-promoter/manager-pushes-dates", MANAGER)}
    takeover = next(f for f in report.findings if f.rule == "glory-grabber/late-takeover")
    records = {(s["object"], s["record_id"]) for s in takeover.sources.values()}
    assert ("OpportunityFieldHistory", salesforce_id("017Hp00000Fh001")) in records
    assert ("OpportunityHistory", salesforce_id("008Hp00000Hs006")) in records
    pushes = next(f for f in report.findings if f.rule == "turnaround-promoter/manager-pushes-dates")
    assert {s["object"] for s in pushes.sources.values()} == {"OpportunityHistory"}
    assert len(pushes.evidence) == 4


def test_same_export_in_any_row_order_gives_the_same_bytes(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path)
    first = import_source("salesforce", str(FIXTURE), mapping).jsonl()
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for path in FIXTURE.iterdir():
        lines = path.read_bytes().split(b"\r\n")
        header, rows = lines[0], [line for line in lines[1:] if line]
        (shuffled / path.name.lower()).write_bytes(b"\r\n".join([header, *reversed(rows)]) + b"\r\n")
    assert import_source("salesforce", str(shuffled), mapping).jsonl() == first
    assert import_source("salesforce", str(FIXTURE), mapping).jsonl() == first


def test_zip_of_the_export_gives_the_same_events(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(FIXTURE.iterdir()):
            out.write(path, f"export/{path.name.upper().replace('.CSV', '.csv')}")
    assert (
        import_source("salesforce", str(archive), mapping).events
        == import_source("salesforce", str(FIXTURE), mapping).events
    )


def test_15_and_18_character_ids_are_one_id() -> None:
    for long in ("001Hp00002g1VGeIAM", "006Hp000015Yh7kIAC", "005Hp00000hnUYPIA2", "00EHp000002Pcz2MAC"):
        assert salesforce_id(long[:15]) == long
        assert salesforce_id(long) == long
        assert salesforce_id(long.lower()) == long  # the suffix restores the case a spreadsheet lost
    assert salesforce_id("000000000000000AAA") is None and salesforce_id("000000000000000") is None
    assert salesforce_id("TLZtnkcZltX8lijWYSQqRg==") == "TLZtnkcZltX8lijWYSQqRg=="  # hashed: kept as it is


def test_users_not_in_the_export_are_reported_and_kept(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(FIXTURE, export)
    task = export / "Task.csv"
    text = task.read_text(encoding="utf-8").replace(REP1, "005Hp00000GoneAIAQ", 1)
    task.write_text(text, encoding="utf-8")
    imported = import_source("salesforce", str(export), _mapping(tmp_path))
    assert imported.report.unknown_users == {"Task": Counter({"005Hp00000GoneAIAQ": 1})}
    assert any(e["actor"] == "005Hp00000GoneAIAQ" for e in imported.events)
    assert any("not in the export" in line and "005Hp00000GoneAIAQ" in line for line in imported.report.lines())
    shown = CliRunner().invoke(import_command, ["salesforce", str(export), "--redact", "-o", str(tmp_path / "e.jsonl")])
    assert "1 references to 1 users not in the export" in shown.stderr and "GoneAIAQ" not in shown.stderr


def test_role_hierarchy_when_manager_id_is_empty_for_everyone(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "UserRole.csv").write_text(
        '"Id","Name","ParentRoleId"\r\n"00E000000000001","VP","000000000000000AAA"\r\n'
        '"00E000000000002","Sales","00E000000000001"\r\n',
        encoding="utf-8",
    )
    (export / "User.csv").write_text(
        '"Id","UserRoleId","ManagerId"\r\n"005000000000001","00E000000000001",""\r\n'
        '"005000000000002","00E000000000002",""\r\n"005000000000003","00E000000000002",""\r\n',
        encoding="utf-8",
    )
    (export / "Task.csv").write_text(
        '"Id","OwnerId","ActivityDate","TaskSubtype","CallDurationInSeconds"\r\n'
        '"00T000000000001","005000000000002","2026-01-05","Call","60"\r\n',
        encoding="utf-8",
    )
    imported = import_source("salesforce", str(export))
    teams = {(e["manager"], e["rep"]) for e in imported.events if e["type"] == "team_member_added"}
    boss = salesforce_id("005000000000001")
    assert teams == {(boss, salesforce_id("005000000000002")), (boss, salesforce_id("005000000000003"))}
    assert any("UserRole hierarchy" in note for note in imported.report.notes)
    start = {e["ts"] for e in imported.events if e["type"] == "team_member_added"}
    assert start == {"2025-10-07"}  # 90 days before the first event, so nobody looks newly hired


# ------------------------------------------------------------------ encodings and spellings


def test_cp1252_named_in_the_mapping_and_reported_when_not(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "Task.csv").write_bytes(
        b'"Id","OwnerId","ActivityDate","Subject","TaskSubtype","CallDurationInSeconds"\r\n'
        b'"00T000000000001","005000000000002","2026-01-05","Anruf M\xfcller","Call","60"\r\n'
    )
    imported = import_source("salesforce", str(export))
    (problem,) = imported.report.problems
    assert (problem.line, "cp1252" in problem.message) == (2, True)
    assert problem.path.endswith("Task.csv")
    fixed = import_source("salesforce", str(export), _mapping(tmp_path, "encoding: cp1252\n"))
    assert fixed.report.problems == [] and _by_type(fixed.events) == {"call_logged": 1}


def test_report_and_bulk_spellings(tmp_path: Path) -> None:
    # A report export: US dates with AM/PM, TRUE/FALSE, a BOM, LF endings; a Bulk query's offsets without a colon.
    export = tmp_path / "export"
    export.mkdir()
    (export / "Opportunity.csv").write_bytes(
        b"\xef\xbb\xbfId,StageName,Amount,CloseDate,IsClosed,IsWon,OwnerId,CreatedDate\n"
        b"006000000000001,Closed Won,1500,02/03/24,TRUE,TRUE,005000000000002,02/01/24 08:55 PM\n"
        b"006000000000002,Prospecting,,,FALSE,FALSE,005000000000002,2024-01-22T16:14:25.000+0000\n"
    )
    events = import_source("salesforce", str(export), _mapping(tmp_path, "timezone: America/New_York\n")).events
    created = {e["deal"]: e["ts"] for e in events if e["type"] == "deal_created"}
    assert created == {
        salesforce_id("006000000000001"): "2024-02-02T01:55:00Z",  # 8:55 PM in New York, UTC-5
        salesforce_id("006000000000002"): "2024-01-22T16:14:25Z",
    }
    (won,) = [e for e in events if e["type"] == "deal_closed_won"]
    assert (won["ts"], won["attrs"]["amount"]) == ("2024-02-03T05:00:00Z", 1500)  # midnight in New York


def test_malformed_rows_are_reported_with_file_and_line(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "Task.csv").write_text(
        '"Id","OwnerId","ActivityDate","TaskSubtype","CallDurationInSeconds"\r\n'
        '"00T000000000001","005000000000002","2026-13-45","Call","60"\r\n'
        '"00T000000000002","005000000000002","2026-01-05","Call"\r\n'
        '"00T000000000003","005000000000002","2026-01-06","Call","sixty"\r\n'
        '"00T000000000004","005000000000002","2026-01-07","Call","60"\r\n',
        encoding="utf-8",
    )
    imported = import_source("salesforce", str(export))
    assert [(p.line, p.path.endswith("Task.csv")) for p in imported.report.problems] == [
        (2, True),
        (3, True),
        (4, True),
    ]
    assert "activitydate" in imported.report.problems[0].message
    assert "4 cells but the header has 5" in imported.report.problems[1].message
    assert _by_type(imported.events) == {"call_logged": 1}  # the good row is kept


# ------------------------------------------------------------------ the command and load_source


def test_import_command_writes_events_check_accepts(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    result = CliRunner().invoke(
        import_command, ["salesforce", str(FIXTURE), "--mapping", _mapping(tmp_path), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Task: 6 read, 3 events, 3 skipped" in result.stderr
    loaded = load_events([str(out)])
    assert loaded.problems == [] and loaded.evaluated == loaded.read == 37


def test_import_command_stops_on_bad_records_unless_rejects(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "Task.csv").write_text(
        '"Id","OwnerId","ActivityDate","TaskSubtype","CallDurationInSeconds"\n'
        '"00T000000000001","005000000000002","not a date","Call","60"\n'
        '"00T000000000002","005000000000002","2026-01-05","Call","60"\n',
        encoding="utf-8",
    )
    out = tmp_path / "events.jsonl"
    failed = CliRunner().invoke(import_command, ["salesforce", str(export), "-o", str(out)])
    assert failed.exit_code == 2
    assert f"{export / 'Task.csv'}:2: Task: column 'activitydate'" in failed.stderr
    assert not out.exists()
    rejects = tmp_path / "rejects.jsonl"
    kept = CliRunner().invoke(import_command, ["salesforce", str(export), "-o", str(out), "--rejects", str(rejects)])
    assert kept.exit_code == 0
    assert [json.loads(line)["line"] for line in rejects.read_text().splitlines()] == [2]
    assert len(out.read_text().splitlines()) == 1


def test_import_command_reports_a_bad_mapping_at_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("timezone: Mars/Olympus\ncalendar:\n  - {pattern: '(', type: one_on_one_held}\nstagse: {}\n")
    result = CliRunner().invoke(import_command, ["salesforce", str(FIXTURE), "--mapping", str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{bad}:1:11: invalid mapping: timezone: unknown time zone") for line in lines)
    assert any(line.startswith(f"{bad}:3:") and "regular expression" in line for line in lines)
    assert any(line.startswith(f"{bad}:4:1:") and "did you mean 'stages'" in line for line in lines)


def test_show_mapping_prints_the_commented_default() -> None:
    result = CliRunner().invoke(import_command, ["salesforce", "--show-mapping"])
    assert result.exit_code == 0 and "calendar:" in result.output and result.output.startswith("#")


def test_load_source_feeds_the_engine(tmp_path: Path) -> None:
    loaded = load_source(f"salesforce:{FIXTURE}", _mapping(tmp_path))
    assert loaded.loaded.problems == [] and loaded.loaded.evaluated == 37
    report = engine.evaluate(loaded.loaded, engine.prepare_rules(_rules("glory-grabber/late-takeover.yaml"))[1])
    assert [f.manager for f in report.findings] == [MANAGER]


# ------------------------------------------------------------------ the real samples


def _check(tmp_path: Path, events: str) -> engine.Report:
    path = tmp_path / "events.jsonl"
    path.write_text(events, encoding="utf-8")
    return engine.check(
        [str(path)],
        rules=_rules(
            "glory-grabber/late-takeover.yaml",
            "glory-grabber/closing-share.yaml",
            "turnaround-promoter/manager-pushes-dates.yaml",
            "detached-dictator/rep-without-contact.yaml",
        ),
    )


@needs_realdata
def test_devorg_data_export(tmp_path: Path) -> None:
    folder = REALDATA / "sfdc_devorg_elastic_dbt_duckdb"
    imported = import_source("salesforce", str(folder))
    report = imported.report
    assert report.problems == [] and report.errors == []
    opportunities = _rows(folder / "opportunity.csv")
    history = _rows(folder / "OpportunityHistory.csv")
    users = _rows(folder / "User.csv")
    assert (report.objects["Opportunity"].read, report.objects["OpportunityHistory"].read) == (
        len(opportunities),
        len(history),
    )
    types = _by_type(imported.events)
    assert types["deal_created"] == len(opportunities)
    # ManagerId is empty (or the null sentinel) for every user and no user holds a role: no reporting line
    assert all(u["ManagerId"] in ("", "000000000000000AAA") for u in users)
    assert types["team_member_added"] == 0 and report.objects["User"].read == len(users)
    assert any("no reporting lines" in note for note in report.notes)
    # one event per deal that entered a won stage in its history
    won_deals = {row["OpportunityId"] for row in history if row["StageName"] == "Closed Won"}
    assert types["deal_closed_won"] == len(won_deals)
    for stats in report.objects.values():
        assert stats.read <= stats.events + sum(stats.skipped.values())
    checked = _check(tmp_path, imported.jsonl())
    assert checked.findings == [] and checked.evaluated == len(imported.events)


@needs_realdata
def test_report_style_export_without_owner_column(tmp_path: Path) -> None:
    folder = REALDATA / "sfdc_devorg_powerbi_export"
    imported = import_source("salesforce", str(folder))
    report = imported.report
    assert report.problems == [] and report.errors == []
    opportunities = _rows(folder / "Opportunity.csv")
    assert "OwnerId" not in opportunities[0]
    stats = report.objects["Opportunity"]
    assert (stats.read, stats.events) == (len(opportunities), 0)
    assert stats.skipped == {"opportunities with no owner or creator in this export": len(opportunities)}
    history = _rows(folder / "OpportunityHistory.csv")
    assert report.objects["OpportunityHistory"].read == len(history)
    closings = _by_type(imported.events)
    deals_won = {row["OpportunityId"] for row in history if row["StageName"] == "Closed Won"}
    assert closings["deal_closed_won"] == len(deals_won)
    # US report dates ('02/23/26 08:55 PM', no zone: UTC by default) give the instant of the row that won
    entered = {salesforce_id(row["Id"]): row["CreatedDate"] for row in history if row["StageName"] == "Closed Won"}
    for event in imported.events:
        if event["type"] == "deal_closed_won":
            stamp = datetime.strptime(entered[event["source"]["record_id"]], "%m/%d/%y %I:%M %p")
            assert event["ts"] == stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    checked = _check(tmp_path, imported.jsonl())
    assert checked.findings == []
    assert {n.rule for n in checked.not_assessed} >= {"detached-dictator/rep-without-contact"}


@needs_realdata
def test_demo_data_with_bom_and_no_calls(tmp_path: Path) -> None:
    folder = REALDATA / "sfdc_assets_data_cloud_workshop"
    assert (folder / "Task.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    imported = import_source("salesforce", str(folder))
    report = imported.report
    assert report.problems == [] and report.errors == []
    tasks = _rows(folder / "Task.csv")
    calls = [t for t in tasks if (t["CallDurationInSeconds"] or "0") not in ("0", "")]
    assert calls == []
    assert (report.objects["Task"].read, report.objects["Task"].events) == (len(tasks), 0)
    opportunities = _rows(folder / "Opportunity.csv")
    types = _by_type(imported.events)
    assert types["deal_created"] == len(opportunities)
    assert types["deal_closed_won"] == sum(1 for o in opportunities if o["IsWon"] == "1")
    assert types["deal_closed_lost"] == sum(1 for o in opportunities if o["StageName"] == "Closed Lost")
    created = [e["ts"] for e in imported.events if e["type"] == "deal_created"]
    assert set(created) == {"2024-01-22T16:14:25Z"}  # '+0000' read as UTC
    assert _check(tmp_path, imported.jsonl()).findings == []


@needs_realdata
def test_fivetran_sync(tmp_path: Path) -> None:
    folder = REALDATA / "fivetran_dbt_salesforce_seeds"
    imported = import_source("salesforce", str(folder))
    report = imported.report
    assert report.problems == [] and report.errors == []
    users = _rows(folder / "sf_user_data.csv")
    with_manager = [u for u in users if u["manager_id"]]
    types = _by_type(imported.events)
    assert types["team_member_added"] == len(with_manager)
    # manager ids are hashed in this sync (joins fail by design): reported, not dropped
    hashed = {u["manager_id"] for u in with_manager} - {u["id"] for u in users}
    assert set(report.unknown_users["User"]) == hashed
    opportunities = _rows(folder / "sf_opportunity_data.csv")
    deleted = sum(1 for o in opportunities if o["is_deleted"] == "true")
    assert report.objects["Opportunity"].skipped["deleted records"] == deleted
    assert report.objects["Opportunity (history mode)"].read == len(_rows(folder / "sf_opportunity_history_data.csv"))
    events = _rows(folder / "sf_event_data.csv")
    assert report.objects["Event"].read == len(events)
    assert types["call_logged"] + types["meeting_held"] == len(events)
    assert _check(tmp_path, imported.jsonl()).evaluated == len(imported.events)


def test_feed_splits_quotas_and_currency(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    group, manager, rep = "0F9000000000001", "005000000000001", "005000000000002"
    (export / "User.csv").write_text(f'"Id","ManagerId"\n"{manager}",""\n"{rep}","{manager}"\n')
    (export / "FeedItem.csv").write_text(
        '"Id","ParentId","Type","CreatedById","CreatedDate","Body"\n'
        f'"0D5000000000001","{group}","TextPost","{manager}","2026-01-05 09:00:00","<p>Focus on &amp; close Acme</p>"\n'
        f'"0D5000000000002","{rep}","TextPost","{manager}","2026-01-06 09:00:00","Good call today"\n'
        f'"0D5000000000003","006000000000001","TrackedChange","{manager}","2026-01-07 09:00:00",""\n'
        f'"0D5000000000004","006000000000001","TextPost","{rep}","2026-01-07 10:00:00","note on a deal"\n'
    )
    (export / "FeedTrackedChange.csv").write_text(
        '"Id","FeedItemId","FieldName","OldValue","NewValue"\n'
        f'"0D6000000000001","0D5000000000003","Opportunity.Owner","{rep}","{manager}"\n'
    )
    (export / "OpportunitySplit.csv").write_text(
        '"Id","OpportunityId","SplitOwnerId","SplitPercentage","CreatedById","CreatedDate"\n'
        f'"149000000000001","006000000000001","{rep}","60","{manager}","2026-01-08 09:00:00"\n'
    )
    (export / "ForecastingQuota.csv").write_text(
        '"Id","QuotaOwnerId","QuotaAmount","CurrencyIsoCode","StartDate","CreatedById","CreatedDate"\n'
        f'"0J9000000000001","{rep}","100000","USD","2026-01-01","{manager}","2026-01-02 09:00:00"\n'
        f'"0J9000000000002","{rep}","50000","GBP","2026-04-01","{manager}","2026-01-02 09:00:00"\n'
    )
    mapping = _mapping(tmp_path, f'currency: EUR\nrates: {{USD: 0.9}}\nmessages: {{team: ["{group}"]}}\n')
    imported = import_source("salesforce", str(export), mapping)
    assert imported.report.problems == []
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in imported.events:
        by_type.setdefault(str(event["type"]), []).append(event)
    (team,) = [e for e in by_type["message_sent"] if e["attrs"]["audience"] == "team"]
    assert team["attrs"]["text"] == "Focus on & close Acme"  # tags stripped, entities decoded
    (direct,) = [e for e in by_type["message_sent"] if e["attrs"]["audience"] == "rep"]
    assert direct["rep"] == salesforce_id(rep)
    assert imported.report.objects["FeedItem"].skipped == {
        "tracked changes (read through FeedTrackedChange)": 1,
        "posts on records or in channels the mapping does not name": 1,
    }
    (owner,) = by_type["deal_owner_changed"]
    assert (owner["actor"], owner["attrs"]["to_role"]) == (salesforce_id(manager), "manager")
    (split,) = by_type["commission_split_adjusted"]
    assert split["attrs"] == {"split": 60}
    targets = sorted(
        (e["attrs"]["period"], e["attrs"]["amount"], e["attrs"]["currency"]) for e in by_type["target_assigned"]
    )
    assert targets == [("2026-01-01", 90000.0, "EUR"), ("2026-04-01", 50000, "GBP")]
    assert any("GBP" in note and "not converted" in note for note in imported.report.notes)


def test_fivetran_history_mode_versions_give_the_changes(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    deal, rep, manager = "006000000000001", "005000000000002", "005000000000001"
    (export / "sf_user_data.csv").write_text(f"id,manager_id\n{manager},\n{rep},{manager}\n")
    (export / "sf_opportunity_history_data.csv").write_text(
        "_fivetran_active,_fivetran_start,_fivetran_end,id,owner_id,stage_name,close_date,last_modified_by_id\n"
        f"false,2026-01-05 09:00:00,2026-02-01 10:00:00,{deal},{rep},Prospecting,2026-03-31 00:00:00,{rep}\n"
        f"false,2026-02-01 10:00:00,2026-02-10 10:00:00,{deal},{rep},Prospecting,2026-04-30 00:00:00,{manager}\n"
        f"false,2026-02-10 10:00:00,2026-02-20 10:00:00,{deal},{manager},Prospecting,2026-04-30 00:00:00,{manager}\n"
        f"true,2026-02-20 10:00:00,9999-12-31 23:59:59,{deal},{manager},Closed Won,2026-02-20 00:00:00,{manager}\n"
    )
    imported = import_source("salesforce", str(export))
    assert imported.report.problems == []
    changes = [(e["type"], e["actor"], e["ts"]) for e in imported.events if e["type"] != "team_member_added"]
    m = salesforce_id(manager)
    assert changes == [
        ("close_date_pushed", m, "2026-02-01T10:00:00Z"),
        ("deal_owner_changed", m, "2026-02-10T10:00:00Z"),
        ("deal_closed_won", m, "2026-02-20T10:00:00Z"),
    ]
    (won,) = [e for e in imported.events if e["type"] == "deal_closed_won"]
    assert won["rep"] == salesforce_id(rep)  # the seller the manager took the deal from
