"""The simulator's realism mode: a messy log that still loads cleanly, the same for the same seed,
every condition carried and named in the labels, each condition really in the events, and plain
mode untouched (tests/test_demo.py pins the plain bytes against the shipped demo log)."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from engine.ingest import load_events
from engine.vocab import EVENT_TYPES
from simulator import simulate, write_simulation
from simulator.realism import CONDITIONS, FIELD_NOISE, VP_ACTOR, assign_conditions, condition_kind, salesforce_id

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SF_ID = re.compile(r"^[0-9A-Za-z]{18}$")
PLAIN_ID = re.compile(r"^ev-\d{8}$")
ROSTER = ("team_member_added", "team_member_removed")


def utc(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(timezone.utc)


def utc_day(ts: str) -> date:
    return utc(ts).date()


class Org:
    """One realism simulation with the look-ups the tests need."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.labels: dict[str, Any] = sim.labels["managers"]
        self.start = date.fromisoformat(sim.labels["start"])
        self.by_manager: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.manager_of: dict[str, str] = {}  # rep -> a manager whose team they were on
        for mgr, lab in self.labels.items():
            for rep in lab["team"]:
                self.manager_of.setdefault(rep, mgr)
        for ev in sim.events:
            self.by_manager[self.team_of(ev)].append(ev)

    def team_of(self, ev: dict[str, Any]) -> str:
        """The manager an event belongs to, also when the event leaves the field out."""
        if "manager" in ev:
            return str(ev["manager"])
        if ev["actor"] in self.labels:
            return str(ev["actor"])
        return self.manager_of[ev.get("rep") or ev["actor"]]

    def carrying(self, kind: str) -> list[str]:
        return [m for m, lab in self.labels.items() if any(condition_kind(c) == kind for c in lab["conditions"])]

    def day(self, text: str) -> date:
        return date.fromisoformat(text)


@pytest.fixture(scope="module")
def org() -> Org:
    """A default-sized org (30 teams, 90 days), the size the accuracy report uses."""
    return Org(simulate(managers=30, days=90, seed=1, realism=True))


# --------------------------------------------------------------------------- loading and determinism


def test_the_realism_log_loads_with_no_rejects(org: Org, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    write_simulation(org.sim, str(path))
    loaded = load_events([str(path)])
    assert loaded.problems == []
    assert loaded.read == loaded.evaluated == len(org.sim.events)
    # person_absent is in the contract's vocabulary; the custom types are kept and warned about
    assert not any("person_absent" in w for w in loaded.warnings)
    assert any("task_completed" in w for w in loaded.warnings)


def test_same_seed_same_bytes_other_seed_other_log(tmp_path: Path) -> None:
    def written(name: str, seed: int) -> tuple[bytes, bytes]:
        sim = simulate(managers=8, days=60, seed=seed, realism=True)
        events, labels = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.labels.json"
        write_simulation(sim, str(events), str(labels))
        return events.read_bytes(), labels.read_bytes()

    first, again, other = written("a", 4), written("b", 4), written("c", 5)
    assert first == again
    assert first[0] != other[0] and first[1] != other[1]


def test_plain_mode_is_untouched(tmp_path: Path) -> None:
    """realism=False is the default, byte for byte, with no realism marks in events or labels; the
    demo fixture (tests/test_demo.py) pins the bytes themselves."""
    default, plain = simulate(managers=6, days=40, seed=2), simulate(managers=6, days=40, seed=2, realism=False)
    for name, sim in (("default", default), ("plain", plain)):
        write_simulation(sim, str(tmp_path / f"{name}.jsonl.gz"), str(tmp_path / f"{name}.json"))
    assert (tmp_path / "default.jsonl.gz").read_bytes() == (tmp_path / "plain.jsonl.gz").read_bytes()
    assert (tmp_path / "default.json").read_bytes() == (tmp_path / "plain.json").read_bytes()
    assert "realism" not in plain.labels
    assert all("conditions" not in lab and "realism" not in lab for lab in plain.labels["managers"].values())
    assert all(PLAIN_ID.match(e["id"]) and e["ts"].endswith("Z") and "manager" in e for e in plain.events)
    assert {e["type"] for e in plain.events} <= set(EVENT_TYPES)


def test_cli_simulate_realism(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import main

    target = tmp_path / "org.jsonl"
    args = ["simulate", "--managers", "4", "--days", "40", "--seed", "3", "-o", str(target)]
    result = CliRunner().invoke(main, [*args, "--realism"])
    assert result.exit_code == 0, result.output
    labels = json.loads((tmp_path / "org.labels.json").read_text(encoding="utf-8"))
    assert labels["realism"] is True and all("conditions" in lab for lab in labels["managers"].values())
    sim = simulate(managers=4, days=40, seed=3, realism=True)
    write_simulation(sim, str(tmp_path / "api.jsonl"))
    assert target.read_bytes() == (tmp_path / "api.jsonl").read_bytes()
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 0, plain.output
    assert "realism" not in json.loads((tmp_path / "org.labels.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- labels


def test_every_condition_is_carried_and_named(org: Org) -> None:
    carried = Counter(condition_kind(c) for lab in org.labels.values() for c in lab["conditions"])
    assert set(carried) == set(CONDITIONS)
    assert org.sim.labels["realism"] is True
    for mgr, lab in org.labels.items():
        assert [condition_kind(c) for c in lab["conditions"]] == [
            c for c in CONDITIONS if c in {condition_kind(x) for x in lab["conditions"]}
        ], mgr
        assert isinstance(lab["realism"], dict)
    # conditions land on managers who must stay quiet, not only on trait teams
    quiet = {m for m, lab in org.labels.items() if lab["profile"] == "healthy" or lab["lookalike"]}
    behaviour = {condition_kind(c) for m in quiet for c in org.labels[m]["conditions"]} - set(FIELD_NOISE)
    assert len(behaviour) >= 10


def test_every_condition_on_another_seed_too() -> None:
    for seed in (2,):
        labels = simulate(managers=25, days=90, seed=seed, realism=True).labels["managers"]
        assert {condition_kind(c) for lab in labels.values() for c in lab["conditions"]} == set(CONDITIONS), seed


def test_assignment_is_spread_and_respects_the_profiles() -> None:
    profiles = ["healthy", "knee-jerk-reactionary", "drum-banger", "excuse-maker", "even-split"] * 5
    chosen = assign_conditions(9, profiles)
    assert chosen == assign_conditions(9, profiles)
    for profile, names in zip(profiles, chosen):
        assert not ({"handover", "player_coach"} <= names or {"recorded_leave", "unrecorded_leave"} <= names)
        assert len(names - set(FIELD_NOISE)) <= 2
        if profile == "knee-jerk-reactionary":
            assert not names & {"reorg_one_day", "vp_strategy_changes", "handover", "player_coach"}
        if profile == "drum-banger":
            assert "rep_minimums_one_morning" not in names
        if profile == "excuse-maker":
            assert "rep_miss_explanations" not in names
        if profile == "even-split":
            assert "small_team" not in names


# --------------------------------------------------------------------------- each condition is in the events


def test_leaves(org: Org) -> None:
    for kind in ("recorded_leave", "unrecorded_leave"):
        managers = org.carrying(kind)
        assert managers, kind
        for mgr in managers:
            for leave in org.labels[mgr]["realism"]["leaves"]:
                rep, first, last = leave["rep"], org.day(leave["from"]), org.day(leave["to"])
                assert 14 <= (last - first).days + 1 <= 70
                assert leave["recorded"] == (kind == "recorded_leave")
                during = [
                    e
                    for e in org.sim.events
                    if first <= utc_day(e["ts"]) <= last
                    and (e.get("rep") == rep or e["actor"] == rep)
                    and e["type"] not in ("quota_result", "person_absent", *ROSTER)
                ]
                assert during == [], (rep, during[:3])
                records = [e for e in org.sim.events if e["type"] == "person_absent" and e["actor"] == rep]
                if leave["recorded"]:
                    assert len(records) == 1
                    attrs = records[0]["attrs"]
                    assert (attrs["from"], attrs["to"]) == (leave["from"], leave["to"])
                    assert attrs["reason"] in ("vacation", "sick", "leave", "training", "other")
                else:
                    assert records == []


def test_tool_rollout(org: Org) -> None:
    for mgr in org.carrying("tool_rollout"):
        label = next(c for c in org.labels[mgr]["conditions"] if c.startswith("tool_rollout_day_"))
        rollout = org.start + timedelta(days=int(label.rsplit("_", 1)[1]))
        assert org.labels[mgr]["realism"]["tool_rollout"] == rollout.isoformat()
        own = [e for e in org.by_manager[mgr] if e["actor"] == mgr]
        hidden = [e for e in own if e["type"] in ("one_on_one_held", "call_listened")]
        assert all(utc_day(e["ts"]) >= rollout for e in hidden)
        # (a handed-over team names the condition for both managers: each is checked for the part they led)
        tenure = org.labels[mgr]["tenure"]
        if org.day(tenure["end"]) > rollout:
            assert hidden
        if org.day(tenure["start"]) < rollout:
            # the manager coached before: ride-alongs and coaching sessions are logged throughout
            assert any(e["type"] in ("ride_along", "coaching_session") and utc_day(e["ts"]) < rollout for e in own)


def test_joiners_and_leavers(org: Org) -> None:
    for mgr in org.carrying("rep_joined_mid_period"):
        joined = org.labels[mgr]["realism"]["joined"]
        rep, when = joined["rep"], org.day(joined["date"])
        assert rep in org.labels[mgr]["team"]
        adds = [e for e in org.sim.events if e["type"] == "team_member_added" and e["rep"] == rep]
        assert [utc_day(e["ts"]) for e in adds] == [when]
        assert all(utc_day(e["ts"]) >= when for e in org.sim.events if e.get("rep") == rep or e["actor"] == rep)
        assert any(e["type"] == "target_assigned" and e["rep"] == rep for e in org.by_manager[mgr])
    for mgr in org.carrying("rep_left_mid_period"):
        left = org.labels[mgr]["realism"]["left"]
        rep, when = left["rep"], org.day(left["date"])
        removals = [e for e in org.sim.events if e["type"] == "team_member_removed" and e["rep"] == rep]
        assert [(utc_day(e["ts"]), e["attrs"]["reason"]) for e in removals] == [(when, left["reason"])]
        assert all(utc_day(e["ts"]) <= when for e in org.sim.events if e["actor"] == rep)
        handed = [e for e in org.sim.events if e["type"] == "deal_owner_changed" and e["attrs"]["from"] == rep]
        assert all(e["attrs"]["to_role"] == "rep" and e["attrs"]["to"] != rep for e in handed)


def test_handover(org: Org) -> None:
    managers = [m for m in org.carrying("handover") if not m.endswith("-prev")]
    assert managers
    for new in managers:
        prev = org.labels[new]["predecessor"]
        assert org.labels[prev]["profile"] == "healthy"
        assert org.labels[prev]["conditions"] == org.labels[new]["conditions"]
        when = org.day(org.labels[new]["realism"]["handover"])
        assert org.labels[new]["tenure"]["start"] == when.isoformat() == org.labels[prev]["tenure"]["end"]
        removed = {
            e["rep"]
            for e in org.sim.events
            if e["type"] == "team_member_removed" and e["manager"] == prev and utc_day(e["ts"]) == when
        }
        added = {
            e["rep"]
            for e in org.sim.events
            if e["type"] == "team_member_added" and e["manager"] == new and utc_day(e["ts"]) == when
        }
        assert removed and removed == added


def test_small_teams_and_player_coaches(org: Org) -> None:
    for mgr in org.carrying("small_team"):
        assert 2 <= len(org.labels[mgr]["team"]) <= 3
    coaches = org.carrying("player_coach")
    assert coaches
    for mgr in coaches:
        own = Counter(e["type"] for e in org.by_manager[mgr] if e["actor"] == mgr and e.get("rep") == mgr)
        assert own["deal_created"] >= 5 and own["deal_closed_won"] >= 1 and own["call_logged"] > 0
        assert org.labels[mgr]["traits"] == [] and org.labels[mgr]["profile"] not in ("glory-grabber", "late-joiner")
    pushes = sum(
        1
        for mgr in coaches
        for e in org.by_manager[mgr]
        if e["type"] == "close_date_pushed" and e["actor"] == mgr and e.get("rep") == mgr
    )
    assert pushes >= 1


def test_reorg_and_minimums_in_one_morning(org: Org) -> None:
    def led_on(mgr: str, day: str) -> bool:
        """A handed-over team's conditions are named for both managers; the one leading that day acts."""
        tenure = org.labels[mgr]["tenure"]
        return bool(tenure["start"] <= day < tenure["end"])

    for mgr in org.carrying("reorg_one_day"):
        reorg = org.labels[mgr]["realism"]["reorg"]
        if not led_on(mgr, reorg["date"]):
            continue
        changes = [
            e
            for e in org.by_manager[mgr]
            if e["type"] == "strategy_changed" and e["actor"] == mgr and utc_day(e["ts"]) == org.day(reorg["date"])
        ]
        assert len(changes) >= 3 and len({e["attrs"]["area"] for e in changes}) == len(changes)
        assert all(utc(e["ts"]).hour < 12 for e in changes)
    for mgr in org.carrying("rep_minimums_one_morning"):
        minimums = org.labels[mgr]["realism"]["rep_minimums"]
        if not led_on(mgr, minimums["date"]):
            continue
        set_then = [
            e
            for e in org.by_manager[mgr]
            if e["type"] == "activity_mandate_set" and utc_day(e["ts"]) == org.day(minimums["date"]) and e.get("rep")
        ]
        assert {e["rep"] for e in set_then} == set(minimums["reps"]) and len(set_then) >= 2
        assert all(utc(e["ts"]).hour < 12 for e in set_then)


def test_events_of_others_under_the_managers_name(org: Org) -> None:
    def team(mgr: str) -> str:
        return mgr.removesuffix("-prev")  # a handed-over team's two managers share its events

    vp: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for mgr in org.carrying("vp_strategy_changes"):
        vp[team(mgr)] += [e for e in org.by_manager[mgr] if e["actor"] == VP_ACTOR]
        assert all(e["manager"] == mgr for e in org.by_manager[mgr] if e["actor"] == VP_ACTOR)
    assert vp and all(vp.values())
    assert all(e["type"] == "strategy_changed" and e["actor_role"] == "executive" for es in vp.values() for e in es)
    notes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for mgr in org.carrying("rep_miss_explanations"):
        reps = org.labels[mgr]["realism"]["miss_explaining_reps"]
        notes[team(mgr)] += [
            e for e in org.by_manager[mgr] if e["type"] == "forecast_miss_explained" and e["actor"] in reps
        ]
    assert notes and all(len(es) >= 3 for es in notes.values())
    assert all(e["rep"] == e["actor"] and e.get("actor_role", "rep") == "rep" for es in notes.values() for e in es)
    quiet = set(org.labels) - set(org.carrying("vp_strategy_changes"))
    assert not any(e["actor"] == VP_ACTOR for m in quiet for e in org.by_manager[m])


def test_field_noise(org: Org) -> None:
    carriers = {kind: set(org.carrying(kind)) for kind in FIELD_NOISE}

    def noisy(kind: str) -> set[str]:
        return carriers[kind]

    for ev in org.sim.events:
        team = org.team_of(ev)
        if "actor_role" not in ev:
            assert team in noisy("no_actor_role") and ev["actor"] != VP_ACTOR
        if "manager" not in ev:
            assert team in noisy("no_manager_field") and ev["type"] not in ROSTER
            # the roster can place it: by the rep it concerns or the rep or manager who acted
            assert ev.get("rep") in org.manager_of or ev["actor"] in org.manager_of or ev["actor"] in org.labels
        if not PLAIN_ID.match(ev["id"]):
            assert team in noisy("foreign_ids") and (UUID.match(ev["id"]) or SF_ID.match(ev["id"]))
        if not ev["ts"].endswith("Z"):
            assert team in noisy("mixed_timestamps")
        if ev["type"] not in EVENT_TYPES and ev["type"] != "person_absent":
            assert team in noisy("custom_types")
    events = org.sim.events
    assert any("actor_role" not in e for e in events) and any("manager" not in e for e in events)
    assert any(UUID.match(e["id"]) for e in events) and any(SF_ID.match(e["id"]) for e in events)
    assert any(SF_ID.match(e.get("deal") or "") for e in events)
    assert any(re.search(r"\.\d{3}[+-]\d\d:\d\d$", e["ts"]) for e in events)
    assert any(re.search(r"\.\d{6}[+-]\d\d:\d\d$", e["ts"]) for e in events)
    # still in time order, whatever offset a timestamp is written in
    instants = [utc(e["ts"]).replace(microsecond=0) for e in events]
    assert instants == sorted(instants)


def test_salesforce_ids_carry_a_valid_checksum() -> None:
    import random

    rng = random.Random(3)
    for _ in range(200):
        sf = salesforce_id(rng, "006")
        assert len(sf) == 18 and sf.startswith("0065")
        for chunk in range(3):
            bits = sum(1 << i for i, ch in enumerate(sf[chunk * 5 : chunk * 5 + 5]) if ch.isupper())
            assert sf[15 + chunk] == "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]


def test_short_logs_drop_what_does_not_fit() -> None:
    sim = simulate(managers=25, days=20, seed=1, realism=True)
    kinds = {condition_kind(c) for lab in sim.labels["managers"].values() for c in lab["conditions"]}
    assert not kinds & {"recorded_leave", "unrecorded_leave"}  # no room for two weeks away and the weeks around
    assert {"small_team", "player_coach", "reorg_one_day", "tool_rollout"} <= kinds
