"""Realism mode: the mess of real CRM logs, injected into a simulated org.

Plain mode simulates clean teams. In realism mode each team also carries some
of the conditions below, picked deterministically from the seed, and the
labels name them per manager (``"conditions"``, with the details under
``"realism"``), so every false positive can be traced to the mess behind it.
Each condition is one on which rules tuned on clean data wrongly flagged
healthy managers.

What the team does:

``recorded_leave``            a rep away for two to ten weeks, with a ``person_absent`` record
``unrecorded_leave``          the same with nothing recorded: the rep simply goes quiet
``tool_rollout_day_N``        one-on-ones and listened calls are logged only from day N (the
                              manager coached before; the tool that records it did not exist)
``rep_joined_mid_period``     a rep added part-way (onboarding one-on-one, ramp-up target)
``rep_left_mid_period``       a rep removed part-way; their open deals go to colleagues
``handover_day_N``            the whole team handed to a new manager on day N
``small_team``                two or three reps
``player_coach``              the manager also sells a book of named accounts: creates, pushes
                              and closes their own deals
``reorg_one_day``             a reorganisation logged as several strategy changes in one morning
``rep_minimums_one_morning``  several per-rep activity minimums set in one morning
``vp_strategy_changes``       the VP's strategy changes, logged with the team's manager field
``rep_miss_explanations``     reps' own forecast-miss explanations, logged with the manager field

How the log records it (field noise):

``no_actor_role``, ``no_manager_field``  left out where the roster can supply them
``foreign_ids``               UUIDs and 18-character Salesforce ids for events and deals
``mixed_timestamps``          local UTC offsets and fractional seconds
``custom_types``              event types outside the contract vocabulary

Every draw comes from generators seeded with the run seed (and the team
number), never from the teams' own generators, so plain mode is untouched.
"""

from __future__ import annotations

import math
import random
import re
import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from . import text as T
from .profiles import HEALTHY, LOOKALIKE_PROFILES, TRAIT_PROFILES
from .world import DAY, HOUR, Calendar, Manager, Rep, Team

BEHAVIOUR: tuple[str, ...] = (
    "recorded_leave",
    "unrecorded_leave",
    "tool_rollout",
    "rep_joined_mid_period",
    "rep_left_mid_period",
    "handover",
    "small_team",
    "player_coach",
    "reorg_one_day",
    "rep_minimums_one_morning",
    "vp_strategy_changes",
    "rep_miss_explanations",
)
FIELD_NOISE: tuple[str, ...] = (
    "no_actor_role",
    "no_manager_field",
    "foreign_ids",
    "mixed_timestamps",
    "custom_types",
)
CONDITIONS: tuple[str, ...] = BEHAVIOUR + FIELD_NOISE

VP_ACTOR = "exec-vp-sales"
_DAY_SUFFIX = re.compile(r"_day_\d+$")
_SPARE = frozenset((HEALTHY, *LOOKALIKE_PROFILES))  # managers no rule should flag
_TRAITS = frozenset(TRAIT_PROFILES)
# practice problems that live in the manager's own habits, not in the team they hand on
_MANAGER_PRACTICES = frozenset(("few-listens", "kpi-overload", "even-split", "product-meetings"))
# conditions that do not go together on one team
_EXCLUSIVE = (
    frozenset(("handover", "player_coach")),
    frozenset(("small_team", "rep_left_mid_period")),
    frozenset(("recorded_leave", "unrecorded_leave")),
)
_OFFSETS = (60, -300, 330, -480, 120, 600, -180)  # minutes east of UTC
_ALNUM = string.ascii_letters + string.digits
_SF_CHECKSUM = string.ascii_uppercase + "012345"
ROSTER_TYPES = frozenset(("team_member_added", "team_member_removed"))


def condition_kind(label: str) -> str:
    """The condition a label names: ``tool_rollout_day_52`` -> ``tool_rollout``."""
    return _DAY_SUFFIX.sub("", label)


def _allowed(condition: str, profile: str) -> bool:
    """Whether a condition makes sense for a manager of this profile.

    A handover gives the team's first weeks to a healthy predecessor, so it
    goes only where the profile's habits are the manager's own. A player-coach
    is a healthy seller-manager; a glory grabber or late joiner selling their
    own book would blur what the label says. The rest are left out only where
    they would add more of the very signal the profile is labelled with.
    """
    if condition == "handover":
        return profile in _SPARE - {"new-manager"} or profile in _MANAGER_PRACTICES
    if condition == "player_coach":
        return profile not in _TRAITS and profile not in ("new-manager", "late-joiner")
    if condition == "small_team":
        return profile not in ("even-split", "glory-grabber")  # both need four reps or more to show
    excluded = {
        "reorg_one_day": ("knee-jerk-reactionary",),
        "vp_strategy_changes": ("knee-jerk-reactionary",),
        # the detached dictator already sets one blanket quota: a second decision is the
        # drum-banger's repeated quotas, not a look-alike of them
        "rep_minimums_one_morning": ("drum-banger", "detached-dictator"),
        "rep_miss_explanations": ("excuse-maker",),
    }
    return profile not in excluded.get(condition, ())


def assign_conditions(seed: int, profiles: Sequence[str]) -> list[set[str]]:
    """The condition names each team carries, in team order.

    Every behaviour condition goes to about one team in twelve (at least one),
    the first of them a healthy manager or look-alike whenever one can take
    it, and teams with fewer conditions first, so most teams carry one and a
    false positive points at its cause. Each field-noise condition goes to
    two teams in five.
    """
    rng = random.Random(f"salesmirror-realism:{seed}")
    n = len(profiles)
    per = max(1, round(n * 2 / 25))
    cap = max(2, math.ceil(len(BEHAVIOUR) * per / n))
    order = list(range(n))
    rng.shuffle(order)
    rank = {team: i for i, team in enumerate(order)}
    names = list(BEHAVIOUR)
    rng.shuffle(names)
    chosen: list[set[str]] = [set() for _ in profiles]

    def fits(name: str, i: int) -> bool:
        if not _allowed(name, profiles[i]) or len(chosen[i]) >= cap:
            return False
        return not any(name in pair and (pair - {name}) & chosen[i] for pair in _EXCLUSIVE)

    for name in names:
        eligible = sorted((i for i in order if fits(name, i)), key=lambda i: (len(chosen[i]), rank[i]))
        picks = [i for i in eligible if profiles[i] in _SPARE][:1]
        picks += [i for i in eligible if i not in picks][: per - len(picks)]
        for i in picks:
            chosen[i].add(name)
    share = max(1, round(n * 0.4))
    for name in FIELD_NOISE:
        for i in rng.sample(range(n), share):
            chosen[i].add(name)
    return chosen


@dataclass(frozen=True)
class VpChange:
    """One strategy change announced by the VP (the same for every team that logs it)."""

    day: int
    secs: int  # seconds into the day
    area: str
    summary: str


def plan_vp(seed: int, cal: Calendar) -> list[VpChange]:
    """The VP's changes over the window: one every two to five weeks."""
    rng = random.Random(f"salesmirror-realism-vp:{seed}")
    out: list[VpChange] = []
    previous = None
    d = rng.randint(4, 15)
    while d < cal.days - 2:
        day = cal.snap(d)
        if day >= cal.days:
            break
        area = rng.choice([a for a in T.STRATEGY_AREAS if a != previous])
        previous = area
        out.append(VpChange(day, 9 * HOUR + rng.randrange(3 * HOUR), area, T.strategy_summary(rng, area)))
        d = day + rng.randint(16, 34)
    return out


@dataclass
class Leave:
    """A rep away from work: days ``first`` to ``last``, both included."""

    rep: Rep
    first: int
    last: int
    recorded: bool
    reason: str
    logged: int  # the day the absence is recorded (when it is)


class TeamRealism:
    """The conditions one team carries, their parameters, and the hooks that play them out."""

    def __init__(self, seed: int, number: int, names: set[str], cal: Calendar, vp: list[VpChange]) -> None:
        self.rng = random.Random(f"salesmirror-realism:{seed}:{number}")
        self.cal = cal
        rng, days = self.rng, cal.days
        self.names = set(names)
        self.team_size: int | None = None
        if "small_team" in names:
            self.team_size = rng.randint(2, 3)
        elif "player_coach" in names:
            self.team_size = rng.randint(3, 5)  # a manager who also sells leads a small team
        self.join_day = self._day("rep_joined_mid_period", 0.2, 0.6, need=14)
        self.left_day = self._day("rep_left_mid_period", 0.3, 0.8, need=14)
        self.handover_day = self._day("handover", 0.35, 0.65, need=14)
        self.rollout_day = self._day("tool_rollout", 0.4, 0.65, need=20)
        self.reorg_day = self._day("reorg_one_day", 0.25, 0.75, need=5)
        self.minimums_day = self._day("rep_minimums_one_morning", 0.2, 0.8, need=5)
        self.vp = vp if "vp_strategy_changes" in names else []
        if not self.vp:
            self.names.discard("vp_strategy_changes")
        if days < 28:  # no room for a two-week leave and the weeks around it
            self.names -= {"recorded_leave", "unrecorded_leave"}
        self.offset = rng.choice(_OFFSETS)
        self.left_reason = rng.choice(("resigned", "resigned", "transferred", "terminated"))
        # filled in by bind(), once the team's reps exist
        self.leaves: list[Leave] = []
        self.joiner: Rep | None = None
        self.leaver: Rep | None = None
        self.explainers: list[tuple[Rep, set[int]]] = []
        self.own_book: Rep | None = None
        self.own_seen: set[str] = set()  # own deals already given their slips
        self.minimum_reps: list[Rep] = []
        self.reorg_areas: list[str] = []
        self.members: list[list[Rep]] = []
        self.present: list[list[Rep]] = []

    def _day(self, name: str, lo: float, hi: float, need: int) -> int | None:
        """A workday between shares ``lo`` and ``hi`` of the window, if the condition is on and fits."""
        days = self.cal.days
        if name not in self.names or days < need:
            self.names.discard(name)
            return None
        d = self.cal.snap(self.rng.randint(max(1, int(lo * days)), max(1, int(hi * days))))
        if d >= days - 1:
            d = self.cal.snap_back(days - 2)
        if d < 1:
            self.names.discard(name)
            return None
        return d

    # -- set-up ------------------------------------------------------------------

    def bind(self, team: Team) -> None:
        """Pick the reps the conditions concern and work out who is on the team, and at work, each day."""
        rng, cal, names = self.rng, self.cal, self.names
        opening = [rep for rep in team.reps if rep.joined is None]
        self.joiner = next((rep for rep in team.reps if rep.joined is not None), None)
        free = list(opening)
        rng.shuffle(free)
        if self.left_day is not None and len(free) >= 2:
            self.leaver = free.pop()
            self.leaver.left = self.left_day
        elif self.left_day is not None:
            names.discard("rep_left_mid_period")
            self.left_day = None
        for kind in ("recorded_leave", "unrecorded_leave"):
            if kind not in names:
                continue
            if not free:
                names.discard(kind)
                continue
            rep = free.pop()
            length = rng.randint(14, min(70, cal.days - 14))
            first = cal.snap(rng.randint(3, cal.days - length - 6))
            last = first + length - 1
            if length <= 21:
                reason = rng.choices(("vacation", "sick", "training", "other"), (0.6, 0.2, 0.1, 0.1))[0]
            else:
                reason = rng.choices(("leave", "sick", "training", "other"), (0.5, 0.3, 0.1, 0.1))[0]
            logged = max(0, first - rng.randint(0, 10))
            self.leaves.append(Leave(rep, first, last, kind == "recorded_leave", reason, logged))
        if "rep_miss_explanations" in names:
            for rep in rng.sample(opening, min(len(opening), rng.randint(1, 2))):
                when: set[int] = set()
                d = rng.randint(3, 12)
                while d < cal.days:
                    when.add(cal.snap(d))
                    d += rng.randint(9, 18)
                self.explainers.append((rep, when))
        if "player_coach" in names:
            own = Rep(team.managers[0].id, 0, role="manager")
            own.target_open = rng.randint(7, 10)  # a seller's book, like any rep's
            self.own_book = own
        if self.rollout_day is not None:
            team.hidden_before = self.rollout_day * DAY
        away = {id(lv.rep): lv for lv in self.leaves}
        for d in range(cal.days):
            members = [
                rep
                for rep in team.reps
                if (rep.joined is None or rep.joined <= d) and (rep.left is None or d < rep.left)
            ]
            self.members.append(members)
            self.present.append(
                [rep for rep in members if id(rep) not in away or not away[id(rep)].first <= d <= away[id(rep)].last]
            )

    def plan_tasks(self, team: Team) -> None:
        """Add the managers' extra tasks once their own plans are made."""
        rng, cal = self.rng, self.cal
        for lv in self.leaves:
            back = cal.snap(lv.last + 1 + rng.randint(0, 2))  # a catch-up on the way back
            if back < cal.days:
                team.manager_on(back).add(team, back, ("1on1", lv.rep))
        if self.joiner is not None and self.joiner.joined is not None:
            joined = self.joiner.joined
            team.manager_on(joined).add(team, joined, ("1on1", self.joiner))
            ramp = cal.snap(joined + rng.randint(1, 4))  # a ramp-up activity target for the new hire
            if ramp < cal.days:
                team.manager_on(ramp).add(team, ramp, ("mandate", self.joiner))
        if self.reorg_day is not None:
            self.reorg_areas = rng.sample(T.STRATEGY_AREAS, rng.randint(3, 4))
            for area in self.reorg_areas:
                team.manager_on(self.reorg_day).add(team, self.reorg_day, ("strategy", area))
        if self.minimums_day is not None:
            here = self.present[self.minimums_day]
            metric, per, lo, hi = rng.choice(
                (("calls", "day", 30, 60), ("meetings", "week", 6, 12), ("emails", "day", 20, 40))
            )
            self.minimum_reps = rng.sample(here, min(len(here), rng.randint(3, 5)))
            for rep in self.minimum_reps:
                quota = rng.randint(lo, hi)
                if per == "day":
                    quota = max(5, quota // 5 * 5)
                team.manager_on(self.minimums_day).add(team, self.minimums_day, ("minimum", rep, metric, quota, per))

    # -- the day -----------------------------------------------------------------

    def start_day(self, team: Team, d: int, mgr: Manager) -> None:
        """Roster changes, absence records, the VP's announcements, reps' explanations and custom events."""
        rng, cal, emit = self.rng, self.cal, team.emit
        own = self.own_book
        if d == 0 and own is not None:
            for _ in range(own.target_open):
                team.new_deal(own, 0, mgr, initial=True)
            self._slips(own, 0)
        joiner = self.joiner
        if joiner is not None and joiner.joined == d:
            emit(
                d * DAY + 7 * HOUR + 1800,
                "team_member_added",
                mgr.id,
                "manager",
                mgr.id,
                joiner.id,
                None,
                {"role": "rep"},
            )
            emit(
                d * DAY + 9 * HOUR + rng.randrange(HOUR),
                "target_assigned",
                mgr.id,
                "manager",
                mgr.id,
                joiner.id,
                None,
                {"amount": self._prorated_target(team, joiner, d), "period": cal.quarter_of(d)},
            )
        if self.leaver is not None and self.leaver.left == d:
            self._leave_team(team, self.leaver, d, mgr)
        for lv in self.leaves:
            if lv.recorded and lv.logged == d:
                emit(
                    d * DAY + 7 * HOUR + rng.randrange(HOUR),
                    "person_absent",
                    lv.rep.id,
                    "rep",
                    mgr.id,
                    None,
                    None,
                    {"from": cal.date_iso(lv.first), "to": cal.date_iso(lv.last), "reason": lv.reason},
                )
        for change in self.vp:
            if change.day == d:
                emit(
                    d * DAY + change.secs,
                    "strategy_changed",
                    VP_ACTOR,
                    "executive",
                    mgr.id,
                    None,
                    None,
                    {"area": change.area, "summary": change.summary},
                )
        here = self.present[d]
        for rep, when in self.explainers:
            if d in when and rep in here:
                outside = rng.random() < 0.88
                cause = rng.choice(T.EXTERNAL_CAUSES if outside else T.INTERNAL_CAUSES)
                emit(
                    d * DAY + 8 * HOUR + rng.randrange(9 * HOUR),
                    "forecast_miss_explained",
                    rep.id,
                    "rep",
                    mgr.id,
                    rep.id,
                    None,
                    {"period": cal.month_of(max(d - 7, 0)), "cause_category": cause, "text": T.miss_text(rng, cause)},
                )
        if "custom_types" in self.names and cal.is_workday(d):
            self._custom_events(team, d, mgr, here)

    def _prorated_target(self, team: Team, rep: Rep, d: int) -> int:
        when = self.cal.start + timedelta(days=d)
        first_month = (when.month - 1) // 3 * 3 + 1
        q_start = date(when.year, first_month, 1)
        q_end = date(when.year + 1, 1, 1) if first_month == 10 else date(when.year, first_month + 3, 1)
        share = (q_end - when).days / (q_end - q_start).days
        return max(5_000, int(round(team.base_target * rep.territory * share / 5_000)) * 5_000)

    def _leave_team(self, team: Team, leaver: Rep, d: int, mgr: Manager) -> None:
        """The rep is taken off the team; their open deals go to the colleagues with the fewest."""
        team.emit(
            d * DAY + 6 * HOUR,
            "team_member_removed",
            mgr.id,
            "manager",
            mgr.id,
            leaver.id,
            None,
            {"reason": self.left_reason},
        )
        receivers = [rep for rep in self.present[d] if rep is not leaver] or [
            rep for rep in self.members[d] if rep is not leaver
        ]
        if not receivers:
            return
        for i, dl in enumerate(dl for dl in leaver.deals if dl.open):
            new = min(receivers, key=lambda rep: (len(rep.deals), rep.index))
            team.emit(
                d * DAY + 9 * HOUR + i * 120,
                "deal_owner_changed",
                mgr.id,
                "manager",
                mgr.id,
                new.id,
                dl.id,
                {"from": leaver.id, "to": new.id, "to_role": "rep"},
            )
            dl.rep = new
            new.deals.append(dl)
        leaver.deals = []

    def _custom_events(self, team: Team, d: int, mgr: Manager, here: list[Rep]) -> None:
        rng, emit = self.rng, team.emit
        for rep in here:
            if rng.random() < 0.3:
                kind = rng.choice(
                    ("task_completed", "lead_converted", "linkedin_inmail_sent", "sequence_step_completed")
                )
                attrs: dict[str, Any] = {}
                if kind == "task_completed":
                    attrs = {"subject": rng.choice(("Follow up", "Send pricing", "Book demo", "Update close plan"))}
                elif kind == "lead_converted":
                    attrs = {"lead_source": rng.choice(("webinar", "inbound", "event", "partner"))}
                elif kind == "sequence_step_completed":
                    attrs = {
                        "sequence": rng.choice(("Outbound Q1", "Re-engage", "Event follow-up")),
                        "step": rng.randint(1, 6),
                    }
                emit(d * DAY + 8 * HOUR + rng.randrange(10 * HOUR), kind, rep.id, "rep", mgr.id, rep.id, None, attrs)
        if rng.random() < 0.4:
            emit(
                d * DAY + 8 * HOUR + rng.randrange(10 * HOUR),
                "dashboard_viewed",
                mgr.id,
                "manager",
                mgr.id,
                None,
                None,
                {"dashboard": rng.choice(("Pipeline by stage", "Team activity", "Win rate by rep"))},
            )

    def own_selling(self, team: Team, d: int, mgr: Manager) -> None:
        """A player-coach's own selling: part-time, on a book of named accounts."""
        own = self.own_book
        if own is None:
            return
        rng = self.rng

        def sold(secs: int, etype: str, deal: str | None, attrs: dict[str, Any]) -> None:
            team.emit(d * DAY + secs, etype, own.id, "manager", mgr.id, own.id, deal, attrs)

        team.progress_deals(own, d, mgr)
        live = team.contactable(own, d)
        for _ in range(rng.randint(2, 6)):
            dl = rng.choice(live) if live and rng.random() < 0.8 else None
            connected = rng.random() < 0.5
            if dl is not None:
                dl.last_contact = d
            duration = rng.randint(120, 1500) if connected else rng.randint(10, 50)
            outcome = "connected" if connected else "voicemail"
            sold(
                8 * HOUR + rng.randrange(9 * HOUR),
                "call_logged",
                dl.id if dl else None,
                {"duration_s": duration, "outcome": outcome},
            )
        for _ in range(rng.randint(2, 7)):
            dl = rng.choice(live) if live and rng.random() < 0.7 else None
            sold(8 * HOUR + rng.randrange(10 * HOUR), "email_sent", dl.id if dl else None, {})
        if live and rng.random() < 0.3:
            dl = rng.choice(live)
            dl.last_contact = d
            sold(
                10 * HOUR + rng.randrange(6 * HOUR),
                "meeting_held",
                dl.id,
                {"with_customer": True, "participants": [own.id]},
            )
        team.replenish(own, d, mgr)
        self._slips(own, d)

    def _slips(self, own: Rep, d: int) -> None:
        """A seller-manager's own forecast slips like anyone's: about a third of their new deals get pushed."""
        rng = self.rng
        for dl in own.deals:
            if dl.id in self.own_seen:
                continue
            self.own_seen.add(dl.id)
            if dl.outcome in ("won", "lost") and dl.next_push is None and rng.random() < 0.3:
                dl.pushes_left = 2 if rng.random() < 0.3 else 1
                dl.next_push = max(d + 1, dl.close_day - rng.randint(0, 3))

    # -- labels ------------------------------------------------------------------

    def labels(self) -> list[str]:
        """The condition labels, in catalogue order (day-specific ones with their day)."""
        out: list[str] = []
        for name in CONDITIONS:
            if name not in self.names:
                continue
            if name == "tool_rollout":
                out.append(f"tool_rollout_day_{self.rollout_day}")
            elif name == "handover":
                out.append(f"handover_day_{self.handover_day}")
            else:
                out.append(name)
        return out

    def details(self) -> dict[str, Any]:
        """What each condition concerns (reps, dates), for readers of the labels and for scoring."""
        iso = self.cal.date_iso
        out: dict[str, Any] = {}
        if self.leaves:
            out["leaves"] = [
                {
                    "rep": lv.rep.id,
                    "from": iso(lv.first),
                    "to": iso(lv.last),
                    "recorded": lv.recorded,
                    "reason": lv.reason,
                }
                for lv in self.leaves
            ]
        if self.rollout_day is not None:
            out["tool_rollout"] = iso(self.rollout_day)
        if self.joiner is not None and self.joiner.joined is not None:
            out["joined"] = {"rep": self.joiner.id, "date": iso(self.joiner.joined)}
        if self.leaver is not None and self.leaver.left is not None:
            out["left"] = {"rep": self.leaver.id, "date": iso(self.leaver.left), "reason": self.left_reason}
        if self.handover_day is not None:
            out["handover"] = iso(self.handover_day)
        if self.team_size is not None:
            out["team_size"] = self.team_size
        if self.own_book is not None:
            out["player_coach"] = {"own_book": self.own_book.target_open}
        if self.reorg_day is not None:
            out["reorg"] = {"date": iso(self.reorg_day), "areas": list(self.reorg_areas)}
        if self.minimums_day is not None:
            out["rep_minimums"] = {"date": iso(self.minimums_day), "reps": [rep.id for rep in self.minimum_reps]}
        if self.vp:
            out["vp_strategy_changes"] = {"actor": VP_ACTOR, "dates": [iso(c.day) for c in self.vp]}
        if self.explainers:
            out["miss_explaining_reps"] = [rep.id for rep, _ in self.explainers]
        if "mixed_timestamps" in self.names:
            out["utc_offset"] = _offset_text(self.offset)
        return out


def plan_org(seed: int, profiles: Sequence[str], cal: Calendar) -> list[TeamRealism]:
    """One ``TeamRealism`` per team, in team order (team numbers start at 1)."""
    vp = plan_vp(seed, cal)
    return [
        TeamRealism(seed, number, names, cal, vp)
        for number, names in enumerate(assign_conditions(seed, profiles), start=1)
    ]


# --------------------------------------------------------------------------- field noise


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def salesforce_id(rng: random.Random, prefix: str) -> str:
    """An 18-character Salesforce-style id: 15 case-sensitive characters and the 3-character checksum."""
    core = prefix + "5" + "".join(rng.choices(_ALNUM, k=14 - len(prefix)))
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, ch in enumerate(core[chunk * 5 : chunk * 5 + 5]) if ch.isupper())
        suffix += _SF_CHECKSUM[bits]
    return core + suffix


def apply_field_noise(events: list[dict[str, Any]], teams: dict[str, TeamRealism], seed: int) -> list[dict[str, Any]]:
    """Rewrite, in place and in order, the events of teams with field-noise conditions.

    ``teams`` maps each manager id to their team's realism. Fields are left out
    only where the roster can supply them again (a rep's or a manager's role;
    the manager of an event by or about someone on a team); roster events keep
    every field. Event ids become UUIDs or, for records that came from
    Salesforce, the record's own 18-character id; deal ids become Salesforce
    opportunity ids. Timestamps keep their instant but are written in the
    team's UTC offset, most with milliseconds or microseconds added.
    """
    rng = random.Random(f"salesmirror-noise:{seed}")
    used = {ev["id"] for ev in events}
    deal_ids: dict[str, str] = {}
    utc = timezone.utc
    for ev in events:
        team = teams.get(ev["manager"])
        if team is None:
            continue
        names = team.names
        roster = ev["type"] in ROSTER_TYPES
        if "foreign_ids" in names:
            source = ev.get("source")
            if source is not None and source["system"] == "salesforce" and source["record_id"] not in used:
                new_id = source["record_id"]
            elif rng.random() < 0.75:
                new_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            else:
                new_id = ev["id"]
            if new_id != ev["id"] and new_id not in used:
                used.add(new_id)
                ev["id"] = new_id
            deal = ev.get("deal")
            if deal is not None:
                if deal not in deal_ids:
                    deal_ids[deal] = salesforce_id(rng, "006")
                ev["deal"] = deal_ids[deal]
        if "mixed_timestamps" in names:
            when = datetime.fromisoformat(ev["ts"][:-1]).replace(tzinfo=utc)
            spec = "seconds"
            r = rng.random()
            if not roster and r < 0.5:
                when += timedelta(milliseconds=rng.randrange(1, 1000))
                spec = "milliseconds"
            elif not roster and r < 0.7:
                when += timedelta(microseconds=rng.randrange(1, 1_000_000))
                spec = "microseconds"
            ev["ts"] = when.astimezone(timezone(timedelta(minutes=team.offset))).isoformat(timespec=spec)
        if roster:
            continue
        role = ev.get("actor_role")
        if "no_actor_role" in names and role in ("rep", "manager") and rng.random() < 0.3:
            del ev["actor_role"]
        resolvable = role in ("rep", "manager") or (role == "ops" and "rep" in ev)
        if "no_manager_field" in names and resolvable and rng.random() < 0.3:
            del ev["manager"]
    return events
