"""The plan every rule reads from: the roster resolved once, and who led whom when.

Built as sqlglot trees like the rules, so every backend renders the same
setup. Input: the loaded events as table ``sm_raw`` (``EVENT_SCHEMA``).
Output, in order: ``sm_span`` (the days the log covers), ``sm_outliers`` (events
left out because they lie far from the rest of the log), ``sm_roster`` (one
interval per manager and rep), ``sm_lookup`` (person -> manager and role over
time), ``sm_ev`` (every event inside the span, and every roster event, with
manager and actor role filled in from the roster where the event left them
out, and whether its rep was on a team), and the scopes ``sm_scopes_p``
(manager, rep) and ``sm_scopes_m`` (manager): the periods a manager led
someone, clipped to the span.

The span is what every scope and window is cut from, so it must follow the
data, not one stray date: a single event dated 9999-12-31 in a log of 2026
would otherwise stretch every calendar window over eight thousand years. The
days with non-roster events are split into clusters wherever more than
``OUTLIER_GAP_DAYS`` pass without one; the cluster with the most events (the
earliest of those tied) is the log, and events outside it are outliers: still
read and counted, named in a warning, and left out of every rule. The span is
also never longer than ``MAX_SPAN_DAYS`` (the last hundred years of that
cluster; earlier events are outliers too), so a calendar window series has at
most a few thousand periods per scope, whatever the dates: work is bounded by
the number of scopes, that is by the size of the input.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlglot import exp

from engine.ingest import EVENT_SCHEMA
from engine.lang.sqlplan import (
    AWAY,
    AWAY_MANAGER,
    AWAY_PAIR,
    EVENTS,
    LOGGED,
    LOGGED_REP,
    RAW,
    SCOPES_MANAGER,
    SCOPES_PAIR,
    SPAN,
    TYPES,
    parse,
    seconds_between,
)
from engine.vocab import FAMILIES

SETUP_SCRATCH = (
    "sm_days",
    "sm_clusters",
    "sm_main",
    "sm_roster_ev",
    "sm_roster_raw",
    "sm_away_raw",
)  # only while setting up
OUTLIERS = "sm_outliers"  # id, ts, file, line of each non-roster event outside the span
OUTLIER_GAP_DAYS = 366  # this long without an event cuts the log into clusters
MAX_SPAN_YEARS = 100
MAX_SPAN_DAYS = 36525  # the longest span: MAX_SPAN_YEARS of 365.25 days
ROSTER_TYPES = "('team_member_added', 'team_member_removed')"
NOT_ACTIVITY = "('team_member_added', 'team_member_removed', 'person_absent')"  # not a sign of being at work
INFER_ABSENCE_DAYS = 14.0  # a person with no events at all for this long is taken to be away
# The first and last instants the contract's timestamps (years 1 to 9999) can hold.
_EARLIEST = "CAST('0001-01-01' AS TIMESTAMP)"  # a removal with no add before it: led since the start
_OPEN_END = "CAST('9999-12-31 23:59:59.999999' AS TIMESTAMP)"  # an add with no removal after it: still leading


def _merge_overlaps(table: str, keys: str, start: str, stop: str, tie: str) -> str:
    """Number each run of overlapping intervals per key (for merging them into one).

    The two window passes must order the rows the same way, so ``start`` and
    ``tie`` together must order the rows of a key totally: with ties, a backend
    may order them differently in each pass and split one run into two.
    """
    marked = (
        f"SELECT *, CASE WHEN {start} <= MAX({stop}) OVER (PARTITION BY {keys} ORDER BY {start}, {tie} "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS is_new FROM {table}"
    )
    return (
        f"SELECT *, SUM(is_new) OVER (PARTITION BY {keys} ORDER BY {start}, {tie} ROWS UNBOUNDED PRECEDING) "
        f"AS grp FROM ({marked}) m"
    )


def _family_case(column: str) -> str:
    """SQL naming the family of an event type (engine.vocab.FAMILIES); a custom type is its own."""
    whens = " ".join(
        f"WHEN {column} IN ({', '.join(repr(t) for t in types)}) THEN '{family}'" for family, types in FAMILIES.items()
    )
    return f"CASE {whens} ELSE CONCAT('type:', {column}) END"


def _away_steps(infer_absence_days: float) -> list[tuple[str, str]]:
    """Who was away when: recorded (``person_absent``) and inferred (no events at all for a while).

    A recorded absence covers its ``from`` to ``to`` days, both included. An
    inferred one is a stretch of at least ``infer_absence_days`` in which a
    person of the roster is neither the actor nor the rep of any event (the start
    and end of each of their stints on the roster, clipped to the log, count as
    edges); 0 turns inference off. Overlapping stretches
    of a person are merged, then joined per led pair (the rep or the manager
    away) and per manager.
    """
    day_from = "TRY_CAST(TRY_CAST(json_extract_string(attrs, '$.from') AS DATE) AS TIMESTAMP)"
    day_to = "TRY_CAST(TRY_CAST(json_extract_string(attrs, '$.to') AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY"
    recorded = (
        "SELECT x.person, GREATEST(x.a_start, sp.span_start) AS a_start, LEAST(x.a_end, sp.span_end) AS a_end, "
        f"'recorded' AS how FROM (SELECT actor AS person, {day_from} AS a_start, {day_to} AS a_end "
        f"FROM {EVENTS} WHERE type = 'person_absent') x CROSS JOIN {SPAN} sp "
        "WHERE x.a_start IS NOT NULL AND x.a_end IS NOT NULL AND GREATEST(x.a_start, sp.span_start) < "
        "LEAST(x.a_end, sp.span_end)"
    )
    parts = [recorded]
    if infer_absence_days > 0:
        # reps only: sellers log their work, while a manager's own actions are sparse in most
        # CRMs (and a manager who does nothing must not be taken to be away)
        people = "SELECT DISTINCT person FROM sm_lookup WHERE role = 'rep'"
        points = (
            f"SELECT e.actor AS person, e.ts FROM {EVENTS} e WHERE e.type NOT IN {NOT_ACTIVITY} "
            f"AND e.actor IN ({people}) "
            f"UNION ALL SELECT e.rep, e.ts FROM {EVENTS} e WHERE e.type NOT IN {NOT_ACTIVITY} AND e.rep IS NOT NULL "
            f"AND e.rep <> e.actor AND e.rep IN ({people}) "
            # the edges of each stint (clipped to the log): away from the start or until the end
            f"UNION ALL SELECT l.person, GREATEST(l.r_start, sp.span_start) FROM sm_lookup l CROSS JOIN {SPAN} sp "
            "WHERE sp.span_start IS NOT NULL AND l.role = 'rep' "
            f"UNION ALL SELECT l.person, LEAST(l.r_stop, sp.span_end) FROM sm_lookup l CROSS JOIN {SPAN} sp "
            "WHERE sp.span_start IS NOT NULL AND l.role = 'rep'"
        )
        stretches = (
            f"SELECT person, ts AS a_start, LEAD(ts) OVER (PARTITION BY person ORDER BY ts) AS a_end FROM ({points}) q"
        )
        parts.append(
            f"SELECT person, a_start, a_end, 'inferred' AS how FROM ({stretches}) s WHERE a_end IS NOT NULL "
            f"AND {seconds_between('a_start', 'a_end')} >= {float(infer_absence_days) * 86400}"
        )
    merged = (
        "SELECT person, MIN(a_start) AS a_start, MAX(a_end) AS a_end, MAX(how) AS how FROM ("
        + _merge_overlaps("sm_away_raw", "person", "a_start", "a_end", "a_end, how")
        + ") g GROUP BY person, grp"
    )
    pairs = (
        "SELECT p.manager, p.rep, a.a_start, a.a_end, a.how FROM "
        f"(SELECT DISTINCT manager, rep FROM {SCOPES_PAIR}) p JOIN {AWAY} a ON a.person = p.rep OR a.person = p.manager"
    )
    pair_merged = (
        "SELECT manager, rep, MIN(a_start) AS a_start, MAX(a_end) AS a_end, MAX(how) AS how FROM ("
        + _merge_overlaps(f"({pairs})", "manager, rep", "a_start", "a_end", "a_end, how")
        + ") g GROUP BY manager, rep, grp"
    )
    return [
        ("sm_away_raw", " UNION ALL ".join(parts)),
        (AWAY, merged),
        (AWAY_PAIR, pair_merged),
        (
            AWAY_MANAGER,
            f"SELECT person AS manager, a_start, a_end, how FROM {AWAY} "
            f"WHERE person IN (SELECT manager FROM {SCOPES_MANAGER})",
        ),
    ]


LOGGING_BURST_DAYS = 14  # a family's first events in a team are read over this long ...
LOGGING_BURST_EVENTS = 4  # ... and this many of them mark the start of its logging


def _logged_steps() -> list[tuple[str, str]]:
    """When each family of events is logged, per team (manager) and for the whole log (manager NULL).

    ``early`` counts the events in the first ``LOGGING_BURST_DAYS`` from the first
    one: a tool connected late logs at its full rate at once (``engine.lang.coverage``
    reads a late first event as the start of logging only then), while a manager who
    rarely does something shows a lone first event.
    """
    fam = _family_case("type")
    rows = f"SELECT manager, ts, {fam} AS family FROM {EVENTS} WHERE type NOT IN {ROSTER_TYPES}"
    burst = f"{seconds_between('first_ts', 'ts')} < {LOGGING_BURST_DAYS * 86400}"

    def per(keys: str, select_keys: str) -> str:
        firsts = f"SELECT r.*, MIN(ts) OVER (PARTITION BY {keys}) AS first_ts FROM ({rows}) r"
        return (
            f"SELECT {select_keys}, MIN(ts) AS l_start, MAX(ts) AS l_end, COUNT(*) AS events, "
            f"SUM(CASE WHEN {burst} THEN 1 ELSE 0 END) AS early FROM ({firsts}) f"
        )

    return [
        (
            LOGGED,
            per("manager, family", "manager, family")
            + " WHERE manager IS NOT NULL GROUP BY manager, family UNION ALL "
            + per("family", "CAST(NULL AS VARCHAR) AS manager, family")
            + " GROUP BY family",
        ),
        (
            LOGGED_REP,
            f"SELECT rep, {fam} AS family, MIN(ts) AS l_start FROM {EVENTS} "
            f"WHERE rep IS NOT NULL AND type NOT IN {ROSTER_TYPES} GROUP BY rep, {fam}",
        ),
        (TYPES, f"SELECT type, COUNT(*) AS events FROM {EVENTS} GROUP BY type"),
    ]


def setup_plan(infer_absence_days: float = INFER_ABSENCE_DAYS) -> list[tuple[str, exp.Expr]]:
    """(table, query) pairs to materialise in order before any rule runs."""
    columns = list(EVENT_SCHEMA.names)
    resolved_cols = ", ".join(
        "COALESCE(n.manager, r.manager, a.manager) AS manager"
        if c == "manager"
        else ("COALESCE(n.actor_role, a.role) AS actor_role" if c == "actor_role" else f"n.{c}")
        for c in columns
    )
    plain_cols = ", ".join(columns)
    steps = [
        # The days with non-roster events, cut into clusters wherever OUTLIER_GAP_DAYS pass
        # without one; the cluster with the most events is the log, and its days are the span.
        (
            "sm_days",
            f"SELECT date_trunc('day', ts) AS day, COUNT(*) AS events FROM {RAW} "
            f"WHERE type NOT IN {ROSTER_TYPES} GROUP BY date_trunc('day', ts)",
        ),
        (
            "sm_clusters",
            "SELECT MIN(day) AS first_day, MAX(day) AS last_day, SUM(events) AS events FROM ("
            "SELECT day, events, SUM(is_new) OVER (ORDER BY day ROWS UNBOUNDED PRECEDING) AS cluster FROM ("
            "SELECT day, events, CASE WHEN DATE_DIFF('day', LAG(day) OVER (ORDER BY day), day) "
            f"> {OUTLIER_GAP_DAYS} THEN 1 ELSE 0 END AS is_new FROM sm_days) m) c GROUP BY cluster",
        ),
        ("sm_main", "SELECT first_day, last_day FROM sm_clusters ORDER BY events DESC, first_day LIMIT 1"),
        (  # always one row (NULLs for a log without non-roster events)
            SPAN,
            # Its last MAX_SPAN_DAYS at most; the end of 9999-12-31 is cut a microsecond short
            # (the next day is not a valid timestamp).
            f"SELECT MIN(CASE WHEN DATE_DIFF('day', first_day, last_day) >= {MAX_SPAN_DAYS} "
            f"THEN last_day - INTERVAL {MAX_SPAN_DAYS - 1} DAY ELSE first_day END) AS span_start, "
            f"CASE WHEN MAX(last_day) = CAST('9999-12-31' AS TIMESTAMP) THEN {_OPEN_END} "
            "ELSE MAX(last_day) + INTERVAL 1 DAY END AS span_end FROM sm_main",
        ),
        (  # trimmed: in the main cluster, but more than MAX_SPAN_DAYS before its end
            OUTLIERS,
            "SELECT r.id, r.ts, r.file, r.line, date_trunc('day', r.ts) BETWEEN m.first_day AND m.last_day AS trimmed "
            f"FROM {RAW} r CROSS JOIN {SPAN} sp CROSS JOIN sm_main m WHERE r.type NOT IN {ROSTER_TYPES} "
            "AND (r.ts < sp.span_start OR date_trunc('day', r.ts) >= sp.span_end)",
        ),
        (
            "sm_roster_ev",
            f"SELECT manager, rep, ts, id, type FROM {RAW} "
            f"WHERE type IN {ROSTER_TYPES} AND manager IS NOT NULL AND rep IS NOT NULL",
        ),
        # Each add until the next removal of the same pair; a removal with no add before it
        # counts from the start of the log.
        (
            "sm_roster_raw",
            "SELECT a.manager, a.rep, a.ts AS r_start, a.id AS start_id, MIN(r.ts) AS r_end, arg_min(r.id, r.ts) AS end_id "
            "FROM sm_roster_ev a LEFT JOIN sm_roster_ev r ON r.type = 'team_member_removed' "
            "AND r.manager = a.manager AND r.rep = a.rep AND r.ts > a.ts "
            "WHERE a.type = 'team_member_added' GROUP BY a.manager, a.rep, a.ts, a.id "
            f"UNION ALL SELECT r.manager, r.rep, {_EARLIEST} AS r_start, NULL AS start_id, r.ts AS r_end, r.id AS end_id "
            "FROM sm_roster_ev r WHERE r.type = 'team_member_removed' AND NOT EXISTS (SELECT 1 FROM sm_roster_ev a "
            "WHERE a.type = 'team_member_added' AND a.manager = r.manager AND a.rep = r.rep AND a.ts < r.ts)",
        ),
        # Overlapping intervals of one pair (a rep added twice without a removal) become one.
        (
            "sm_roster",
            "SELECT manager, rep, MIN(r_start) AS r_start, MAX(r_stop) AS r_stop, "
            "arg_min(start_id, r_start) AS start_id, arg_max(end_id, r_stop) AS end_id FROM ("
            + _merge_overlaps(
                f"(SELECT *, COALESCE(r_end, {_OPEN_END}) AS r_stop FROM sm_roster_raw)",
                "manager, rep",
                "r_start",
                "r_stop",
                "start_id, r_stop, end_id",
            )
            + ") g GROUP BY manager, rep, grp",
        ),
        (
            "sm_lookup",
            "SELECT rep AS person, manager, 'rep' AS role, r_start, r_stop FROM sm_roster UNION ALL "
            "SELECT manager AS person, manager, 'manager' AS role, MIN(r_start), MAX(r_stop) FROM sm_roster "
            "GROUP BY manager",
        ),
        (
            EVENTS,
            # Events outside the span (outliers) are left out here, so no rule ever sees them.
            f"WITH kept AS (SELECT r.* FROM {RAW} r CROSS JOIN {SPAN} sp WHERE r.type IN {ROSTER_TYPES} "
            "OR (r.ts >= sp.span_start AND date_trunc('day', r.ts) < sp.span_end)), "
            "needs AS (SELECT * FROM kept WHERE manager IS NULL OR actor_role IS NULL), "
            "by_rep AS (SELECT n.seq, l.manager FROM needs n JOIN sm_lookup l ON l.person = n.rep AND l.role = 'rep' "
            "AND n.ts >= l.r_start AND n.ts < l.r_stop "
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY n.seq ORDER BY l.r_start DESC, l.manager) = 1), "
            "by_actor AS (SELECT n.seq, l.manager, l.role FROM needs n JOIN sm_lookup l ON l.person = n.actor "
            "AND n.ts >= l.r_start AND n.ts < l.r_stop "
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY n.seq ORDER BY l.role, l.r_start DESC, l.manager) = 1), "
            f"resolved AS (SELECT {plain_cols} FROM kept WHERE manager IS NOT NULL AND actor_role IS NOT NULL "
            f"UNION ALL SELECT {resolved_cols} FROM needs n LEFT JOIN by_rep r ON r.seq = n.seq "
            "LEFT JOIN by_actor a ON a.seq = n.seq), "
            # rep_on_team: was the event's rep on some manager's team at that moment (NULL without a rep)?
            "on_team AS (SELECT DISTINCT x.seq FROM resolved x JOIN sm_lookup l ON l.role = 'rep' "
            "AND l.person = x.rep AND x.ts >= l.r_start AND x.ts < l.r_stop) "
            "SELECT e.*, CASE WHEN e.rep IS NULL THEN NULL ELSE o.seq IS NOT NULL END AS rep_on_team "
            "FROM resolved e LEFT JOIN on_team o ON o.seq = e.seq ORDER BY type, ts, id",
        ),
        # Who led what, clipped to the log (a log without non-roster events has no span, so no scopes).
        # Managers without roster entries are assessed over the whole log.
        (
            SCOPES_PAIR,
            "SELECT r.manager, r.rep, GREATEST(r.r_start, sp.span_start) AS s_start, "
            "LEAST(r.r_stop, sp.span_end) AS s_end, r.start_id, r.end_id "
            f"FROM sm_roster r CROSS JOIN {SPAN} sp WHERE sp.span_start IS NOT NULL "
            "AND GREATEST(r.r_start, sp.span_start) < LEAST(r.r_stop, sp.span_end) "
            "UNION ALL SELECT DISTINCT e.manager, e.rep, sp.span_start, sp.span_end, CAST(NULL AS VARCHAR), "
            f"CAST(NULL AS VARCHAR) FROM {EVENTS} e CROSS JOIN {SPAN} sp WHERE e.manager IS NOT NULL "
            "AND e.rep IS NOT NULL AND sp.span_start IS NOT NULL AND e.manager NOT IN (SELECT manager FROM sm_roster)",
        ),
        (
            SCOPES_MANAGER,
            "SELECT manager, MIN(s_start) AS s_start, MAX(s_end) AS s_end FROM ("
            + _merge_overlaps(
                f"(SELECT manager, rep, s_start, s_end FROM {SCOPES_PAIR})", "manager", "s_start", "s_end", "s_end, rep"
            )
            + ") g GROUP BY manager, grp "
            f"UNION ALL SELECT DISTINCT e.manager, sp.span_start, sp.span_end FROM {EVENTS} e CROSS JOIN {SPAN} sp "
            f"WHERE e.manager IS NOT NULL AND sp.span_start IS NOT NULL AND e.manager NOT IN (SELECT manager FROM {SCOPES_PAIR})",
        ),
    ]
    steps += _away_steps(infer_absence_days) + _logged_steps()
    return [(table, parse(sql)) for table, sql in steps]


OUTLIERS_LISTED = 5  # outliers named one by one in the warning; the rest are counted


def outlier_warnings(
    listed: list[tuple[str, datetime, str, int, bool]], total: int, span: tuple[Any, Any]
) -> list[str]:
    """The warnings for the outliers: ``listed`` (id, ts, file, line, trimmed; the first few by time) of ``total``."""
    if not total or span[0] is None:
        return []
    first, last = span[0].date(), (span[1] - timedelta(microseconds=1)).date()
    rest = f"the rest of the log ({first.isoformat()}..{last.isoformat()})"
    lines = []
    for event_id, ts, file, line, trimmed in listed:
        day = ts.date()
        if trimmed:
            far = (
                f"more than {MAX_SPAN_YEARS} years before the end of the log ({first.isoformat()}..{last.isoformat()})"
            )
        else:
            days = (first - day).days if day < first else (day - last).days
            far = (f"{days:,} days" if days < 730 else f"{round(days / 365.2425):,} years") + f" from {rest}"
        lines.append(
            f"event '{event_id}' ({file}:{line}) is dated {day.isoformat()}, {far}; it is left out of the assessment"
        )
    if total > len(listed):
        lines.append(
            f"{total - len(listed):,} more events outside the log's span ({first.isoformat()}..{last.isoformat()}) "
            "are left out of the assessment"
        )
    return lines
