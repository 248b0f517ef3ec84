"""The aggregate kinds: ``match`` (enough qualifying events), ``threshold`` (an aggregate
against a value) and ``ratio`` (one share of the qualifying events against a value)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator
from sqlglot import exp

from engine.lang.conditions import compile_condition, types_in
from engine.lang.kinds.base import Kind
from engine.lang.parts import OP_SYMBOL, Also, Base, Condition, Count, Metric, Number, Op, Part, shape_error
from engine.lang.sqlplan import parse, quoted
from engine.lang.windows import Metrics, windowed

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule


class MatchLogic(Base):
    kind: Literal["match"]
    min_events: Count = 1


class ThresholdLogic(Base):
    kind: Literal["threshold"]
    metric: Metric = Field(default_factory=lambda: Metric(count=True, name=None))
    op: Op
    value: Number
    min_events: Count = 0
    also: list[Also] = []

    def zero_conditions(self) -> list[dict[str, Any]] | None:
        # "at least N": a team that logs none of these events would fail it with no evidence
        return [self.where] if self.op in ("lt", "lte") else None

    @model_validator(mode="after")
    def _distinct_needs_fixed_windows(self) -> ThresholdLogic:
        # distinct values and distinct list items are sets per window, not running sums over a slide
        if self.window_mode == "sliding":
            if self.metric.per_window_only:
                raise shape_error(
                    f"{self.metric.aggregate} metrics need a calendar or whole window, not a sliding one", "metric"
                )
            for index, also in enumerate(self.also):
                if also.metric.per_window_only:
                    raise shape_error(
                        f"{also.metric.aggregate} metrics need a calendar or whole window, not a sliding one",
                        "also",
                        index,
                        "metric",
                    )
        return self


class RatioLogic(Base):
    kind: Literal["ratio"]
    numerator: Part
    denominator: Part
    op: Op
    value: Number
    min_numerator: Count = 1
    min_denominator: Count = 1
    needs: list[Condition] = Field(
        default_factory=list,
        description="Events the ratio reads by their absence (a numerator of deals no one inspected): as for "
        "'at least' rules, a team is judged only from when it logs them, and a log without any is not assessed.",
    )

    def zero_conditions(self) -> list[dict[str, Any]] | None:
        # A ratio over an empty denominator is below its minimum data, never a finding; but a
        # numerator that counts what did NOT happen (no inspection before an advance) grows
        # when the answer is simply not logged, so the rule names what it needs (``needs``),
        # each condition a set of its own: the latest of their logging starts applies.
        return [dict(condition) for condition in self.needs] or None


ROWS = "SELECT r.*, r.ts AS sm_ts, r.ts AS sm_ev_ts FROM (:rows) r"


def _metric_at(metric: Metric, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Where a metric's name is written: its ``name`` key, or the metric that names itself."""
    return loc + ("name",) if metric.name else loc


def compile_ratio(rc: RuleCompiler, logic: RatioLogic, out: CompiledRule) -> None:
    loc = ("logic",)
    types = types_in(logic.where)

    def part(which: str) -> exp.Expr:
        where = getattr(logic, which).where
        return compile_condition(where, rc.context(), loc + (which, "where"), types_in(where) or types)

    num, den = part("numerator"), part("denominator")
    rows = rc.unless(logic, rc.decisions(logic, rc.filtered(logic.where, loc + ("where",)), loc))
    # flag each row once, here, where the event's columns are unambiguous
    rows = parse(
        "SELECT r.*, CASE WHEN :num THEN 1 ELSE 0 END AS sm_num, CASE WHEN :den THEN 1 ELSE 0 END AS sm_den "
        "FROM (:rows) r WHERE :num OR :den",
        {"rows": rows, "num": num, "den": den},
    )
    values: dict[str, exp.Expr] = {
        "x_cnt": exp.Literal.number(1),
        "x_num": exp.column("sm_num", table="e"),
        "x_den": exp.column("sm_den", table="e"),
    }
    num_name, den_name = logic.numerator.name, logic.denominator.name
    metrics: Metrics = [(num_name, "x_num", "count"), (den_name, "x_den", "count")]
    min_num = rc.number(logic.min_numerator, loc + ("min_numerator",), integer=True)
    min_den = rc.number(logic.min_denominator, loc + ("min_denominator",), integer=True)
    if min_den < 1:
        rc.report(
            loc + ("min_denominator",), "min_denominator must be at least 1 (a ratio over nothing is not evidence)"
        )
    out.metric_name = "ratio"
    out.op = logic.op
    out.threshold = rc.number(logic.value, loc + ("value",))
    out.metric_names = [num_name, den_name, "ratio"]
    rc.check_names([("ratio", loc), (num_name, loc + ("numerator", "name")), (den_name, loc + ("denominator", "name"))])
    q = rc.scoped(ROWS, {"rows": rows}, values)
    windowed(
        rc,
        out,
        q,
        metrics,
        f"CAST({quoted(num_name)} AS DOUBLE) / NULLIF({quoted(den_name)}, 0)",
        support=[f"{quoted(den_name)} >= {min_den}"],  # below it the ratio means nothing
        prorated=False,
        evidence_filter="q.x_num = 1",
        gates=[f"{quoted(num_name)} >= {min_num}"],  # volume: below it the pattern is simply absent
    )


def compile_counted(rc: RuleCompiler, logic: MatchLogic | ThresholdLogic, out: CompiledRule) -> None:
    """match and threshold: an aggregate of the qualifying events per window."""
    loc = ("logic",)
    types = types_in(logic.where)
    values: dict[str, exp.Expr] = {"x_cnt": exp.Literal.number(1)}
    metrics: Metrics = []
    named: list[tuple[str, tuple[Any, ...]]] = [("count", loc)]  # every metric name and where it is written
    gates: list[str] = []  # unmet: assessed, and the pattern is not there
    rows = rc.unless(logic, rc.decisions(logic, rc.filtered(logic.where, loc + ("where",)), loc))
    if isinstance(logic, ThresholdLogic):
        how, value_sql, name = rc.metric_value(logic.metric, loc + ("metric",), types)
        if name != "count":
            named.insert(1, (name, _metric_at(logic.metric, loc + ("metric",))))
        out.op = logic.op
        out.threshold = rc.number(logic.value, loc + ("value",))
        min_events = rc.number(logic.min_events, loc + ("min_events",), integer=True)
        for index, also in enumerate(logic.also):
            a_how, a_sql, a_name = rc.metric_value(also.metric, loc + ("also", index, "metric"), types)
            named.append((a_name, _metric_at(also.metric, loc + ("also", index, "metric"))))
            values[f"x_a{index}"] = a_sql
            metrics.append((a_name, f"x_a{index}", a_how))
            a_value = rc.number(also.value, loc + ("also", index, "value"))
            gates.append(f"{quoted(a_name)} {OP_SYMBOL[also.op]} {a_value}")
    else:
        how, value_sql, name = "count", exp.Literal.number(1), "count"
        out.op = "gte"
        out.threshold = rc.number(logic.min_events, loc + ("min_events",), integer=True)
        min_events = 0
    if name != "count":
        values["x_val"] = value_sql
        metrics.insert(0, (name, "x_val", how))
    metrics.insert(0 if name == "count" else 1, ("count", "x_cnt", "count"))
    out.metric_name = name
    out.metric_names = [m[0] for m in metrics]
    rc.check_names(named)
    q = rc.scoped(ROWS, {"rows": rows}, values)
    support = [f'"count" >= {min_events}'] if min_events else []  # unmet: the window is not assessed
    prorated = how in ("count", "sum") and out.window.prorate
    windowed(rc, out, q, metrics, quoted(name), support, prorated, "", gates)


def _counted(rc: RuleCompiler, logic: Any, out: CompiledRule) -> None:
    compile_counted(rc, logic, out)


def _ratio(rc: RuleCompiler, logic: Any, out: CompiledRule) -> None:
    compile_ratio(rc, logic, out)


KINDS: tuple[Kind, ...] = (
    Kind("match", MatchLogic, _counted),
    Kind("threshold", ThresholdLogic, _counted),
    Kind("ratio", RatioLogic, _ratio),
)
