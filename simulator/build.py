"""Run the teams, order their events, give them ids and sources, and write them out."""

from __future__ import annotations

import gzip
import io
import json
import random
import string
from dataclasses import dataclass
from datetime import date
from typing import Any

from .profiles import PROFILES, default_mix, labels_for
from .realism import TeamRealism, apply_field_noise, plan_org
from .shock import parse_quarter
from .world import DAY, Calendar, Raw, Team


@dataclass
class Simulation:
    """A generated event log and the ground truth behind it."""

    events: list[dict[str, Any]]  # canonical events, sorted by (ts, id)
    labels: dict[str, Any]


# type -> (system, object, record id prefix, share of events that carry a source)
_SOURCES: dict[str, tuple[str, str, str, float]] = {
    "call_logged": ("salesforce", "Task", "00T", 0.9),
    "email_sent": ("salesforce", "EmailMessage", "02s", 0.8),
    "meeting_held": ("salesforce", "Event", "00U", 0.85),
    "deal_created": ("salesforce", "Opportunity", "006", 1.0),
    "deal_stage_changed": ("salesforce", "OpportunityFieldHistory", "017", 1.0),
    "close_date_pushed": ("salesforce", "OpportunityFieldHistory", "017", 1.0),
    "deal_owner_changed": ("salesforce", "OpportunityFieldHistory", "017", 1.0),
    "deal_closed_won": ("salesforce", "OpportunityFieldHistory", "017", 1.0),
    "deal_closed_lost": ("salesforce", "OpportunityFieldHistory", "017", 1.0),
    "quota_result": ("salesforce", "ForecastingQuota", "0J9", 1.0),
    "target_assigned": ("salesforce", "ForecastingQuota", "0J9", 1.0),
    "team_member_added": ("salesforce", "User", "005", 1.0),
    "team_member_removed": ("salesforce", "User", "005", 1.0),
    "deal_review": ("salesforce", "Task", "00T", 0.6),
    "one_on_one_held": ("google_calendar", "Event", "evt", 0.5),
    "coaching_session": ("google_calendar", "Event", "evt", 0.5),
    "ride_along": ("salesforce", "Event", "00U", 0.5),
    "team_meeting": ("google_calendar", "Event", "evt", 0.7),
    "call_listened": ("gong", "CallView", "gng", 0.8),
    "report_generated": ("salesforce", "Report", "00O", 0.7),
    "forecast_updated": ("salesforce", "ForecastingItem", "0FI", 0.7),
    "commission_split_adjusted": ("salesforce", "OpportunitySplit", "149", 0.8),
    "message_sent": ("slack", "message", "msg", 0.6),
    "message_relayed": ("slack", "message", "msg", 0.6),
    "person_absent": ("workday", "TimeOffRequest", "TOR", 1.0),  # realism mode only
}
_ALPHABET = string.ascii_letters + string.digits


def simulate(
    managers: int = 12,
    days: int = 90,
    seed: int = 1,
    start: date = date(2026, 1, 5),
    profiles: list[str] | None = None,
    realism: bool = False,
    market_shock: str | None = None,
) -> Simulation:
    """Generate a log of ``managers`` teams over ``days`` days.

    ``profiles`` gives the profile of each manager in turn (cycled if shorter
    than ``managers``); by default ``default_mix`` picks a varied set. The same
    arguments always give the same events, byte for byte once written.

    ``realism`` adds the mess of real CRM logs (leave, a coaching tool rolled
    out mid-period, late joiners and leavers, handovers, small teams,
    player-coaches, reorganisations, a VP's and reps' events under the
    manager's name, field noise; ``simulator.realism``) to teams picked from
    the seed, and names the conditions in each manager's labels. Without it
    the output is what it has always been.

    ``market_shock`` (a quarter such as ``2026-Q2``) makes that quarter an
    org-wide shift (``simulator.shock``): results fall for every team and most
    managers, honest ones included, put their misses down to the market. The
    labels then carry ``market_shock``; without it nothing changes.
    """
    if managers < 1:
        raise ValueError("managers must be at least 1")
    if days < 1:
        raise ValueError("days must be at least 1")
    if market_shock is not None:
        parse_quarter(market_shock)  # ValueError with the expected form
    if profiles is not None:
        if not profiles:
            raise ValueError("profiles must not be empty")
        unknown = [p for p in profiles if p not in PROFILES]
        if unknown:
            raise ValueError(f"unknown profile(s) {', '.join(unknown)}; known: {', '.join(PROFILES)}")
        chosen = [profiles[i % len(profiles)] for i in range(managers)]
    else:
        chosen = default_mix(managers)

    cal = Calendar(start, days)
    raw: list[Raw] = []
    roster: dict[str, dict[str, Any]] = {}
    plans: list[TeamRealism | None] = list(plan_org(seed, chosen, cal)) if realism else [None] * len(chosen)
    noisy: dict[str, TeamRealism] = {}
    for number, (profile, plan) in enumerate(zip(chosen, plans), start=1):
        team = Team(number, profile, seed, cal, raw, plan, market_shock)
        team.run()
        team_ids = [rep.id for rep in team.reps]
        for i, mgr in enumerate(team.managers):
            traits, practices, lookalike = labels_for(mgr.profile)
            entry: dict[str, Any] = {
                "profile": mgr.profile,
                "traits": traits,
                "practices": practices,
                "lookalike": lookalike,
                "team": team_ids,
                "tenure": {"start": cal.date_iso(mgr.start), "end": cal.date_iso(mgr.end)},
            }
            if i > 0:
                entry["predecessor"] = team.managers[i - 1].id
            if i + 1 < len(team.managers):
                entry["successor"] = team.managers[i + 1].id
            if plan is not None:
                entry["conditions"] = plan.labels()
                entry["realism"] = plan.details()
                noisy[mgr.id] = plan
            roster[mgr.id] = entry
    labels: dict[str, Any] = {"seed": seed, "days": days, "start": start.isoformat(), "managers": roster}
    events = _finish(raw, seed, cal)
    if market_shock is not None:
        labels["market_shock"] = market_shock
    if realism:
        labels["realism"] = True
        events = apply_field_noise(events, noisy, seed)
    return Simulation(events=events, labels=labels)


def _finish(raw: list[Raw], seed: int, cal: Calendar) -> list[dict[str, Any]]:
    """Sort, number and stamp the collected events."""
    raw.sort(key=lambda r: (r[0], r[1], r[2], r[5] or "", r[6] or "", r[8]))
    rng = random.Random(f"salesmirror-sources:{seed}")
    choices, rand = rng.choices, rng.random
    opportunity_ids: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    for n, (secs, etype, actor, role, manager, rep, deal, attrs, _seq) in enumerate(raw, start=1):
        day, rest = divmod(secs, DAY)
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        event: dict[str, Any] = {
            "id": f"ev-{n:08d}",
            "ts": f"{cal.date_iso(day)}T{hour:02d}:{minute:02d}:{second:02d}Z",
            "type": etype,
            "actor": actor,
            "actor_role": role,
            "manager": manager,
            "attrs": attrs,
        }
        if rep is not None:
            event["rep"] = rep
        if deal is not None:
            event["deal"] = deal
        spec = _SOURCES.get(etype)
        if spec is not None and (spec[3] >= 1.0 or rand() < spec[3]):
            system, obj, prefix, _share = spec
            if etype == "deal_created" and deal is not None:
                record = opportunity_ids.setdefault(deal, prefix + "5" + "".join(choices(_ALPHABET, k=14)))
            elif system == "slack":
                record = f"{1_767_000_000 + secs}.{rng.randrange(1_000_000):06d}"
            elif system == "gong":
                record = str(rng.randrange(10**17, 10**18))
            else:
                record = prefix + "5" + "".join(choices(_ALPHABET, k=14))
            event["source"] = {"system": system, "object": obj, "record_id": record}
        events.append(event)
    return events


def _jsonl(events: list[dict[str, Any]]) -> bytes:
    dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
    return "".join(dumps(ev) + "\n" for ev in events).encode("utf-8")


def write_simulation(sim: Simulation, events_path: str, labels_path: str | None = None) -> None:
    """Write the events as JSONL (gzip when the path ends in ``.gz``) and the labels
    as indented JSON. Output is byte-identical for identical simulations."""
    data = _jsonl(sim.events)
    if events_path.endswith(".gz"):
        buffer = io.BytesIO()
        # fixed mtime and no file name in the header keep the bytes reproducible
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=6) as gz:
            gz.write(data)
        data = buffer.getvalue()
    with open(events_path, "wb") as fh:
        fh.write(data)
    if labels_path is not None:
        with open(labels_path, "w", encoding="utf-8") as fh:
            json.dump(sim.labels, fh, sort_keys=True, indent=2)
            fh.write("\n")
