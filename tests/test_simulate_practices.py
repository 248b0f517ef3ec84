"""The simulator's practices (simulator.practices): healthy managers inspect what they advance,
keep internal meetings few and KPIs within seven, and coach struggling sellers; each practice
profile shows the opposite in the events themselves, the way the rules read them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import pytest

from simulator import simulate
from simulator.profiles import PRACTICE_PROFILES

NEW_PROFILES = ("tells-not-shows", "leans-on-strong", "scattered-kpis", "meeting-bound")
TEAM_TIME = ("one_on_one_held", "call_listened", "ride_along", "coaching_session", "team_meeting")


def when(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


class Org:
    """One plain simulation with every profile, and the look-ups the tests need."""

    def __init__(self, seed: int) -> None:
        self.sim = simulate(managers=30, days=90, seed=seed)
        self.labels: dict[str, Any] = self.sim.labels["managers"]
        self.by_manager: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in self.sim.events:
            self.by_manager[e["manager"]].append(e)

    def profile(self, mgr: str) -> str:
        return str(self.labels[mgr]["profile"])

    def one(self, profile: str) -> str:
        return next(m for m in self.labels if self.profile(m) == profile)

    def own(self, mgr: str, *types: str) -> list[dict[str, Any]]:
        return [e for e in self.by_manager[mgr] if e["actor"] == mgr and e["type"] in types]

    def advances(self, mgr: str) -> list[tuple[dict[str, Any], bool]]:
        """Each advance decision of the manager's, and whether they saw the deal in the 28 days before."""
        seen: dict[str, list[datetime]] = defaultdict(list)
        for e in self.by_manager[mgr]:
            mine = e["actor"] == mgr or mgr in e["attrs"].get("participants", [])
            looked = e["type"] in ("call_listened", "ride_along") or (
                e["type"] == "meeting_held" and e["attrs"]["with_customer"]
            )
            if mine and looked and e.get("deal"):
                seen[e["deal"]].append(when(e["ts"]))
        out = []
        for e in self.own(mgr, "deal_review"):
            if e["attrs"]["decision"] != "advance":
                continue
            at = when(e["ts"])
            out.append((e, any(0 < (at - t).total_seconds() <= 30 * 86400 for t in seen[e["deal"]])))
        return out


@pytest.fixture(scope="module", params=[3, 8])
def org(request: pytest.FixtureRequest) -> Org:
    return Org(request.param)


def test_the_mix_holds_every_new_profile_with_its_practice() -> None:
    for profile in NEW_PROFILES:
        assert profile in PRACTICE_PROFILES
    labels = simulate(managers=30, days=10, seed=1).labels["managers"]
    assert {lab["profile"] for lab in labels.values()} >= set(NEW_PROFILES)
    leaner = next(lab for lab in labels.values() if lab["profile"] == "leans-on-strong")
    assert leaner["practices"] == ["performance-avoidance", "leaning-on-the-strong"]


def test_healthy_managers_see_what_they_advance(org: Org) -> None:
    for mgr in org.labels:
        if org.profile(mgr) == "tells-not-shows":
            continue
        unseen: dict[str, int] = defaultdict(int)
        for review, seen in org.advances(mgr):
            if not seen:
                unseen[review["ts"][:7]] += 1
        assert all(n <= 1 for n in unseen.values()), (mgr, org.profile(mgr), dict(unseen))


def test_tells_not_shows_advances_on_the_sellers_word(org: Org) -> None:
    advances = org.advances(org.one("tells-not-shows"))
    unseen = sum(1 for _, seen in advances if not seen)
    assert len(advances) >= 15 and unseen >= 0.7 * len(advances)


def test_internal_meetings_are_few_except_for_the_meeting_bound(org: Org) -> None:
    for mgr in org.labels:
        team = set(org.labels[mgr]["team"])
        months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for e in org.own(mgr, "meeting_held", *TEAM_TIME):
            month = months[e["ts"][:7]]
            people = set(e["attrs"].get("participants", [])) - {mgr}
            internal = e["type"] == "meeting_held" and not e["attrs"]["with_customer"] and not people & team
            month[0 if internal else 1] += 1
        full = {m: v for m, v in months.items() if m in ("2026-02", "2026-03")}
        if org.profile(mgr) == "meeting-bound":
            assert all(internal >= 60 and internal > other for internal, other in full.values()), full
        else:
            assert all(internal <= 12 for internal, _ in full.values()), (mgr, org.profile(mgr), full)


def test_kpi_lists(org: Org) -> None:
    for mgr in org.labels:
        lists = [e["attrs"]["kpis"] for e in org.own(mgr, "kpi_set")]
        named = {k for kpis in lists for k in kpis}
        profile = org.profile(mgr)
        if profile == "scattered-kpis":
            assert len(lists) == 3 and len(named) >= 9 and all(len(k) <= 7 for k in lists)
        elif profile == "kpi-overload":
            assert len(lists) == 1 and len(named) >= 10
        else:
            assert 1 <= len(lists) <= 2 and len(named) <= 7, (mgr, profile, lists)


def test_leans_on_strong_moves_struggling_sellers_deals_and_coaches_only_the_others(org: Org) -> None:
    mgr = org.one("leans-on-strong")
    latest: dict[str, float] = {}
    moves = []
    for e in org.by_manager[mgr]:
        if e["type"] == "quota_result":
            latest[e["rep"]] = e["attrs"]["attainment"]
        elif e["type"] == "deal_owner_changed":
            moves.append((latest[e["attrs"]["from"]], latest[e["attrs"]["to"]], e))
    assert len(moves) >= 4
    assert all(giver < 0.7 <= 1.0 <= taker for giver, taker, _ in moves)
    weak = {e["attrs"]["from"] for _, _, e in moves}
    coached = {e["rep"] for e in org.own(mgr, "coaching_session", "performance_plan_started")}
    assert not weak & coached
    for other in org.labels:  # no one else moves deals between sellers in a plain org
        moved = [
            e for e in org.by_manager[other] if e["type"] == "deal_owner_changed" and e["attrs"]["to_role"] == "rep"
        ]
        assert other == mgr or not moved, other


def test_moves_come_after_a_result_the_rule_can_read(org: Org) -> None:
    """Every move follows the giver's latest result within 45 days (the rule's result_within)."""
    mgr = org.one("leans-on-strong")
    results: dict[str, list[date]] = defaultdict(list)
    for e in org.by_manager[mgr]:
        if e["type"] == "quota_result":
            results[e["rep"]].append(date.fromisoformat(e["ts"][:10]))
        elif e["type"] == "deal_owner_changed":
            day = date.fromisoformat(e["ts"][:10])
            assert 0 <= (day - max(results[e["attrs"]["from"]])).days <= 45
