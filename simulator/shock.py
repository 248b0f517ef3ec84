"""An org-wide market shock: one calendar quarter in which the market turns for every team.

``simulate(..., market_shock="2026-Q2")`` makes that quarter hard for everyone:
the month's results fall (``ATTAINMENT_DIP``), misses come every two or three
weeks rather than once a month, and most managers, honest ones included, rightly
put most of them down to the market (each manager names it for 70-90 % of the
quarter's explanations; the rest they trace to their own team). The excuse
maker blames outside causes for everything, as always. Outside the quarter
nothing changes.

It is the scenario a fixed share cannot judge fairly: in the shock quarter an
honest manager's share of outside causes is as high as an excuse maker's
usual one, and only a comparison with the other managers of the run
(``peer:`` in the rule language) tells an org-wide shift from one manager's
habit. Draws come from a generator of the shock's own, so a run without a
shock is byte for byte what it was.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from . import text as T

if TYPE_CHECKING:
    from .world import Manager, Team

ATTAINMENT_DIP = 0.85  # results of the shock quarter's months, times this
MARKET_SHARE = (0.7, 0.9)  # share of a manager's shock-quarter explanations that name the market
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def parse_quarter(text: str) -> tuple[int, int]:
    """``2026-Q2`` -> (2026, 2); ValueError for anything else."""
    match = QUARTER.match(text)
    if not match:
        raise ValueError(f"market_shock must be a quarter such as 2026-Q2, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def quarter_days(team: Team, quarter: str) -> tuple[int, int]:
    """The quarter as day indexes of the log: [first, end)."""
    year, number = parse_quarter(quarter)
    first = date(year, 3 * number - 2, 1)
    end = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return team.cal.day_of(first), team.cal.day_of(end)


def in_shock(team: Team, period: str) -> bool:
    """Whether a result's month (``2026-05``) lies in the shock quarter."""
    if team.market_shock is None:
        return False
    year, month = (int(part) for part in period.split("-"))
    return f"{year}-Q{(month - 1) // 3 + 1}" == team.market_shock


def misses(
    team: Team, mgr: Manager, plans: list[tuple[int, str]], causes: list[str]
) -> tuple[list[tuple[int, str]], list[str]]:
    """The manager's miss explanations with the shock quarter's in place of its usual ones."""
    if team.market_shock is None:
        return plans, causes
    rng, cal = team.shock_rng, team.cal
    lo, hi = quarter_days(team, team.market_shock)
    lo, hi = max(lo, mgr.start), min(hi, mgr.end)
    kept = [(plan, cause) for plan, cause in zip(plans, causes) if not lo <= plan[0] < hi]
    share = rng.uniform(*MARKET_SHARE)
    shocked: list[tuple[tuple[int, str], str]] = []
    d = lo + rng.randint(3, 8)
    while d < hi:
        d = cal.snap(d)
        if d >= hi:
            break
        if mgr.style.misses == "excuse":
            cause = rng.choice(T.EXTERNAL_CAUSES)  # outside causes only, shock or not
        elif rng.random() < share:
            cause = "market"
        else:
            cause = rng.choice(T.INTERNAL_CAUSES)
        shocked.append(((d, cal.month_of(max(d - 7, 0))), cause))
        d += rng.randint(9, 15)
    merged = sorted(kept + shocked, key=lambda item: item[0][0])
    return [plan for plan, _ in merged], [cause for _, cause in merged]
