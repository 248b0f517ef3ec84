"""Synthetic CRM event logs with known manager behaviour, for demos and rule tests.

``simulate()`` builds teams of reps led by managers with a chosen profile
(healthy, one of the ten traits, a good-practice problem, or a healthy
look-alike of a trait) and returns canonical events (shared/spec/EVENTS.md)
together with labels saying what each manager really does.
``write_simulation()`` stores both reproducibly. ``simulate(..., realism=True)``
adds the mess of real CRM logs to teams picked from the seed and names, per
manager, the conditions their team carries (``simulator.realism``).
"""

from .build import Simulation, simulate, write_simulation
from .profiles import (
    HEALTHY,
    LOOKALIKE_PROFILES,
    PRACTICE_PROFILES,
    PROFILES,
    TRAIT_PROFILES,
    default_mix,
)

__all__ = [
    "HEALTHY",
    "LOOKALIKE_PROFILES",
    "PRACTICE_PROFILES",
    "PROFILES",
    "TRAIT_PROFILES",
    "Simulation",
    "default_mix",
    "simulate",
    "write_simulation",
]
