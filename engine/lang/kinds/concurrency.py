"""The ``concurrency`` kind: items (deals) open at once per group, counted daily."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator
from sqlglot import exp

from engine.lang.kinds.base import Kind
from engine.lang.parts import Base, MetricName, Number, Op, Step, shape_error
from engine.lang.sqlplan import cols, join_on, parse, quoted
from engine.lang.windows import fixed_windows, islands, score

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule


class ConcurrencyLogic(Base):
    kind: Literal["concurrency"]
    key: Literal["deal", "rep"] = Field("deal", description="What is open: one item per distinct key.")
    open: Step = Field(description="Events showing the item is open; its first one opens it.")
    close: Step = Field(description="Events that close the item (the first after it opened).")
    measure: Literal["avg", "max", "min"] = Field(
        "avg", description="Of the daily counts of open items in the window (sampled at noon UTC)."
    )
    name: MetricName = "open_items"
    op: Op
    value: Number

    @model_validator(mode="after")
    def _combinations(self) -> ConcurrencyLogic:
        self.no_unless("concurrency rules follow items, not single events")
        if self.window_mode == "sliding":
            raise shape_error("concurrency needs a calendar or whole window", "window")
        self.roster_groups("concurrency groups by manager or by manager and rep")
        if self.key in self.group_by:
            raise shape_error(f"the key '{self.key}' cannot also be a group_by field", "key")
        if self.name.casefold() in ("peak_open", "days"):
            raise shape_error(f"'{self.name}' is a metric of every concurrency rule; choose another name", "name")
        return self


def compile_concurrency(rc: RuleCompiler, logic: Any, out: CompiledRule) -> None:
    assert isinstance(logic, ConcurrencyLogic)
    loc = ("logic",)
    key, p, g = logic.key, rc.prefix, rc.group
    opened = rc.step(logic.where, logic.open.where, loc + ("open", "where"))
    closed = rc.step(logic.where, logic.close.where, loc + ("close", "where"))
    firsts = ", ".join(f"arg_min(o.{col}, o.ts) AS {col}" for col in g)
    items = (
        f"SELECT o.{key} AS item, MIN(o.ts) AS ts, arg_min(o.id, o.ts) AS id, {firsts} "
        f"FROM (:opened) o WHERE o.{key} IS NOT NULL GROUP BY o.{key}"
    )
    spans = (
        f"SELECT i.*, i.ts AS sm_ts, i.ts AS sm_ev_ts, (SELECT MIN(c.ts) FROM (:closed) c "
        f"WHERE c.{key} = i.item AND c.ts >= i.ts) AS sm_end FROM ({items}) i"
    )
    rows = parse(spans, {"opened": opened, "closed": closed})
    q = rc.scoped(
        "SELECT * FROM (:rows) r",
        {"rows": rows},
        {"x_cnt": exp.Literal.number(1), "ts_end": exp.column("sm_end", table="e")},
    )
    out.stages.append((f"{p}q", q))
    # Every item of the group, wherever it opened (the scope join above keeps only those opened in scope).
    every_item = (
        f"SELECT r.ts, {cols(g, 'r')}, r.ts AS ev_ts, r.id, r.sm_end AS ts_end FROM (:rows) r "
        f"WHERE {' AND '.join(f'r.{col} IS NOT NULL' for col in g)}"
    )
    out.stages.append((f"{p}o", parse(every_item, {"rows": rows})))
    win_sql, covered = fixed_windows(rc, out)
    days = (
        f"SELECT w.*, t.d + INTERVAL 12 HOUR AS sample FROM ({win_sql}) w "
        f"CROSS JOIN UNNEST(generate_series(date_trunc('day', w.w_start), w.w_end - INTERVAL 1 SECOND, INTERVAL 1 DAY)) AS t(d) "
        f"WHERE t.d + INTERVAL 12 HOUR >= w.w_start AND t.d + INTERVAL 12 HOUR < w.w_end"
    )
    # With reps in the key, a rep's items follow the rep: whoever leads the rep on a day
    # answers for all the rep's open items that day, inherited ones included.
    item_keys = [col for col in g if col != "manager"] if "rep" in g else g
    counted = (
        f"SELECT {cols(g, 'd')}, d.s_start, d.s_end, d.w_start, d.w_end, d.coverage, d.sample, COUNT(q.id) AS open_now "
        f"FROM ({days}) d LEFT JOIN {p}o q ON {join_on(item_keys, 'q', 'd')} AND q.ts <= d.sample "
        f"AND (q.ts_end IS NULL OR q.ts_end > d.sample) "
        f"GROUP BY {cols(g, 'd')}, d.s_start, d.s_end, d.w_start, d.w_end, d.coverage, d.sample"
    )
    measure = {"avg": "AVG", "max": "MAX", "min": "MIN"}[logic.measure]
    name = quoted(logic.name)
    w_sql = (
        f"SELECT {cols(g)}, s_start, s_end, w_start, w_end, coverage, CAST(NULL AS VARCHAR) AS anchor_id, "
        f"{measure}(open_now) AS {name}, MAX(open_now) AS peak_open, COUNT(*) AS days "
        f"FROM ({counted}) c GROUP BY {cols(g)}, s_start, s_end, w_start, w_end, coverage"
    )
    out.op = logic.op
    out.threshold = rc.number(logic.value, loc + ("value",))
    out.metric_name = logic.name
    out.metric_names = [logic.name, "peak_open", "days"]
    score(rc, out, parse(w_sql), covered, name, [], [], prorated=False)
    islands(
        rc,
        out,
        out.metric_names,
        "",
        inclusive=False,
        source=f"{p}o",
        span="q.ts < f.f_end AND (q.ts_end IS NULL OR q.ts_end > f.f_start)",
    )


KIND: Kind = Kind("concurrency", ConcurrencyLogic, compile_concurrency)
