"""Data coverage: judge a team only for the time its log holds what a rule counts.

Missing data is not zero behaviour. For a rule where zero qualifying events
would themselves make a finding ("at least N" thresholds, gaps, an answer
that never follows), the compiler

- names the event types the rule needs (:func:`condition_types`, macros and
  lists followed); when the whole log holds none of a needed set, the rule is
  not assessed for anyone, and the report says so once (``CompiledRule.needs``);
- except for answers that are rare by nature (sequences with ``absent``),
  clips every led period of a team to when the team logs the families of
  those types (``engine.vocab.FAMILIES``): from the team's first event of the
  family when a burst follows it (at least ``LOGGING_BURST_EVENTS`` in its
  first ``LOGGING_BURST_DAYS``, pro rata when the manager led for less of that
  time, and never fewer than two: a tool connected late logs at full rate at
  once), otherwise from the whole log's first. A manager who rarely coaches
  shows a lone first contact, not a burst, and is judged from the start. A
  team with none of a family at all is judged from the first such event about
  its reps by anyone (a predecessor who left before the tool came is not
  judged on it), else from the whole log's first. A first
  event within :data:`LOGGING_GRACE_DAYS` of the led period's start counts as
  logged from the start (a team's first one-on-one of a quarter is rarely on
  its first morning). A needed set spanning families is logged from when its
  main family for the team starts (the one logged most often: weekly
  one-on-ones, not the odd ride-along); with several sets, the latest applies.

The clipped periods are the rule's scope table (``<prefix>scope``), so every
kind's windows, gaps and counts start there; the days before are reported per
manager as not assessed, with the date logging started.

Only starts are used. A team whose events of a family stop is indistinguishable
from a manager who stopped the practice, which is what the rules look for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp

from engine.lang.setup import LOGGING_BURST_DAYS, LOGGING_BURST_EVENTS
from engine.lang.sqlplan import (
    AWAY_MANAGER,
    AWAY_PAIR,
    LOGGED,
    LOGGED_REP,
    SCOPES_MANAGER,
    SCOPES_PAIR,
    TYPES,
    cols,
    join_on,
    parse,
    seconds_between,
)
from engine.vocab import family_of

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule

LOGGING_GRACE_DAYS = 14.0  # a family first logged this soon after a led period starts is logged from its start


def condition_types(
    condition: Any, macros: dict[str, Any], lists: dict[str, list[Any]], depth: int = 0
) -> set[str] | None:
    """The event types a condition can match (None when it does not restrict the type).

    Follows ``use`` macros, ``@lists``, ``all`` (the narrowest restriction) and
    ``any`` (the union, when every branch restricts). ``not`` restricts nothing.
    """
    if not isinstance(condition, dict) or depth > 32:
        return None
    found: list[set[str]] = []
    for key, value in condition.items():
        if key == "type":
            types = _type_values(value, lists)
            if types is not None:
                found.append(types)
        elif key == "all" and isinstance(value, list):
            inner = [condition_types(c, macros, lists, depth + 1) for c in value]
            found += [t for t in inner if t is not None]
        elif key == "any" and isinstance(value, list):
            inner = [condition_types(c, macros, lists, depth + 1) for c in value]
            if inner and all(t is not None for t in inner):
                found.append(set().union(*[t for t in inner if t is not None]))
        elif key == "use":
            for name in value if isinstance(value, list) else [value]:
                if isinstance(name, str) and name in macros:
                    inner_types = condition_types(macros[name][0], macros, lists, depth + 1)
                    if inner_types is not None:
                        found.append(inner_types)
    if not found:
        return None
    result = found[0]
    for other in found[1:]:
        result = result & other
    return result


def _type_values(value: Any, lists: dict[str, list[Any]]) -> set[str] | None:
    if isinstance(value, dict):
        value = value.get("in", value.get("eq"))
    if isinstance(value, str) and value.startswith("@"):
        value = lists.get(value[1:])
    if isinstance(value, str) and not value.startswith("$"):
        return {value}
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return set(value)
    return None


def plan_coverage(rc: RuleCompiler, out: CompiledRule) -> None:
    """Clip the rule's scopes to when each team logs what it needs; record what it needs."""
    logic = rc.rule.logic
    conditions = logic.zero_conditions()
    if logic.coverage == "off" or not conditions:
        return
    needed: list[tuple[dict[str, Any], list[str]]] = []  # each condition with its types
    for condition in conditions:
        types = condition_types(condition, rc.ruleset.macros, rc.ruleset.lists)
        if types:
            needed.append((condition, sorted(types)))
    if not needed:
        return
    needs = [types for _, types in needed]
    if logic.presence_by_condition():
        # the whole condition, not only its types: events of the right type without the
        # key a rule follows (a call with no deal) are not what it needs
        tests = [
            parse(f"(SELECT COUNT(*) FROM (:rows) r) > 0 AS n{index}", {"rows": rc.filtered(condition, ("logic",))})
            for index, (condition, _) in enumerate(needed)
        ]
        out.presence = exp.select(*tests)
    else:
        out.presence = presence_query(needs)
    base = rc.scope_table()
    families = sorted({family_of(t) for types in needs for t in types})
    if base is None or not logic.clips_to_logging():  # only a log without any is not assessed
        out.needs = needs
        return
    out.needs = needs
    out.logged_families = families
    p = rc.prefix
    listed = ", ".join(f"'{f}'" for f in families)
    grace = LOGGING_GRACE_DAYS * 86400
    # Per manager and needed set: when the set's main family for the team (the one that
    # recurs most often after its first event; ties: the earlier) starts, the team's first event of it or, for a team
    # with none of the set at all, the whole log's first; then the latest over the sets.
    # A sparse companion (a monthly ride-along logged before the one-on-one tool) does not
    # make the set logged.
    sets = " UNION ALL ".join(
        f"SELECT {index} AS need, '{family}' AS family"
        for index, types in enumerate(needs)
        for family in sorted({family_of(t) for t in types})
    )
    # The burst a late first event needs: LOGGING_BURST_EVENTS in LOGGING_BURST_DAYS, fewer when
    # the manager led for less of that time after it (a predecessor who left days after the
    # tool came), but always two at least: one event is no burst.
    led_days = f"LEAST({LOGGING_BURST_DAYS}, {seconds_between('t.l_start', 'm.m_end')} / 86400)"
    burst = f"GREATEST(2, {LOGGING_BURST_EVENTS} * {led_days} / {LOGGING_BURST_DAYS})"
    starts = (
        # a team's late first event starts its logging only when a burst follows it
        # a team that logs none of it at all: from the first such event about its reps, by
        # anyone (a successor who got the tool), else the whole log's first
        f"SELECT m.manager, n.need, CASE WHEN t.early >= {burst} THEN t.l_start "
        "WHEN t.l_start IS NULL THEN COALESCE(rr.l_start, o.l_start) ELSE o.l_start END AS l_start, "
        # how often the family recurs after its first event, to the end of the manager's time
        # (a lone ride-along recurs never; weekly one-on-ones every week)
        f"COALESCE((t.events - 1) / GREATEST({seconds_between('t.l_start', 'm.m_end')} / 86400, 1), 0) AS rate "
        f"FROM (SELECT manager, MAX(s_end) AS m_end FROM {base} GROUP BY manager) m CROSS JOIN ({sets}) n "
        f"JOIN (SELECT family, l_start FROM {LOGGED} WHERE manager IS NULL AND family IN ({listed})) o "
        "ON o.family = n.family "
        f"LEFT JOIN (SELECT manager, family, l_start, events, early FROM {LOGGED} "
        f"WHERE manager IS NOT NULL AND family IN ({listed})) t ON t.manager = m.manager AND t.family = n.family "
        f"LEFT JOIN (SELECT s.manager, r.family, MIN(r.l_start) AS l_start FROM "
        f"(SELECT DISTINCT manager, rep FROM {SCOPES_PAIR}) s JOIN {LOGGED_REP} r ON r.rep = s.rep "
        f"AND r.family IN ({listed}) GROUP BY s.manager, r.family) rr ON rr.manager = m.manager "
        "AND rr.family = n.family"
    )
    ranked = (
        "SELECT manager, need, l_start, ROW_NUMBER() OVER (PARTITION BY manager, need "
        f"ORDER BY rate DESC, l_start) AS sm_rank FROM ({starts}) x"
    )
    out.stages.append(
        (
            f"{p}cov",
            parse(f"SELECT manager, MAX(l_start) AS logged_from FROM ({ranked}) y WHERE sm_rank = 1 GROUP BY manager"),
        )
    )
    clipped_start = (
        f"CASE WHEN c.logged_from IS NOT NULL AND {seconds_between('s.s_start', 'c.logged_from')} > {grace} "
        "THEN c.logged_from ELSE s.s_start END"
    )
    columns = "s.manager, s.rep, " if base == SCOPES_PAIR else "s.manager, "
    extra = ", s.start_id, s.end_id" if base == SCOPES_PAIR else ""
    if base == SCOPES_PAIR:
        # the gap from a clipped start is not the roster's: no roster event cites it
        extra = f", CASE WHEN {clipped_start} = s.s_start THEN s.start_id END AS start_id, s.end_id"
    clipped = (
        f"SELECT {columns}{clipped_start} AS s_start, s.s_end, s.s_start AS led_from{extra} "
        f"FROM {base} s LEFT JOIN {p}cov c ON c.manager = s.manager WHERE {clipped_start} < s.s_end"
    )
    out.stages.append((f"{p}scope", parse(clipped)))
    rc.scope_override = f"{p}scope"
    out.coverage = parse(
        "SELECT s.manager, MIN(s.s_start) AS led_from, MAX(c.logged_from) AS logged_from FROM "
        f"(SELECT DISTINCT manager, s_start, s_end FROM {base if base != SCOPES_PAIR else SCOPES_MANAGER}) s "
        f"JOIN {p}cov c ON c.manager = s.manager WHERE {seconds_between('s.s_start', 'c.logged_from')} > {grace} "
        "GROUP BY s.manager"
    )


def presence_query(needs: list[list[str]]) -> exp.Expr:
    """One row: for each needed set of types, whether the whole log holds any of them (n0, n1, ...)."""
    parts = []
    for index, types in enumerate(needs):
        listed = ", ".join("'" + t.replace("'", "''") + "'" for t in types)
        parts.append(f"(SELECT COUNT(*) FROM {TYPES} WHERE type IN ({listed})) > 0 AS n{index}")
    return parse("SELECT " + ", ".join(parts))


def away_adjusted(rc: RuleCompiler, out: CompiledRule, win_sql: str) -> str:
    """Calendar windows with the days the manager (or, per rep, the rep or manager) was away left out.

    A window's coverage is the share of its calendar period that was led; the
    days away come off it, so a month mostly spent on leave is not assessed,
    and an "at least N" threshold pro-rated by coverage expects less.
    """
    g = rc.group
    if set(g) <= {"manager"}:
        table, on = AWAY_MANAGER, "a.manager = w.manager"
    elif set(g) == {"manager", "rep"}:
        table, on = AWAY_PAIR, "a.manager = w.manager AND a.rep = w.rep"
    else:
        return win_sql
    out.away = True
    overlap = seconds_between("GREATEST(w.w_start, a.a_start)", "LEAST(w.w_end, a.a_end)")
    keys = f"{cols(g, 'w')}, w.s_start, w.w_start"
    away = (
        f"SELECT {keys}, SUM({overlap}) AS away_s FROM ({win_sql}) w JOIN {table} a ON {on} "
        f"AND a.a_start < w.w_end AND a.a_end > w.w_start GROUP BY {keys}"
    )
    led = seconds_between("w.w_start", "w.w_end")
    return (
        f"SELECT {cols(g, 'w')}, w.s_start, w.s_end, w.w_start, w.w_end, "
        f"w.coverage * (1 - COALESCE(x.away_s, 0) / {led}) AS coverage, COALESCE(x.away_s, 0) / 86400 AS away_days "
        f"FROM ({win_sql}) w LEFT JOIN ({away}) x ON {join_on(g, 'x', 'w')} AND x.s_start = w.s_start "
        "AND x.w_start = w.w_start"
    )


def plan_min_team(rc: RuleCompiler, out: CompiledRule) -> None:
    """With ``min_team``: keep only the led periods of managers whose team had that many reps.

    A manager's period counts the distinct reps they led during it (the pair
    scopes overlapping it). Periods of smaller teams leave the rule's scope and
    are reported per manager as not assessed (``out.small_teams``).
    """
    logic = rc.rule.logic
    if logic.min_team is None:
        return
    need = int(rc.number(logic.min_team, ("logic", "min_team"), integer=True))
    base = rc.scope_table()
    if base is None or not set(rc.group) <= {"manager"}:
        rc.report(("logic", "min_team"), "min_team applies to rules grouped by manager only")
        return
    p = rc.prefix
    sized = (
        "SELECT s.manager, s.s_start, s.s_end, COUNT(DISTINCT r.rep) AS team_size "
        f"FROM {base} s LEFT JOIN {SCOPES_PAIR} r ON r.manager = s.manager AND r.s_start < s.s_end "
        "AND r.s_end > s.s_start GROUP BY s.manager, s.s_start, s.s_end"
    )
    out.stages.append((f"{p}sized", parse(sized)))
    out.stages.append((f"{p}team", parse(f"SELECT * FROM {p}sized WHERE team_size >= {need}")))
    rc.scope_override = f"{p}team"
    out.small_teams = parse(
        f"SELECT manager, MAX(team_size) AS team_size, {need} AS needed FROM {p}sized WHERE team_size < {need} "
        "GROUP BY manager"
    )
