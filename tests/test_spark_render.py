"""Every plan the compiler emits renders for DuckDB and Spark SQL with nothing that would not translate.

The plans are those of the default rules, of the shipped rules with each
fixture case's parameters (fixtures/rules), of the inline rules that
tests/test_constructs.py compiles (recorded by running its tests against a
``check`` that compiles and stops), and the setup plan every rule reads. No
Spark is needed: ``engine.lang.portable`` judges the sqlglot trees.

The second half tests the checker itself: each construct it knows is caught,
and the portable spelling its notes give passes and runs on DuckDB.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

import engine
from engine.api import prepare_rules
from engine.config import Settings, read_config
from engine.lang.derive import compile_derived
from engine.lang.fields import Context
from engine.lang.parts import DeriveSpec
from engine.lang.plan import CompiledRule
from engine.lang.portable import CONSTRUCTS, portability_problems
from engine.lang.setup import setup_plan
from engine.rulecases import find_case_files, load_cases

CASES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "rules"

Plan = list[tuple[str, exp.Expr]]  # (where: rule and stage, tree)


def plan_of(label: str, rule: CompiledRule) -> Plan:
    trees = [(f"stage {name}", tree) for name, tree in rule.stages]
    parts = (
        ("findings", rule.findings),
        ("assessment", rule.assessment),
        ("coverage", rule.coverage),
        ("small teams", rule.small_teams),
        ("presence", rule.presence),
    )
    trees += [(part, tree) for part, tree in parts if tree]
    trees += [(f"counter-evidence {plan.name}", plan.query) for plan in rule.counter]
    return [(f"{label} {rule.id}, {where}", tree) for where, tree in trees]


def default_plans() -> Plan:
    return [item for rule in prepare_rules(None, settings=Settings())[1] for item in plan_of("default", rule)]


def fixture_plans() -> Plan:
    """The shipped rules as each fixture case sets their parameters (each rule compiled alone)."""
    shipped = [rule.rule.id for rule in prepare_rules(None, settings=Settings())[0].rules]
    chosen: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in find_case_files([str(CASES_DIR)]):
        for case in load_cases(path):
            chosen.setdefault(repr((case.rule, sorted(case.params.items()))), (case.rule, case.params))
    plans: Plan = []
    for rule_id, params in chosen.values():
        others = [other for other in shipped if other != rule_id]
        settings = Settings(params={rule_id: params} if params else {}, disable=others)
        (rule,) = prepare_rules(None, settings=settings)[1]
        plans += plan_of(f"fixture {params or 'defaults'}", rule)
    return plans


class _Compiled(Exception):
    """Stops a test of test_constructs once its rules are compiled."""


def construct_plans() -> Plan:
    """The rules tests/test_constructs.py compiles, recorded by running each of its tests up to ``check``."""
    import tests.test_constructs as constructs

    plans: Plan = []

    def compile_only_as(name: str) -> Callable[..., Any]:
        def compile_only(events: Any, *, rules: Any = None, config: Any = None, sets: Any = (), **_: Any) -> Any:
            for rule in prepare_rules(rules, settings=read_config(config), sets=sets)[1]:
                plans.extend(plan_of(name, rule))
            raise _Compiled

        return compile_only

    tests = {name: test for name, test in vars(constructs).items() if name.startswith("test_") and callable(test)}
    with pytest.MonkeyPatch.context() as patch:
        for name, test in tests.items():
            patch.setattr(engine, "check", compile_only_as(name))
            with tempfile.TemporaryDirectory() as tmp, contextlib.suppress(_Compiled):
                test(Path(tmp))
    assert len(tests) > 100 and len(plans) > 300, "test_constructs no longer compiles rules through engine.check"
    return plans


def problems_in(plans: Plan) -> list[str]:
    seen: dict[str, list[str]] = {}  # many construct tests compile the same SQL
    out = []
    for where, tree in plans:
        key = tree.sql(dialect="duckdb")
        if key not in seen:
            seen[key] = portability_problems(tree)
        out += [f"{where}: {problem}" for problem in seen[key]]
    return out


SOURCES: dict[str, Callable[[], Plan]] = {
    "default rules": default_plans,
    "fixture rules": fixture_plans,
    "construct rules": construct_plans,
    "setup": lambda: [(f"setup {name}", tree) for name, tree in setup_plan()],
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_plan_renders_for_duckdb_and_spark(source: str) -> None:
    plans = SOURCES[source]()
    assert plans
    problems = problems_in(plans)
    if problems:
        kinds = Counter(problem.split(": ", 2)[1] for problem in problems)  # "<where>: <construct>: ..."
        summary = ", ".join(f"{kind} x{count}" for kind, count in kinds.most_common())
        pytest.fail(
            f"{len(problems)} construct(s) that do not translate ({summary}):\n" + "\n".join(problems), pytrace=False
        )


# -- the checker ------------------------------------------------------------------------------------

TABLE = """
CREATE TABLE t (id INTEGER, ts TIMESTAMP, v VARCHAR, tags VARCHAR[], attrs JSON);
INSERT INTO t VALUES
  (1, TIMESTAMP '2026-01-04 10:00:00.500', 'Alpha beta', ['a', 'b'], '{"tags": ["a", "c"], "n": "2"}'),
  (2, TIMESTAMP '2026-01-05 11:00:00', 'gamma', [], '{"tags": "a", "n": "x"}'),
  (3, TIMESTAMP '2026-01-03 09:00:00', 'beta alpha', ['c'], '{}');
"""


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute(TABLE)
    yield connection
    connection.close()


def q(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read="duckdb")


def select(expression: exp.Expr) -> exp.Expr:
    return exp.select(expression.as_("x")).from_("t").order_by("id")


def tree(spec: str | exp.Expr) -> exp.Expr:
    """A query of table t: DuckDB text (a query, or an expression to select) or a sqlglot node."""
    if isinstance(spec, str):
        return q(spec) if spec.startswith("SELECT") else select(q(spec))
    return spec if isinstance(spec, exp.Query) else select(spec)


def col(name: str) -> exp.Column:
    return exp.column(name)


def lit(value: Any) -> exp.Expr:
    return exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)


def array_text(of: exp.Expr) -> exp.Expr:
    return exp.TryCast(this=of, to=exp.DataType.build("ARRAY<VARCHAR>"), safe=True)


JSON_TAGS = exp.JSONExtract(this=col("attrs"), expression=lit("$.tags"))
EPOCH_SECONDS = "DATE_DIFF('microsecond', CAST('1970-01-01' AS TIMESTAMP), ts) / 1000000"
SORTED_BY_TS = "SELECT LIST_TRANSFORM(LIST_SORT(ARRAY_AGG({'k': ts, 'v': v})), w -> w.v) AS x FROM t"
NEXT_ID = (
    "SELECT t.id, k.id IS NOT NULL AS x FROM t LEFT JOIN (SELECT DISTINCT id FROM t) AS k ON k.id = t.id + 1 ORDER BY 1"
)
JSON_LENGTH = exp.Coalesce(this=exp.func("JSON_ARRAY_LENGTH", JSON_TAGS), expressions=[lit(0)])


def case(
    name: str, bad: str | exp.Expr, good: str | exp.Expr, same: bool = True
) -> tuple[str, exp.Expr, exp.Expr, bool]:
    """A construct, a tree the checker must catch, its portable spelling, and whether DuckDB gives both the same rows."""
    return name, tree(bad), tree(good), same


CHECKER_CASES = [
    case("star modifier", "SELECT t.* REPLACE (v AS id) FROM t", "SELECT v AS id FROM t", same=False),
    case("star modifier", "SELECT * EXCLUDE (tags, attrs) FROM t", "SELECT id, ts, v FROM t"),
    case("ordered aggregate", "SELECT ARRAY_AGG(v ORDER BY ts) AS x FROM t", SORTED_BY_TS),
    case("string aggregate", "SELECT STRING_AGG(v, ',') FROM t", "SELECT ARRAY_TO_STRING(ARRAY_AGG(v), ',') FROM t"),
    case("unknown function", "EPOCH_US(ts) / 1000000", EPOCH_SECONDS),
    case("unknown function", "JSON_ARRAY_LENGTH(attrs -> '$.tags')", JSON_LENGTH, same=False),
    case("lambda", "LIST_REDUCE(tags, (a, b) -> a || b)", "LIST_FILTER(tags, w -> w <> 'a')", same=False),
    # (sqlglot writes ARRAY_ANY as 'empty or any', so the rows differ for an empty list)
    case(
        "lambda",
        "ARRAY_ANY(tags, w -> w = 'a')",
        "ARRAY_LENGTH(LIST_FILTER(COALESCE(tags, []), w -> w = 'a')) > 0",
        same=False,
    ),
    case("array cast", "CAST(v AS VARCHAR[])", array_text(JSON_TAGS), same=False),
    case("array cast", "CAST(attrs -> '$.tags' AS VARCHAR[])", array_text(JSON_TAGS), same=False),
    case(
        "unsafe try_cast",
        exp.TryCast(this=q("attrs ->> '$.n'"), to=exp.DataType.build("DOUBLE")),
        exp.TryCast(this=q("attrs ->> '$.n'"), to=exp.DataType.build("DOUBLE"), safe=True),
    ),
    case(
        "length of array",
        "LEN(REGEXP_EXTRACT_ALL(v, '[a-z]+', 0))",
        "ARRAY_LENGTH(REGEXP_EXTRACT_ALL(COALESCE(v, ''), '[a-z]+', 0))",
    ),
    case(
        "regex group",
        exp.RegexpExtractAll(this=col("v"), expression=lit("[a-z]+")),
        "REGEXP_EXTRACT_ALL(v, '[a-z]+', 0)",
    ),
    case("regex group", exp.RegexpExtract(this=col("v"), expression=lit("(a)l")), "REGEXP_EXTRACT(v, '(a)l', 0)"),
    case("regex replace", "REGEXP_REPLACE(v, 'a', '_')", "REGEXP_REPLACE(v, 'a', '_', 'g')", same=False),
    case("regex replace", "REGEXP_REPLACE(v, 'A', '_', 'gi')", "REGEXP_REPLACE(v, '(?i)A', '_', 'g')"),
    case("regex flags", "REGEXP_MATCHES(v, '^A', 'i')", "REGEXP_MATCHES(v, '(?i)^A')"),
    case(
        "qualify over star",
        "SELECT * FROM t QUALIFY ROW_NUMBER() OVER (ORDER BY ts) = 1",
        "SELECT id, v FROM t QUALIFY ROW_NUMBER() OVER (ORDER BY ts) = 1",
        same=False,
    ),
    case(
        "series as table",
        "SELECT d FROM generate_series(1, 3) AS g(d)",
        "SELECT d FROM UNNEST(generate_series(1, 3)) AS g(d)",
    ),
    case(
        "unnest join",
        "SELECT id, d FROM t LEFT JOIN UNNEST(tags) AS g(d) ON TRUE ORDER BY id, d",
        "SELECT id, d FROM t CROSS JOIN UNNEST(tags) AS g(d) ORDER BY id, d",
        same=False,
    ),
    case("epoch seconds", "EPOCH(ts)", EPOCH_SECONDS),
    case("epoch seconds", exp.Div(this=exp.UnixMicros(this=col("ts")), expression=lit(1000000)), EPOCH_SECONDS),
    case(
        "zoned timestamp",
        exp.cast(lit("2026-01-04 10:00:00"), "TIMESTAMP"),
        exp.cast(lit("2026-01-04 10:00:00"), exp.DataType.build("TIMESTAMP", dialect="duckdb")),
    ),
    case("size of null", "ARRAY_LENGTH(tags)", "ARRAY_LENGTH(COALESCE(tags, []))"),
    case("decimal division", "id / 86400.0", "id / 86400"),
    case(
        "exists in select list",
        "SELECT id, EXISTS (SELECT 1 FROM t AS u WHERE u.id = t.id + 1) FROM t ORDER BY 1",
        NEXT_ID,
    ),
    case("day of week", "ISODOW(ts)", "DATE_DIFF('day', DATE '1900-01-01', ts) % 7 + 1"),  # 1900-01-01: a Monday
    case("day of week", "DAYOFWEEK(ts)", "DATE_DIFF('day', DATE '1900-01-07', ts) % 7"),  # Sunday is 0
    case(
        "array overlap",
        "tags && ['a', 'x']",
        "ARRAY_LENGTH(LIST_FILTER(COALESCE(tags, []), w -> ARRAY_CONTAINS(['a', 'x'], w))) > 0",
    ),
    case(
        "json array",
        exp.JSONExtractArray(this=col("attrs"), expression=lit("$.tags")),
        array_text(JSON_TAGS),
        same=False,
    ),
]


@pytest.mark.parametrize(("name", "bad", "good", "same"), CHECKER_CASES, ids=[c[0] for c in CHECKER_CASES])
def test_checker_catches_the_construct_and_passes_its_portable_spelling(
    con: duckdb.DuckDBPyConnection, name: str, bad: exp.Expr, good: exp.Expr, same: bool
) -> None:
    caught = portability_problems(bad)
    assert any(p.startswith(f"{name}:") for p in caught), caught
    assert portability_problems(good) == []
    rows = con.sql(good.sql(dialect="duckdb")).fetchall()  # the portable spelling runs
    if same:
        assert rows == con.sql(bad.sql(dialect="duckdb")).fetchall()


def test_every_construct_has_a_case() -> None:
    """Each row of the table is hit by some case's caught tree (a row no case reaches is untested)."""
    bad_nodes = [node for case in CHECKER_CASES for node in case[1].walk()]
    for construct in CONSTRUCTS:
        assert any(isinstance(n, construct.nodes) and construct.when(n) for n in bad_nodes), construct


def test_json_list_cast_keeps_non_lists_null_on_duckdb(con: duckdb.DuckDBPyConnection) -> None:
    query = select(exp.ArrayContains(this=array_text(JSON_TAGS), expression=lit("a")))
    assert con.sql(query.sql(dialect="duckdb")).fetchall() == [(True,), (None,), (None,)]


def test_render_failures_are_problems() -> None:
    no_alias = q("SELECT d FROM t CROSS JOIN UNNEST(tags)")  # sqlglot: LATERAL VIEW needs an alias
    assert any("cannot write this for spark" in p for p in portability_problems(no_alias))
    unreadable = exp.select(exp.Anonymous(this="x y")).from_("t")  # 'X Y()' does not parse back
    assert any("does not parse as Spark SQL" in p for p in portability_problems(unreadable))


def test_problems_name_the_construct_and_the_alternative() -> None:
    (problem,) = portability_problems(q("SELECT EPOCH(ts) FROM t"))
    assert problem.startswith("epoch seconds: ")
    assert "[EPOCH(ts)]" in problem and "instead: DATE_DIFF('microsecond'" in problem


def test_exists_in_where_is_portable() -> None:
    assert (
        portability_problems(q("SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM t AS u WHERE u.id = t.id + 1)")) == []
    )


def derived(**spec: Any) -> exp.Expr:
    def report(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(args)

    ctx = Context(report=report, resolve=lambda value, loc: value, lists={}, macros={})
    sql = compile_derived("x", DeriveSpec.model_validate(spec), ctx, (), None)
    assert sql is not None
    return sql


@pytest.mark.parametrize(
    "spec",
    [
        {"similarity": ["attrs.original_text", "attrs.text"]},
        {"added_words": ["attrs.original_text", "attrs.text"]},
        {"lexicon": "attrs.text", "words": ["thanks", "great"]},
        {"specificity": "attrs.text"},
        {"length": "attrs.kpis"},
        {"word_count": "attrs.text"},
    ],
    ids=lambda spec: next(iter(spec)),
)
def test_derived_measures_are_portable(spec: dict[str, Any]) -> None:
    assert portability_problems(derived(**spec)) == []


def test_word_count_for_spark() -> None:
    """An array's size is SIZE, and the regex names group 0 (Spark's default, 1, fails without groups)."""
    assert derived(word_count="attrs.text").sql(dialect="spark") == (
        "SIZE(REGEXP_EXTRACT_ALL(LOWER(COALESCE(GET_JSON_OBJECT(attrs, '$.text'), '')), '[a-z0-9\\']+', 0))"
    )


def test_added_words_for_spark() -> None:
    """DuckDB's list functions become Spark's ARRAY_DISTINCT and SIZE; the texts are joined with CONCAT."""
    spark = derived(added_words=["attrs.original_text", "attrs.text"]).sql(dialect="spark")
    assert spark.startswith("SIZE(ARRAY_DISTINCT(REGEXP_EXTRACT_ALL(COALESCE(CONCAT(TRIM(")
    assert ") - SIZE(ARRAY_DISTINCT(REGEXP_EXTRACT_ALL(TRIM(" in spark
