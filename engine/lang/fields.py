"""Fields and values of the rule language, as sqlglot expressions.

A field name (``type``, ``rep_on_team``, ``attrs.amount``, a derived name)
becomes a column or a JSON extraction checked against the event contract, so a
typo fails when the rule is loaded. A value (a literal, ``$param`` or
``@list``) is resolved here too; every user value enters the SQL as an AST
literal, never as pasted text. Conditions (:mod:`engine.lang.conditions`) and
derived measures (:mod:`engine.lang.derive`) are both built on these.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sqlglot import exp

from engine.lang.params import number_problem
from engine.vocab import ENVELOPE_FIELDS, EVENT_TYPES, ROSTER_FIELDS, known_attrs

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

REPORTED = object()  # a value whose problem was already reported
# Events carry naive UTC times: DuckDB's TIMESTAMP, which is Spark's TIMESTAMP_NTZ (a bare
# "TIMESTAMP" built outside a dialect would be Spark's TIMESTAMP with local time zone).
NAIVE_TIMESTAMP = exp.DataType.build("TIMESTAMP", dialect="duckdb")


@dataclass
class Context:
    """What a condition may refer to, and where to report problems."""

    report: Callable[..., None]  # (loc, message, key=False)
    resolve: Callable[[Any, tuple[Any, ...]], Any]  # substitutes $params
    lists: dict[str, list[Any]]
    macros: dict[str, tuple[dict[str, Any], Any, tuple[Any, ...]]]
    derived: dict[str, exp.Expr] = field(default_factory=dict)
    table: str | None = None  # qualify columns with this alias (sequence steps)
    macro_stack: tuple[str, ...] = ()
    # why the SQL engine's regex engine refuses a pattern (None: it runs); see engine.backends
    check_regex: Callable[[str], str | None] | None = None

    def column(self, name: str) -> exp.Column:
        return exp.column(name, table=self.table) if self.table else exp.column(name)


def types_in(condition: Any) -> set[str] | None:
    """The event types a condition restricts to (None when unrestricted or unknown)."""
    if not isinstance(condition, dict):
        return None
    value = condition.get("type")
    if isinstance(value, str) and not value.startswith(("@", "$")):
        return {value}
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return set(value)
    if isinstance(value, dict) and isinstance(value.get("in"), list):
        return {str(v) for v in value["in"]}
    if isinstance(value, dict) and isinstance(value.get("eq"), str):
        return {value["eq"]}
    return None


def field_expr(name: Any, ctx: Context, loc: tuple[Any, ...], types: set[str] | None) -> tuple[exp.Expr, str] | None:
    """SQL for a field path and its kind: 'envelope', 'ts', 'roster', 'attr', 'source' or 'derived'."""
    if not isinstance(name, str):
        ctx.report(loc, f"field names must be strings, got {name!r}")
        return None
    if name in ctx.derived:
        return ctx.derived[name], "derived"
    if name == "ts":
        return ctx.column("ts"), "ts"
    if name in ENVELOPE_FIELDS:
        return ctx.column(name), "envelope"
    if name in ROSTER_FIELDS:
        return ctx.column(name), "roster"
    for prefix, column in (("attrs.", "attrs"), ("source.", "source")):
        if name.startswith(prefix):
            key = name[len(prefix) :]
            if not _KEY.match(key):
                ctx.report(loc, f"'{name}': attribute names are letters, digits and _")
                return None
            if prefix == "attrs." and not _known_attr(key, name, ctx, loc, types):
                return None
            path = exp.Literal.string(f"$.{key}")
            return exp.JSONExtractScalar(this=ctx.column(column), expression=path), prefix[:-1].replace("attrs", "attr")
    _unknown_field(name, ctx, loc, types)
    return None


def _known_attr(key: str, name: str, ctx: Context, loc: tuple[Any, ...], types: set[str] | None) -> bool:
    """False (and reported) when the contract lists the event types' attributes and ``key`` is not one."""
    if not types or not types <= set(EVENT_TYPES):
        return True
    known = known_attrs(types)
    if key in known:
        return True
    hint = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    if hint:
        tip = f" (did you mean 'attrs.{hint[0]}'?)"
    else:
        tip = f" (known: {', '.join('attrs.' + k for k in sorted(known))})" if known else ""
    ctx.report(loc, f"unknown attribute '{name}' for {', '.join(sorted(types))}{tip}", key=True)
    return False


def _unknown_field(name: str, ctx: Context, loc: tuple[Any, ...], types: set[str] | None) -> None:
    named = list(ENVELOPE_FIELDS) + list(ROSTER_FIELDS) + sorted(ctx.derived)
    hint = difflib.get_close_matches(name, named, n=1, cutoff=0.6)
    if not hint and "." not in name:
        hint = [f"attrs.{h}" for h in difflib.get_close_matches(name, sorted(known_attrs(types)), n=1, cutoff=0.7)]
    tip = (
        f" (did you mean '{hint[0]}'?)"
        if hint
        else f" (fields: {', '.join(named + ['attrs.<name>', 'source.<name>'])})"
    )
    ctx.report(loc, f"unknown field '{name}'{tip}", key=True)


def json_list(column: exp.Expr) -> exp.Expr:
    """The JSON value under an ``attrs.<name>`` / ``source.<name>`` field, as JSON rather than text."""
    return exp.JSONExtract(this=column.this, expression=column.expression)


def list_array(column: exp.Expr) -> exp.Expr:
    """An ``attrs.<name>`` / ``source.<name>`` field's JSON list as an array of text.

    TRY_CAST to VARCHAR[] (Spark: FROM_JSON), so a value that is not a list (a
    scalar, an object, nothing) is NULL in both engines rather than an error.
    """
    return exp.TryCast(this=json_list(column), to=exp.DataType.build("ARRAY<VARCHAR>"), safe=True)


def resolve_value(value: Any, ctx: Context, loc: tuple[Any, ...]) -> Any:
    """A value with ``$param`` substituted and ``@list`` expanded (REPORTED when either is unknown).

    Numbers written in a condition are checked here (parameters and lists are
    checked where they are given): ``.nan``, ``.inf`` and integers beyond 64 bits
    cannot go to SQL.
    """
    if isinstance(value, (int, float, list)):
        for item in value if isinstance(value, list) else [value]:
            problem = number_problem(item)
            if problem is not None:
                ctx.report(loc, problem)
                return REPORTED
    value = ctx.resolve(value, loc)
    if isinstance(value, str) and value.startswith("@"):
        name = value[1:]
        if name not in ctx.lists:
            hint = difflib.get_close_matches(name, sorted(ctx.lists), n=1, cutoff=0.6)
            tip = f" (did you mean '@{hint[0]}'?)" if hint else ""
            ctx.report(loc, f"unknown list '@{name}'{tip}")
            return REPORTED
        return list(ctx.lists[name])
    return value


def literal(value: Any) -> exp.Expr:
    """A rule value as a SQL literal (dates and datetimes as UTC timestamps)."""
    if isinstance(value, bool):
        return exp.Literal.string("true" if value else "false")
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # YAML datetimes may carry an offset; events are UTC
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), NAIVE_TIMESTAMP)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), NAIVE_TIMESTAMP)
    return exp.Literal.string(str(value))


def ts_literal(value: Any) -> Any:
    """An ISO text compared with ``ts`` as a naive UTC datetime (other values unchanged)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if parsed.tzinfo is not None:  # events are stored in UTC; compare in UTC too
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        return parsed
    return value
