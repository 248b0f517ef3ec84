"""Does a plan mean the same on DuckDB and on Spark SQL 3.5? A checker of sqlglot trees.

sqlglot is lenient: rendering with ``unsupported_level=ErrorLevel.RAISE`` lets
through constructs that Spark rejects or runs with another meaning, so
:func:`portability_problems` also walks the tree against ``CONSTRUCTS`` (each
with its reason and portable spelling), checked on DuckDB 2.0 and pyspark 3.5.9.

Portable spellings, for whoever writes plan SQL (DuckDB text or sqlglot nodes):

- ``b.* REPLACE (x AS id)``, ``* EXCLUDE (a)``: name the columns.
- ``ARRAY_AGG(v ORDER BY k)`` (sqlglot drops the order for Spark): sort structs
  led by the key and keep the value, ``LIST_TRANSFORM(LIST_SORT(ARRAY_AGG({'k': k,
  'v': v})), x -> x.v)`` (``exp.Transform``/``exp.ArraySort``/``exp.Struct``).
  ARRAY_AGG keeps NULLs and COLLECT_LIST drops them: aggregate non-NULL values.
- ``STRING_AGG(v, sep)``: ``ARRAY_TO_STRING(ARRAY_AGG(v), sep)``.
- List functions: LIST_FILTER / LIST_TRANSFORM with a lambda, LIST_DISTINCT,
  LIST_CONTAINS, LIST_SORT (``exp.ArrayFilter``, ``exp.Transform``...); no other
  lambda (LIST_REDUCE...) translates.
- Array length: ``exp.ArraySize`` (ARRAY_LENGTH / SIZE), never LENGTH or LEN, of
  an array that cannot be NULL (Spark's SIZE(NULL) is -1).
- ``REGEXP_EXTRACT[_ALL]``: pass group 0 (Spark's default is 1). ``REGEXP_REPLACE``:
  with 'g' (Spark always replaces all and drops modifiers; flags go in the
  pattern, ``(?i)``).
- A JSON list as an array: ``TRY_CAST(attrs -> '$.k' AS VARCHAR[])``, i.e.
  ``exp.TryCast(JSONExtract, ARRAY<VARCHAR>, safe=True)``: FROM_JSON for Spark,
  NULL for a non-list in both. No other cast to an array type translates.
- Text to number: ``exp.TryCast(..., safe=True)`` (else Spark gets a plain CAST).
- Epoch seconds: ``DATE_DIFF('microsecond', CAST('1970-01-01' AS TIMESTAMP), ts)
  / 1000000``, bit-equal to DuckDB's EPOCH(ts), which Spark truncates.
- Timestamps are naive: DuckDB TIMESTAMP = Spark TIMESTAMP_NTZ (how sqlglot reads
  DuckDB text); by hand ``exp.DataType.build("TIMESTAMP", dialect="duckdb")``.
- Divide by ``86400``, not ``86400.0`` (a DECIMAL in Spark; note that
  ``exp.Literal.number(1e6)`` is ``1000000.0``).
- ``EXISTS`` in a SELECT list fails in Spark 3.5 over a UNION ALL: LEFT JOIN the
  distinct keys (``k.key IS NOT NULL``), or keep EXISTS in WHERE.
- Series: ``CROSS JOIN UNNEST(generate_series(a, b, step)) AS t(d)`` or ``FROM
  UNNEST(...) AS t(d)``; not ``FROM generate_series(...)``, no LEFT/ON on UNNEST.
- ``QUALIFY``: fine with named columns; over ``SELECT *`` Spark's rewrite leaks
  its helper column.
- Unknown functions (``exp.Anonymous``) go through verbatim: use a typed node, or
  a ``BOTH_ENGINES`` name as it says. Day of week, ``&&``, JSON_EXTRACT_ARRAY,
  regex-match flags: see ``CONSTRUCTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import ErrorLevel, exp
from sqlglot.errors import SqlglotError

DIALECTS = ("duckdb", "spark")


@dataclass(frozen=True)
class Construct:
    """A construct that does not carry over: which nodes, when, why not, and what to write instead."""

    name: str
    nodes: tuple[type[exp.Expr], ...]
    why: str
    instead: str
    when: Callable[[exp.Expr], bool] = lambda node: True


# Functions sqlglot does not type that DuckDB and Spark both have, each with how it must
# be called. JSON_ARRAY_LENGTH (Spark >= 3.1) counts a JSON array's items in both; for a
# value that is not an array DuckDB says 0 and Spark NULL, so it must sit in COALESCE(.., 0).
BOTH_ENGINES: dict[str, Callable[[exp.Expr], bool]] = {
    "JSON_ARRAY_LENGTH": lambda node: isinstance(node.parent, exp.Coalesce) and node.arg_key == "this",
}

# Lambdas are portable only as arguments of these (FILTER/LIST_FILTER, TRANSFORM/LIST_TRANSFORM).
LAMBDA_HOSTS: tuple[type[exp.Expr], ...] = (exp.ArrayFilter, exp.Transform)

# Nodes whose value is an array (what LENGTH must not be applied to).
ARRAY_VALUED: tuple[type[exp.Expr], ...] = (
    exp.Array,
    exp.ArrayAgg,
    exp.ArrayConcat,
    exp.ArrayDistinct,
    exp.ArrayFilter,
    exp.ArraySort,
    exp.GenerateSeries,
    exp.JSONExtractArray,
    exp.RegexpExtractAll,
    exp.Split,
    exp.Transform,
)


def _nested(node: exp.Expr) -> bool:
    """A cast to an array, map or struct type."""
    to = node.args.get("to")
    return isinstance(to, exp.DataType) and bool(to.args.get("nested"))


def _json_operand(node: exp.Expr) -> bool:
    return isinstance(node.this, (exp.JSONExtract, exp.JSONExtractScalar))


def _is_array(node: exp.Expr) -> bool:
    if isinstance(node, ARRAY_VALUED) or (isinstance(node, exp.Cast) and _nested(node)):
        return True
    return node.type is not None and node.type.is_type(exp.DType.ARRAY)


def _anonymous_unknown(node: exp.Expr) -> bool:
    called_right = BOTH_ENGINES.get(node.name.upper())
    return called_right is None or not called_right(node)


def _star_modified(node: exp.Expr) -> bool:
    """A star with REPLACE/EXCEPT/RENAME/ILIKE, or a SELECT with EXCLUDE."""
    return any(node.args.get(key) for key in ("replace", "except_", "rename", "ilike", "exclude"))


def _regex_single_or_flagged(node: exp.Expr) -> bool:
    """DuckDB replaces one match (no 'g'), or modifiers Spark would drop."""
    modifiers = node.args.get("modifiers")
    if modifiers is None:
        return bool(node.args.get("single_replace"))
    flags = modifiers.name if isinstance(modifiers, exp.Literal) else "?"
    return flags != "g"


def _qualify_over_star(node: exp.Expr) -> bool:
    select = node.parent
    return isinstance(select, exp.Select) and any(e.is_star for e in select.expressions)


# Nodes that are not NULL when their ``this`` is not (what makes an ARRAY_SIZE safe).
NULL_KEEPING: tuple[type[exp.Expr], ...] = (
    exp.ArrayDistinct,
    exp.ArrayFilter,
    exp.ArraySort,
    exp.Lower,
    exp.Paren,
    exp.RegexpExtractAll,
    exp.RegexpReplace,
    exp.Transform,
    exp.Trim,
    exp.Upper,
)


def _never_null(node: exp.Expr) -> bool:
    """Whether ``node`` is NOT NULL by construction: a literal, an array, a COALESCE ending in one."""
    if isinstance(node, exp.Array) or (isinstance(node, exp.Literal) and node.this is not None):
        return True
    if isinstance(node, exp.Coalesce):
        return _never_null([node.this, *node.expressions][-1])
    if isinstance(node, NULL_KEEPING):
        return _never_null(node.this)
    return False


def _decimal_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_number and "." in node.name and "e" not in node.name.lower()


def _in_select_list(node: exp.Expr) -> bool:
    """Whether ``node`` sits in a projection of its nearest SELECT (not in WHERE, ON, HAVING...)."""
    child, parent = node, node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        child, parent = parent, parent.parent
    return parent is not None and child.arg_key == "expressions"


def _unnest_join_not_cross(node: exp.Expr) -> bool:
    join = node.parent
    if not isinstance(join, exp.Join):
        return False
    on = join.args.get("on")
    return bool(join.side) or (on is not None and on != exp.true())


CONSTRUCTS: tuple[Construct, ...] = (
    Construct(
        "star modifier",
        (exp.Star, exp.Select),
        "SELECT * REPLACE/EXCLUDE/RENAME: Spark 3.5 has none (sqlglot copies REPLACE verbatim)",
        "name the columns: SELECT b.ts, b.type, x AS id",
        _star_modified,
    ),
    Construct(
        "ordered aggregate",
        (exp.ArrayAgg, exp.GroupConcat, exp.ArrayUniqueAgg),
        "ORDER BY inside an aggregate: Spark's COLLECT_LIST has none and sqlglot drops it",
        "TRANSFORM(ARRAY_SORT(ARRAY_AGG(STRUCT(key, value))), x -> x.value), see this module's note",
        lambda node: isinstance(node.this, exp.Order),
    ),
    Construct(
        "string aggregate",
        (exp.GroupConcat,),
        "STRING_AGG: sqlglot writes Spark LISTAGG, which Spark 3.5 lacks",
        "exp.ArrayToString(exp.ArrayAgg(x), sep): ARRAY_TO_STRING / ARRAY_JOIN(COLLECT_LIST)",
    ),
    Construct(
        "unknown function",
        (exp.Anonymous, exp.AnonymousAggFunc),
        "a function sqlglot does not know is copied verbatim to Spark",
        "a typed sqlglot expression that transpiles, or a BOTH_ENGINES name called as it says",
        _anonymous_unknown,
    ),
    Construct(
        "lambda",
        (exp.Lambda,),
        "a lambda outside FILTER/TRANSFORM: sqlglot does not translate its function",
        "exp.ArrayFilter or exp.Transform with an exp.Lambda",
        lambda node: not isinstance(node.parent, LAMBDA_HOSTS),
    ),
    Construct(
        "array cast",
        (exp.Cast,),
        "a cast to an array/map/struct type of anything but JSON: Spark cannot cast text to it",
        "exp.TryCast(this=exp.JSONExtract(...), to=ARRAY<VARCHAR>, safe=True) (Spark FROM_JSON)",
        lambda node: _nested(node) and not _json_operand(node),
    ),
    Construct(
        "array cast",
        (exp.Cast,),
        "CAST of JSON to an array raises in DuckDB on a value that is not a list (Spark's FROM_JSON gives NULL)",
        "exp.TryCast(..., safe=True)",
        lambda node: _nested(node) and _json_operand(node) and not isinstance(node, exp.TryCast),
    ),
    Construct(
        "unsafe try_cast",
        (exp.TryCast,),
        "TRY_CAST not marked safe: sqlglot writes Spark a plain CAST, which raises on bad input in ANSI mode",
        "exp.TryCast(..., safe=True)",
        lambda node: not _nested(node) and not node.args.get("safe"),
    ),
    Construct(
        "length of array",
        (exp.Length,),
        "LENGTH of an array: DuckDB counts items, Spark's LENGTH takes only text",
        "exp.ArraySize (DuckDB ARRAY_LENGTH, Spark SIZE)",
        lambda node: _is_array(node.this),
    ),
    Construct(
        "regex group",
        (exp.RegexpExtract, exp.RegexpExtractAll),
        "no group index: Spark's default group is 1 (an error without groups), DuckDB's is 0",
        "group=exp.Literal.number(0)",
        lambda node: node.args.get("group") is None,
    ),
    Construct(
        "regex replace",
        (exp.RegexpReplace,),
        "REGEXP_REPLACE that DuckDB runs once or with flags: Spark replaces every match and drops modifiers",
        "exp.RegexpReplace without single_replace (or modifiers 'g'); flags go in the pattern: (?i)",
        _regex_single_or_flagged,
    ),
    Construct(
        "regex flags",
        (exp.RegexpLike, exp.RegexpILike),
        "a regex match with a flag argument: Spark's RLIKE takes none",
        "put the flag in the pattern: (?i)",
        lambda node: isinstance(node, exp.RegexpILike) or node.args.get("flag") is not None,
    ),
    Construct(
        "qualify over star",
        (exp.Qualify,),
        "QUALIFY with SELECT *: sqlglot's Spark rewrite leaks its helper column into the result",
        "name the columns, or filter ROW_NUMBER() in an outer query",
        _qualify_over_star,
    ),
    Construct(
        "series as table",
        (exp.GenerateSeries, exp.Explode),
        "generate_series as a FROM table: sqlglot writes Spark EXPLODE(SEQUENCE(...), _u(...)), which fails",
        "FROM UNNEST(generate_series(...)) AS t(d), or CROSS JOIN UNNEST(...) AS t(d)",
        lambda node: isinstance(node.parent, exp.Table),
    ),
    Construct(
        "unnest join",
        (exp.Unnest,),
        "UNNEST in a LEFT join or with ON: Spark's LATERAL VIEW keeps neither the outer rows nor the condition",
        "CROSS JOIN UNNEST(...) AS t(d), and the condition in WHERE",
        _unnest_join_not_cross,
    ),
    Construct(
        "epoch seconds",
        (exp.TimeToUnix, exp.UnixSeconds, exp.UnixMillis, exp.UnixMicros),
        "epoch seconds: EPOCH(ts) is Spark's UNIX_TIMESTAMP, which drops the fraction of a second, "
        "and Spark's UNIX_MICROS and kin reject the TIMESTAMP_NTZ that plan timestamps are",
        "DATE_DIFF('microsecond', CAST('1970-01-01' AS TIMESTAMP), ts) / 1000000 (Spark DATEDIFF(MICROSECOND, ...))",
    ),
    Construct(
        "zoned timestamp",
        (exp.DataType,),
        "a bare TIMESTAMP type built outside DuckDB: Spark reads it as TIMESTAMP with local time zone, "
        "while the plans' timestamps are naive (TIMESTAMP_NTZ)",
        'exp.DataType.build("TIMESTAMP", dialect="duckdb") (DuckDB TIMESTAMP, Spark TIMESTAMP_NTZ)',
        lambda node: node.this == exp.DType.TIMESTAMP,
    ),
    Construct(
        "size of null",
        (exp.ArraySize,),
        "the size of an array that may be NULL: Spark's SIZE(NULL) is -1, DuckDB's NULL",
        "an array that cannot be NULL: from COALESCEd text, or COALESCE(array, ARRAY())",
        lambda node: not _never_null(node.this),
    ),
    Construct(
        "decimal division",
        (exp.Div,),
        "division by a literal with a decimal point: Spark computes a DECIMAL(28,7), DuckDB a DOUBLE",
        "an integer literal (x / 86400 is DOUBLE in both), or CAST(x AS DOUBLE)",
        lambda node: _decimal_literal(node.this) or _decimal_literal(node.expression),
    ),
    Construct(
        "exists in select list",
        (exp.Exists,),
        "EXISTS in a SELECT list: Spark 3.5 fails on it with an internal error when the outer query reads a UNION ALL",
        "a LEFT JOIN to the distinct keys (k.key IS NOT NULL), or EXISTS in WHERE",
        _in_select_list,
    ),
    Construct(
        "day of week",
        (exp.DayOfWeek, exp.DayOfWeekIso),
        "day-of-week numbers: DuckDB's DAYOFWEEK counts Sunday as 0, Spark's as 1, and sqlglot's ISODOW for Spark is wrong",
        "ISO day from a day count: DATE_DIFF('day', DATE '1900-01-01', ts) % 7 + 1 (1900-01-01 was a Monday)",
    ),
    Construct(
        "array overlap",
        (exp.ArrayOverlaps,),
        "a && b: Spark has no such operator (sqlglot copies it)",
        "ARRAY_SIZE(ARRAY_FILTER(a, x -> ARRAY_CONTAINS(b, x))) > 0",
    ),
    Construct(
        "json array",
        (exp.JSONExtractArray,),
        "JSON_EXTRACT_ARRAY: sqlglot writes Spark a function it lacks",
        "exp.TryCast(this=exp.JSONExtract(...), to=ARRAY<VARCHAR>, safe=True)",
    ),
)


def _snippet(node: exp.Expr) -> str:
    text = node.sql(dialect="duckdb")
    return text if len(text) <= 80 else text[:77] + "..."


def construct_problems(tree: exp.Expr) -> list[str]:
    """One line per node of ``tree`` that matches an entry of ``CONSTRUCTS``."""
    problems: list[str] = []
    for node in tree.walk():
        for construct in CONSTRUCTS:
            if isinstance(node, construct.nodes) and construct.when(node):
                problems.append(f"{construct.name}: {construct.why} [{_snippet(node)}]; instead: {construct.instead}")
    return problems


def render_problems(tree: exp.Expr) -> list[str]:
    """What sqlglot itself refuses: rendering for either engine, or reading the Spark text back."""
    problems: list[str] = []
    for dialect in DIALECTS:
        try:
            text = tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
        except SqlglotError as err:
            problems.append(f"render: sqlglot cannot write this for {dialect}: {err}")
            continue
        if dialect == "spark":
            try:
                sqlglot.parse_one(text, read="spark")
            except SqlglotError as err:
                problems.append(f"render: the Spark text does not parse as Spark SQL: {err}")
    return problems


def portability_problems(tree: exp.Expr) -> list[str]:
    """Every reason ``tree`` would not run, or not mean the same, on DuckDB and on Spark SQL 3.5.

    Empty when the tree is portable as far as this module knows: the constructs
    in ``CONSTRUCTS`` are absent and sqlglot renders it for both engines and
    reads the Spark text back.
    """
    found = construct_problems(tree) + render_problems(tree)
    return list(dict.fromkeys(found))
