"""The roster decides who is judged for what: CSV rosters, handovers and resolution of `manager`."""

from __future__ import annotations

import json
from pathlib import Path

import engine

RULES = Path(__file__).resolve().parent.parent / "rules"


def _write(path: Path, events: list[dict[str, object]]) -> str:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return str(path)


def _listens(manager: str, rep: str, days: range, month: str = "2026-01") -> list[dict[str, object]]:
    return [
        {
            "id": f"{manager}-l{day}",
            "ts": f"{month}-{day:02d}T10:00:00Z",
            "type": "call_listened",
            "actor": manager,
            "rep": rep,
        }
        for day in days
    ]


def test_csv_roster_handover_judges_each_manager_only_for_their_tenure(tmp_path: Path) -> None:
    # rep-1 is led by old-mgr until 1 Feb, then by new-mgr. Nobody logs any contact with rep-1
    # before 1 Feb, and new-mgr meets rep-1 weekly from 1 Feb.
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "rep,manager,start,end\nrep-1,old-mgr,2026-01-01,2026-02-01\nrep-1,new-mgr,2026-02-01,\n", encoding="utf-8"
    )
    events = [
        {
            "id": f"o{week}",
            "ts": f"2026-{2 + (week * 7) // 28:02d}-{1 + (week * 7) % 28:02d}T09:00:00Z",
            "type": "one_on_one_held",
            "actor": "new-mgr",
            "rep": "rep-1",
        }
        for week in range(8)
    ]
    events += [
        {"id": "start", "ts": "2026-01-02T09:00:00Z", "type": "email_sent", "actor": "rep-1"},
        {"id": "end", "ts": "2026-03-27T17:00:00Z", "type": "email_sent", "actor": "rep-1"},
    ]
    report = engine.check(
        [_write(tmp_path / "events.jsonl", events)],
        roster=str(roster),
        rules=[str(RULES / "detached-dictator" / "rep-without-contact.yaml"), str(RULES / "_library.yaml")],
    )
    # old-mgr's tenure (2 Jan - 1 Feb, 30 days) is shorter than the 35-day gap: not assessed, not a finding
    assert [f.manager for f in report.findings] == []
    assert [(n.manager, n.rule) for n in report.not_assessed] == [("old-mgr", "detached-dictator/rep-without-contact")]


def test_manager_resolved_from_roster_at_event_time(tmp_path: Path) -> None:
    events = [
        {
            "id": "in-a",
            "ts": "2026-01-01",
            "type": "team_member_added",
            "actor": "mgr-a",
            "manager": "mgr-a",
            "rep": "rep-1",
        },
        {
            "id": "out-a",
            "ts": "2026-02-01",
            "type": "team_member_removed",
            "actor": "mgr-a",
            "manager": "mgr-a",
            "rep": "rep-1",
            "attrs": {"reason": "transferred"},
        },
        {
            "id": "in-b",
            "ts": "2026-02-01",
            "type": "team_member_added",
            "actor": "mgr-b",
            "manager": "mgr-b",
            "rep": "rep-1",
        },
    ]
    # rep-1 wins three deals in January (mgr-a's team) and none later; the deal events carry no manager
    events += [
        {
            "id": f"w{i}",
            "ts": f"2026-01-{10 + i}T12:00:00Z",
            "type": "deal_closed_won",
            "actor": "rep-1",
            "rep": "rep-1",
            "deal": f"d{i}",
            "attrs": {"amount": 1000},
        }
        for i in range(3)
    ]
    events.append({"id": "end", "ts": "2026-03-31T12:00:00Z", "type": "email_sent", "actor": "rep-1"})
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "wins.yaml").write_text(
        "id: t/wins\ntrait: t\ntitle: wins\nseverity: low\n"
        "logic: {kind: threshold, where: {type: deal_closed_won}, op: gte, value: 1}\n"
        "message: '{count} wins'\nadvice: a\ndocs: {why: w, instead: i, false_positives: f}\n",
        encoding="utf-8",
    )
    report = engine.check([_write(tmp_path / "e.jsonl", events)], rules=[str(rules)])
    assert [(f.manager, f.metrics["count"]) for f in report.findings] == [("mgr-a", 3)]
    assert report.findings[0].window_start.isoformat() == "2026-01-10T00:00:00"
    assert report.findings[0].window_end.isoformat() == "2026-02-01T00:00:00"


def test_reps_with_identical_tenures_give_one_manager_scope(tmp_path: Path) -> None:
    """Ten reps joining on the same day give the manager one led period, not two.

    The scope merge once ordered tied intervals differently in its two window
    passes, split one period in two and counted the manager's messages twice.
    """
    from engine.backends import get_backend
    from engine.ingest import load_events

    events: list[dict[str, object]] = [
        {
            "id": f"add-{n}",
            "ts": "2026-01-01T00:00:00Z",
            "type": "team_member_added",
            "actor": "mgr-1",
            "manager": "mgr-1",
            "rep": f"rep-{n}",
        }
        for n in range(10)
    ]
    events += [
        {
            "id": f"msg-{month}-{day}",
            "ts": f"2026-{month:02d}-{day:02d}T09:00:00Z",
            "type": "message_sent",
            "actor": "mgr-1",
            "attrs": {"audience": "team", "text": "Keep pushing, team!"},
        }
        for month in (1, 2, 3)
        for day in range(2, 28, 3)
    ]
    loaded = load_events([_write(tmp_path / "log.jsonl", events)])
    backend = get_backend("duckdb")(loaded.table)
    try:
        rows = backend.con.execute("SELECT manager, s_start, s_end FROM sm_scopes_m").fetchall()  # type: ignore[attr-defined]
    finally:
        backend.close()
    assert len(rows) == 1
    report = engine.check([_write(tmp_path / "log.jsonl", events)], rules=[str(RULES)], config=None)
    platitudes = [f for f in report.findings if f.rule == "platitude-peddler/empty-messages"]
    assert platitudes and platitudes[0].metrics["messages"] == 27
    assert len(platitudes[0].evidence) == len(set(platitudes[0].evidence))
