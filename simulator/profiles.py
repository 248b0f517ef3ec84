"""Manager profiles: which behaviour each simulated manager shows, as numbers.

A profile is a name; a ``Style`` is the set of rates and switches the
simulator reads. Healthy managers use the defaults. Each trait profile moves
one behaviour far enough to be seen and leaves the rest healthy; each
look-alike moves one *naive* signal while staying healthy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from engine.vocab import TRAITS

HEALTHY = "healthy"

# one profile per trait of the contract, named by its trait id
TRAIT_PROFILES: tuple[str, ...] = TRAITS

# practice-problem profile -> the good-practice check it violates
PRACTICE_PROFILES: dict[str, str] = {
    "few-listens": "call-listening",
    "overloaded-reps": "deal-capacity",
    "kpi-overload": "kpi-overload",
    "avoids-performance": "performance-avoidance",
    "even-split": "even-target-split",
    "product-meetings": "meeting-focus",
    "tells-not-shows": "show-me-not-tell-me",
    "leans-on-strong": "leaning-on-the-strong",
    "scattered-kpis": "kpi-overload",
    "meeting-bound": "meeting-focus",
}

LOOKALIKE_PROFILES: tuple[str, ...] = (
    "celebrating-coach",
    "late-joiner",
    "measured-strategist",
    "new-manager",
    "analyst-coach",
    "honest-forecaster",
    "context-relayer",
    "occasional-motivator",
)

PROFILES: tuple[str, ...] = (HEALTHY,) + TRAIT_PROFILES + tuple(PRACTICE_PROFILES) + LOOKALIKE_PROFILES

# Trait profiles whose method cut also takes call listening under ten a month;
# the labels say so rather than pretend the manager passes that check.
EXTRA_PRACTICES: dict[str, tuple[str, ...]] = {
    "cheerleader": ("call-listening",),
    "detached-dictator": ("call-listening",),
    # covering for a weak seller with the strong ones is also leaving the poor results unmanaged
    "leans-on-strong": ("performance-avoidance",),
}

# Order in which the default mix introduces non-healthy profiles: traits,
# practice problems and look-alikes interleaved, so small mixes are varied.
MIX_ORDER: tuple[str, ...] = (
    "cheerleader",
    "celebrating-coach",
    "few-listens",
    "drum-banger",
    "glory-grabber",
    "late-joiner",
    "turnaround-promoter",
    "overloaded-reps",
    "excuse-maker",
    "honest-forecaster",
    "detached-dictator",
    "new-manager",
    "spreadsheet-jockey",
    "analyst-coach",
    "kpi-overload",
    "platitude-peddler",
    "occasional-motivator",
    "avoids-performance",
    "knee-jerk-reactionary",
    "measured-strategist",
    "even-split",
    "regurgitator",
    "context-relayer",
    "product-meetings",
    "tells-not-shows",
    "scattered-kpis",
    "leans-on-strong",
    "meeting-bound",
)
assert sorted(MIX_ORDER) == sorted(PROFILES[1:])

FOCUS_BASELINE: dict[str, float] = {
    "skills": 0.35,
    "pipeline": 0.35,
    "product": 0.08,
    "morale": 0.08,
    "admin": 0.14,
}


@dataclass(frozen=True)
class Style:
    """Rates a manager works at. Monthly figures are per calendar month of tenure,
    scaled by the share of that month's weekdays the manager is in charge."""

    one_on_one_days: tuple[int, int] | None = (7, 14)  # gap between 1:1s with each rep
    listens_month: tuple[float, float] = (15, 25)
    ride_alongs_rep_month: tuple[float, float] = (1, 3)
    coaching_month: tuple[float, float] = (4, 8)
    detached: bool = False  # per-rep contact only every 5-8 weeks
    review_deals_per_rep: tuple[int, int] = (2, 3)  # at the weekly deal review
    review_every_weeks: int = 1
    meeting_every_days: tuple[int, int] = (7, 7)
    focus: dict[str, float] = field(default_factory=lambda: dict(FOCUS_BASELINE))
    focus_majority: str | None = None  # this focus must exceed half of all meetings
    morale_month: tuple[float, float] = (3, 5)
    admin_daily: bool = False  # spreadsheet-level reports, forecasts, splits
    admin_month: tuple[float, float] = (2, 4)  # commission splits + allocations a month
    messages_week: tuple[float, float] = (3, 5)
    message_mode: str = "specific"  # specific | slogan | directive | occasional
    activity_reminders: bool = False
    relays_month: tuple[float, float] = (1, 3)
    relay_mode: str = "context"  # context | trivial
    misses: str = "monthly"  # monthly | excuse | honest
    strategy: str = "baseline"  # baseline | kneejerk | measured
    mandates: tuple[int, int] = (0, 0)
    mandates_for_reps: bool = False
    kpis: tuple[int, int] = (4, 6)
    even_split: bool = False
    avoid_performance: bool = False
    floor_attainment: bool = False  # keep attainment >= 0.72 so no plan is due
    open_deals: tuple[int, int] = (8, 10)
    glory: bool = False
    late_joiner: bool = False
    zombies: bool = False
    # the practices of simulator.practices
    shows: bool = True  # sees a deal (a listened call, a ride-along) before advancing it at review
    internal_week: tuple[float, float] = (1, 2)  # internal meetings a week with no one from the team
    huddles_week: tuple[float, float] = (0.5, 1.5)  # deal-strategy sessions with one seller, no customer
    kpi_lists: str = "overlap"  # one | overlap (maybe a second list inside the seven) | scattered
    leans: bool = False  # moves struggling sellers' deals to strong ones instead of coaching them


BASELINE = Style()


def style_for(profile: str) -> Style:
    """The style a profile's manager works in."""
    s = BASELINE
    if profile == "cheerleader":
        return replace(
            s,
            # a brief monthly 1:1 with everyone keeps each rep's gap under five weeks
            # (so this is not a detached manager); the rest of the method is nearly gone
            one_on_one_days=(24, 30),
            listens_month=(3, 4),
            ride_alongs_rep_month=(0.1, 0.25),
            coaching_month=(1, 2),
            review_deals_per_rep=(1, 2),
            review_every_weeks=2,
            focus={"morale": 0.68, "skills": 0.14, "pipeline": 0.14, "admin": 0.04},
            focus_majority="morale",
            morale_month=(18, 26),
        )
    if profile == "drum-banger":
        return replace(
            s,
            focus={"activity": 0.66, "pipeline": 0.17, "skills": 0.17},
            focus_majority="activity",
            mandates=(4, 7),
            mandates_for_reps=True,
            activity_reminders=True,
        )
    if profile == "turnaround-promoter":
        return replace(s, zombies=True)
    if profile == "glory-grabber":
        return replace(s, glory=True)
    if profile == "excuse-maker":
        return replace(s, misses="excuse")
    if profile == "detached-dictator":
        return replace(
            s,
            one_on_one_days=None,
            detached=True,
            meeting_every_days=(28, 42),
            focus={"admin": 0.5, "pipeline": 0.5},
            morale_month=(0, 1),
            messages_week=(5, 8),
            message_mode="directive",
            mandates=(1, 1),  # one blanket order; repeated quotas are the drum-banger's
            floor_attainment=True,
        )
    if profile == "spreadsheet-jockey":
        return replace(
            s,
            one_on_one_days=(14, 28),
            listens_month=(12, 15),
            ride_alongs_rep_month=(0.5, 1.5),
            coaching_month=(2, 4),
            admin_daily=True,
        )
    if profile == "platitude-peddler":
        return replace(s, messages_week=(5, 8), message_mode="slogan")
    if profile == "knee-jerk-reactionary":
        return replace(s, strategy="kneejerk")
    if profile == "regurgitator":
        return replace(s, relays_month=(5, 9), relay_mode="trivial")
    if profile == "few-listens":
        return replace(s, listens_month=(3, 8))
    if profile == "overloaded-reps":
        return replace(s, open_deals=(17, 21))
    if profile == "kpi-overload":
        return replace(s, kpis=(10, 14), kpi_lists="one")
    if profile == "tells-not-shows":
        return replace(s, shows=False)
    if profile == "scattered-kpis":
        return replace(s, kpis=(3, 5), kpi_lists="scattered")
    if profile == "leans-on-strong":
        return replace(s, avoid_performance=True, leans=True)
    if profile == "meeting-bound":
        return replace(
            s,
            one_on_one_days=(10, 16),
            ride_alongs_rep_month=(0.5, 1.2),
            coaching_month=(2, 5),
            internal_week=(22, 28),
            huddles_week=(0, 0.5),
        )
    if profile == "avoids-performance":
        return replace(s, avoid_performance=True)
    if profile == "even-split":
        return replace(s, even_split=True)
    if profile == "product-meetings":
        return replace(
            s,
            focus={"product": 0.62, "pipeline": 0.28, "skills": 0.1},
            focus_majority="product",
        )
    if profile == "celebrating-coach":
        return replace(
            s,
            one_on_one_days=(5, 10),
            listens_month=(20, 30),
            ride_alongs_rep_month=(1.5, 3.5),
            coaching_month=(6, 10),
            morale_month=(18, 26),
            focus={"skills": 0.35, "pipeline": 0.3, "morale": 0.25, "admin": 0.05, "product": 0.05},
        )
    if profile == "late-joiner":
        return replace(s, late_joiner=True)
    if profile == "measured-strategist":
        return replace(s, strategy="measured")
    if profile == "analyst-coach":
        return replace(
            s,
            one_on_one_days=(5, 9),
            listens_month=(22, 35),
            ride_alongs_rep_month=(2, 4),
            coaching_month=(8, 12),
            admin_daily=True,
        )
    if profile == "honest-forecaster":
        return replace(s, misses="honest")
    if profile == "context-relayer":
        return replace(s, relays_month=(5, 9))
    if profile == "occasional-motivator":
        return replace(s, message_mode="occasional")
    if profile in (HEALTHY, "new-manager"):
        return s
    raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")


def default_mix(managers: int) -> list[str]:
    """Profiles for ``managers`` managers when none are given.

    About a third are plain healthy; the rest follow ``MIX_ORDER``. From
    ``len(PROFILES)`` managers on, every non-healthy profile appears at least
    once (which leaves fewer healthy ones until the team count grows).
    """
    healthy = round(managers / 3)
    if managers > len(MIX_ORDER):
        healthy = min(healthy, managers - len(MIX_ORDER))
    non_healthy = managers - healthy
    sequence = [MIX_ORDER[i % len(MIX_ORDER)] for i in range(non_healthy)]
    mix: list[str] = []
    placed = 0
    it = iter(sequence)
    for i in range(managers):
        if healthy and placed < (i + 1) * healthy // managers:
            mix.append(HEALTHY)
            placed += 1
        else:
            mix.append(next(it))
    return mix


def labels_for(profile: str) -> tuple[list[str], list[str], str | None]:
    """(traits, practices, lookalike) a profile's manager really shows."""
    traits = [profile] if profile in TRAIT_PROFILES else []
    practices = list(EXTRA_PRACTICES.get(profile, ()))
    if profile in PRACTICE_PROFILES:
        practices.append(PRACTICE_PROFILES[profile])
    lookalike = profile if profile in LOOKALIKE_PROFILES else None
    return traits, practices, lookalike
