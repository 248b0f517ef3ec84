"""Building blocks of the SQL plans: skeletons with holes, and the shared table names.

A plan is written as fixed SQL text with ``:holes``; everything that comes
from a rule (conditions, literals, durations, regexes) is spliced in as a
sqlglot node, never pasted as text. Skeletons are parsed once with sqlglot's
DuckDB reader (the dialect they are written in) into trees that each backend
renders in its own dialect; ``engine.lang.portable`` checks that every tree
translates to Spark SQL as well.
"""

from __future__ import annotations

import functools
import re

import sqlglot
from sqlglot import exp

# Tables every plan may read: set up once per log by the backend (engine.lang.setup).
EVENTS = "sm_ev"  # every accepted event, manager and actor role resolved from the roster
SPAN = "sm_span"  # one row: span_start, span_end (whole days covering the log)
SCOPES_MANAGER = "sm_scopes_m"  # manager, s_start, s_end: the periods each manager led anyone
SCOPES_PAIR = "sm_scopes_p"  # manager, rep, s_start, s_end, start_id, end_id: who led whom when
RAW = "sm_raw"  # the loaded events as the backend received them (setup input only)
AWAY = "sm_away"  # person, a_start, a_end, how: days a person was away (recorded or inferred), merged
AWAY_PAIR = "sm_away_p"  # manager, rep, a_start, a_end: the rep or their manager away
AWAY_MANAGER = "sm_away_m"  # manager, a_start, a_end: the manager away
TYPES = "sm_types"  # type, events: the event types the log holds
LOGGED_REP = "sm_logged_r"  # rep, family, l_start: the first event of a family about each rep, by anyone
LOGGED = "sm_logged"  # manager (NULL: the whole log), family, l_start, l_end, events: when a family is logged

# Names a plan gives its own columns, where user-given names (metrics, ratio parts,
# the concurrency measure, derived values) stand beside them: the qualifying rows and
# scopes (engine.lang.compiler), the windows, scores, islands and findings
# (engine.lang.windows), the aggregate and concurrency kinds; and the names every
# message template is given. Absence and sequence columns never meet a user name.
# Anything starting with sm_ or x_ is the engine's too. Compared case-insensitively,
# as SQL compares identifiers.
RESERVED_NAMES = frozenset(
    {
        # group keys and qualifying rows
        "manager",
        "rep",
        "deal",
        "ts",
        "ev_ts",
        "id",
        "s_start",
        "s_end",
        # windows, scores, islands, findings and assessments
        "w_start",
        "w_end",
        "coverage",
        "anchor",
        "anchor_id",
        "f_start",
        "f_end",
        "f_windows",
        "evidence",
        "first_ts",
        "window_start",
        "window_end",
        "windows",
        "peak_start",
        "peak_end",
        "metric",
        "threshold",
        "partial",
        "unsupported",
        # concurrency (items, runs of constant level, noon samples)
        "item",
        "ts_end",
        "sample",
        "samples",
        "open_now",
        "level",
        "l_start",
        "l_end",
        "delta",
        "n",
        "t",
        "total",
        "high",
        "low",
        # filled into every message template
        "when",
        "window_days",
    }
)
RESERVED_PREFIXES = ("sm_", "x_")

_TABLE_HOLE = re.compile(r"\(:(\w+)\)\s+(?:AS\s+)?(\w+)")


def parse(sql: str, holes: dict[str, exp.Expr] | None = None) -> exp.Expr:
    """Parse a fixed SQL skeleton and fill its holes with AST nodes.

    ``:name`` holes take expressions; ``(:name) alias`` in a FROM or JOIN takes a
    query, which becomes an aliased subquery.
    """
    holes = holes or {}
    tree = _skeleton(sql).copy()  # the cached tree is never changed: each plan fills its own copy

    def fill(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in holes:
            return holes[node.name].copy()
        if isinstance(node, exp.Table) and node.name.startswith("sm_hole_"):
            query = holes[node.name[len("sm_hole_") :]].copy()
            return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(node.alias)))
        return node

    return tree.transform(fill, copy=False)


@functools.lru_cache(maxsize=2048)
def _skeleton(sql: str) -> exp.Expr:
    """A skeleton parsed once: rules share most of them, and sqlglot's parser is the slow part of compiling."""
    return sqlglot.parse_one(_TABLE_HOLE.sub(r"sm_hole_\1 AS \2", sql), read="duckdb")


def interval(seconds: float) -> exp.Expr:
    return exp.Interval(this=exp.Literal.string(str(int(seconds))), unit=exp.var("SECOND"))


def reserved_name(name: str) -> bool:
    """True when ``name`` would clash with a column or template value of the engine's own."""
    folded = name.casefold()
    return folded in RESERVED_NAMES or folded.startswith(RESERVED_PREFIXES)


def quoted(name: str) -> str:
    """A metric name as a quoted SQL identifier (names like 'order' are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def group_column(field: str) -> str:
    """The SQL column of a group_by field: attrs.period -> attrs_period."""
    return field.replace(".", "_")


def cols(group: list[str], alias: str | None = None) -> str:
    return ", ".join(f"{alias}.{g}" if alias else g for g in group)


def join_on(group: list[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{g} = {right}.{g}" for g in group)


def seconds_between(start: str, end: str) -> str:
    """SQL for the seconds from ``start`` to ``end`` (timestamps), fractions kept, in every dialect.

    DuckDB's EPOCH() becomes Spark's UNIX_TIMESTAMP, which drops the fraction of a second.
    """
    return f"(DATE_DIFF('microsecond', {start}, {end}) / 1000000)"


def ordered_ids(ts: str, event_id: str) -> str:
    """SQL aggregating event ids ordered by (ts, id), in a form every dialect keeps ordered.

    An ``ORDER BY`` inside ``ARRAY_AGG`` is dropped when rendered for Spark; sorting
    a list of (ts, id) pairs and keeping the ids is spelt in both.
    """
    return f"LIST_TRANSFORM(LIST_SORT(ARRAY_AGG({{'t': {ts}, 'i': {event_id}}})), x -> x.i)"
