"""Counter-evidence: the facts in the same data that speak for the manager, per finding.

A rule's ``counter_evidence`` lists conditions (with an aggregate: a count by
default, or the sum, average, max or min of a field). For each finding the
backend counts the finding's manager's events that match, inside the
finding's window, and the report shows those that reach ``at_least``, worded
by ``says``, with the events behind them. The lookups read the findings from a
table the backend fills (:data:`FOUND`, one row per finding: ``sm_idx``,
manager, window_start, window_end).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from engine.lang.conditions import types_in
from engine.lang.sqlplan import ordered_ids, parse
from engine.lang.windows import AGGREGATES

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule

FOUND = "found"  # suffix of the per-rule findings table the backend fills: <prefix>found


@dataclass(frozen=True)
class CounterPlan:
    """One counter-evidence lookup: its name, wording, threshold and query."""

    name: str
    says: str
    at_least: float
    query: exp.Expr


def plan_counter(rc: RuleCompiler, out: CompiledRule) -> None:
    """Compile the rule's counter-evidence lookups (each a query over ``<prefix>found``)."""
    found = f"{rc.prefix}{FOUND}"
    for index, item in enumerate(rc.rule.counter_evidence):
        loc = ("counter_evidence", index)
        rows = rc.filtered(item.where, loc + ("where",))
        how, value_sql, _ = rc.metric_value(item.metric, loc + ("metric",), types_in(item.where))
        value = AGGREGATES[how].format(c="x.sm_v")
        query = parse(
            f"SELECT f.sm_idx, COUNT(x.id) AS n, {value} AS value, {ordered_ids('x.ts', 'x.id')} AS ids "
            f"FROM {found} f JOIN (SELECT e.*, :v AS sm_v FROM (:rows) e) x ON x.manager = f.manager "
            "AND x.ts >= f.window_start AND x.ts < f.window_end GROUP BY f.sm_idx",
            {"rows": rows, "v": value_sql},
        )
        at_least = rc.number(item.at_least, loc + ("at_least",))
        out.counter.append(CounterPlan(item.name, item.says, at_least, query))
