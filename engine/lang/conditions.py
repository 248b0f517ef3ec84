"""Compile ``where`` conditions to sqlglot expressions.

A condition is a mapping of ``field: value`` entries, all of which must hold,
with ``all``/``any``/``not`` to combine conditions and ``use`` to splice in a
named macro. Fields and values are resolved by :mod:`engine.lang.fields`;
derived measures live in :mod:`engine.lang.derive` and are re-exported here.
Only constructs that render alike for DuckDB and Spark are used (see
:mod:`engine.lang.portable`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlglot import exp

from engine.errors import SalesmirrorError
from engine.lang.derive import DEFAULT_CONCRETE_WORDS, compile_derived
from engine.lang.fields import (
    REPORTED,
    Context,
    field_expr,
    list_array,
    literal,
    resolve_value,
    ts_literal,
    types_in,
)
from engine.vocab import EVENT_TYPES

__all__ = [
    "COMBINATORS",
    "DEFAULT_CONCRETE_WORDS",
    "OPS",
    "CompileProblems",
    "Context",
    "compile_condition",
    "compile_derived",
    "field_expr",
    "list_array",
    "literal",
    "types_in",
]

OPS = (
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "not_in",
    "regex",
    "exists",
    "contains",
    "contains_field",
    "same_as",
    "differs_from",
)
COMBINATORS = ("all", "any", "not", "use")
_COMPARISONS: dict[str, type[exp.Binary]] = {
    "eq": exp.EQ,
    "ne": exp.NEQ,
    "lt": exp.LT,
    "lte": exp.LTE,
    "gt": exp.GT,
    "gte": exp.GTE,
}


class CompileProblems(SalesmirrorError):
    """Raised with every problem found while compiling one rule (re-raised as a RuleError)."""


def compile_condition(condition: Any, ctx: Context, loc: tuple[Any, ...], types: set[str] | None = None) -> exp.Expr:
    """A mapping of entries, all of which must hold."""
    if condition is None or condition == {}:
        return exp.true()
    if not isinstance(condition, dict):
        ctx.report(loc, "a condition must be a mapping of field: value entries")
        return exp.true()
    if types is None:
        types = types_in(condition)
    parts: list[exp.Expr] = []
    for key, value in condition.items():
        here = loc + (key,)
        if key == "all" or key == "any":
            if not isinstance(value, list) or not value:
                ctx.report(here, f"'{key}' takes a non-empty list of conditions")
                continue
            subs = [compile_condition(item, ctx, here + (i,), types) for i, item in enumerate(value)]
            parts.append(exp.and_(*subs) if key == "all" else exp.or_(*subs))
        elif key == "not":
            parts.append(exp.not_(exp.paren(compile_condition(value, ctx, here, types))))
        elif key == "use":
            parts.append(_use_macro(value, ctx, here, types))
        else:
            parts.append(_compile_entry(key, value, ctx, here, types))
    if not parts:
        return exp.true()
    return exp.paren(exp.and_(*parts)) if len(parts) > 1 else parts[0]


def _use_macro(value: Any, ctx: Context, loc: tuple[Any, ...], types: set[str] | None) -> exp.Expr:
    names = value if isinstance(value, list) else [value]
    out: list[exp.Expr] = []
    for name in names:
        if name not in ctx.macros:
            hint = difflib.get_close_matches(str(name), sorted(ctx.macros), n=1, cutoff=0.6)
            tip = f" (did you mean '{hint[0]}'?)" if hint else ""
            ctx.report(loc, f"unknown macro '{name}'{tip}")
            continue
        if name in ctx.macro_stack:
            ctx.report(loc, f"macro '{name}' uses itself")
            continue
        body, doc, mloc = ctx.macros[name]
        inner = replace(ctx, report=_macro_reporter(ctx, doc, name), macro_stack=ctx.macro_stack + (name,))
        out.append(exp.paren(compile_condition(body, inner, mloc, types_in(body) or types)))
    return exp.and_(*out) if out else exp.true()


def _macro_reporter(ctx: Context, doc: Any, name: str) -> Callable[..., None]:
    def report(loc: tuple[Any, ...], message: str, key: bool = False) -> None:
        problem = doc.problem(loc, f"{message} (in macro '{name}')", key=key)
        raise CompileProblems([problem])

    return report


def _typed(field_sql: exp.Expr, kind: str, sample: Any) -> exp.Expr:
    """JSON-extracted text, made comparable with the literal it is compared with."""
    if kind not in ("attr", "source"):
        return field_sql
    if isinstance(sample, bool):
        return exp.Lower(this=field_sql)
    if isinstance(sample, (int, float)):  # safe: TRY_CAST for Spark too, not a plain CAST
        return exp.TryCast(this=field_sql, to=exp.DataType.build("DOUBLE"), safe=True)
    return field_sql


def _compile_entry(name: str, spec: Any, ctx: Context, loc: tuple[Any, ...], types: set[str] | None) -> exp.Expr:
    resolved = field_expr(name, ctx, loc, types)
    if resolved is None:
        return exp.true()
    column, kind = resolved
    spec = resolve_value(spec, ctx, loc)
    if spec is REPORTED:
        return exp.true()
    if isinstance(spec, dict):
        ops = spec
    elif isinstance(spec, list):
        ops = {"in": spec}
    else:
        ops = {"eq": spec}
    out: list[exp.Expr] = []
    for op, raw in ops.items():
        here = loc + (op,) if isinstance(spec, dict) else loc
        if op not in OPS:
            hint = difflib.get_close_matches(str(op), OPS, n=1, cutoff=0.5)
            tip = f" (did you mean '{hint[0]}'?)" if hint else f" (operators: {', '.join(OPS)})"
            ctx.report(here, f"unknown operator '{op}'{tip}", key=True)
            continue
        value = resolve_value(raw, ctx, here)
        if value is REPORTED:
            continue
        if name == "type" and op in ("eq", "in"):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item not in EVENT_TYPES and not item.startswith("x_"):
                    hint = difflib.get_close_matches(item, sorted(EVENT_TYPES), n=1, cutoff=0.7)
                    if hint:
                        ctx.report(here, f"unknown event type '{item}' (did you mean '{hint[0]}'?)")
        expr = _leaf(op, column, kind, value, ctx, here, types)
        if expr is not None:
            out.append(exp.func("COALESCE", exp.paren(expr), exp.false()))
    if not out:
        return exp.true()
    return exp.and_(*out) if len(out) > 1 else out[0]


def _leaf(
    op: str,
    column: exp.Expr,
    kind: str,
    value: Any,
    ctx: Context,
    loc: tuple[Any, ...],
    types: set[str] | None,
) -> exp.Expr | None:
    if kind == "ts" and op not in ("exists",):
        value = [ts_literal(v) for v in value] if isinstance(value, list) else ts_literal(value)
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            ctx.report(loc, f"'{op}' takes a non-empty list (or @list)")
            return None
        target = _typed(column, kind, value[0])
        test = exp.In(this=target, expressions=[literal(v) for v in value])
        return exp.not_(test) if op == "not_in" else test
    if op == "exists":
        if not isinstance(value, bool):
            ctx.report(loc, "'exists' takes true or false")
            return None
        return (
            exp.Is(this=column, expression=exp.null()).not_() if value else exp.Is(this=column, expression=exp.null())
        )
    if op == "regex":
        if not isinstance(value, str):
            ctx.report(loc, "'regex' takes a string pattern")
            return None
        try:
            re.compile(value)
        except re.error as err:
            ctx.report(loc, f"invalid regex: {err}")
            return None
        refused = ctx.check_regex(value) if ctx.check_regex else None  # Python's re is not the SQL engine's
        if refused is not None:
            ctx.report(loc, f"invalid regex: {refused}")
            return None
        return exp.RegexpLike(this=column, expression=exp.Literal.string(value))
    if op in ("contains", "contains_field"):
        if kind not in ("attr", "source"):
            ctx.report(loc, f"'{op}' applies to list attributes (attrs.<name>)")
            return None
        # a JSON list cast to an array of text: FROM_JSON for Spark; a value that is not a list is NULL
        if op == "contains":
            return exp.ArrayContains(this=list_array(column), expression=exp.Literal.string(str(value)))
        # the list holds the value of another field of the same event (the manager among the participants)
        other = field_expr(value, ctx, loc, types)
        if other is None:
            return None
        return exp.ArrayContains(this=list_array(column), expression=other[0])
    if op in ("same_as", "differs_from"):
        other = field_expr(value, ctx, loc, types)
        if other is None:
            return None
        cls = exp.EQ if op == "same_as" else exp.NEQ
        return cls(this=column, expression=other[0])
    if isinstance(value, (list, dict)) or value is None:
        ctx.report(loc, f"'{op}' takes a single value, got {value!r}")
        return None
    target = _typed(column, kind, value)
    rhs = literal(value)
    if kind in ("attr", "source") and isinstance(value, bool):
        rhs = exp.Literal.string("true" if value else "false")
    elif kind == "roster" and isinstance(value, bool):
        rhs = exp.Boolean(this=value)
    comparison = _COMPARISONS[op]
    return comparison(this=target, expression=rhs)
