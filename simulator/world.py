"""Day-by-day simulation of one sales team and the manager (or managers) leading it.

The team owns the reps and their deals; a ``Manager`` owns a schedule of
tasks (1:1s, reviews, messages ...) planned when his tenure begins. Every
random draw comes from the team's own ``random.Random``, seeded from the run
seed, the team number and its profile, so teams do not disturb each other.

Events are collected as tuples ``Raw`` and turned into dicts only once, after
sorting, by ``simulator.build``.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from . import practices, shock
from . import text as T
from .profiles import HEALTHY, Style, style_for

if TYPE_CHECKING:
    from .realism import TeamRealism

# (seconds since window start, type, actor, actor_role, manager, rep, deal, attrs, seq)
Raw = tuple[int, str, str, str, str, str | None, str | None, dict[str, Any], int]

STAGES = ("qualification", "discovery", "proposal", "negotiation")
STAGE_PROBABILITY = (0.1, 0.25, 0.5, 0.75)
WIN_CHANCE = (0.25, 0.32, 0.42, 0.55)  # by stage when the deal enters the log
DAY = 86_400
HOUR = 3_600
OPS_ACTOR = "ops-salesops"
# what a coaching tool rolled out mid-period logs only from its first day on
ROLLOUT_TYPES = frozenset(("one_on_one_held", "call_listened"))
BIG_DEAL = 60_000  # amount from which a late-joiner joins the late customer meetings
STALE_SHARE = 0.06  # deals that go dark and should be disqualified
PUSH_SHARE = 0.10  # live deals whose close date slips


class Calendar:
    """Day indexes of the log window and the calendar facts the teams need."""

    def __init__(self, start: date, days: int) -> None:
        self.start = start
        self.days = days
        self.first_weekday = start.weekday()
        self.iso = [(start + timedelta(days=d)).isoformat() for d in range(days)]
        self.workdays = [d for d in range(days) if self.is_workday(d)]

    def is_workday(self, d: int) -> bool:
        return (self.first_weekday + d) % 7 < 5

    def weekday(self, d: int) -> int:
        return (self.first_weekday + d) % 7

    def date_iso(self, d: int) -> str:
        if 0 <= d < self.days:
            return self.iso[d]
        return (self.start + timedelta(days=d)).isoformat()

    def snap(self, d: int) -> int:
        """First weekday on or after day ``d`` (may lie past the window)."""
        while not self.is_workday(d):
            d += 1
        return d

    def snap_back(self, d: int) -> int:
        while not self.is_workday(d):
            d -= 1
        return d

    def day_of(self, when: date) -> int:
        return (when - self.start).days

    def month_of(self, d: int) -> str:
        return (self.start + timedelta(days=d)).strftime("%Y-%m")

    def quarter_of(self, d: int) -> str:
        when = self.start + timedelta(days=d)
        return f"{when.year}-Q{(when.month - 1) // 3 + 1}"

    def month_segments(self, lo: int, hi: int) -> list[tuple[list[int], int]]:
        """For each calendar month overlapping days [lo, hi): its workdays in
        range and the number of workdays in the whole month."""
        out: list[tuple[list[int], int]] = []
        d = lo
        while d < hi:
            when = self.start + timedelta(days=d)
            first = self.day_of(when.replace(day=1))
            nxt = self.day_of((when.replace(day=28) + timedelta(days=4)).replace(day=1))
            in_range = [x for x in range(max(first, lo), min(nxt, hi)) if self.is_workday(x)]
            full = sum(1 for x in range(first, nxt) if self.is_workday(x))
            out.append((in_range, full))
            d = nxt
        return out

    def month_results(self) -> list[tuple[str, int]]:
        """(period, day the results post) for each month that ends inside the window."""
        out: list[tuple[str, int]] = []
        d = 0
        while d < self.days:
            when = self.start + timedelta(days=d)
            nxt = self.day_of((when.replace(day=28) + timedelta(days=4)).replace(day=1))
            post = self.snap(nxt)
            if post < self.days:
                out.append((when.strftime("%Y-%m"), post))
            d = nxt
        return out

    def quarter_starts(self) -> list[tuple[str, int]]:
        """(period, day) the quarter targets are set: the window's first workday for
        the current quarter, then the first workday of each later quarter."""
        out = [(self.quarter_of(0), self.snap(0))]
        d = 0
        while True:
            when = self.start + timedelta(days=d)
            month = ((when.month - 1) // 3) * 3 + 1 + 3
            year = when.year + (month > 12)
            month = month - 12 if month > 12 else month
            d = self.day_of(date(year, month, 1))
            if d >= self.days:
                return [(p, day) for p, day in out if day < self.days]
            out.append((self.quarter_of(d), self.snap(d)))


class Deal:
    __slots__ = (
        "account",
        "amount",
        "close_day",
        "created",
        "dark_from",
        "decided",
        "disq_day",
        "id",
        "joined",
        "last_contact",
        "last_stage_change",
        "lead",
        "manager_pushes",
        "next_push",
        "open",
        "outcome",
        "owner_mgr",
        "pushes",
        "pushes_left",
        "rep",
        "seen",
        "self_close_day",
        "stage",
        "stage_days",
        "wanted",
    )

    def __init__(
        self,
        deal_id: str,
        rep: Rep,
        account: str,
        amount: int,
        stage: int,
        created: int,
        close_day: int,
        outcome: str,
    ) -> None:
        self.id = deal_id
        self.rep = rep
        self.account = account
        self.amount = amount
        self.stage = stage
        self.created = created
        self.close_day = close_day
        self.outcome = outcome  # won | lost | stale | zombie
        self.stage_days: list[int] = []
        self.next_push: int | None = None
        self.pushes_left = 0
        self.pushes = 0
        self.dark_from: int | None = None
        self.last_contact = created
        self.open = True
        self.owner_mgr = False
        self.lead = 0
        self.decided = False
        self.disq_day: int | None = None
        self.self_close_day: int | None = None
        self.last_stage_change = created
        self.joined = 0
        self.manager_pushes: tuple[int, ...] = ()
        self.seen: dict[str, int] = {}  # manager -> last day they listened, rode along or met on it
        self.wanted: set[str] = set()  # managers who asked to see it before advancing it


class Rep:
    __slots__ = (
        "attainment",
        "deal_counter",
        "deals",
        "id",
        "index",
        "joined",
        "left",
        "low",
        "plan_day",
        "role",
        "skill",
        "target_open",
        "territory",
    )

    def __init__(self, rep_id: str, index: int, role: str = "rep") -> None:
        self.id = rep_id
        self.index = index
        self.role = role  # "manager" for a player-coach's own book
        self.joined: int | None = None  # day added to the team (None: before the log)
        self.left: int | None = None  # first day off the team (None: stays)
        self.target_open = 9
        self.deals: list[Deal] = []
        self.skill = 1.0
        self.territory = 1.0
        self.attainment: list[float] = []
        self.low = False
        self.plan_day: int | None = None
        self.deal_counter = 0


Task = tuple[Any, ...]


class Manager:
    """One manager's tenure over the team: who, how he works, and what he does when."""

    def __init__(self, manager_id: str, profile: str, start: int, end: int) -> None:
        self.id = manager_id
        self.profile = profile
        self.style: Style = style_for(profile)
        self.start = start
        self.end = end
        self.tasks: dict[int, list[Task]] = {}
        self.unseen_months: set[str] = set()  # months in which a deal was advanced unseen
        self.kpis_named: list[str] = []  # the KPIs of the lists set so far

    def add(self, team: Team, d: int, task: Task) -> None:
        if self.start <= d < self.end and team.cal.is_workday(d):
            self.tasks.setdefault(d, []).append(task)

    # -- planning --------------------------------------------------------

    def plan(self, team: Team) -> None:
        rng, cal, st = team.rng, team.cal, self.style
        workdays = [d for d in cal.workdays if self.start <= d < self.end]
        if not workdays:
            return
        first = workdays[0]
        reps = team.reps
        self.add(team, first, ("kpi",))
        for period, day in cal.quarter_starts():
            if self.start <= day < self.end:
                self.add(team, day, ("targets", period))

        segments = cal.month_segments(self.start, self.end)

        def monthly(rate: tuple[float, float], days_in: list[int], full: int) -> int:
            return team.round_random(rng.uniform(*rate) * len(days_in) / max(full, 1))

        if st.detached:
            kinds = ("1on1", "1on1", "listen", "ride", "coach")
            for rep in reps:
                if rng.random() < 0.3:
                    continue  # some reps never see him
                d = cal.snap(first + rng.randint(3, 40))
                while d < self.end:
                    self.add(team, d, (rng.choice(kinds), rep))
                    self.add(team, d, ("review_rep", rep))
                    d = cal.snap(d + rng.randint(35, 56))
        else:
            if st.one_on_one_days is not None:
                lo, hi = st.one_on_one_days
                for rep in reps:
                    d = cal.snap(first + rng.randint(0, hi - 1))
                    while d < self.end:
                        self.add(team, d, ("1on1", rep))
                        options = [d + g for g in range(lo, hi + 1) if cal.is_workday(d + g)]
                        d = rng.choice(options)
            for days_in, full in segments:
                if not days_in:
                    continue
                for _ in range(monthly(st.listens_month, days_in, full)):
                    self.add(team, rng.choice(days_in), ("listen", rng.choice(reps)))
                for rep in reps:
                    for _ in range(monthly(st.ride_alongs_rep_month, days_in, full)):
                        self.add(team, rng.choice(days_in), ("ride", rep))
                for _ in range(monthly(st.coaching_month, days_in, full)):
                    self.add(team, rng.choice(days_in), ("coach", rng.choice(reps)))
            review_weekday = rng.randrange(5)
            for d in workdays:
                week = (d - first) // 7
                if cal.weekday(d) == review_weekday and week % st.review_every_weeks == 0:
                    self.add(team, d, ("review",))

        self._plan_meetings(team, workdays)

        for days_in, full in segments:
            if not days_in:
                continue
            for _ in range(monthly(st.morale_month, days_in, full)):
                self.add(team, rng.choice(days_in), ("morale",))
            if not st.admin_daily:
                for _ in range(monthly(st.admin_month, days_in, full)):
                    self.add(team, rng.choice(days_in), (rng.choice(("commission", "alloc")),))
            for _ in range(monthly(st.relays_month, days_in, full)):
                self.add(team, rng.choice(days_in), ("relay",))

        if st.admin_daily:
            for d in workdays:
                for _ in range(rng.randint(1, 3)):
                    self.add(team, d, ("report",))
                for _ in range(rng.randint(1, 2)):
                    self.add(team, d, ("forecast",))
                for _ in range(rng.randint(0, 2)):
                    self.add(team, d, ("commission",))
                for _ in range(rng.randint(0, 2)):
                    self.add(team, d, ("alloc",))
        else:
            report_wd, forecast_wd = rng.randrange(5), rng.randrange(5)
            for d in workdays:
                if cal.weekday(d) == report_wd:
                    self.add(team, d, ("report",))
                if cal.weekday(d) == forecast_wd:
                    self.add(team, d, ("forecast",))

        self._plan_messages(team, workdays)
        self._plan_relay_modes(team)
        self._plan_misses(team, workdays)
        self._plan_strategy(team, workdays)
        self._plan_mandates(team, workdays)
        practices.plan(self, team, workdays)

    def _plan_meetings(self, team: Team, workdays: list[int]) -> None:
        rng, cal, st = team.rng, team.cal, self.style
        lo, hi = st.meeting_every_days
        slot = rng.choice((9, 9, 10, 14, 16)) * HOUR
        days: list[int] = []
        if (lo, hi) == (7, 7):
            weekday = rng.choice((0, 0, 1, 2, 4))
            days = [d for d in workdays if cal.weekday(d) == weekday]
        else:
            d = cal.snap(workdays[0] + rng.randint(3, 14))
            while d < self.end:
                days.append(d)
                d = cal.snap(d + rng.randint(lo, hi))
        names = sorted(st.focus)
        weights = [st.focus[n] for n in names]
        focus = [rng.choices(names, weights)[0] for _ in days]
        # rules judge the mix per calendar quarter, so keep each quarter true to the style
        quarters: dict[str, list[int]] = {}
        for i, d in enumerate(days):
            quarters.setdefault(cal.quarter_of(d), []).append(i)
        for members in quarters.values():
            picked = [focus[i] for i in members]
            self._balance(rng, picked)
            for i, f in zip(members, picked):
                focus[i] = f
        for d, f in zip(days, focus):
            self.add(team, d, ("meeting", f, slot))

    def _balance(self, rng: random.Random, focus: list[str]) -> None:
        """Make one quarter's meeting topics show the style's lean, in place."""

        def count(name: str) -> int:
            return sum(1 for f in focus if f == name)

        def convert(src: str | None, dst: str) -> None:
            idx = [i for i, f in enumerate(focus) if (f == src if src else f != dst)]
            focus[rng.choice(idx)] = dst

        major = self.style.focus_majority
        if major:
            while focus and count(major) * 2 <= len(focus):
                convert(None, major)
        if major and len(focus) >= 5:
            # a strong lean, not a caricature: keep some meetings on other topics
            while count(major) > round(0.85 * len(focus)):
                other = "pipeline" if major == "product" else rng.choice(("pipeline", "skills"))
                convert(major, other)
        if major == "product":
            while count("skills") and count("product") < 3 * count("skills"):
                convert("skills", "product")
        else:
            while count("product") > count("skills"):
                convert("product", "skills")

    def _plan_messages(self, team: Team, workdays: list[int]) -> None:
        rng, st = team.rng, self.style
        plans: list[tuple[int, str, str]] = []  # (day, audience, kind)
        for days_in, _full in team.cal.month_segments(self.start, self.end):
            if not days_in:
                continue
            count = team.round_random(rng.uniform(*st.messages_week) * len(days_in) / 5)
            for _ in range(count):
                d = rng.choice(days_in)
                mode = st.message_mode
                if mode == "slogan":
                    audience = "team" if rng.random() < 0.7 else "rep"
                    share = 0.88 if audience == "team" else 0.6
                    kind = "slogan" if rng.random() < share else "specific"
                elif mode == "directive":
                    audience = "team" if rng.random() < 0.75 else "rep"
                    kind = "directive" if rng.random() < 0.75 else "specific"
                else:
                    audience = "team" if rng.random() < 0.6 else "rep"
                    kind = "specific"
                    if st.activity_reminders and audience == "team" and rng.random() < 0.2:
                        kind = "reminder"
                plans.append((d, audience, kind))
        if st.message_mode == "occasional" and plans:
            for i in rng.sample(range(len(plans)), min(len(plans), rng.randint(1, 2))):
                plans[i] = (plans[i][0], "team", "slogan")
        for d, audience, kind in plans:
            self.add(team, d, ("message", audience, kind))

    def _plan_relay_modes(self, team: Team) -> None:
        """Decide which relays of a regurgitator still carry some context (about one in ten)."""
        relays = [(d, i) for d, tasks in sorted(self.tasks.items()) for i, t in enumerate(tasks) if t[0] == "relay"]
        trivial = self.style.relay_mode == "trivial"
        with_context = set(team.rng.sample(range(len(relays)), len(relays) // 10)) if trivial else set()
        for n, (d, i) in enumerate(relays):
            self.tasks[d][i] = ("relay", trivial and n not in with_context)

    def _plan_misses(self, team: Team, workdays: list[int]) -> None:
        rng, cal, st = team.rng, team.cal, self.style
        plans: list[tuple[int, str]] = []
        if st.misses == "monthly":
            for period, post in cal.month_results():
                d = cal.snap(post + rng.randint(1, 3))
                if self.start <= d < self.end and rng.random() < 0.85:
                    plans.append((d, period))
        else:
            d = workdays[0] + rng.randint(6, 12)
            while d < self.end:
                d = cal.snap(d)
                if d < self.end:
                    plans.append((d, cal.month_of(max(d - 7, 0))))
                d += rng.randint(10, 16)
        n = len(plans)
        if st.misses == "excuse":
            internal = 1 if n >= 7 and rng.random() < 0.5 else 0
        elif st.misses == "honest":
            internal = math.ceil(n * rng.uniform(0.5, 0.65))
        else:
            internal = max(math.ceil(n / 2), sum(1 for _ in range(n) if rng.random() < 0.75))
        causes = [rng.choice(T.INTERNAL_CAUSES) for _ in range(internal)]
        causes += [rng.choice(T.EXTERNAL_CAUSES) for _ in range(n - internal)]
        rng.shuffle(causes)
        plans, causes = shock.misses(team, self, plans, causes)  # an org-wide shock quarter, if any
        for (d, period), cause in zip(plans, causes):
            self.add(team, d, ("miss", period, cause))

    def _plan_strategy(self, team: Team, workdays: list[int]) -> None:
        rng, cal, st = team.rng, team.cal, self.style
        first, last = workdays[0], workdays[-1]
        days: list[int] = []
        if st.strategy == "kneejerk":
            d = cal.snap(first + rng.randint(2, 10))
            while d < self.end:
                days.append(d)
                d = cal.snap(d + rng.randint(10, 20))
        elif st.strategy == "measured":
            span = last - first
            if span >= 120:
                gap = rng.randint(80, 100)
                d1 = first + rng.randint(3, span - gap - 3)
                days = [cal.snap(d1), cal.snap(d1 + gap)]
            elif span >= 66:
                d1 = cal.snap(first + rng.randint(2, min(12, span - 64)))
                d2 = cal.snap_back(d1 + rng.randint(62, min(100, last - d1)))
                days = [d1, d2]
            else:
                days = [first, last]
        else:
            d = first + rng.randint(5, 60)
            while d < self.end - 2:
                if rng.random() < 0.55:
                    days.append(cal.snap(d))
                d += rng.randint(95, 130)
        previous = None
        for d in days:
            area = rng.choice([a for a in T.STRATEGY_AREAS if a != previous])
            previous = area
            self.add(team, d, ("strategy", area))

    def _plan_mandates(self, team: Team, workdays: list[int]) -> None:
        rng, st = team.rng, self.style
        count = rng.randint(*st.mandates)
        if not count:
            return
        days = sorted(
            [workdays[min(len(workdays) - 1, rng.randint(0, 5))]] + [rng.choice(workdays) for _ in range(count - 1)]
        )
        targets: list[Rep | None] = [None]
        for i in range(1, count):
            if st.mandates_for_reps and (rng.random() < 0.5 or i == count - 1):
                targets.append(rng.choice(team.reps))
            else:
                targets.append(None)
        for d, rep in zip(days, targets):
            self.add(team, d, ("mandate", rep))


class Team:
    """One team over the whole window."""

    def __init__(
        self,
        number: int,
        profile: str,
        seed: int,
        cal: Calendar,
        out: list[Raw],
        realism: TeamRealism | None = None,
        market_shock: str | None = None,
    ) -> None:
        self.number = number
        self.profile = profile
        self.cal = cal
        self.out = out
        self.rng = random.Random(f"salesmirror:{seed}:{number}:{profile}")
        # what simulator.practices draws from, so the team's own draws stay as they were
        self.prng = random.Random(f"salesmirror-practices:{seed}:{number}:{profile}")
        self.market_shock = market_shock  # a quarter such as 2026-Q2 (simulator.shock), or None
        self.shock_rng = random.Random(f"salesmirror-shock:{seed}:{number}:{profile}")
        self.style = style_for(profile)
        self.realism = realism
        self.hidden_before = 0  # seconds: coaching-tool events before this are not logged
        rng = self.rng
        manager_id = f"mgr-{number:03d}"
        size = rng.randint(6, 10)
        if realism is not None and realism.team_size is not None:
            size = realism.team_size
        self.reps = [Rep(f"rep-{number:03d}-{i:02d}", i) for i in range(1, size + 1)]
        if realism is not None and realism.join_day is not None:
            joiner = Rep(f"rep-{number:03d}-{size + 1:02d}", size + 1)
            joiner.joined = realism.join_day
            self.reps.append(joiner)
        opening = [rep for rep in self.reps if rep.joined is None]
        lo, hi = self.style.open_deals
        team_skill = rng.gauss(1.0, 0.05)
        for rep in self.reps:
            rep.target_open = rng.randint(lo, hi)
            rep.skill = rng.gauss(team_skill, 0.12)
            rep.territory = rng.uniform(0.7, 1.35)
        if self.style.avoid_performance:
            for rep in rng.sample(self.reps, rng.randint(1, 2)):
                rep.low = True
        self.base_target = rng.randrange(150_000, 300_001, 5_000)
        self.handover: int | None = None
        if profile == "new-manager" and cal.days >= 10:
            h = cal.snap(cal.days // 2 + rng.randint(-cal.days // 10, cal.days // 10))
            if h >= cal.days - 1:
                h = cal.snap_back(cal.days // 2)
            self.handover = h
        elif realism is not None and realism.handover_day is not None:
            self.handover = realism.handover_day
        if self.handover is not None:
            h = self.handover
            self.managers = [
                Manager(f"{manager_id}-prev", HEALTHY, 0, h),
                Manager(manager_id, profile, h, cal.days),
            ]
        else:
            self.managers = [Manager(manager_id, profile, 0, cal.days)]
        self.glory_share = rng.uniform(0.4, 0.6)
        self.glory_decided = 0
        self.glory_grabbed = 0
        self.zombie_count = 0
        self.zombie_plan = [0] * len(self.reps)
        if self.style.zombies:
            # 5-7 dead deals in the opening pipeline, spread over the reps
            for i in range(rng.randint(5, 7)):
                self.zombie_plan[i if i < len(opening) else rng.randrange(len(opening))] += 1
        self.pending: list[tuple[int, str, Rep]] = []  # (day, plan | recovery, rep)
        self.plan_coaching: list[Rep] = []
        self.recent_wins: list[Deal] = []
        if realism is not None:
            realism.bind(self)

    # -- helpers -----------------------------------------------------------

    def round_random(self, x: float) -> int:
        whole = int(x)
        return whole + (1 if self.rng.random() < x - whole else 0)

    def emit(
        self,
        secs: int,
        etype: str,
        actor: str,
        role: str,
        manager: str,
        rep: str | None = None,
        deal: str | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        if self.hidden_before and secs < self.hidden_before and etype in ROLLOUT_TYPES:
            return  # the coaching tool was not rolled out yet: done, but never logged
        self.out.append((secs, etype, actor, role, manager, rep, deal, attrs or {}, len(self.out)))

    def present(self, d: int) -> list[Rep]:
        """Reps on the team and at work on day ``d`` (everyone, outside realism mode)."""
        return self.reps if self.realism is None else self.realism.present[d]

    def on_team(self, d: int) -> list[Rep]:
        """Reps on the team on day ``d``, at work or away."""
        return self.reps if self.realism is None else self.realism.members[d]

    def work_secs(self, d: int, lo: int = 8, hi: int = 18) -> int:
        return d * DAY + lo * HOUR + self.rng.randrange((hi - lo) * HOUR)

    def manager_on(self, d: int) -> Manager:
        for m in self.managers:
            if m.start <= d < m.end:
                return m
        return self.managers[-1]

    def contactable(self, rep: Rep, d: int) -> list[Deal]:
        return [dl for dl in rep.deals if dl.open and not dl.owner_mgr and (dl.dark_from is None or d < dl.dark_from)]

    # -- the run -------------------------------------------------------------

    def run(self) -> None:
        cal = self.cal
        for m in self.managers:
            m.plan(self)
        realism = self.realism
        if realism is not None:
            realism.plan_tasks(self)
        results = {post: period for period, post in cal.month_results()}
        for d in range(cal.days):
            mgr = self.manager_on(d)
            if d == 0:
                self.start_roster(mgr)
                for rep in self.on_team(0):
                    self.initial_deals(rep, mgr)
            if self.handover is not None and d == self.handover:
                self.hand_over(d)
            if realism is not None:
                realism.start_day(self, d, mgr)
            workday = cal.is_workday(d)
            if d in results:
                self.quota_results(d, results[d], mgr)
            for rep in self.present(d):
                if workday:
                    self.progress_deals(rep, d, mgr)
                    self.sell(rep, d, mgr)
                    self.replenish(rep, d, mgr)
                else:
                    self.weekend(rep, d, mgr)
            if realism is not None and workday:
                realism.own_selling(self, d, mgr)
            if workday:
                self.run_tasks(d, mgr)

    def start_roster(self, mgr: Manager) -> None:
        # The opening team was hired before the log begins, as in any real export: a rep
        # added on the log's first day would look like a brand-new hire to the rules.
        for i, rep in enumerate(self.on_team(0)):
            hired_days_ago = 60 + (97 * (i + 1) + 13 * len(self.reps)) % 640
            self.emit(
                -hired_days_ago * DAY + 6 * HOUR + i * 60,
                "team_member_added",
                mgr.id,
                "manager",
                mgr.id,
                rep.id,
                None,
                {"role": "rep"},
            )

    def hand_over(self, d: int) -> None:
        prev, new = self.managers
        reason = self.rng.choice(("promoted", "transferred"))
        for i, rep in enumerate(self.on_team(d)):
            self.emit(
                d * DAY + 5 * HOUR + i * 10,
                "team_member_removed",
                prev.id,
                "manager",
                prev.id,
                rep.id,
                None,
                {"reason": reason},
            )
            self.emit(
                d * DAY + 5 * HOUR + 300 + i * 10,
                "team_member_added",
                new.id,
                "manager",
                new.id,
                rep.id,
                None,
                {"role": "rep"},
            )

    # -- deals -----------------------------------------------------------------

    def new_deal(self, rep: Rep, d: int, mgr: Manager, initial: bool = False, zombie: bool = False) -> Deal:
        rng, cal = self.rng, self.cal
        rep.deal_counter += 1
        deal_id = f"opp-{self.number:03d}-{rep.index:02d}-{rep.deal_counter:04d}"
        amount = int(min(600_000, max(3_000, rng.lognormvariate(math.log(40_000), 0.7))) // 500 * 500)
        if zombie:
            stage = rng.choice((2, 3))
            close = cal.snap(d + rng.randint(5, 14))
        elif initial:
            stage = rng.choices(range(4), (0.3, 0.3, 0.25, 0.15))[0]
            close = cal.snap(d + rng.randint(3, 80))
        else:
            stage = 0
            close = cal.snap(d + rng.randint(25, 85))
        r = rng.random()
        if zombie:
            outcome = "zombie"
        elif r < STALE_SHARE:
            outcome = "zombie" if self.style.zombies else "stale"
        elif r < STALE_SHARE + WIN_CHANCE[stage]:
            outcome = "won"
        else:
            outcome = "lost"
        dl = Deal(deal_id, rep, rng.choice(T.ACCOUNTS), amount, stage, d, close, outcome)
        if outcome == "won":
            final = 3
        elif outcome == "lost":
            final = rng.randint(stage, 3)
        elif outcome == "stale":
            final = min(3, rng.randint(stage, stage + 1))
        else:
            final = stage  # a dead deal does not move
        steps = final - stage
        if steps > 0:
            span = max(1, close - 2 - d)
            dl.stage_days = sorted(
                cal.snap(d + 1 + (span * (i + 1)) // (steps + 1) + rng.randint(-2, 2)) for i in range(steps)
            )
        if outcome in ("won", "lost") and rng.random() < PUSH_SHARE:
            dl.pushes_left = 2 if rng.random() < 0.2 else 1
            dl.next_push = max(d + 1, close - rng.randint(0, 3))
        elif outcome == "stale":
            dl.dark_from = max(d + 3, close - rng.randint(5, 15))
            dl.stage_days = [x for x in dl.stage_days if x < dl.dark_from]
            dl.pushes_left = 2
            dl.next_push = close
        elif outcome == "zombie":
            dl.dark_from = d + rng.randint(2, 5) if zombie else max(d + 3, close - rng.randint(5, 15))
            dl.pushes_left = 10_000
            dl.next_push = close
            self.zombie_count += 1
            # the manager pushes some of the dates himself; the first zombie's second push always
            dl.manager_pushes = tuple(i for i in range(1, 12) if rng.random() < 0.3)
            if self.zombie_count == 1 and 1 not in dl.manager_pushes:
                dl.manager_pushes += (1,)
        if outcome == "won" and self.style.glory:
            dl.lead = rng.randint(3, 12)
        rep.deals.append(dl)
        secs = d * DAY + (7 * HOUR + rng.randrange(HOUR) if initial else 8 * HOUR + rng.randrange(10 * HOUR))
        self.emit(
            secs,
            "deal_created",
            rep.id,
            rep.role,
            mgr.id,
            rep.id,
            deal_id,
            {
                "amount": amount,
                "stage": STAGES[stage],
                "close_date": cal.date_iso(close),
                "account": dl.account,
            },
        )
        return dl

    def initial_deals(self, rep: Rep, mgr: Manager) -> None:
        zombies = self.zombie_plan[rep.index - 1]
        for _ in range(zombies):
            self.new_deal(rep, 0, mgr, zombie=True)
        for _ in range(max(0, rep.target_open - zombies)):
            self.new_deal(rep, 0, mgr, initial=True)

    def close(
        self,
        dl: Deal,
        d: int,
        mgr: Manager,
        won: bool,
        reason: tuple[str, str] | None = None,
        secs: int | None = None,
    ) -> None:
        dl.open = False
        when = secs if secs is not None else self.work_secs(d, 10, 17)
        rep = dl.rep
        if won:
            actor, role = (mgr.id, "manager") if dl.owner_mgr else (rep.id, rep.role)
            self.emit(when, "deal_closed_won", actor, role, mgr.id, rep.id, dl.id, {"amount": dl.amount})
            if rep.role == "rep":  # a player-coach's own wins are no one's to split
                self.recent_wins.append(dl)
                del self.recent_wins[:-20]
        else:
            text, category = reason or self.rng.choice(T.LOSS_REASONS)
            self.emit(
                when,
                "deal_closed_lost",
                rep.id,
                rep.role,
                mgr.id,
                rep.id,
                dl.id,
                {"reason": text, "reason_category": category},
            )

    def progress_deals(self, rep: Rep, d: int, mgr: Manager) -> None:
        rng, _cal, st = self.rng, self.cal, self.style
        for dl in rep.deals:
            if not dl.open:
                continue
            if dl.disq_day is not None and dl.disq_day <= d:
                self.close(
                    dl,
                    d,
                    mgr,
                    False,
                    ("Disqualified in deal review: no customer engagement", "disqualified"),
                )
                continue
            if dl.self_close_day is not None and dl.self_close_day <= d:
                self.close(dl, d, mgr, False, ("Customer went dark", "no_decision"))
                continue
            actor, role = (mgr.id, "manager") if dl.owner_mgr else (rep.id, rep.role)
            step_secs = self.work_secs(d, 8, 13) if dl.stage_days and dl.stage_days[0] <= d else 0
            while dl.stage_days and dl.stage_days[0] <= d and dl.stage < 3:
                dl.stage_days.pop(0)
                old = dl.stage
                dl.stage += 1
                dl.last_stage_change = d
                self.emit(
                    step_secs,
                    "deal_stage_changed",
                    actor,
                    role,
                    mgr.id,
                    rep.id,
                    dl.id,
                    {
                        "from": STAGES[old],
                        "to": STAGES[dl.stage],
                        "probability": STAGE_PROBABILITY[dl.stage],
                    },
                )
                step_secs += 600
            if dl.next_push is not None and dl.next_push <= d and not dl.owner_mgr:
                self.push(dl, d, mgr)
            if (
                st.glory
                and dl.outcome == "won"
                and not dl.decided
                and dl.next_push is None
                and d >= dl.close_day - dl.lead
                and d < dl.close_day
            ):
                self.glory_decision(dl, d, mgr)
            if (
                st.late_joiner
                and dl.amount >= BIG_DEAL
                and dl.stage >= 2
                and dl.outcome in ("won", "lost")
                and dl.close_day - 21 <= d < dl.close_day
            ) and (rng.random() < 0.12 or (dl.joined == 0 and d >= dl.close_day - 2)):
                dl.joined += 1
                dl.last_contact = d
                practices.seen(dl, mgr, d)
                self.emit(
                    self.work_secs(d, 9, 17),
                    "meeting_held",
                    rep.id,
                    "rep",
                    mgr.id,
                    rep.id,
                    dl.id,
                    {"with_customer": True, "participants": [rep.id, mgr.id]},
                )
            if dl.outcome in ("won", "lost") and d >= dl.close_day and dl.next_push is None:
                self.close(
                    dl,
                    d,
                    mgr,
                    dl.outcome == "won",
                    secs=d * DAY + 16 * HOUR + rng.randrange(2 * HOUR),
                )
        rep.deals = [dl for dl in rep.deals if dl.open]

    def push(self, dl: Deal, d: int, mgr: Manager) -> None:
        rng, cal = self.rng, self.cal
        old = dl.close_day
        if dl.outcome == "zombie":
            new = cal.snap(max(old, d) + rng.randint(12, 18))
        else:
            new = cal.snap(max(old, d) + rng.randint(14, 35))
        by_manager = dl.outcome == "zombie" and dl.pushes in dl.manager_pushes
        actor, role = (mgr.id, "manager") if by_manager else (dl.rep.id, dl.rep.role)
        self.emit(
            self.work_secs(d),
            "close_date_pushed",
            actor,
            role,
            mgr.id,
            dl.rep.id,
            dl.id,
            {"from": cal.date_iso(old), "to": cal.date_iso(new)},
        )
        dl.pushes += 1
        dl.pushes_left -= 1
        dl.close_day = new
        if dl.outcome == "zombie":
            dl.next_push = new
        elif dl.pushes_left > 0 and dl.outcome != "stale":
            dl.next_push = max(d + 1, new - rng.randint(0, 3))
        elif dl.outcome == "stale" and dl.pushes_left > 0:
            dl.next_push = new
        else:
            dl.next_push = None
        if dl.outcome == "stale" and dl.pushes_left == 0:
            criteria = max(d, dl.last_contact + 21)
            dl.self_close_day = cal.snap(criteria + rng.randint(9, 13))

    def glory_decision(self, dl: Deal, d: int, mgr: Manager) -> None:
        rng = self.rng
        dl.decided = True
        grab = rng.random() < self.glory_share or self.glory_grabbed < 0.36 * (self.glory_decided + 1)
        self.glory_decided += 1
        if not grab:
            return
        self.glory_grabbed += 1
        dl.owner_mgr = True
        rep = dl.rep
        secs = self.work_secs(d, 8, 12)
        self.emit(
            secs,
            "deal_owner_changed",
            mgr.id,
            "manager",
            mgr.id,
            rep.id,
            dl.id,
            {"from": rep.id, "to": mgr.id, "to_role": "manager"},
        )
        later = [x for x in range(d + 1, min(dl.close_day, self.cal.days)) if self.cal.is_workday(x)]
        meet_day = rng.choice(later) if later else d
        meet_secs = self.work_secs(meet_day, 13, 17) if later else secs + HOUR
        self.emit(
            meet_secs,
            "meeting_held",
            mgr.id,
            "manager",
            mgr.id,
            rep.id,
            dl.id,
            {"with_customer": True, "participants": [mgr.id]},
        )

    def replenish(self, rep: Rep, d: int, mgr: Manager) -> None:
        rng = self.rng
        # deals the manager took over still carry the rep's name, so they still count
        open_count = len(rep.deals)
        made = 0
        while open_count < rep.target_open and made < 3 and rng.random() < 0.7:
            self.new_deal(rep, d, mgr)
            made += 1
            open_count += 1

    # -- selling -----------------------------------------------------------------

    def sell(self, rep: Rep, d: int, mgr: Manager) -> None:
        rng, emit = self.rng, self.emit
        base = d * DAY + 8 * HOUR
        live = self.contactable(rep, d)
        rid, mid = rep.id, mgr.id
        for _ in range(rng.randint(3, 10)):
            dl = rng.choice(live) if live and rng.random() < 0.75 else None
            r = rng.random()
            if r < 0.45:
                outcome, duration = "connected", rng.randint(120, 1800)
            elif r < 0.75:
                outcome, duration = "voicemail", rng.randint(20, 60)
            else:
                outcome, duration = "no_answer", rng.randint(5, 30)
            if dl is not None:
                dl.last_contact = d
            emit(
                base + rng.randrange(36_000),
                "call_logged",
                rid,
                "rep",
                mid,
                rid,
                dl.id if dl else None,
                {"duration_s": duration, "outcome": outcome},
            )
        for _ in range(rng.randint(5, 13)):
            dl = rng.choice(live) if live and rng.random() < 0.7 else None
            if dl is not None:
                dl.last_contact = d
            late = rng.random() < 0.03
            secs = d * DAY + (18 * HOUR + rng.randrange(3 * HOUR) if late else 8 * HOUR + rng.randrange(36_000))
            emit(secs, "email_sent", rid, "rep", mid, rid, dl.id if dl else None, {})
        r = rng.random()
        for _ in range(0 if r < 0.4 else 1 if r < 0.85 else 2):
            dl = rng.choice(live) if live and rng.random() < 0.85 else None
            if dl is not None:
                dl.last_contact = d
            emit(
                base + HOUR + rng.randrange(7 * HOUR),
                "meeting_held",
                rid,
                "rep",
                mid,
                rid,
                dl.id if dl else None,
                {"with_customer": True, "participants": [rid]},
            )
        team = self.present(d)
        if rng.random() < 0.1 and len(team) > 1:
            other = rng.choice([x for x in team if x is not rep])
            emit(
                base + rng.randrange(36_000),
                "meeting_held",
                rid,
                "rep",
                mid,
                rid,
                None,
                {"with_customer": False, "participants": [rid, other.id]},
            )

    def weekend(self, rep: Rep, d: int, mgr: Manager) -> None:
        if self.rng.random() < 0.05:
            self.emit(
                d * DAY + 10 * HOUR + self.rng.randrange(8 * HOUR),
                "email_sent",
                rep.id,
                "rep",
                mgr.id,
                rep.id,
                None,
                {},
            )

    # -- results, targets, plans -------------------------------------------------

    def quota_results(self, d: int, period: str, mgr: Manager) -> None:
        rng, st = self.rng, self.style
        for i, rep in enumerate(self.on_team(d)):
            if rep.low:
                att = rng.uniform(0.3, 0.58)
            else:
                att = min(2.0, max(0.15, rng.gauss(rep.skill, 0.2)))
                if st.floor_attainment or st.avoid_performance:
                    att = max(att, rng.uniform(0.72, 0.8))
            if shock.in_shock(self, period):
                att *= shock.ATTAINMENT_DIP  # the market turned for every team
            att = round(att, 3)
            rep.attainment.append(att)
            self.emit(
                d * DAY + 6 * HOUR + i * 30,
                "quota_result",
                OPS_ACTOR,
                "ops",
                mgr.id,
                rep.id,
                None,
                {"period": period, "attainment": att},
            )
            if st.avoid_performance or att >= 0.7:
                continue
            # a healthy manager answers every poor month: coaching on it at once, and a
            # formal plan after the second poor month in a row (unless one is running)
            planned = rep.plan_day is not None and d - rep.plan_day <= 49  # check-ins running
            if len(rep.attainment) >= 2 and rep.attainment[-2] < 0.7 and not planned:
                rep.plan_day = self.cal.snap(d + rng.randint(1, 2))
                self.pending.append((rep.plan_day, "plan", rep))
            elif not planned:
                self.pending.append((self.cal.snap(d + rng.randint(1, 7)), "recovery", rep))

    def assign_targets(self, d: int, mgr: Manager, period: str) -> None:
        rng = self.rng
        reps = self.on_team(d)
        base = self.base_target * rng.uniform(0.95, 1.1)
        if mgr.style.even_split:
            total = sum(base * rep.territory for rep in reps)
            each = int(round(total / len(reps) / 1000) * 1000)
            amounts = [each] * len(reps)
        else:
            amounts = []
            for rep in reps:
                amount = int(round(base * rep.territory * rng.uniform(0.95, 1.05) / 5000) * 5000)
                while amount in amounts:
                    amount += 5000
                amounts.append(amount)
        for i, (rep, amount) in enumerate(zip(reps, amounts)):
            self.emit(
                d * DAY + 9 * HOUR + i * 60,
                "target_assigned",
                mgr.id,
                "manager",
                mgr.id,
                rep.id,
                None,
                {"amount": amount, "period": period},
            )

    # -- the manager's day --------------------------------------------------------

    def run_tasks(self, d: int, mgr: Manager) -> None:
        rng, emit, mid = self.rng, self.emit, mgr.id
        here = self.present(d)
        if self.realism is None:
            due = [p for p in self.pending if p[0] <= d]
            self.pending = [p for p in self.pending if p[0] > d]
        else:
            # a rep away is seen on return; a rep who left is no longer this manager's
            members = self.on_team(d)
            due = [p for p in self.pending if p[0] <= d and p[2] in here]
            self.pending = [p for p in self.pending if p not in due and p[2] in members]
        for _day, kind, rep in due:
            if kind == "recovery":
                topic = rng.choice(("quota recovery", "performance: pipeline gaps", "improvement plan"))
                emit(self.work_secs(d), "coaching_session", mid, "manager", mid, rep.id, None, {"topic": topic})
                continue
            emit(self.work_secs(d, 9, 16), "performance_plan_started", mid, "manager", mid, rep.id)
            if rep not in self.plan_coaching:
                self.plan_coaching.append(rep)
            rep.plan_day = d
            rep.skill = max(rep.skill, rng.uniform(0.9, 1.05))  # the plan mostly works
        for rep in self.plan_coaching:
            # weekly check-ins for the eight weeks the plan runs
            if rep.plan_day is not None and 0 < d - rep.plan_day <= 56 and (d - rep.plan_day) % 7 == 0 and rep in here:
                emit(
                    self.work_secs(d),
                    "coaching_session",
                    mid,
                    "manager",
                    mid,
                    rep.id,
                    None,
                    {"topic": "performance plan check-in"},
                )
        for task in mgr.tasks.get(d, ()):
            kind = task[0]
            if kind == "kpi":
                kpis = rng.sample(T.KPI_NAMES, rng.randint(*mgr.style.kpis))
                mgr.kpis_named.extend(k for k in kpis if k not in mgr.kpis_named)
                emit(
                    self.work_secs(d, 9, 11),
                    "kpi_set",
                    mid,
                    "manager",
                    mid,
                    None,
                    None,
                    {"kpis": kpis},
                )
            elif kind == "targets":
                self.assign_targets(d, mgr, task[1])
            elif kind == "1on1":
                if task[1] not in here:
                    continue
                slot = rng.randrange(16) * 1800
                emit(
                    d * DAY + 9 * HOUR + slot,
                    "one_on_one_held",
                    mid,
                    "manager",
                    mid,
                    task[1].id,
                    None,
                    {"duration_min": rng.choice((20, 25, 30, 30, 45, 45, 60))},
                )
            elif kind in ("listen", "ride"):
                rep = task[1]
                if rep not in here:
                    if kind == "ride" or not here:
                        continue
                    rep = rng.choice(here)  # another rep's call that day
                live = self.contactable(rep, d)
                picked = rng.choice(live) if live and rng.random() < 0.6 else None
                picked = practices.inspection_deal(self, mgr, rep, live, picked)
                if picked is not None:
                    practices.seen(picked, mgr, d)
                deal = picked.id if picked is not None else None
                if kind == "listen":
                    emit(
                        self.work_secs(d),
                        "call_listened",
                        mid,
                        "manager",
                        mid,
                        rep.id,
                        deal,
                        {"feedback_given": rng.random() < 0.85},
                    )
                else:
                    emit(self.work_secs(d, 9, 16), "ride_along", mid, "manager", mid, rep.id, deal)
            elif kind == "coach":
                coached = task[1]
                if coached not in here:
                    if not here:
                        continue
                    coached = rng.choice(here)
                coached = practices.coached(self, mgr, coached, here)
                emit(
                    self.work_secs(d),
                    "coaching_session",
                    mid,
                    "manager",
                    mid,
                    coached.id,
                    None,
                    {"topic": rng.choice(T.COACHING_TOPICS)},
                )
            elif kind == "review":
                self.review(d, mgr, here)
            elif kind == "review_rep":
                if task[1] in here:
                    self.review(d, mgr, [task[1]])
            elif kind == "meeting":
                emit(
                    d * DAY + task[2] + rng.randrange(300),
                    "team_meeting",
                    mid,
                    "manager",
                    mid,
                    None,
                    None,
                    {"focus": task[1]},
                )
            elif kind == "morale":
                if rng.random() < 0.6:
                    kind_ = rng.choices(
                        ("celebration", "contest", "party", "pep_talk", "offsite"),
                        (0.3, 0.25, 0.15, 0.25, 0.05),
                    )[0]
                    emit(
                        self.work_secs(d, 9, 18),
                        "team_event",
                        mid,
                        "manager",
                        mid,
                        None,
                        None,
                        {"kind": kind_},
                    )
                else:
                    emit(
                        self.work_secs(d),
                        "recognition_given",
                        mid,
                        "manager",
                        mid,
                        rng.choice(here or self.reps).id,
                        None,
                        {"reason": T.recognition_reason(rng)},
                    )
            elif kind == "report":
                emit(
                    self.work_secs(d, 7, 19),
                    "report_generated",
                    mid,
                    "manager",
                    mid,
                    None,
                    None,
                    {"report": rng.choice(T.REPORT_NAMES)},
                )
            elif kind == "forecast":
                commit = sum(dl.amount for rep in self.reps for dl in rep.deals if dl.open and dl.stage >= 2)
                emit(
                    self.work_secs(d, 7, 19),
                    "forecast_updated",
                    mid,
                    "manager",
                    mid,
                    None,
                    None,
                    {
                        "period": self.cal.quarter_of(d),
                        "commit": int(commit * rng.uniform(0.3, 0.5)),
                    },
                )
            elif kind == "commission":
                self.commission(d, mgr)
            elif kind == "alloc":
                pool = here or self.on_team(d)
                a, b = rng.sample(pool, 2) if len(pool) > 1 else (pool[0], pool[0])
                emit(
                    self.work_secs(d),
                    "deal_allocation_changed",
                    mid,
                    "manager",
                    mid,
                    None,
                    None,
                    {"from": a.id, "to": b.id, "account": rng.choice(T.ACCOUNTS)},
                )
            elif kind == "message":
                self.message(d, mgr, task[1], task[2])
            elif kind == "relay":
                topic, original, slots = T.exec_message(rng)
                text = T.relay_trivial(rng, original) if task[1] else T.relay_with_context(rng, topic, slots)
                emit(
                    self.work_secs(d),
                    "message_relayed",
                    mid,
                    "manager",
                    mid,
                    None,
                    None,
                    {"source": rng.choice(T.EXEC_SOURCES), "original_text": original, "text": text},
                )
            elif kind == "miss":
                emit(
                    self.work_secs(d),
                    "forecast_miss_explained",
                    mid,
                    "manager",
                    mid,
                    None,
                    None,
                    {
                        "period": task[1],
                        "cause_category": task[2],
                        "text": T.miss_text(rng, task[2]),
                    },
                )
            elif kind == "strategy":
                emit(
                    self.work_secs(d, 8, 12),
                    "strategy_changed",
                    mid,
                    "manager",
                    mid,
                    None,
                    None,
                    {"area": task[1], "summary": T.strategy_summary(rng, task[1])},
                )
            elif kind == "mandate":
                target = task[1]
                if target is not None and target not in here:
                    target = rng.choice(here) if here else None
                self.mandate(d, mgr, target)
            elif kind == "minimum":  # realism: one per-rep activity minimum
                emit(
                    self.work_secs(d, 8, 11),
                    "activity_mandate_set",
                    mid,
                    "manager",
                    mid,
                    task[1].id,
                    None,
                    {"metric": task[2], "quota": task[3], "per": task[4]},
                )
            else:
                practices.run_task(self, mgr, d, task)

    def review(self, d: int, mgr: Manager, reps: list[Rep]) -> None:
        rng, st = self.rng, mgr.style
        secs = d * DAY + 10 * HOUR
        for rep in reps:
            live = [dl for dl in rep.deals if dl.open and not dl.owner_mgr and dl.disq_day is None]
            flagged = [dl for dl in live if dl.outcome == "stale" and dl.pushes >= 2 and d - dl.last_contact >= 21]
            zombies = [dl for dl in live if dl.outcome == "zombie" and dl.pushes >= 1]
            others = [
                dl
                for dl in live
                if dl.outcome in ("won", "lost")
                or (dl.outcome in ("stale", "zombie") and dl not in flagged and dl not in zombies)
            ]
            k = min(len(others), rng.randint(*st.review_deals_per_rep))
            for dl in flagged + zombies + rng.sample(others, k):
                if dl in flagged:
                    decision = "disqualify"
                    dl.disq_day = self.cal.snap(d + rng.randint(1, 3))
                elif dl in zombies:
                    decision = "continue"
                elif rng.random() < 0.04:
                    decision = "escalate"
                elif d - dl.last_stage_change <= 14 and dl.stage >= 1:
                    # shown, not told: a deal moves once the manager has seen it (simulator.practices)
                    decision = "advance" if practices.may_advance(self, mgr, dl, d) else "continue"
                else:
                    decision = "continue"
                self.emit(
                    secs + rng.randrange(2 * HOUR),
                    "deal_review",
                    mgr.id,
                    "manager",
                    mgr.id,
                    rep.id,
                    dl.id,
                    {"decision": decision},
                )

    def commission(self, d: int, mgr: Manager) -> None:
        rng = self.rng
        team = self.present(d)
        wins = [dl for dl in self.recent_wins if dl.rep in team]  # a rep away is not split with
        pool = wins or [dl for rep in team for dl in rep.deals if dl.open]
        if not pool:
            return
        dl = rng.choice(pool)
        helper = rng.choice([r for r in team if r is not dl.rep] or [dl.rep])
        share = rng.choice((0.5, 0.6, 0.7, 0.75, 0.8))
        self.emit(
            self.work_secs(d),
            "commission_split_adjusted",
            mgr.id,
            "manager",
            mgr.id,
            dl.rep.id,
            dl.id,
            {"split": {dl.rep.id: share, helper.id: round(1 - share, 2)}},
        )

    def message(self, d: int, mgr: Manager, audience: str, kind: str) -> None:
        rng = self.rng
        rep = rng.choice(self.present(d) or self.reps) if audience == "rep" else None
        if kind == "slogan":
            text = T.slogan(rng)
        elif kind == "directive":
            text = T.directive(rng, audience)
        elif kind == "reminder":
            text = T.activity_reminder(rng)
        elif audience == "team":
            text = T.specific_team(rng)
        else:
            text = T.specific_rep(rng)
        self.emit(
            self.work_secs(d),
            "message_sent",
            mgr.id,
            "manager",
            mgr.id,
            rep.id if rep else None,
            None,
            {"audience": audience, "text": text},
        )

    def mandate(self, d: int, mgr: Manager, rep: Rep | None) -> None:
        rng = self.rng
        metric, lo, hi, per = rng.choice(
            (
                ("calls", 40, 80, "day"),
                ("emails", 30, 60, "day"),
                ("meetings", 8, 15, "week"),
                ("visits", 3, 6, "week"),
                ("calls", 200, 350, "week"),
                ("meetings", 30, 50, "month"),
            )
        )
        quota = rng.randint(lo, hi)
        if per == "day" or metric == "calls":
            quota = quota // 5 * 5
        self.emit(
            self.work_secs(d, 8, 11),
            "activity_mandate_set",
            mgr.id,
            "manager",
            mgr.id,
            rep.id if rep else None,
            None,
            {"metric": metric, "quota": quota, "per": per},
        )
