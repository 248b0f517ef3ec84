"""Compile validated rules into backend-neutral SQL plans (sqlglot ASTs).

A plan is a list of stages, each a SELECT materialised as a temporary table,
plus two final queries: the findings (one row per rule, group and merged
window) and the assessment counts (which windows could not be judged and why).
The SQL skeletons below are fixed text with ``:holes``; everything derived from
a rule (conditions, literals, durations, regexes) is spliced in as AST nodes,
so the same plan can be rendered for DuckDB today and Spark SQL later.
"""

from __future__ import annotations

import difflib
import re
import string
from typing import Any

import sqlglot
from sqlglot import exp

from engine.errors import Problem, RuleError
from engine.lang.conditions import (
    CompileProblems,
    Context,
    compile_condition,
    compile_derived,
    field_expr,
    types_in,
)
from engine.lang.loader import LoadedRule, RuleSet
from engine.lang.model import (
    AbsenceLogic,
    ConcurrencyLogic,
    Metric,
    RatioLogic,
    SequenceLogic,
    ThresholdLogic,
    Window,
)
from engine.lang.params import coerce, parse_duration
from engine.lang.plan import OP_SYMBOL, CompiledRule, WindowPlan
from engine.vocab import ENVELOPE_FIELDS, ROSTER_FIELDS

_OP_CLASS = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE, "eq": exp.EQ, "ne": exp.NEQ}
COMMON_NAMES = ("manager", "rep", "deal", "threshold", "window_days", "windows", "when")


_TABLE_HOLE = re.compile(r"\(:(\w+)\)\s+(?:AS\s+)?(\w+)")


def _parse(sql: str, holes: dict[str, exp.Expr]) -> exp.Expr:
    """Parse a fixed SQL skeleton and fill its holes with AST nodes.

    ``:name`` holes take expressions; ``(:name) alias`` in a FROM or JOIN takes a
    query, which becomes an aliased subquery.
    """
    tree = sqlglot.parse_one(_TABLE_HOLE.sub(r"sm_hole_\1 AS \2", sql), read="duckdb")

    def fill(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in holes:
            return holes[node.name].copy()
        if isinstance(node, exp.Table) and node.name.startswith("sm_hole_"):
            query = holes[node.name[len("sm_hole_") :]].copy()
            return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(node.alias)))
        return node

    return tree.transform(fill)


def _interval(seconds: float) -> exp.Expr:
    return exp.Interval(this=exp.Literal.string(str(int(seconds))), unit=exp.var("SECOND"))


def _q(name: str) -> str:
    """A metric name as a quoted SQL identifier (names like 'order' are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def _group_column(field: str) -> str:
    return field.replace(".", "_")


def _cols(group: list[str], alias: str | None = None) -> str:
    return ", ".join(f"{alias}.{g}" if alias else g for g in group)


def _join_on(group: list[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{g} = {right}.{g}" for g in group)


class _Compiler:
    def __init__(self, loaded: LoadedRule, ruleset: RuleSet, overrides: dict[str, Any], index: int):
        self.loaded = loaded
        self.rule = loaded.rule
        self.ruleset = ruleset
        self.problems: list[Problem] = []
        self.used: set[str] = set()  # parameters referenced as $name
        self.derived_cols: dict[str, exp.Expr] = {}  # derived name -> its column
        self.derived_sql: dict[str, exp.Expr] = {}  # derived name -> the SQL computing it
        self.group: list[str] = []
        self.group_fields: list[str] = []
        self.params = self._params(overrides)
        self.prefix = f"sm_r{index}_"

    # -- helpers ---------------------------------------------------------------------------
    def report(self, loc: tuple[Any, ...], message: str, key: bool = False) -> None:
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
        for name, value in overrides.items():
            if name not in self.rule.params:
                continue  # reported by the config layer, which knows where it came from
            values[name] = value
        return values

    def _check_bounds(self, name: str, value: float, loc: tuple[Any, ...]) -> None:
        spec = self.rule.params[name]
        if spec.min is not None and value < spec.min:
            self.report(loc, f"'{name}' must be >= {spec.min:g}, got {value}")
        if spec.max is not None and value > spec.max:
            self.report(loc, f"'{name}' must be <= {spec.max:g}, got {value}")

    def resolve(self, value: Any, loc: tuple[Any, ...]) -> Any:
        """Substitute ``$param`` references (whole-value only)."""
        if isinstance(value, str) and value.startswith("$"):
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
        return value

    def number(self, value: Any, loc: tuple[Any, ...], *, integer: bool = False) -> float:
        resolved = self.resolve(value, loc)
        if isinstance(resolved, bool) or not isinstance(resolved, (int, float)):
            if resolved is not None:
                self.report(loc, f"expected a number, got {resolved!r}")
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
        return Context(
            report=self.report,
            resolve=self.resolve,
            lists=self.ruleset.lists,
            macros=self.ruleset.macros,
            derived=dict(self.derived_cols)
            if table is None
            else {k: exp.column(k, table=table) for k in self.derived_cols},
            table=table,
        )

    # -- main --------------------------------------------------------------------------------
    def compile(self) -> CompiledRule:
        logic = self.rule.logic
        fields: list[str] = list(logic.group_by)
        if "manager" not in fields:
            fields.insert(0, "manager")
        self.group_fields = fields
        group = [_group_column(f) for f in fields]  # SQL column names: attrs.period -> attrs_period
        self.group = group
        window = self._window(logic.window)
        base_types = types_in(logic.where)
        ctx = self.context()
        for name, spec in logic.derive.items():
            if name in (*ENVELOPE_FIELDS, *ROSTER_FIELDS, "attrs", "source"):
                self.report(("logic", "derive", name), f"derived name '{name}' shadows an event field")
                continue
            sql = compile_derived(name, spec, ctx, ("logic", "derive", name), base_types)
            if sql is not None:
                self.derived_sql[name] = sql
                self.derived_cols[name] = exp.column(name)
        compiled = CompiledRule(
            loaded=self.loaded,
            params=self.params,
            group=group,
            group_fields=fields,
            window=window,
            metric_name="count",
            metric_names=["count"],
            op="gte",
            threshold=1.0,
            prefix=self.prefix,
        )
        try:
            if isinstance(logic, AbsenceLogic):
                self._absence(logic, compiled)
            elif isinstance(logic, ConcurrencyLogic):
                self._concurrency(logic, compiled)
            elif isinstance(logic, SequenceLogic):
                self._sequence(logic, compiled)
            else:
                self._aggregate(logic, compiled)
        except CompileProblems as exc:
            self.problems.extend(exc.problems)
        self._check_message(compiled)
        for name in self.rule.params:
            if name not in self.used and not self._mentioned(name):
                self.report(("params", name), f"parameter '{name}' is declared but never used", key=True)
        if self.problems:
            raise CompileProblems(self.problems)
        return compiled

    def _mentioned(self, name: str) -> bool:
        """A param may also be used only by the message or advice templates."""
        names = {f for _, f, _, _ in string.Formatter().parse(self.rule.message + self.rule.advice) if f}
        return name in names

    def _window(self, spec: Any) -> WindowPlan:
        loc = ("logic", "window")
        if spec == "whole":
            return WindowPlan("whole")
        assert isinstance(spec, Window)
        chosen = [k for k in ("whole", "sliding", "calendar") if getattr(spec, k)]
        if len(chosen) != 1:
            self.report(loc, "window needs exactly one of whole, sliding or calendar")
            return WindowPlan("whole")
        if spec.whole:
            return WindowPlan("whole", min_days=spec.min_days)
        if spec.sliding:
            return WindowPlan("sliding", seconds=self.duration(spec.sliding, loc + ("sliding",)))
        return WindowPlan("calendar", unit=str(spec.calendar), min_coverage=spec.min_coverage, prorate=spec.prorate)

    def _scope_table(self, group: list[str]) -> str | None:
        if set(group) <= {"manager"}:
            return "sm_scopes_m"
        if set(group) <= {"manager", "rep"}:
            return "sm_scopes_p"
        return None

    # -- qualifying rows -----------------------------------------------------------------------
    def _filtered(self, where: Any, loc: tuple[Any, ...], extra_types: set[str] | None = None) -> exp.Expr:
        """SELECT e.*, derived FROM sm_ev e WHERE <condition> (derived computed after a type pre-filter)."""
        ctx = self.context()
        types = types_in(where) or extra_types
        cond = compile_condition(where, ctx, loc, types)
        inner_cols = ", ".join(["e.*"] + [f":d_{n} AS {n}" for n in self.derived_sql])
        inner = f"SELECT {inner_cols} FROM sm_ev e"
        holes = {f"d_{n}": sql for n, sql in self.derived_sql.items()}
        if types and self.derived_sql:
            holes["types"] = exp.Tuple(expressions=[exp.Literal.string(t) for t in sorted(types)])
            inner += " WHERE e.type IN :types"
        return _parse(f"SELECT * FROM ({inner}) e WHERE :cond", {**holes, "cond": cond})

    def _unless(self, logic: Any, rows: exp.Expr) -> exp.Expr:
        """Drop rows that follow an ``unless`` event on the same keys within its time."""
        spec = logic.unless
        if spec is None:
            return rows
        loc = ("logic", "unless")
        other = self._filtered(spec.where, loc + ("where",), types_in(spec.where))
        keys: list[exp.Expr] = []
        for index, name in enumerate(spec.same):
            left = field_expr(name, self.context("u"), loc + ("same", index), types_in(spec.where))
            right = field_expr(name, self.context("r"), loc + ("same", index), types_in(logic.where))
            if left and right:
                keys.append(exp.EQ(this=left[0], expression=right[0]))
        within = _interval(self.duration(spec.within, loc + ("within",)))
        return _parse(
            "SELECT * FROM (:rows) r WHERE NOT EXISTS (SELECT 1 FROM (:other) u WHERE :keys "
            "AND u.ts <= r.ts AND u.ts >= r.ts - :within AND u.id <> r.id)",
            {"rows": rows, "other": other, "keys": exp.and_(*keys) if keys else exp.true(), "within": within},
        )

    def _metric_value(self, metric: Metric, loc: tuple[Any, ...], types: set[str] | None) -> tuple[str, exp.Expr, str]:
        """(aggregate, per-event value SQL, default name) for a metric spec."""
        chosen = [k for k in ("count", "distinct", "sum", "avg", "max", "min") if getattr(metric, k)]
        if len(chosen) > 1:
            self.report(loc, "a metric takes exactly one of count, distinct, sum, avg, max, min")
        how = chosen[0] if chosen else "count"
        if how == "count":
            return "count", exp.Literal.number(1), metric.name or "count"
        target = getattr(metric, how)
        found = field_expr(target, self.context("e"), loc + (how,), types)
        if found is None:
            return how, exp.null(), metric.name or how
        sql, kind = found
        if how != "distinct" and kind in ("attr", "source", "envelope"):
            sql = exp.TryCast(this=sql, to=exp.DataType.build("DOUBLE"))
        leaf = str(target).rsplit(".", 1)[-1]
        return how, sql, metric.name or f"{how}_{leaf}"

    @staticmethod
    def _agg(how: str, column: str) -> str:
        return {
            "count": f"COALESCE(SUM({column}), 0)",
            "distinct": f"COUNT(DISTINCT {column})",
            "sum": f"COALESCE(SUM({column}), 0)",
            "avg": f"AVG({column})",
            "max": f"MAX({column})",
            "min": f"MIN({column})",
        }[how]

    @staticmethod
    def _window_agg(how: str, column: str) -> str:
        return {
            "distinct": "NULL",  # rejected at compile time for sliding windows
            "count": f"SUM({column}) OVER sm_w",
            "sum": f"SUM({column}) OVER sm_w",
            "avg": f"AVG({column}) OVER sm_w",
            "max": f"MAX({column}) OVER sm_w",
            "min": f"MIN({column}) OVER sm_w",
        }[how]

    def _scoped(self, rows_sql: str, holes: dict[str, exp.Expr], value_cols: dict[str, exp.Expr]) -> exp.Expr:
        """Attach group keys and the led scope to qualifying rows; drop rows outside any scope."""
        scope = self._scope_table(self.group) or "sm_scopes_m"
        on = "s.manager = e.manager" + (" AND s.rep = e.rep" if scope == "sm_scopes_p" else "")
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
        values = ", ".join(f":v_{k} AS {k}" for k in value_cols)
        sql = (
            # (a :hole cannot open a SELECT list in sqlglot's parser, so a plain column comes first)
            f"SELECT e.sm_ts AS ts, {group_cols}, e.sm_ev_ts AS ev_ts, e.id AS id, s.s_start, s.s_end, {values} "
            f"FROM ({rows_sql}) e JOIN {scope} s ON {on} AND e.sm_ts >= s.s_start AND e.sm_ts < s.s_end "
            f"WHERE {not_null}"
        )
        return _parse(sql, {**holes, **{f"v_{k}": v for k, v in value_cols.items()}})

    # -- aggregate kinds (match, threshold, ratio) ---------------------------------------------------
    def _aggregate(self, logic: Any, out: CompiledRule) -> None:
        loc = ("logic",)
        types = types_in(logic.where)
        values: dict[str, exp.Expr] = {"x_cnt": exp.Literal.number(1)}
        metrics: list[tuple[str, str, str]] = []  # (name, aggregate sql over q column, how)
        support: list[str] = []  # unmet: the window is not assessed
        gates: list[str] = []  # unmet: assessed, and the pattern is not there
        where = logic.where
        evidence_filter = ""
        if isinstance(logic, RatioLogic):

            def part(which: str) -> exp.Expr:
                where_part = getattr(logic, which).where
                return compile_condition(
                    where_part, self.context(), loc + (which, "where"), types_in(where_part) or types
                )

            num, den = part("numerator"), part("denominator")
            rows = self._unless(logic, self._filtered(where, loc + ("where",)))
            # flag each row once, here, where the event's columns are unambiguous
            rows = _parse(
                "SELECT r.*, CASE WHEN :num THEN 1 ELSE 0 END AS sm_num, CASE WHEN :den THEN 1 ELSE 0 END AS sm_den "
                "FROM (:rows) r WHERE :num OR :den",
                {"rows": rows, "num": num, "den": den},
            )
            values["x_num"] = exp.column("sm_num", table="e")
            values["x_den"] = exp.column("sm_den", table="e")
            num_name, den_name = logic.numerator.name, logic.denominator.name
            metrics += [(num_name, "x_num", "count"), (den_name, "x_den", "count")]
            min_num = self.number(logic.min_numerator, loc + ("min_numerator",), integer=True)
            min_den = self.number(logic.min_denominator, loc + ("min_denominator",), integer=True)
            if min_den < 1:
                self.report(
                    loc + ("min_denominator",),
                    "min_denominator must be at least 1 (a ratio over nothing is not evidence)",
                )
            gates.append(f"{_q(num_name)} >= {min_num}")  # volume: below it the pattern is simply absent
            support.append(f"{_q(den_name)} >= {min_den}")  # below it the ratio means nothing
            metric_expr = f"CAST({_q(num_name)} AS DOUBLE) / NULLIF({_q(den_name)}, 0)"
            out.metric_name = "ratio"
            out.op = logic.op
            out.threshold = self.number(logic.value, loc + ("value",))
            evidence_filter = "q.x_num = 1"
            prorated = False
        else:
            rows = self._unless(logic, self._filtered(where, loc + ("where",)))
            if isinstance(logic, ThresholdLogic):
                how, value_sql, name = self._metric_value(logic.metric, loc + ("metric",), types)
                out.op = logic.op
                out.threshold = self.number(logic.value, loc + ("value",))
                min_events = self.number(logic.min_events, loc + ("min_events",), integer=True)
                for index, also in enumerate(logic.also):
                    a_how, a_sql, a_name = self._metric_value(also.metric, loc + ("also", index, "metric"), types)
                    values[f"x_a{index}"] = a_sql
                    metrics.append((a_name, f"x_a{index}", a_how))
                    a_value = self.number(also.value, loc + ("also", index, "value"))
                    gates.append(f"{_q(a_name)} {OP_SYMBOL[also.op]} {a_value}")
            else:  # match
                how, value_sql, name = "count", exp.Literal.number(1), "count"
                out.op = "gte"
                out.threshold = self.number(logic.min_events, loc + ("min_events",), integer=True)
                min_events = 0
            if how == "distinct" and out.window.mode == "sliding":
                self.report(loc + ("metric",), "distinct metrics need a calendar or whole window, not a sliding one")
            if name != "count":
                values["x_val"] = value_sql
                metrics.insert(0, (name, "x_val", how))
            metrics.insert(0 if name == "count" else 1, ("count", "x_cnt", "count"))
            if min_events:
                support.append(f'"count" >= {min_events}')
            metric_expr = _q(name)
            out.metric_name = name
            prorated = how in ("count", "sum") and out.window.prorate
        out.metric_names = [m[0] for m in metrics] + (["ratio"] if out.metric_name == "ratio" else [])
        seen: set[str] = set()
        for metric_name in out.metric_names:
            if (
                metric_name in seen
                or metric_name in COMMON_NAMES
                or metric_name in ("metric", "window_start", "window_end")
            ):
                self.report(loc, f"metric name '{metric_name}' is used twice or is reserved; give it another name")
            seen.add(metric_name)
        rows_sql = "SELECT r.*, r.ts AS sm_ts, r.ts AS sm_ev_ts FROM (:rows) r"
        q = self._scoped(rows_sql, {"rows": rows}, values)
        self._windowed(out, q, metrics, metric_expr, support, prorated, evidence_filter, gates)

    def _windowed(
        self,
        out: CompiledRule,
        q: exp.Expr,
        metrics: list[tuple[str, str, str]],
        metric_expr: str,
        support: list[str],
        prorated: bool,
        evidence_filter: str,
        gates: list[str] | None = None,
    ) -> None:
        p = self.prefix
        g = self.group
        out.stages.append((f"{p}q", q))
        win = out.window
        names = [m[0] for m in metrics]
        if win.mode == "sliding":
            aggs = ", ".join(f"{self._window_agg(how, 'q.' + col)} AS {_q(name)}" for name, col, how in metrics)
            w_sql = (
                f"SELECT {_cols(g, 'q')}, q.s_start, q.s_end, GREATEST(q.ts - :dur, q.s_start) AS w_start, "
                f"q.ts AS w_end, 1.0 AS coverage, q.id AS anchor_id, q.x_cnt AS anchor, {aggs} "
                f"FROM {p}q q WINDOW sm_w AS (PARTITION BY {_cols(g, 'q')}, q.s_start ORDER BY q.ts "
                f"RANGE BETWEEN :dur PRECEDING AND CURRENT ROW)"
            )
            w = _parse(w_sql, {"dur": _interval(win.seconds)})
            w = _parse("SELECT * FROM (:w) x WHERE x.anchor = 1", {"w": w})
            covered = "TRUE"
        else:
            win_sql, covered = self._fixed_windows(out)
            aggs = ", ".join(f"{self._agg(how, 'q.' + col)} AS {_q(name)}" for name, col, how in metrics)
            w_sql = (
                f"SELECT {_cols(g, 'w')}, w.s_start, w.s_end, w.w_start, w.w_end, w.coverage, "
                f"MIN(q.id) AS anchor_id, {aggs} FROM ({win_sql}) w LEFT JOIN {p}q q ON "
                f"{_join_on(g, 'q', 'w')} AND q.ts >= w.w_start AND q.ts < w.w_end "
                f"GROUP BY {_cols(g, 'w')}, w.s_start, w.s_end, w.w_start, w.w_end, w.coverage"
            )
            w = _parse(w_sql, {})
        self._score(out, w, covered, metric_expr, support, gates or [], prorated)
        names = names + (["ratio"] if out.metric_name == "ratio" else [])
        self._islands(out, names, evidence_filter, inclusive=win.mode == "sliding")

    def _fixed_windows(self, out: CompiledRule) -> tuple[str, str]:
        """SQL of the whole or calendar windows of every group, and the 'covered' test."""
        p, g, win = self.prefix, self.group, out.window
        scope = self._scope_table(g)
        universe = (
            f"SELECT DISTINCT {_cols(g)}, s_start, s_end FROM {scope}"
            if scope
            else f"SELECT DISTINCT {_cols(g)}, s_start, s_end FROM {p}q"
        )
        if win.mode == "whole":
            win_sql = f"SELECT {_cols(g, 'u')}, u.s_start, u.s_end, u.s_start AS w_start, u.s_end AS w_end, 1.0 AS coverage FROM ({universe}) u"
            return win_sql, f"(epoch(w_end) - epoch(w_start)) >= {win.min_days * 86400}"
        step = {"week": "INTERVAL 7 DAY", "month": "INTERVAL 1 MONTH", "quarter": "INTERVAL 3 MONTH"}[win.unit]
        win_sql = (
            f"SELECT {_cols(g, 'u')}, u.s_start, u.s_end, GREATEST(t.p, u.s_start) AS w_start, "
            f"LEAST(t.p + {step}, u.s_end) AS w_end, "
            f"(epoch(LEAST(t.p + {step}, u.s_end)) - epoch(GREATEST(t.p, u.s_start))) / "
            f"(epoch(t.p + {step}) - epoch(t.p)) AS coverage "
            f"FROM ({universe}) u CROSS JOIN UNNEST(generate_series(date_trunc('{win.unit}', u.s_start), u.s_end, {step})) AS t(p) "
            f"WHERE GREATEST(t.p, u.s_start) < LEAST(t.p + {step}, u.s_end)"
        )
        return win_sql, f"coverage >= {win.min_coverage}"

    def _score(
        self,
        out: CompiledRule,
        w: exp.Expr,
        covered: str,
        metric_expr: str,
        support: list[str],
        gates: list[str],
        prorated: bool,
    ) -> None:
        """Add the scored-windows stage (metric, threshold, covered, supported, fire) and the assessment."""
        p = self.prefix
        threshold = f"{out.threshold} * coverage" if prorated else f"{out.threshold}"
        supported = " AND ".join(f"({s})" for s in support) if support else "TRUE"
        scored_sql = (
            f"SELECT *, {metric_expr} AS sm_metric, {threshold} AS sm_threshold, "
            f"({covered}) AS sm_covered, ({supported}) AS sm_supported FROM (:w) x"
        )
        scored = _parse(scored_sql, {"w": w})
        gate = "".join(f" AND ({condition})" for condition in gates)
        fire = f"sm_covered AND sm_supported{gate} AND sm_metric IS NOT NULL AND sm_metric {OP_SYMBOL[out.op]} sm_threshold"
        scored = _parse(f"SELECT *, COALESCE({fire}, FALSE) AS sm_fire FROM (:s) y", {"s": scored})
        out.stages.append((f"{p}w", scored))
        out.assessment = (
            _parse(
                f"SELECT manager, COUNT(*) AS windows, "
                f"SUM(CASE WHEN NOT sm_covered THEN 1 ELSE 0 END) AS partial, "
                f"SUM(CASE WHEN sm_covered AND NOT sm_supported THEN 1 ELSE 0 END) AS unsupported "
                f"FROM {p}w GROUP BY manager",
                {},
            )
            if out.window.mode != "sliding"
            else None
        )

    # -- concurrency -----------------------------------------------------------------------------
    def _concurrency(self, logic: ConcurrencyLogic, out: CompiledRule) -> None:
        """Items (deals) open per group, counted daily; a whole or calendar window measure."""
        loc = ("logic",)
        self._no_unless(logic, "concurrency rules follow items, not single events")
        if out.window.mode == "sliding":
            self.report(loc + ("window",), "concurrency needs a calendar or whole window")
            return
        key = logic.key
        if not set(self.group) <= {"manager", "rep"}:
            self.report(loc + ("group_by",), "concurrency groups by manager or by manager and rep")
            return
        if key in self.group:
            self.report(loc + ("key",), f"the key '{key}' cannot also be a group_by field")
            return
        base = logic.where
        opened = self._filtered(
            {"all": [base, logic.open.where]} if base else logic.open.where,
            loc + ("open", "where"),
            types_in(logic.open.where),
        )
        closed = self._filtered(
            {"all": [base, logic.close.where]} if base else logic.close.where,
            loc + ("close", "where"),
            types_in(logic.close.where),
        )
        firsts = ", ".join(f"arg_min(o.{g}, o.ts) AS {g}" for g in self.group)
        items = (
            f"SELECT o.{key} AS item, MIN(o.ts) AS ts, arg_min(o.id, o.ts) AS id, {firsts} "
            f"FROM (:opened) o WHERE o.{key} IS NOT NULL GROUP BY o.{key}"
        )
        spans = (
            f"SELECT i.*, i.ts AS sm_ts, i.ts AS sm_ev_ts, (SELECT MIN(c.ts) FROM (:closed) c "
            f"WHERE c.{key} = i.item AND c.ts >= i.ts) AS sm_end FROM ({items}) i"
        )
        rows = _parse(spans, {"opened": opened, "closed": closed})
        q = self._scoped(
            "SELECT * FROM (:rows) r",
            {"rows": rows},
            {"x_cnt": exp.Literal.number(1), "ts_end": exp.column("sm_end", table="e")},
        )
        # Every item of the group, wherever it opened, is kept in a second table (below) for the daily counts.
        p, g = self.prefix, self.group
        out.stages.append((f"{p}q", q))
        win_sql, covered = self._fixed_windows(out)
        name = _q(logic.name)
        days = (
            f"SELECT w.*, t.d + INTERVAL 12 HOUR AS sample FROM ({win_sql}) w "
            f"CROSS JOIN UNNEST(generate_series(date_trunc('day', w.w_start), w.w_end - INTERVAL 1 SECOND, INTERVAL 1 DAY)) AS t(d) "
            f"WHERE t.d + INTERVAL 12 HOUR >= w.w_start AND t.d + INTERVAL 12 HOUR < w.w_end"
        )
        # With reps in the key, a rep's items follow the rep: whoever leads the rep on a day
        # answers for all the rep's open items that day, inherited ones included.
        item_keys = [col for col in g if col != "manager"] if "rep" in g else g
        counted = (
            f"SELECT {_cols(g, 'd')}, d.s_start, d.s_end, d.w_start, d.w_end, d.coverage, d.sample, COUNT(q.id) AS open_now "
            f"FROM ({days}) d LEFT JOIN {p}o q ON {_join_on(item_keys, 'q', 'd')} AND q.ts <= d.sample "
            f"AND (q.ts_end IS NULL OR q.ts_end > d.sample) "
            f"GROUP BY {_cols(g, 'd')}, d.s_start, d.s_end, d.w_start, d.w_end, d.coverage, d.sample"
        )
        measure = {"avg": "AVG", "max": "MAX", "min": "MIN"}[logic.measure]
        w_sql = (
            f"SELECT {_cols(g)}, s_start, s_end, w_start, w_end, coverage, CAST(NULL AS VARCHAR) AS anchor_id, "
            f"{measure}(open_now) AS {name}, MAX(open_now) AS peak_open, COUNT(*) AS days "
            f"FROM ({counted}) c GROUP BY {_cols(g)}, s_start, s_end, w_start, w_end, coverage"
        )
        # All items of the group, wherever they opened (the scope join above only keeps those opened in scope).
        every_item = (
            f"SELECT r.ts, {_cols(g, 'r')}, r.ts AS ev_ts, r.id, r.sm_end AS ts_end FROM (:rows) r "
            f"WHERE {' AND '.join(f'r.{col} IS NOT NULL' for col in g)}"
        )
        out.stages.append((f"{p}o", _parse(every_item, {"rows": rows})))
        out.op = logic.op
        out.threshold = self.number(logic.value, loc + ("value",))
        out.metric_name = logic.name
        out.metric_names = [logic.name, "peak_open", "days"]
        self._score(out, _parse(w_sql, {}), covered, name, [], [], prorated=False)
        self._islands(
            out,
            out.metric_names,
            "",
            inclusive=False,
            source=f"{p}o",
            span="q.ts < f.f_end AND (q.ts_end IS NULL OR q.ts_end > f.f_start)",
        )

    def _islands(
        self,
        out: CompiledRule,
        names: list[str],
        evidence_filter: str,
        inclusive: bool,
        source: str | None = None,
        span: str | None = None,
    ) -> None:
        p = self.prefix
        g = self.group
        peak = {"gt": "sm_metric DESC", "gte": "sm_metric DESC", "lt": "sm_metric ASC", "lte": "sm_metric ASC"}.get(
            out.op, "w_start"
        )
        part = _cols(g)
        metric_cols = ", ".join(f"r.{_q(n)}" for n in names if n != "ratio")
        marked = (
            f"SELECT *, CASE WHEN w_start <= MAX(w_end) OVER (PARTITION BY {part} ORDER BY w_start, w_end, anchor_id "
            f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS sm_new "
            f"FROM {p}w WHERE sm_fire"
        )
        islands = (
            f"SELECT *, SUM(sm_new) OVER (PARTITION BY {part} ORDER BY w_start, w_end, anchor_id ROWS UNBOUNDED PRECEDING) AS sm_island "
            f"FROM ({marked}) m"
        )
        ranked = (
            f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {part}, sm_island ORDER BY {peak}, w_start, anchor_id) AS sm_rank, "
            f"MIN(w_start) OVER (PARTITION BY {part}, sm_island) AS f_start, "
            f"MAX(w_end) OVER (PARTITION BY {part}, sm_island) AS f_end, "
            f"COUNT(*) OVER (PARTITION BY {part}, sm_island) AS f_windows FROM ({islands}) i"
        )
        out.stages.append((f"{p}f", _parse(f"SELECT * FROM ({ranked}) r WHERE sm_rank = 1", {})))
        upper = "<=" if inclusive else "<"
        ev_filter = f" AND {evidence_filter}" if evidence_filter else ""
        span = span or f"q.ts >= f.f_start AND q.ts {upper} f.f_end"
        order = "q.ts, q.id" if source else "q.ev_ts, q.id"
        evidence = (
            f"SELECT {_cols(g, 'f')}, f.f_start, ARRAY_AGG(q.id ORDER BY {order}) AS evidence, MIN(q.ev_ts) AS first_ts "
            f"FROM {p}f f JOIN {source or p + 'q'} q ON {_join_on(g, 'q', 'f')} AND {span}{ev_filter} "
            f"GROUP BY {_cols(g, 'f')}, f.f_start"
        )
        using = ", ".join(g + ["f_start"])
        # A sliding window reaches back its full length from each firing event; the finding
        # starts at its first qualifying event instead, which is what a reader needs.
        start = "GREATEST(r.f_start, COALESCE(e.first_ts, r.f_start))" if inclusive else "r.f_start"
        sql = (
            f"SELECT {_cols(g, 'r')}, {start} AS window_start, r.f_end AS window_end, r.f_windows AS windows, "
            f"r.w_start AS peak_start, r.w_end AS peak_end, r.coverage, r.sm_metric AS metric, r.sm_threshold AS threshold, "
            f"{metric_cols}, COALESCE(e.evidence, []) AS evidence "
            f"FROM {p}f r LEFT JOIN ({evidence}) e USING ({using}) ORDER BY {_cols(g, 'r')}, r.f_start"
        )
        out.findings = _parse(sql, {})

    # -- sequence ------------------------------------------------------------------------------------
    def _sequence(self, logic: SequenceLogic, out: CompiledRule) -> None:
        loc = ("logic",)
        self._no_unless(logic, "sequence rules use 'without'")
        base = logic.where
        first_where = {"all": [base, logic.first.where]} if base else logic.first.where
        then_where = {"all": [base, logic.then.where]} if base else logic.then.where
        a = self._filtered(first_where, loc + ("first", "where"), types_in(logic.first.where))
        b = self._filtered(then_where, loc + ("then", "where"), types_in(logic.then.where))
        within = self.duration(logic.within, loc + ("within",))
        joins: list[exp.Expr] = []
        for index, name in enumerate(logic.same):
            left = field_expr(name, self.context("a"), loc + ("same", index), types_in(logic.first.where))
            right = field_expr(name, self.context("b"), loc + ("same", index), types_in(logic.then.where))
            if left and right:
                joins.append(exp.EQ(this=left[0], expression=right[0]))
        for index, pair in enumerate(logic.pairs):
            sides: list[exp.Expr | None] = []
            for side_name in ("left", "right"):
                ref = getattr(pair, side_name)
                step, _, path = ref.partition(".")
                if step not in ("first", "then") or not path:
                    self.report(loc + ("pairs", index, side_name), f"'{ref}' must start with first. or then.")
                    sides.append(None)
                    continue
                where = logic.first.where if step == "first" else logic.then.where
                found = field_expr(
                    path,
                    self.context("a" if step == "first" else "b"),
                    loc + ("pairs", index, side_name),
                    types_in(where),
                )
                sides.append(found[0] if found else None)
            if sides[0] is not None and sides[1] is not None:
                joins.append(_OP_CLASS[pair.op](this=sides[0], expression=sides[1]))
        on_sql = exp.and_(*joins) if joins else exp.true()
        order = "(a.ts < b.ts OR (a.ts = b.ts AND a.id < b.id))"
        holes = {"a": a, "b": b, "joincond": on_sql, "within": _interval(within)}
        if logic.absent:
            if logic.without is not None:
                self.report(loc + ("without",), "'without' cannot be combined with 'absent'")
            after = "(b.ts > a.ts OR (b.ts = a.ts AND a.id < b.id))"
            if logic.before is not None:
                holes["before"] = _interval(self.duration(logic.before, loc + ("before",)))
                after = "b.ts >= a.ts - :before AND b.id <> a.id"
            rows = (
                "SELECT a.*, a.ts AS sm_ts, a.ts AS sm_ev_ts, 1 AS x_cnt FROM (:a) a CROSS JOIN sm_span sp "
                f"WHERE a.ts + :within <= sp.span_end AND NOT EXISTS (SELECT 1 FROM (:b) b WHERE "
                f"{after} AND b.ts - a.ts <= :within AND :joincond)"
            )
        else:
            if logic.before is not None:
                self.report(loc + ("before",), "'before' only applies with 'absent: true'")
            if logic.without is not None:
                quiet_where = logic.without.where
                c = self._filtered(quiet_where, loc + ("without", "where"), types_in(quiet_where))
                keys = []
                for index, name in enumerate(logic.same):
                    left = field_expr(name, self.context("c"), loc + ("same", index), types_in(quiet_where))
                    right = field_expr(name, self.context("b"), loc + ("same", index), types_in(logic.then.where))
                    if left and right:
                        keys.append(exp.EQ(this=left[0], expression=right[0]))
                holes["c"] = c
                holes["quiet_on"] = exp.and_(*keys) if keys else exp.true()
                holes["quiet"] = _interval(self.duration(logic.without.within, loc + ("without", "within")))
                b = _parse(
                    "SELECT * FROM (:b) b WHERE NOT EXISTS (SELECT 1 FROM (:c) c WHERE :quiet_on "
                    "AND c.ts < b.ts AND c.ts >= b.ts - :quiet)",
                    holes | {"b": b},
                )
                holes["b"] = b
            first_min = self.number(logic.first_min, loc + ("first_min",), integer=True)
            holes["first_min"] = exp.Literal.number(int(first_min))
            pairs = (
                f"SELECT b.id AS b_id, a.id AS a_id, a.ts AS a_ts FROM (:b) b JOIN (:a) a ON :joincond AND {order} "
                "AND b.ts - a.ts <= :within"
            )
            anchors = f"SELECT b_id FROM ({pairs}) pr GROUP BY b_id HAVING COUNT(DISTINCT a_id) >= :first_min"
            rows = (
                f"SELECT b.*, b.ts AS sm_ts, b.ts AS sm_ev_ts, 1 AS x_cnt FROM (:b) b WHERE b.id IN ({anchors}) "
                f"UNION ALL SELECT b.* REPLACE (pr.a_id AS id), b.ts AS sm_ts, pr.a_ts AS sm_ev_ts, 0 AS x_cnt "
                f"FROM (:b) b JOIN ({pairs}) pr ON pr.b_id = b.id WHERE b.id IN ({anchors})"
            )
        rows_expr = _parse(rows, holes)
        q = self._scoped("SELECT * FROM (:rows) r", {"rows": rows_expr}, {"x_cnt": exp.column("x_cnt", table="e")})
        if logic.absent:
            # Only judge an unanswered step when the manager still led the group for the whole
            # time allowed to answer it (not after a handover, a resignation or the log's end).
            q = _parse("SELECT * FROM (:q) z WHERE z.ts + :within <= z.s_end", {"q": q, "within": holes["within"]})
        out.op = logic.op
        out.threshold = self.number(logic.value, loc + ("value",))
        out.metric_name = "count"
        out.metric_names = ["count"]
        self._windowed(out, q, [("count", "x_cnt", "count")], "count", [], out.window.prorate, "")

    # -- absence -----------------------------------------------------------------------------------
    def _no_unless(self, logic: Any, why: str) -> None:
        if logic.unless is not None:
            self.report(("logic", "unless"), f"'unless' applies to match, threshold and ratio rules; {why}")

    def _absence(self, logic: AbsenceLogic, out: CompiledRule) -> None:
        loc = ("logic",)
        self._no_unless(logic, "absence rules measure gaps between all qualifying events")
        scope = self._scope_table(self.group)
        out.metric_names = ["longest_gap_days", "gaps_over", "contacts", "scope_days"]
        if scope is None:
            self.report(loc + ("group_by",), "absence rules group by manager or by manager and rep (the roster)")
            return
        if out.window.mode != "whole":
            self.report(loc + ("window",), "absence rules measure gaps over the whole led period; drop 'window'")
        max_gap = self.duration(logic.max_gap, loc + ("max_gap",))
        rows = self._filtered(logic.where, loc + ("where",))
        q = self._scoped(
            "SELECT r.*, r.ts AS sm_ts, r.ts AS sm_ev_ts FROM (:rows) r",
            {"rows": rows},
            {"x_cnt": exp.Literal.number(1)},
        )
        p, g = self.prefix, self.group
        out.stages.append((f"{p}q", q))
        start_id = "s.start_id" if scope == "sm_scopes_p" else "CAST(NULL AS VARCHAR)"
        end_id = "s.end_id" if scope == "sm_scopes_p" else "CAST(NULL AS VARCHAR)"
        points = (
            f"SELECT {_cols(g, 'q')}, q.s_start, q.s_end, q.ts AS t, 1 AS o, q.id AS pid FROM {p}q q "
            f"UNION ALL SELECT {_cols(g, 's')}, s.s_start, s.s_end, s.s_start, 0, {start_id} FROM {scope} s "
            f"UNION ALL SELECT {_cols(g, 's')}, s.s_start, s.s_end, s.s_end, 2, {end_id} FROM {scope} s"
        )
        gaps = (
            f"SELECT *, LEAD(t) OVER sm_o AS t_next, LEAD(pid) OVER sm_o AS pid_next FROM ({points}) x "
            f"WINDOW sm_o AS (PARTITION BY {_cols(g)}, s_start ORDER BY t, o, pid)"
        )
        per = (
            f"SELECT *, epoch(t_next) - epoch(t) AS gap_s, "
            f"ROW_NUMBER() OVER (PARTITION BY {_cols(g)}, s_start ORDER BY epoch(t_next) - epoch(t) DESC, t) AS sm_rank, "
            f"SUM(CASE WHEN epoch(t_next) - epoch(t) >= {max_gap} THEN 1 ELSE 0 END) OVER (PARTITION BY {_cols(g)}, s_start) AS gaps_over, "
            f"SUM(CASE WHEN o = 1 THEN 1 ELSE 0 END) OVER (PARTITION BY {_cols(g)}, s_start) AS contacts "
            f"FROM ({gaps}) y WHERE t_next IS NOT NULL"
        )
        scored = (
            f"SELECT *, gap_s / 86400.0 AS longest_gap_days, (epoch(s_end) - epoch(s_start)) / 86400.0 AS scope_days, "
            f"(epoch(s_end) - epoch(s_start)) >= {max_gap} AS sm_covered, TRUE AS sm_supported, "
            f"gap_s >= {max_gap} AND (epoch(s_end) - epoch(s_start)) >= {max_gap} AS sm_fire "
            f"FROM ({per}) z WHERE sm_rank = 1"
        )
        out.stages.append((f"{p}w", _parse(scored, {})))
        out.metric_name = "longest_gap_days"
        out.metric_names = ["longest_gap_days", "gaps_over", "contacts", "scope_days"]
        out.op = "gte"
        out.threshold = max_gap / 86400.0
        out.findings = _parse(
            f"SELECT {_cols(g)}, t AS window_start, t_next AS window_end, 1 AS windows, t AS peak_start, t_next AS peak_end, "
            f"1.0 AS coverage, longest_gap_days AS metric, {max_gap / 86400.0} AS threshold, longest_gap_days, gaps_over, contacts, scope_days, "
            f"list_filter([pid, pid_next], x -> x IS NOT NULL) AS evidence FROM {p}w WHERE sm_fire ORDER BY {_cols(g)}, t",
            {},
        )
        out.assessment = _parse(
            f"SELECT manager, COUNT(*) AS windows, SUM(CASE WHEN NOT sm_covered THEN 1 ELSE 0 END) AS partial, "
            f"0 AS unsupported FROM {p}w GROUP BY manager",
            {},
        )

    # -- templates -----------------------------------------------------------------------------------
    def _check_message(self, out: CompiledRule) -> None:
        known = (
            set(out.metric_names) | set(self.rule.params) | set(COMMON_NAMES) | {"metric", "window_start", "window_end"}
        )
        known |= {f.rsplit(".", 1)[-1] for f in self.group_fields}  # attrs.period -> {period}
        for key in ("message", "advice"):
            text = getattr(self.rule, key)
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
            except ValueError as err:
                self.report((key,), f"{key} template: {err}")
                continue
            for name in fields:
                base = name.split(".")[0].split("[")[0].split(":")[0].split("!")[0]
                if base not in known:
                    hint = difflib.get_close_matches(base, sorted(known), n=1, cutoff=0.6)
                    tip = f" (did you mean '{{{hint[0]}}}'?)" if hint else f" (known: {', '.join(sorted(known))})"
                    self.report((key,), f"{key} uses unknown placeholder '{{{base}}}'{tip}")


def compile_rules(
    ruleset: RuleSet, overrides: dict[str, dict[str, Any]] | None = None, *, only: set[str] | None = None
) -> list[CompiledRule]:
    """Compile every rule (or those in ``only``); raise RuleError with all problems."""
    overrides = overrides or {}
    compiled: list[CompiledRule] = []
    problems: list[Problem] = []
    for index, loaded in enumerate(ruleset.rules):
        if only is not None and loaded.rule.id not in only:
            continue
        try:
            compiled.append(_Compiler(loaded, ruleset, overrides.get(loaded.rule.id, {}), index).compile())
        except CompileProblems as exc:
            problems.extend(exc.problems)
    if problems:
        raise RuleError(problems)
    return compiled


def render(expression: exp.Expr, dialect: str = "duckdb") -> str:
    return expression.sql(dialect=dialect)
