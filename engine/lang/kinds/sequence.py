"""The ``sequence`` kind: a second step after a first one (or, with ``absent``, missing after it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator
from sqlglot import exp

from engine.lang.conditions import field_expr, types_in
from engine.lang.kinds.base import Kind
from engine.lang.parts import Base, Count, Number, Op, Pair, Quiet, Step, shape_error
from engine.lang.sqlplan import SPAN, interval, parse
from engine.lang.windows import windowed

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule


class SequenceLogic(Base):
    kind: Literal["sequence"]
    first: Step
    then: Step
    within: str = Field(description="Max time from the first step to the second (duration or $param).")
    same: list[str] = Field(default_factory=list, description="Fields both steps must share (same deal, same rep...).")
    pairs: list[Pair] = Field(default_factory=list, description="Cross-event conditions.")
    first_min: Count = Field(1, description="The second step needs this many first steps before it.")
    absent: bool = Field(False, description="Fire when the second step does NOT follow in time.")
    without: Quiet | None = Field(None, description="The second step counts only after a quiet spell.")
    before: str | None = Field(
        None,
        description="With absent: a second step up to this long BEFORE the first also answers it "
        "(a plan already running).",
    )
    op: Op = "gte"
    value: Number = 1

    def clips_to_logging(self) -> bool:
        return False  # the second step is rare by nature: only a log without any is not assessed

    def zero_conditions(self) -> list[dict[str, Any]] | None:
        # with absent, a second step nobody logs is "missing" after every first step
        return [{"all": [self.where, self.then.where]}] if self.absent else None

    @model_validator(mode="after")
    def _combinations(self) -> SequenceLogic:
        self.no_unless("sequence rules use 'without'")
        if self.absent and self.without is not None:
            raise shape_error("'without' cannot be combined with 'absent'", "without")
        if not self.absent and self.before is not None:
            raise shape_error("'before' only applies with 'absent: true'", "before")
        return self


def _pairs(rc: RuleCompiler, logic: SequenceLogic) -> list[exp.Expr]:
    """Cross-step conditions: first.<field> op then.<field>."""
    loc = ("logic", "pairs")
    ops = {"eq": exp.EQ, "ne": exp.NEQ, "lt": exp.LT, "lte": exp.LTE, "gt": exp.GT, "gte": exp.GTE}
    out: list[exp.Expr] = []
    for index, pair in enumerate(logic.pairs):
        sides: list[exp.Expr | None] = []
        for side_name in ("left", "right"):
            ref = getattr(pair, side_name)
            step, _, path = ref.partition(".")
            if step not in ("first", "then") or not path:
                rc.report(loc + (index, side_name), f"'{ref}' must start with first. or then.")
                sides.append(None)
                continue
            where = logic.first.where if step == "first" else logic.then.where
            table = "a" if step == "first" else "b"
            found = field_expr(path, rc.context(table), loc + (index, side_name), types_in(where))
            sides.append(found[0] if found else None)
        if sides[0] is not None and sides[1] is not None:
            out.append(ops[pair.op](this=sides[0], expression=sides[1]))
    return out


def _paired_rows(rc: RuleCompiler, logic: SequenceLogic, holes: dict[str, exp.Expr]) -> str:
    """Second steps with enough first steps before them, and one row per such first step (the evidence)."""
    loc = ("logic",)
    if logic.without is not None:
        quiet = logic.without
        holes["c"] = rc.filtered(quiet.where, loc + ("without", "where"), types_in(quiet.where))
        holes["quiet_on"] = rc.same_keys(logic.same, "c", "b", loc + ("same",), (quiet.where, logic.then.where))
        holes["quiet"] = interval(rc.duration(quiet.within, loc + ("without", "within")))
        holes["b"] = parse(
            "SELECT * FROM (:b) b WHERE NOT EXISTS (SELECT 1 FROM (:c) c WHERE :quiet_on "
            "AND c.ts < b.ts AND c.ts >= b.ts - :quiet)",
            holes,
        )
    first_min = rc.number(logic.first_min, loc + ("first_min",), integer=True)
    holes["first_min"] = exp.Literal.number(int(first_min))
    pairs = (
        "SELECT b.id AS b_id, a.id AS a_id, a.ts AS a_ts FROM (:b) b JOIN (:a) a ON :joincond "
        "AND (a.ts < b.ts OR (a.ts = b.ts AND a.id < b.id)) AND b.ts - a.ts <= :within"
    )
    anchors = f"SELECT b_id FROM ({pairs}) pr GROUP BY b_id HAVING COUNT(DISTINCT a_id) >= :first_min"
    # The evidence rows carry the first step's id; every other column is the second step's.
    columns = [*rc.event_columns(), *rc.derived_sql]
    evidence_cols = ", ".join("pr.a_id AS id" if c == "id" else f"b.{c}" for c in columns)
    return (
        f"SELECT b.*, b.ts AS sm_ts, b.ts AS sm_ev_ts, 1 AS x_cnt FROM (:b) b WHERE b.id IN ({anchors}) "
        f"UNION ALL SELECT {evidence_cols}, b.ts AS sm_ts, pr.a_ts AS sm_ev_ts, 0 AS x_cnt "
        f"FROM (:b) b JOIN ({pairs}) pr ON pr.b_id = b.id WHERE b.id IN ({anchors})"
    )


def _unanswered_rows(rc: RuleCompiler, logic: SequenceLogic, holes: dict[str, exp.Expr]) -> str:
    """First steps with no second step after them (or shortly before, with ``before``) in time."""
    after = "(b.ts > a.ts OR (b.ts = a.ts AND a.id < b.id))"
    if logic.before is not None:
        holes["before"] = interval(rc.duration(logic.before, ("logic", "before")))
        after = "b.ts >= a.ts - :before AND b.id <> a.id"
    return (
        f"SELECT a.*, a.ts AS sm_ts, a.ts AS sm_ev_ts, 1 AS x_cnt FROM (:a) a CROSS JOIN {SPAN} sp "
        f"WHERE a.ts + :within <= sp.span_end AND NOT EXISTS (SELECT 1 FROM (:b) b WHERE "
        f"{after} AND b.ts - a.ts <= :within AND :joincond)"
    )


def compile_sequence(rc: RuleCompiler, logic: Any, out: CompiledRule) -> None:
    assert isinstance(logic, SequenceLogic)
    loc = ("logic",)
    a = rc.decisions(logic, rc.step(logic.where, logic.first.where, loc + ("first", "where")), loc)
    b = rc.decisions(logic, rc.step(logic.where, logic.then.where, loc + ("then", "where")), loc)
    within = interval(rc.duration(logic.within, loc + ("within",)))
    joins = [rc.same_keys(logic.same, "a", "b", loc + ("same",), (logic.first.where, logic.then.where))]
    joins += _pairs(rc, logic)
    holes: dict[str, exp.Expr] = {"a": a, "b": b, "joincond": exp.and_(*joins), "within": within}
    rows = _unanswered_rows(rc, logic, holes) if logic.absent else _paired_rows(rc, logic, holes)
    q = rc.scoped("SELECT * FROM (:rows) r", {"rows": parse(rows, holes)}, {"x_cnt": exp.column("x_cnt", table="e")})
    if logic.absent:
        # Only judge an unanswered step when the manager still led the group for the whole
        # time allowed to answer it (not after a handover, a resignation or the log's end).
        q = parse("SELECT * FROM (:q) z WHERE z.ts + :within <= z.s_end", {"q": q, "within": within})
    out.op = logic.op
    out.threshold = rc.number(logic.value, loc + ("value",))
    out.metric_name = "count"
    out.metric_names = ["count"]
    windowed(rc, out, q, [("count", "x_cnt", "count")], "count", [], out.window.prorate, "")


KIND: Kind = Kind("sequence", SequenceLogic, compile_sequence)
