"""Compile validated rules into backend-neutral SQL plans (sqlglot trees).

A plan is a list of stages, each a SELECT materialised as a temporary table,
plus two final queries: the findings (one row per rule, group and merged
window) and the assessment counts (which windows could not be judged and why).

:class:`RuleCompiler` holds what every kind needs (parameters, conditions,
scopes); the kind of a rule picks its module from the registry in
``engine.lang.kinds``, and the windowing and scoring every kind shares lives
in ``engine.lang.windows``.
"""

from __future__ import annotations

import difflib
from datetime import timedelta
from typing import Any

from sqlglot import exp

from engine.backends import regex_problem
from engine.errors import Problem, RuleError
from engine.ingest import EVENT_SCHEMA
from engine.lang.conditions import (
    CompileProblems,
    Context,
    compile_condition,
    compile_derived,
    field_expr,
    list_array,
    types_in,
)
from engine.lang.counter import plan_counter
from engine.lang.coverage import plan_coverage, plan_min_team
from engine.lang.kinds import KINDS
from engine.lang.loader import LoadedRule, RuleSet
from engine.lang.params import coerce, format_duration, number_problem, parse_duration
from engine.lang.parts import METRIC_AGGREGATES, Base, Merge, Metric, Window
from engine.lang.peers import PEER_GROUP_VALUE, peer_findings
from engine.lang.plan import CompiledRule, WindowPlan
from engine.lang.sqlplan import (
    AWAY_MANAGER,
    AWAY_PAIR,
    EVENTS,
    SCOPES_MANAGER,
    SCOPES_PAIR,
    group_column,
    interval,
    parse,
    quoted,
    reserved_name,
)
from engine.lang.team import plan_team
from engine.lang.templates import placeholders, template_problems

COMMON_NAMES = ("manager", "rep", "deal", "threshold", "window_days", "windows", "when", "reps")
TEMPLATE_NAMES = ("metric", "window_start", "window_end")  # filled in for every finding
TEXT_NAMES = ("manager", "rep", "deal", "when", "window_start", "window_end", "reps")  # the rest are numbers


class RuleCompiler:
    """Compiles one rule: parameters and conditions here, the kind's SQL in its module."""

    def __init__(
        self, loaded: LoadedRule, ruleset: RuleSet, overrides: dict[str, Any], index: int, dialect: str = "duckdb"
    ):
        self.loaded = loaded
        self.dialect = dialect  # whose regex engine runs the patterns
        self.rule = loaded.rule
        self.ruleset = ruleset
        self.problems: list[Problem] = []
        self.used: set[str] = set()  # parameters referenced as $name
        self.derived_cols: dict[str, exp.Expr] = {}  # derived name -> its column
        self.derived_sql: dict[str, exp.Expr] = {}  # derived name -> the SQL computing it
        self.group_fields = list(self.rule.logic.group_by)  # as written: manager, rep, attrs.period
        if "manager" not in self.group_fields:
            self.group_fields.insert(0, "manager")
        self.group = [group_column(f) for f in self.group_fields]  # their SQL columns
        self.overridden: set[str] = set()  # parameters the config or --set gave a value
        self.params = self._params(overrides)
        self.prefix = f"sm_r{index}_"
        self.scope_override: str | None = None  # the rule's own clipped scopes (engine.lang.coverage)

    # -- problems and values ------------------------------------------------------------------
    def report(self, loc: tuple[Any, ...], message: str, key: bool = False) -> None:
        written = _value_at(self.loaded.doc.data, loc)
        if isinstance(written, str) and written[1:] in self.overridden and written.startswith("$"):
            message += f" (the value of {written} set by the config or --set)"  # the rule only uses it here
        self.problems.append(self.loaded.problem(loc, message, key=key))

    def _params(self, overrides: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in self.rule.params.items():
            try:
                values[name] = coerce(spec.type, spec.default)
            except ValueError as err:
                self.report(("params", name, "default"), f"default of '{name}': {err}")
                values[name] = None  # known but unusable: reported once, here
                continue
            if spec.type in ("int", "float") and values[name] is not None:
                self._check_bounds(name, values[name], ("params", name, "default"))
        self.overridden = {name for name in overrides if name in self.rule.params}
        for name in self.overridden:  # unknown names are reported by the config layer
            values[name] = overrides[name]
        return values

    def _check_bounds(self, name: str, value: float, loc: tuple[Any, ...]) -> None:
        spec = self.rule.params[name]
        if spec.min is not None and value < spec.min:
            self.report(loc, f"'{name}' must be >= {spec.min:g}, got {value}")
        if spec.max is not None and value > spec.max:
            self.report(loc, f"'{name}' must be <= {spec.max:g}, got {value}")

    def resolve(self, value: Any, loc: tuple[Any, ...]) -> Any:
        """Substitute ``$param`` references (whole-value only)."""
        if not (isinstance(value, str) and value.startswith("$")):
            return value
        name = value[1:]
        self.used.add(name)
        if name in self.rule.params and self.params.get(name) is None:
            return None  # its default was invalid, which is already reported
        if name not in self.params:
            hint = difflib.get_close_matches(name, sorted(self.rule.params), n=1, cutoff=0.6)
            tip = f" (did you mean '${hint[0]}'?)" if hint else ""
            self.report(loc, f"unknown parameter '${name}'{tip}")
            return None
        return self.params[name]

    def number(self, value: Any, loc: tuple[Any, ...], *, integer: bool = False) -> float:
        resolved = self.resolve(value, loc)
        if isinstance(resolved, bool) or not isinstance(resolved, (int, float)):
            if resolved is not None:
                self.report(loc, f"expected a number, got {resolved!r}")
            return 0.0
        problem = number_problem(resolved)  # (already refused where it was given; never reaches SQL)
        if problem is not None:
            self.report(loc, problem)
            return 0.0
        if integer and int(resolved) != resolved:
            self.report(loc, f"expected a whole number, got {resolved!r}")
        return float(resolved)

    def duration(self, value: Any, loc: tuple[Any, ...]) -> float:
        resolved = self.resolve(value, loc)
        if resolved is None:
            return 86400.0
        try:
            return parse_duration(resolved).total_seconds()
        except ValueError as err:
            self.report(loc, str(err))
            return 86400.0

    def context(self, table: str | None = None) -> Context:
        derived: dict[str, exp.Expr] = dict(self.derived_cols)
        if table is not None:
            derived = {k: exp.column(k, table=table) for k in self.derived_cols}
        return Context(
            report=self.report,
            resolve=self.resolve,
            lists=self.ruleset.lists,
            macros=self.ruleset.macros,
            derived=derived,
            table=table,
            check_regex=lambda pattern: regex_problem(pattern, self.dialect),
        )

    # -- the rule -----------------------------------------------------------------------------
    def compile(self) -> CompiledRule:
        logic = self.rule.logic
        window = self._window(logic.window)
        ctx = self.context()
        event_columns = {c.casefold() for c in self.event_columns()}
        for name, spec in logic.derive.items():
            if not (isinstance(name, str) and name.isidentifier() and name.isascii()):
                self.report(("logic", "derive", name), f"derived name {name!r}: use letters, digits and _", key=True)
                continue
            if name.casefold() in event_columns:
                self.report(("logic", "derive", name), f"derived name '{name}' shadows an event field", key=True)
                continue
            if reserved_name(name):
                self.report(("logic", "derive", name), f"derived name '{name}' is reserved for the engine", key=True)
                continue
            sql = compile_derived(name, spec, ctx, ("logic", "derive", name), types_in(logic.where))
            if sql is not None:
                self.derived_sql[name] = sql
                self.derived_cols[name] = exp.column(name)
        compiled = CompiledRule(
            loaded=self.loaded,
            params=self.params,
            group=self.group,
            group_fields=self.group_fields,
            window=window,
            metric_name="count",
            metric_names=["count"],
            op="gte",
            threshold=1.0,
            prefix=self.prefix,
        )
        try:
            plan_coverage(self, compiled)
            plan_min_team(self, compiled)
            KINDS[logic.kind].compile(self, logic, compiled)
            peer_findings(compiled)
            if logic.team is not None:
                plan_team(self, logic.team, compiled)
            plan_counter(self, compiled)
            if logic.merge is not None:
                within = logic.merge.within
                seconds = self.duration(within, ("logic", "merge", "within")) if within is not None else 0.0
                compiled.merged = merge_words(logic.merge, seconds)
        except CompileProblems as exc:
            self.problems.extend(exc.problems)
        self._check_templates(compiled)
        in_templates = set(placeholders(self.rule.message)) | set(placeholders(self.rule.advice))
        for name in self.rule.params:
            if name not in self.used and name not in in_templates:
                self.report(("params", name), f"parameter '{name}' is declared but never used", key=True)
        if self.problems:
            raise CompileProblems(self.problems)
        return compiled

    def _window(self, spec: Any) -> WindowPlan:
        if not isinstance(spec, Window):
            return WindowPlan("whole")
        loc = ("logic", "window")
        if spec.mode == "whole":
            return WindowPlan("whole", min_days=self._bounded(spec.min_days, loc + ("min_days",), 36525))
        if spec.mode == "sliding":
            return WindowPlan("sliding", seconds=self.duration(spec.sliding, loc + ("sliding",)))
        coverage = self._bounded(spec.min_coverage, loc + ("min_coverage",), 1)
        return WindowPlan("calendar", unit=str(spec.calendar), min_coverage=coverage, prorate=spec.prorate)

    def _bounded(self, value: Any, loc: tuple[Any, ...], top: float) -> float:
        """A window minimum (a number or $param) that must lie between 0 and ``top``."""
        number = self.number(value, loc)
        if not 0 <= number <= top:
            self.report(loc, f"{loc[-1]} must be between 0 and {top:g}, got {number:g}")
            return 0.0
        return number

    def check_names(self, named: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Metric names (with where each is written) must differ from each other, the group columns and
        the engine's own names, case-insensitively as SQL compares them."""
        taken: dict[str, str] = {}
        for field, column in zip(self.group_fields, self.group):
            taken[column.casefold()] = f"the group column of '{field}'"
            taken.setdefault(field.rsplit(".", 1)[-1].casefold(), f"the template name of '{field}'")
        for name, loc in named:
            folded = name.casefold()
            if reserved_name(name):
                self.report(loc, f"the name '{name}' is reserved for the engine's own columns; choose another name")
            elif taken.get(folded) == f"the metric '{name}'":
                self.report(loc, f"metric name '{name}' is used twice; give one of them another name")
            elif folded in taken:
                self.report(loc, f"metric name '{name}' clashes with {taken[folded]}; choose another name")
            taken.setdefault(folded, f"the metric '{name}'")

    def _check_templates(self, out: CompiledRule) -> None:
        leaves = {f.rsplit(".", 1)[-1] for f in self.group_fields}  # attrs.period -> {period}
        for name in self.rule.params:  # a template could not tell them apart
            if name in out.metric_names or name in COMMON_NAMES or name in TEMPLATE_NAMES or name in leaves:
                self.report(("params", name), f"parameter '{name}' has the name of a template value", key=True)
        known = set(out.metric_names) | set(self.rule.params) | set(COMMON_NAMES) | set(TEMPLATE_NAMES) | leaves
        texts = set(TEXT_NAMES) | leaves
        texts |= {n for n, p in self.rule.params.items() if p.type not in ("int", "float")}
        for key in ("message", "advice"):
            for problem in template_problems(getattr(self.rule, key), known, texts):
                self.report((key,), f"{key} {problem}")
        counter_known = {"value", "count"} | set(self.rule.params)
        counter_texts = {n for n, p in self.rule.params.items() if p.type not in ("int", "float")}
        for index, item in enumerate(self.rule.counter_evidence):
            for problem in template_problems(item.says, counter_known, counter_texts):
                self.report(("counter_evidence", index, "says"), f"says {problem}")

    # -- qualifying rows, shared by the kinds -------------------------------------------------
    @staticmethod
    def event_columns() -> list[str]:
        """The columns of the events table every plan reads (see engine.lang.setup)."""
        return [*EVENT_SCHEMA.names, "rep_on_team"]

    def scope_table(self) -> str | None:
        """The roster scope the group follows: per manager, per (manager, rep), or none.

        With data coverage, the rule's own copy of it, clipped to when each team logs what it needs.
        """
        if self.scope_override is not None:
            return self.scope_override
        return self.base_scope()

    def base_scope(self) -> str | None:
        """The roster's own scope table for this group (never the rule's clipped copy)."""
        if set(self.group) <= {"manager"}:
            return SCOPES_MANAGER
        if set(self.group) <= {"manager", "rep"}:
            return SCOPES_PAIR
        return None

    def filtered(self, where: Any, loc: tuple[Any, ...], extra_types: set[str] | None = None) -> exp.Expr:
        """SELECT e.*, derived FROM sm_ev e WHERE <condition> (derived computed after a type pre-filter)."""
        types = types_in(where) or extra_types
        cond = compile_condition(where, self.context(), loc, types)
        inner_cols = ", ".join(["e.*"] + [f":d_{n} AS {quoted(n)}" for n in self.derived_sql])
        inner = f"SELECT {inner_cols} FROM {EVENTS} e"
        holes = {f"d_{n}": sql for n, sql in self.derived_sql.items()}
        if types and self.derived_sql:
            holes["types"] = exp.Tuple(expressions=[exp.Literal.string(t) for t in sorted(types)])
            inner += " WHERE e.type IN :types"
        return parse(f"SELECT * FROM ({inner}) e WHERE :cond", {**holes, "cond": cond})

    def step(self, base: Any, where: Any, loc: tuple[Any, ...]) -> exp.Expr:
        """Rows of one step of a kind (a sequence step, an opening event): the rule's where and the step's."""
        return self.filtered({"all": [base, where]} if base else where, loc, types_in(where))

    def same_keys(
        self, names: list[str], left: str, right: str, loc: tuple[Any, ...], types: tuple[Any, Any]
    ) -> exp.Expr:
        """left.f = right.f for each field both rows must share (TRUE when there are none)."""
        keys: list[exp.Expr] = []
        for index, name in enumerate(names):
            a = field_expr(name, self.context(left), loc + (index,), types_in(types[0]))
            b = field_expr(name, self.context(right), loc + (index,), types_in(types[1]))
            if a and b:
                keys.append(exp.EQ(this=a[0], expression=b[0]))
        return exp.and_(*keys) if keys else exp.true()

    def decisions(self, logic: Base, rows: exp.Expr, loc: tuple[Any, ...]) -> exp.Expr:
        """With ``merge``: keep the first event of each decision (same fields, same UTC day or close in time).

        Events are chained in (ts, id) order per team and merge fields: an event
        joins the decision before it when it falls on the same UTC day as the
        previous event (with ``same_day``) or less than ``within`` after it.
        """
        spec = logic.merge
        if spec is None:
            return rows
        here = ("logic", "merge")
        keys: list[exp.Expr] = [exp.column("manager", table="r")]
        for index, name in enumerate(spec.same):
            found = field_expr(name, self.context("r"), here + ("same", index), types_in(logic.where))
            if found:
                keys.append(found[0])
        within = self.duration(spec.within, here + ("within",)) if spec.within is not None else 0.0
        joined: list[str] = []
        if spec.same_day:
            joined.append("date_trunc('day', m.sm_prev) = date_trunc('day', m.ts)")
        if within > 0:
            joined.append("m.ts - m.sm_prev < :within")
        if not joined:
            return rows
        holes = {f"k{i}": k for i, k in enumerate(keys)}
        partition = ", ".join(f":k{i}" for i in range(len(keys)))
        holes.update(rows=rows, within=interval(within))
        marked = parse(
            f"SELECT r.*, LAG(r.ts) OVER (PARTITION BY {partition} ORDER BY r.ts, r.id) AS sm_prev FROM (:rows) r",
            holes,
        )
        columns = ", ".join(f"m.{quoted(c)}" for c in [*self.event_columns(), *self.derived_sql])
        test = " OR ".join(joined)
        return parse(
            f"SELECT {columns} FROM (:m) m WHERE m.sm_prev IS NULL OR NOT ({test})",
            {"m": marked, "within": interval(within)},
        )

    def unless(self, logic: Base, rows: exp.Expr) -> exp.Expr:
        """Drop rows that follow an ``unless`` event on the same keys within its time."""
        spec = logic.unless
        if spec is None:
            return rows
        loc = ("logic", "unless")
        other = self.filtered(spec.where, loc + ("where",), types_in(spec.where))
        keys = self.same_keys(spec.same, "u", "r", loc + ("same",), (spec.where, logic.where))
        within = interval(self.duration(spec.within, loc + ("within",)))
        return parse(
            "SELECT * FROM (:rows) r WHERE NOT EXISTS (SELECT 1 FROM (:other) u WHERE :keys "
            "AND u.ts <= r.ts AND u.ts >= r.ts - :within AND u.id <> r.id)",
            {"rows": rows, "other": other, "keys": keys, "within": within},
        )

    def metric_value(self, metric: Metric, loc: tuple[Any, ...], types: set[str] | None) -> tuple[str, exp.Expr, str]:
        """(aggregate, per-event value SQL, default name) for a metric spec."""
        how = metric.aggregate
        if how == "count":
            return "count", exp.Literal.number(1), metric.name or "count"
        assert how in METRIC_AGGREGATES
        target = getattr(metric, how)
        found = field_expr(target, self.context("e"), loc + (how,), types)
        if found is None:
            return how, exp.null(), metric.name or how
        sql, kind = found
        if how == "items":  # the distinct items of list attributes (engine.lang.fields.list_array)
            if kind not in ("attr", "source"):
                self.report(
                    loc + (how,), f"'items' counts the items of a list attribute (attrs.<name>), not '{target}'"
                )
                sql = exp.null()
            else:
                sql = list_array(sql)
            return how, sql, metric.name or f"items_{str(target).rsplit('.', 1)[-1]}"
        if how != "distinct" and kind in ("attr", "source", "envelope"):
            sql = exp.TryCast(this=sql, to=exp.DataType.build("DOUBLE"), safe=True)
        leaf = str(target).rsplit(".", 1)[-1]
        return how, sql, metric.name or f"{how}_{leaf}"

    def scoped(self, rows_sql: str, holes: dict[str, exp.Expr], value_cols: dict[str, exp.Expr]) -> exp.Expr:
        """Attach group keys and the led scope to qualifying rows; drop rows outside any scope."""
        scope = self.scope_table() or SCOPES_MANAGER
        by_pair = self.base_scope() == SCOPES_PAIR  # (the scope may be the rule's own clipped copy)
        on = "s.manager = e.manager" + (" AND s.rep = e.rep" if by_pair else "")
        keys: dict[str, exp.Expr] = {}
        for index, (name, column) in enumerate(zip(self.group_fields, self.group)):
            if name == column:
                keys[column] = exp.column(name, table="e")
            else:
                found = field_expr(name, self.context("e"), ("logic", "group_by", index), None)
                keys[column] = found[0] if found else exp.null()
        holes = {**holes, **{f"g_{c}": sql for c, sql in keys.items()}}
        group_cols = ", ".join(f":g_{c} AS {c}" for c in self.group)
        not_null = " AND ".join(f":g_{c} IS NOT NULL" for c in self.group)
        peer = self.rule.logic.peer
        if peer is not None and peer.by is not None:  # each row's peer-group value (engine.lang.peers)
            found = field_expr(peer.by, self.context("e"), ("logic", "peer", "by"), None)
            value_cols = {**value_cols, PEER_GROUP_VALUE: found[0] if found else exp.null()}
        values = ", ".join(f":v_{k} AS {k}" for k in value_cols)
        away = ""
        if self.rule.logic.away_within is not None:
            # the rep (or manager) away shortly before: the event says more about the leave than the work
            within = self.duration(self.rule.logic.away_within, ("logic", "away_within"))
            table, by_rep = (AWAY_PAIR, "a.rep = e.rep AND ") if "rep" in self.group else (AWAY_MANAGER, "")
            away = (
                f" AND NOT EXISTS (SELECT 1 FROM {table} a WHERE a.manager = e.manager AND {by_rep}"
                f"a.a_start <= e.sm_ts AND a.a_end > e.sm_ts - INTERVAL {int(within)} SECOND)"
            )
        sql = (
            # (a :hole cannot open a SELECT list in sqlglot's parser, so a plain column comes first)
            f"SELECT e.sm_ts AS ts, {group_cols}, e.sm_ev_ts AS ev_ts, e.id AS id, s.s_start, s.s_end, {values} "
            f"FROM ({rows_sql}) e JOIN {scope} s ON {on} AND e.sm_ts >= s.s_start AND e.sm_ts < s.s_end "
            f"WHERE {not_null}{away}"
        )
        return parse(sql, {**holes, **{f"v_{k}": v for k, v in value_cols.items()}})


def merge_words(spec: Merge, within_s: float) -> str:
    """How a rule merges the events of one decision, in words for its findings."""
    by = " and ".join(spec.same)
    how = []
    if spec.same_day:
        how.append("on the same UTC day")
    if within_s > 0:
        how.append(f"less than {format_duration(timedelta(seconds=within_s))} apart")
    return f"events with the same {by} {' or '.join(how)} are counted as one decision"


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    """The value written at ``loc`` in a rule document (None when there is none)."""
    for part in loc:
        listed = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (listed or isinstance(data, dict) and part in data):
            return None
        data = data[part]
    return data


def compile_rules(
    ruleset: RuleSet,
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    only: set[str] | None = None,
    dialect: str = "duckdb",
) -> list[CompiledRule]:
    """Compile every rule (or those in ``only``) for the SQL engine of ``dialect``; raise RuleError with all problems.

    The dialect decides which regex engine checks the rules' patterns (see ``engine.backends``).
    """
    overrides = overrides or {}
    compiled: list[CompiledRule] = []
    problems: list[Problem] = []
    for index, loaded in enumerate(ruleset.rules):
        if only is not None and loaded.rule.id not in only:
            continue
        try:
            rule_overrides = overrides.get(loaded.rule.id, {})
            compiled.append(RuleCompiler(loaded, ruleset, rule_overrides, index, dialect).compile())
        except CompileProblems as exc:
            problems.extend(exc.problems)
    if problems:
        raise RuleError(problems)
    return compiled


def render(expression: exp.Expr, dialect: str = "duckdb") -> str:
    return expression.sql(dialect=dialect)
