"""The ``concurrency`` kind: items (deals) open at once per group, counted daily.

The count is taken at noon UTC of every day of a window, but no row is made per
day: the number of open items only changes when one opens or closes, so the
plan cuts each key's time into runs of a constant level (stage ``l``) and meets
them with the windows (stage ``c``), counting the noons in each overlap by day
arithmetic. Work follows the items and windows, however long the span.
"""

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

    def presence_by_condition(self) -> bool:
        return True  # events without the key follow no item

    def zero_conditions(self) -> list[dict[str, Any]] | None:
        # "at least N open": a log whose events carry no key would read as nothing open
        if self.op not in ("lt", "lte"):
            return None
        return [{"all": [self.where, self.open.where, {self.key: {"exists": True}}]}]

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


_SAMPLES = "samples"  # column of the sampled stage: how many noon samples fall in the window


def _noons_before(ts: str) -> str:
    """SQL: the noon-UTC instants strictly before ``ts``, counted from 1970-01-01 (negative before it).

    The number of samples in ``[a, b)`` is then ``_noons_before(b) - _noons_before(a)``:
    plain day arithmetic, whatever the span between a and b.
    """
    day = f"date_trunc('day', {ts})"
    return (
        f"(DATE_DIFF('day', CAST('1970-01-01' AS TIMESTAMP), {day}) "
        f"+ CASE WHEN {ts} > {day} + INTERVAL 12 HOUR THEN 1 ELSE 0 END)"
    )


def _levels(p: str, keys: list[str]) -> str:
    """SQL: per item key, the runs of time in which the number of open items is constant.

    An item is open from its opening instant (included) to its closing one (excluded),
    so the count changes only at those instants: one row per distinct instant (the level
    from it to the next) and one for the time before the first, when nothing is open.
    ``l_start`` NULL means from the beginning of time, ``l_end`` NULL to its end.
    """
    k = cols(keys)
    return (
        f"WITH steps AS (SELECT {k}, ts AS t, 1 AS delta FROM {p}o "
        f"UNION ALL SELECT {k}, ts_end AS t, -1 AS delta FROM {p}o WHERE ts_end IS NOT NULL), "
        f"moments AS (SELECT {k}, t, SUM(delta) AS delta FROM steps GROUP BY {k}, t) "
        f"SELECT {k}, t AS l_start, LEAD(t) OVER (PARTITION BY {k} ORDER BY t) AS l_end, "
        f"CAST(SUM(delta) OVER (PARTITION BY {k} ORDER BY t ROWS UNBOUNDED PRECEDING) AS BIGINT) AS level "
        f"FROM moments UNION ALL SELECT {k}, CAST(NULL AS TIMESTAMP) AS l_start, MIN(t) AS l_end, "
        f"CAST(0 AS BIGINT) AS level FROM moments GROUP BY {k}"
    )


def _sampled(p: str, g: list[str], keys: list[str], win_sql: str) -> str:
    """SQL: per window with at least one noon sample, its samples and the open counts at them.

    Each run of a constant level that overlaps the window adds ``level x samples in
    the overlap`` to the total (whose mean over the samples is the daily average), and
    its level to the highest and lowest when the overlap holds a sample. Windows of a
    key with no items at all meet no run and count 0 throughout.
    """
    wcols = f"{cols(g, 'w')}, w.s_start, w.s_end, w.w_start, w.w_end, w.coverage"
    windows = f"SELECT w.*, {_noons_before('w.w_end')} - {_noons_before('w.w_start')} AS {_SAMPLES} FROM ({win_sql}) w"
    start = "GREATEST(COALESCE(l.l_start, w.w_start), w.w_start)"
    end = "LEAST(COALESCE(l.l_end, w.w_end), w.w_end)"
    pairs = (
        f"SELECT {wcols}, w.{_SAMPLES}, l.level, {_noons_before(end)} - {_noons_before(start)} AS n "
        f"FROM ({windows}) w LEFT JOIN {p}l l ON {join_on(keys, 'l', 'w')} "
        f"AND (l.l_start IS NULL OR l.l_start < w.w_end) AND (l.l_end IS NULL OR l.l_end > w.w_start) "
        f"WHERE w.{_SAMPLES} > 0"
    )
    return (
        f"SELECT {cols(g)}, s_start, s_end, w_start, w_end, coverage, {_SAMPLES}, "
        f"COALESCE(SUM(level * n), 0) AS total, "
        f"COALESCE(MAX(CASE WHEN n > 0 THEN level END), 0) AS high, "
        f"COALESCE(MIN(CASE WHEN n > 0 THEN level END), 0) AS low "
        f"FROM ({pairs}) x GROUP BY {cols(g)}, s_start, s_end, w_start, w_end, coverage, {_SAMPLES}"
    )


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
    # With reps in the key, a rep's items follow the rep: whoever leads the rep on a day
    # answers for all the rep's open items that day, inherited ones included.
    item_keys = [col for col in g if col != "manager"] if "rep" in g else g
    out.stages.append((f"{p}l", parse(_levels(p, item_keys))))
    win_sql, covered = fixed_windows(rc, out)
    out.stages.append((f"{p}c", parse(_sampled(p, g, item_keys, win_sql))))
    measure = {"avg": f"CAST(total AS DOUBLE) / {_SAMPLES}", "max": "high", "min": "low"}[logic.measure]
    w_sql = (
        f"SELECT {cols(g)}, s_start, s_end, w_start, w_end, coverage, CAST(NULL AS VARCHAR) AS anchor_id, "
        f"{measure} AS {quoted(logic.name)}, high AS peak_open, {_SAMPLES} AS days FROM {p}c"
    )
    out.op = logic.op
    out.threshold = rc.number(logic.value, loc + ("value",))
    out.metric_name = logic.name
    out.metric_names = [logic.name, "peak_open", "days"]
    score(rc, out, parse(w_sql), covered, quoted(logic.name), [], [], prorated=False)
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
