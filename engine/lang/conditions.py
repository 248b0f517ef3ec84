"""Compile ``where`` conditions and derived values to sqlglot expressions.

Every user value (literal, regex, list item) enters the SQL as an AST literal,
never as pasted text, and every field is checked against the event contract
so that a typo fails when the rule is loaded.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import sqlglot
from sqlglot import exp

from engine.errors import Problem
from engine.vocab import ENVELOPE_FIELDS, EVENT_TYPES, ROSTER_FIELDS, known_attrs

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
    "same_as",
    "differs_from",
)
COMBINATORS = ("all", "any", "not", "use")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Work objects and logistics: a message naming one is about something concrete.
# Rule sets may replace the list with their own named list "concrete_words".
DEFAULT_CONCRETE_WORDS = (
    "agenda",
    "badge",
    "calendar",
    "contract",
    "crm",
    "dashboard",
    "deck",
    "demo",
    "discount",
    "expense",
    "forecast",
    "gong",
    "hubspot",
    "invite",
    "invoice",
    "kitchen",
    "laptop",
    "link",
    "lunch",
    "office",
    "onboarding",
    "parking",
    "playbook",
    "pricing",
    "proposal",
    "quote",
    "report",
    "room",
    "salesforce",
    "slides",
    "spreadsheet",
    "template",
    "training",
    "webinar",
    "zoom",
)
# "may" and "today"/"tomorrow" are left out: slogans use them as often as schedules do.
_MONTHS = (
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june"
    "|july|august|september|october|november|december"
)
_DAYS = "mon|tue|wed|thu|fri|monday|tuesday|wednesday|thursday|friday|saturday|sunday|eod|eow|noon"

_REPORTED = object()  # a value whose problem was already reported


class CompileProblems(Exception):
    """Raised with every problem found while compiling one rule."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


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
    """SQL for a field path and its kind: 'envelope', 'ts', 'attr', 'source' or 'derived'."""
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
            if prefix == "attrs." and types and types <= set(EVENT_TYPES):
                known = known_attrs(types)
                if key not in known:
                    hint = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
                    tip = (
                        f" (did you mean 'attrs.{hint[0]}'?)"
                        if hint
                        else (f" (known: {', '.join('attrs.' + k for k in sorted(known))})" if known else "")
                    )
                    ctx.report(loc, f"unknown attribute '{name}' for {', '.join(sorted(types))}{tip}", key=True)
                    return None
            path = exp.Literal.string(f"$.{key}")
            return exp.JSONExtractScalar(this=ctx.column(column), expression=path), prefix[:-1].replace("attrs", "attr")
    choices = list(ENVELOPE_FIELDS) + list(ROSTER_FIELDS) + sorted(ctx.derived) + ["attrs.<name>", "source.<name>"]
    hint = difflib.get_close_matches(
        name, list(ENVELOPE_FIELDS) + list(ROSTER_FIELDS) + sorted(ctx.derived), n=1, cutoff=0.6
    )
    if not hint and "." not in name:
        hint = difflib.get_close_matches(name, sorted(known_attrs(types)), n=1, cutoff=0.7)
        hint = [f"attrs.{h}" for h in hint]
    tip = f" (did you mean '{hint[0]}'?)" if hint else f" (fields: {', '.join(choices)})"
    ctx.report(loc, f"unknown field '{name}'{tip}", key=True)
    return None


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
        inner = Context(
            report=_macro_reporter(ctx, doc, name),
            resolve=ctx.resolve,
            lists=ctx.lists,
            macros=ctx.macros,
            derived=ctx.derived,
            table=ctx.table,
            macro_stack=ctx.macro_stack + (name,),
        )
        out.append(exp.paren(compile_condition(body, inner, mloc, types_in(body) or types)))
    return exp.and_(*out) if out else exp.true()


def _macro_reporter(ctx: Context, doc: Any, name: str) -> Callable[..., None]:
    def report(loc: tuple[Any, ...], message: str, key: bool = False) -> None:
        problem = doc.problem(loc, f"{message} (in macro '{name}')", key=key)
        raise CompileProblems([problem])

    return report


def _resolve_value(value: Any, ctx: Context, loc: tuple[Any, ...]) -> Any:
    value = ctx.resolve(value, loc)
    if isinstance(value, str) and value.startswith("@"):
        name = value[1:]
        if name not in ctx.lists:
            hint = difflib.get_close_matches(name, sorted(ctx.lists), n=1, cutoff=0.6)
            tip = f" (did you mean '@{hint[0]}'?)" if hint else ""
            ctx.report(loc, f"unknown list '@{name}'{tip}")
            return _REPORTED
        return list(ctx.lists[name])
    return value


def literal(value: Any) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Literal.string("true" if value else "false")
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # YAML datetimes may carry an offset; events are UTC
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "TIMESTAMP")
    return exp.Literal.string(str(value))


def _typed(field_sql: exp.Expr, kind: str, sample: Any) -> exp.Expr:
    """Cast JSON-extracted text to the type of the literal it is compared with."""
    if kind in ("attr", "source") and isinstance(sample, (int, float)) and not isinstance(sample, bool):
        return exp.TryCast(this=field_sql, to=exp.DataType.build("DOUBLE"))
    if kind in ("attr", "source") and isinstance(sample, bool):
        return exp.Lower(this=field_sql)
    if kind == "ts" and isinstance(sample, str):
        return field_sql
    return field_sql


def _ts_literal(value: Any) -> Any:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is not None:  # events are stored in UTC; compare in UTC too
                parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
            return parsed
        except ValueError:
            return value
    return value


def _compile_entry(name: str, spec: Any, ctx: Context, loc: tuple[Any, ...], types: set[str] | None) -> exp.Expr:
    resolved = field_expr(name, ctx, loc, types)
    if resolved is None:
        return exp.true()
    column, kind = resolved
    spec = _resolve_value(spec, ctx, loc)
    if spec is _REPORTED:
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
        value = _resolve_value(raw, ctx, here)
        if value is _REPORTED:
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
        value = [_ts_literal(v) for v in value] if isinstance(value, list) else _ts_literal(value)
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
        return exp.RegexpLike(this=column, expression=exp.Literal.string(value))
    if op == "contains":
        if kind not in ("attr", "source"):
            ctx.report(loc, "'contains' applies to list attributes (attrs.<name>)")
            return None
        listed = exp.JSONExtract(this=column.this, expression=column.expression)
        array = exp.cast(listed, "VARCHAR[]")
        return exp.ArrayContains(this=array, expression=exp.Literal.string(str(value)))
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
    comparison: type[exp.Binary] = {
        "eq": exp.EQ,
        "ne": exp.NEQ,
        "lt": exp.LT,
        "lte": exp.LTE,
        "gt": exp.GT,
        "gte": exp.GTE,
    }[op]
    return comparison(this=target, expression=rhs)


def _norm_text(column: exp.Expr) -> exp.Expr:
    """Lower-case, punctuation to spaces, spaces collapsed: what 'nearly verbatim' compares."""
    lowered = exp.Lower(this=exp.func("COALESCE", column, exp.Literal.string("")))
    cleaned = exp.RegexpReplace(
        this=lowered,
        expression=exp.Literal.string(r"[^a-z0-9]+"),
        replacement=exp.Literal.string(" "),
        modifiers=exp.Literal.string("g"),
    )
    return exp.Trim(this=cleaned)


def _count_matches(text: exp.Expr, pattern: str) -> exp.Expr:
    return exp.func("LEN", exp.RegexpExtractAll(this=text, expression=exp.Literal.string(pattern)))


def _words_pattern(words: list[Any]) -> str:
    escaped = sorted({re.escape(str(w).lower()) for w in words}, key=lambda w: (-len(w), w))
    return r"\b(" + "|".join(escaped) + r")\b"


def compile_derived(
    name: str, spec: Any, ctx: Context, loc: tuple[Any, ...], types: set[str] | None
) -> exp.Expr | None:
    """SQL for one ``derive`` entry (a number per event)."""
    kinds = ("similarity", "added_words", "lexicon", "specificity", "length", "word_count")
    chosen = [k for k in kinds if getattr(spec, k) is not None]
    if len(chosen) != 1:
        ctx.report(loc, f"a derived value needs exactly one of {', '.join(kinds)}")
        return None
    how = chosen[0]
    if how == "added_words":
        pair = [field_expr(f, ctx, loc + (how, i), types) for i, f in enumerate(spec.added_words)]
        if len(pair) != 2:
            ctx.report(loc + (how,), "added_words compares exactly two fields: the original, then the new text")
            return None
        if pair[0] is None or pair[1] is None:
            return None
        template = sqlglot.parse_one(
            "LEN(LIST_DISTINCT(LIST_FILTER(REGEXP_EXTRACT_ALL(:new, '[a-z0-9]+'), "
            "w -> NOT LIST_CONTAINS(REGEXP_EXTRACT_ALL(:old, '[a-z0-9]+'), w))))",
            read="duckdb",
        )
        holes = {"old": _norm_text(pair[0][0]), "new": _norm_text(pair[1][0])}
        return template.transform(lambda node: holes[node.name].copy() if isinstance(node, exp.Placeholder) else node)
    if how == "similarity":
        fields = spec.similarity
        if len(fields) != 2:
            ctx.report(loc + ("similarity",), "similarity compares exactly two fields")
            return None
        sides = [field_expr(f, ctx, loc + ("similarity", i), types) for i, f in enumerate(fields)]
        if None in sides:
            return None
        a, b = (_norm_text(s[0]) for s in sides)  # type: ignore[index]
        longest = exp.func("GREATEST", exp.func("LENGTH", a), exp.func("LENGTH", b), exp.Literal.number(1))
        distance = exp.func("LEVENSHTEIN", a, b)
        return exp.Sub(
            this=exp.Literal.number(1), expression=exp.Div(this=exp.cast(distance, "DOUBLE"), expression=longest)
        )
    source = field_expr(getattr(spec, how), ctx, loc + (how,), types)
    if source is None:
        return None
    column = source[0]
    text = exp.Lower(this=exp.func("COALESCE", column, exp.Literal.string("")))
    word_count = _count_matches(text, r"[a-z0-9']+")
    if how == "word_count":
        return word_count
    if how == "length":
        listed = (
            exp.JSONExtract(this=column.this, expression=column.expression)
            if source[1] in ("attr", "source")
            else column
        )
        return exp.func("COALESCE", exp.func("JSON_ARRAY_LENGTH", listed), exp.Literal.number(0))
    if how == "lexicon":
        words = _resolve_value(spec.words, ctx, loc + ("words",)) if spec.words is not None else None
        if words is _REPORTED:
            return None
        if not isinstance(words, list) or not words:
            ctx.report(loc + ("words",), "lexicon needs 'words': an @list or a list of words")
            return None
        hits = _count_matches(text, _words_pattern(words))
        return exp.Div(
            this=exp.cast(hits, "DOUBLE"), expression=exp.func("GREATEST", word_count, exp.Literal.number(1))
        )
    # specificity: concrete tokens a seller can act on
    concrete = ctx.lists.get("concrete_words", list(DEFAULT_CONCRETE_WORDS))
    raw = exp.func("COALESCE", column, exp.Literal.string(""))
    patterns_lower = [
        r"\d+(?:[.,:]\d+)*",  # numbers, amounts, percentages, times: one each
        rf"\b({_MONTHS}|{_DAYS})\b",  # dates and deadlines
        _words_pattern(concrete),  # work objects and logistics
    ]
    patterns_raw = [
        r"\b[A-Z]{2,}[-_]?\d+\b",  # record ids such as OPP-1234
        r"[a-z,;:]\s+[A-Z][a-z]{2,}",  # proper nouns mid-sentence (accounts, people)
    ]
    terms: list[exp.Expr] = [_count_matches(text, p) for p in patterns_lower]
    terms += [_count_matches(raw, p) for p in patterns_raw]
    total: exp.Expr = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return exp.paren(total)
