"""A compiled rule: the plan a backend runs and what the reporter needs to word its findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from engine.lang.parts import OP_SYMBOL

if TYPE_CHECKING:
    from engine.lang.counter import CounterPlan
    from engine.lang.loader import LoadedRule

__all__ = ["OP_SYMBOL", "CompiledRule", "WindowPlan"]


@dataclass(frozen=True)
class WindowPlan:
    mode: str  # whole | sliding | calendar
    seconds: float = 0.0
    unit: str = ""
    min_coverage: float = 0.0
    min_days: float = 0.0
    prorate: bool = False


@dataclass
class CompiledRule:
    """Everything the backend needs to run one rule and the reporter to word its findings."""

    loaded: LoadedRule
    params: dict[str, Any]
    group: list[str]  # SQL column names of the group keys
    window: WindowPlan
    metric_name: str
    metric_names: list[str]
    op: str
    threshold: float
    stages: list[tuple[str, exp.Expr]] = field(default_factory=list)
    findings: exp.Expr | None = None
    assessment: exp.Expr | None = None
    prefix: str = ""
    severity_override: str | None = None
    group_fields: list[str] = field(default_factory=list)  # as written: manager, rep, attrs.period
    # data coverage (engine.lang.coverage): the type sets the log must hold, the families a
    # team must log, and per manager the date logging started where it clipped their time
    needs: list[list[str]] = field(default_factory=list)
    logged_families: list[str] = field(default_factory=list)
    coverage: exp.Expr | None = None
    presence: exp.Expr | None = None  # with needs: one row, n0, n1...: whether the log holds each of them
    small_teams: exp.Expr | None = None  # managers whose teams were under the rule's min_team
    away: bool = False  # gaps and expected counts leave out days the rep or manager was away
    merged: str | None = None  # how events of one decision were merged, in words
    team: bool = False  # findings are team-level: one per manager, listing the reps (engine.lang.team)
    rep_metrics: list[str] = field(default_factory=list)  # a team finding's per-rep metrics
    counter: list[CounterPlan] = field(default_factory=list)  # counter-evidence lookups (engine.lang.counter)
    peer: str | None = None  # the peer measure of a peer-relative rule (engine.lang.peers)
    peer_group: bool = False  # peers within groups (peer.by), named in each finding
    trend: str | None = None  # the metric whose change a trend rule judges (engine.lang.trends)
    trend_after: tuple[str, float] | None = None  # the stage of a trend's cause events, and their reach (s)
    # SQL rendered from the trees above, per (part, dialect): watch runs a rule at every tick
    rendered: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)
    rendered_notes: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False, compare=False)

    def render(self, part: str, tree: exp.Expr, dialect: str) -> str:
        """``tree`` (one of this rule's, named ``part``) as SQL of ``dialect``, rendered once."""
        key = (part, dialect)
        text = self.rendered.get(key)
        if text is None:
            text = self.rendered[key] = tree.sql(dialect=dialect)
        return text

    @property
    def id(self) -> str:
        return self.loaded.rule.id

    @property
    def severity(self) -> str:
        return self.severity_override or self.loaded.rule.severity
