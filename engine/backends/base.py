"""What every evaluation backend offers, and the registry that names them.

A backend holds one loaded log and runs compiled rule plans against it. The
plans are sqlglot trees (``engine.lang``): a backend renders them in its own
dialect, materialises the stages and returns plain rows. Adding a backend is
one module that implements :class:`Backend` plus one :func:`register_backend`
call in ``engine/backends/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from engine.registry import Registry

if TYPE_CHECKING:
    from engine.lang.plan import CompiledRule


@dataclass(frozen=True)
class Origin:
    """Where an evidence event came from: input file and line, and its source record (JSON text)."""

    file: str
    line: int
    source: str | None


@dataclass
class RuleResult:
    """Raw rows for one rule: findings and per-manager assessment counts."""

    findings: list[dict[str, Any]]
    assessment: list[dict[str, Any]]
    # the needed type sets the whole log holds none of (the rule then did not run)
    missing: list[list[str]] = field(default_factory=list)
    # per manager: led_from, logged_from where the rule's data started late (engine.lang.coverage)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    small_teams: list[dict[str, Any]] = field(default_factory=list)  # manager, team_size, needed


class Backend(Protocol):
    """One loaded log; every method is deterministic for the same events."""

    name: str
    dialect: str  # the sqlglot dialect the plans are rendered in

    def run(self, rule: CompiledRule) -> RuleResult:
        """Run one compiled rule; raise EngineError when the backend cannot."""
        ...

    def origins(self, ids: list[str]) -> dict[str, Origin]:
        """File, line and source record of the given event ids (unknown ids are left out)."""
        ...

    def managers(self) -> list[str]:
        """Every manager with a scope (roster or events), sorted."""
        ...

    def span(self) -> tuple[datetime | None, datetime | None]:
        """First and last day (exclusive end) of the log's non-roster events (outliers left out)."""
        ...

    def warnings(self) -> list[str]:
        """What was left out of the assessment or judged on a cut-off, in words (the rules run so far)."""
        ...

    def close(self) -> None: ...


BackendFactory = Callable[..., Backend]
"""Called with the loaded events (an Arrow table) and ``infer_absence_days`` (engine.lang.setup)."""

BACKENDS: Registry[BackendFactory] = Registry("engine")


RegexCheck = Callable[[str], "str | None"]
"""Why a pattern cannot run in a SQL dialect's regex engine; None when it can."""

REGEX_CHECKS: Registry[RegexCheck] = Registry("regex dialect")


def register_regex_check(dialect: str, check: RegexCheck) -> None:
    """Let rules be checked, when they load, against the regex engine of ``dialect``.

    Patterns Python accepts may still be refused by the engine that runs them
    (DuckDB's RE2 has no look-arounds or back-references), which would
    otherwise only show when a rule runs.
    """
    REGEX_CHECKS.register(dialect, check)


def regex_problem(pattern: str, dialect: str) -> str | None:
    """What the regex engine of ``dialect`` says against ``pattern`` (None: fine, or nothing to ask)."""
    return REGEX_CHECKS.get(dialect)(pattern) if dialect in REGEX_CHECKS else None


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make a backend available as ``evaluate(..., backend=NAME)`` (and ``--engine NAME``)."""
    BACKENDS.register(name, factory)


def backend_names() -> list[str]:
    return BACKENDS.names()


def get_backend(name: str) -> BackendFactory:
    return BACKENDS.get(name)
