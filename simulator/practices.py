"""The practices a manager's time and deal reviews show: inspecting before advancing, KPI
lists, internal meetings, and covering for struggling sellers.

These behaviours came to the simulator after the rest, so they draw from a
generator of their own (``Team.prng``, seeded apart from the team's), never from
the team's: adding them leaves every other event a team makes as it was, and a
profile's other signals keep the numbers the tests and the accuracy figures
were built on. Only a profile that changes state the team's generator reads
(``leans-on-strong`` moving deals between sellers) changes that team's other
events.

What a healthy manager does here, and the profile that does otherwise:

- **Show me, not tell me.** A deal that is ready to move at review is advanced
  when the manager has seen it in the four weeks before (a listened call or a
  ride-along on it, a customer meeting they joined); otherwise it stays at
  "continue" and the manager asks to see it, so the next listened call or
  ride-along with that seller is on that deal. Once a calendar month at most, a
  deal is advanced unseen (a trusted seller's obvious next step).
  ``tells-not-shows`` advances on the seller's word.
- **Internal meetings.** One or two a week (a forecast call, a management
  sync), and now and then a deal-strategy session with one seller.
  ``meeting-bound`` spends three to six hours a day in internal meetings with no
  one from the team, and has less time for the team.
- **KPIs.** One short list, and for half of the managers a seller scorecard
  later that reuses most of it: never more than seven distinct KPIs.
  ``scattered-kpis`` sets three short lists (team, scorecard, pipeline
  checklist) that add up to nine or more.
- **Struggling sellers.** Coached, and put on a plan (``simulator.world``).
  ``leans-on-strong`` moves their deals to the sellers over quota instead (as long
  as those have fewer than eleven open deals) and coaches only the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import text as T

if TYPE_CHECKING:
    from .world import Deal, Manager, Rep, Team

DAY = 86_400
HOUR = 3_600
SEEN_DAYS = 28  # an inspection this recent (on an earlier day) lets the manager advance the deal
WEAK = 0.7  # latest attainment under this: a struggling seller
STRONG = 1.0  # latest attainment at or over this: a strong seller
MAX_KPIS = 7  # the most distinct KPIs a healthy manager's lists name together
# a strong seller takes a struggling one's deal only below this many open deals: the cover is
# the pattern here, not an overloaded pipeline (which deal-capacity would report on its own)
MAX_TAKEN = 11
# people a manager meets without the team: peers, the VP, finance, ops, enablement, marketing
INTERNAL_PEOPLE = (
    "exec-vp-sales",
    "ops-salesops",
    "fin-controller",
    "mkt-demandgen",
    "enable-lead",
    "hr-partner",
    "deal-desk",
)


def plan(mgr: Manager, team: Team, workdays: list[int]) -> None:
    """Add the manager's practice tasks for their tenure (from ``Team.prng`` only)."""
    rng, cal, st = team.prng, team.cal, mgr.style
    for days_in, _full in cal.month_segments(mgr.start, mgr.end):
        if not days_in:
            continue
        weeks = len(days_in) / 5
        for _ in range(_count(team, rng.uniform(*st.internal_week) * weeks)):
            mgr.add(team, rng.choice(days_in), ("internal",))
        for _ in range(_count(team, rng.uniform(*st.huddles_week) * weeks)):
            mgr.add(team, rng.choice(days_in), ("huddle", rng.choice(team.reps)))
    first = workdays[0]
    if st.kpi_lists == "overlap" and rng.random() < 0.5:
        later = [d for d in workdays if 10 <= d - first <= 30]
        if later:
            mgr.add(team, rng.choice(later), ("scorecard",))
    elif st.kpi_lists == "scattered":
        for offset in (rng.randint(3, 8), rng.randint(10, 18)):
            days = [d for d in workdays if d - first >= offset]
            if days:
                mgr.add(team, days[0], ("scattered_kpis",))
    if st.leans:
        d = first + rng.randint(3, 6)
        while d < mgr.end:
            d = cal.snap(d)
            mgr.add(team, d, ("lean",))
            d += rng.randint(6, 11)


def _count(team: Team, x: float) -> int:
    whole = int(x)
    return whole + (1 if team.prng.random() < x - whole else 0)


def _secs(team: Team, d: int, lo: int = 8, hi: int = 18) -> int:
    return d * DAY + lo * HOUR + team.prng.randrange((hi - lo) * HOUR)


# -- show me, not tell me ----------------------------------------------------------


def seen(dl: Deal, mgr: Manager, d: int) -> None:
    """The manager looked at the deal today (a listened call, a ride-along, a customer meeting)."""
    dl.seen[mgr.id] = d
    dl.wanted.discard(mgr.id)


def inspection_deal(team: Team, mgr: Manager, rep: Rep, live: list[Deal], picked: Deal | None) -> Deal | None:
    """The deal a listened call or ride-along with ``rep`` is on: one the manager asked to see, if any."""
    if mgr.style.shows:
        wanted = [dl for dl in live if mgr.id in dl.wanted]
        if wanted:
            return team.prng.choice(wanted)
    return picked


def may_advance(team: Team, mgr: Manager, dl: Deal, d: int) -> bool:
    """Whether a deal ready to move is advanced at today's review, or kept until the manager has seen it."""
    if not mgr.style.shows:
        return True
    last = dl.seen.get(mgr.id)
    if last is not None and 0 < d - last <= SEEN_DAYS:
        return True
    month = team.cal.month_of(d)
    if month not in mgr.unseen_months and team.prng.random() < 0.3:
        mgr.unseen_months.add(month)  # the month's one deal advanced on a trusted seller's word
        return True
    dl.wanted.add(mgr.id)
    return False


# -- tasks ---------------------------------------------------------------------------


def run_task(team: Team, mgr: Manager, d: int, task: tuple[Any, ...]) -> bool:
    """Carry out one practice task; False when ``task`` is not one of them."""
    kind = task[0]
    if kind == "internal":
        _internal(team, mgr, d)
    elif kind == "huddle":
        rep = task[1]
        if rep in team.present(d):
            _huddle(team, mgr, d, rep)
    elif kind == "scorecard":
        _scorecard(team, mgr, d)
    elif kind == "scattered_kpis":
        _scattered(team, mgr, d)
    elif kind == "lean":
        _lean(team, mgr, d)
    else:
        return False
    return True


def _internal(team: Team, mgr: Manager, d: int) -> None:
    """A meeting with peers, the VP or other functions: no customer, no one from the team."""
    rng = team.prng
    others = rng.sample(INTERNAL_PEOPLE, rng.randint(1, 3))
    peers = [f"mgr-{n:03d}" for n in rng.sample(range(1, 60), rng.randint(0, 3)) if n != team.number]
    team.emit(
        _secs(team, d, 8, 17),
        "meeting_held",
        mgr.id,
        "manager",
        mgr.id,
        None,
        None,
        {"with_customer": False, "participants": [mgr.id, *others, *peers]},
    )


def _huddle(team: Team, mgr: Manager, d: int, rep: Rep) -> None:
    """A deal-strategy session with one seller: internal, but time with the team."""
    rng = team.prng
    live = team.contactable(rep, d)
    deal = rng.choice(live).id if live and rng.random() < 0.7 else None
    people = [mgr.id, rep.id] + (["deal-desk"] if rng.random() < 0.3 else [])
    team.emit(
        _secs(team, d, 9, 17),
        "meeting_held",
        mgr.id,
        "manager",
        mgr.id,
        rep.id,
        deal,
        {"with_customer": False, "participants": people},
    )


def _kpi_set(team: Team, mgr: Manager, d: int, kpis: list[str]) -> None:
    team.emit(_secs(team, d, 9, 11), "kpi_set", mgr.id, "manager", mgr.id, None, None, {"kpis": kpis})
    mgr.kpis_named.extend(k for k in kpis if k not in mgr.kpis_named)


def _scorecard(team: Team, mgr: Manager, d: int) -> None:
    """A seller scorecard that reuses the team list and adds at most what keeps the total at seven."""
    rng, named = team.prng, mgr.kpis_named
    if not named:
        return
    kept = rng.sample(named, min(len(named), rng.randint(2, 3)))
    room = max(0, MAX_KPIS - len(named))
    fresh = [k for k in T.KPI_NAMES if k not in named]
    added = rng.sample(fresh, min(room, rng.randint(0, 2)))
    _kpi_set(team, mgr, d, kept + added)


def _scattered(team: Team, mgr: Manager, d: int) -> None:
    """Another short list, nearly all new KPIs: three lists end up naming nine or more."""
    rng, named = team.prng, mgr.kpis_named
    fresh = [k for k in T.KPI_NAMES if k not in named]
    kpis = rng.sample(fresh, rng.randint(3, 4))
    if named and rng.random() < 0.5:
        kpis.append(rng.choice(named))  # one shared KPI, as lists from one manager have
    _kpi_set(team, mgr, d, kpis)


def _lean(team: Team, mgr: Manager, d: int) -> None:
    """Move one or two deals from a struggling seller to sellers over quota (no plan, no coaching)."""
    rng = team.prng
    here = team.present(d)
    weak = [rep for rep in here if rep.attainment and rep.attainment[-1] < WEAK]
    strong = [rep for rep in here if rep.attainment and rep.attainment[-1] >= STRONG]
    if not weak or not strong:
        return
    giver = rng.choice(weak)
    movable = [dl for dl in team.contactable(giver, d) if dl.outcome in ("won", "lost")]
    for i, dl in enumerate(rng.sample(movable, min(len(movable), rng.randint(1, 2)))):
        taker = min(strong, key=lambda rep: (len(rep.deals), rep.index))
        if len(taker.deals) >= MAX_TAKEN:
            break  # the strong sellers are full: no more cover this time
        team.emit(
            d * DAY + 11 * HOUR + i * 300 + rng.randrange(240),
            "deal_owner_changed",
            mgr.id,
            "manager",
            mgr.id,
            taker.id,
            dl.id,
            {"from": giver.id, "to": taker.id, "to_role": "rep"},
        )
        giver.deals.remove(dl)
        dl.rep = taker
        taker.deals.append(dl)


def coached(team: Team, mgr: Manager, rep: Rep, here: list[Rep]) -> Rep:
    """Who a coaching session goes to: a manager who leans on the strong coaches only the others."""
    if not mgr.style.leans or not rep.low:
        return rep
    others = [r for r in here if not r.low]
    return team.prng.choice(others) if others else rep
