"""Spark and DuckDB give the same findings: every rule fixture case, and a simulated org.

Both engines run the same compiled plans (DuckDB's rendering and Spark's) over
the same loaded log; the JSON reports must be the same text, and the raw rows
each rule returned (findings, assessments, coverage, small teams) the same
values of the same Python types, so no difference can hide behind the
report's rounding.

Spark costs a few hundred milliseconds per statement whatever the size of
the data, and each case is a separate log (its own span, roster and peers),
so the cases cannot share one log. The run is kept short instead by: one
Spark context for the whole module, each case's own rule only (compiled once
per parameter set, as engine.rulecases does), small-data settings for the
session (one shuffle partition), and several cases in flight at once, each
backend in its own Spark session over the shared context.

Marked ``spark`` (``pytest -m spark`` runs only these, ``-m 'not spark'``
leaves them out); skipped, with the reason, without PySpark or Java.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.api import evaluate, prepare_rules
from engine.backends import DuckDBBackend, RuleResult, register_backend
from engine.backends.base import BACKENDS
from engine.config import Settings
from engine.ingest import LoadResult, load_records
from engine.lang.plan import CompiledRule
from engine.report.formats.json import render_json
from engine.rulecases import Case, _compiled, find_case_files, load_cases

pytestmark = pytest.mark.spark

CASES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
CASES = [case for path in find_case_files([str(CASES_DIR)]) for case in load_cases(path)]
RULE_FILES = sorted({case.rule for case in CASES})
IN_FLIGHT = int(os.environ.get("SALESMIRROR_SPARK_TEST_THREADS", "3"))  # cases run side by side
# Fixture logs have tens of events: what costs is Spark's work per statement, not per row. One
# shuffle partition and no code generation (compiling each new query shape to bytecode costs more
# than interpreting it over so few rows) cut that; neither changes a result.
SMALL_DATA = {"spark.sql.shuffle.partitions": "1", "spark.sql.codegen.wholeStage": "false"}


def _spark_missing() -> str | None:
    try:
        import pyspark  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'salesmirror[spark]')"
    if not os.environ.get("SPARK_REMOTE") and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java to start Spark with"
    return None


MISSING = _spark_missing()
if MISSING:
    pytest.skip(MISSING, allow_module_level=True)

from engine.backends.spark import SparkBackend  # noqa: E402  (only once Spark is known to be there)

Results = dict[str, RuleResult]  # rule id -> what the backend returned


class _Recording:
    """Wraps a backend and keeps every rule's raw result, to compare rows as well as reports."""

    def __init__(self, inner: Any, into: Results) -> None:
        self.inner = inner
        self.into = into
        self.name = inner.name
        self.dialect = inner.dialect

    def run(self, rule: CompiledRule) -> RuleResult:
        result: RuleResult = self.inner.run(rule)
        self.into[rule.id] = result
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


_RECORDED: dict[int, Results] = {}  # id of the events table -> where its run is recorded


def _recording_factory(make: Any) -> Any:
    def factory(events: Any, **kwargs: Any) -> Any:
        return _Recording(make(events, **kwargs), _RECORDED.setdefault(id(events), {}))

    return factory


@pytest.fixture(scope="module", autouse=True)
def engines() -> Iterator[None]:
    """'duckdb-rec' and 'spark-rec': the two engines, recording; Spark started once for the module."""
    register_backend("duckdb-rec", _recording_factory(DuckDBBackend))
    register_backend("spark-rec", _recording_factory(lambda events, **kw: SparkBackend(events, conf=SMALL_DATA, **kw)))
    SparkBackend(load_records([]).table, conf=SMALL_DATA).close()  # start the JVM before timing anything
    yield
    BACKENDS.unregister("duckdb-rec")
    BACKENDS.unregister("spark-rec")


def both(loaded: LoadResult, compiled: list[CompiledRule]) -> tuple[str, str, Results, Results]:
    """The JSON report and raw results of each engine for the same loaded log."""
    copy = loaded.with_table(loaded.table.slice(0))  # a second table object to key Spark's run by
    duck = render_json(evaluate(loaded, compiled, backend="duckdb-rec"))
    spark = render_json(evaluate(copy, compiled, backend="spark-rec"))
    # evaluate hands a backend the load's DuckDB store when it has one, else its table
    held = loaded.store if loaded.store is not None else loaded.table
    return duck, spark, _RECORDED.pop(id(held)), _RECORDED.pop(id(copy.table))


def _canon(value: Any) -> Any:
    """A value with its Python type, for comparing rows exactly but for float rounding."""
    if isinstance(value, float):
        return ("float", None if math.isnan(value) else float(f"{value:.12g}"))
    if isinstance(value, (bool, int, str, Decimal, datetime, date)) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, list):
        return ("list", [_canon(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(k, _canon(v)) for k, v in value.items()])
    return (type(value).__name__, repr(value))


def _rows(rows: list[dict[str, Any]]) -> list[str]:
    """Rows as sorted text: the same rows in any order compare equal (plans need not order them)."""
    return sorted(repr([(k, _canon(v)) for k, v in row.items()]) for row in rows)


def row_differences(duck: Results, spark: Results) -> list[str]:
    problems = []
    if sorted(duck) != sorted(spark):
        problems.append(f"rules run: duckdb {sorted(duck)}, spark {sorted(spark)}")
    for rule in sorted(set(duck) & set(spark)):
        for part in ("findings", "assessment", "coverage", "small_teams", "missing"):
            a, b = getattr(duck[rule], part), getattr(spark[rule], part)
            if part == "missing":
                if a != b:
                    problems.append(f"{rule} {part}: duckdb {a}, spark {b}")
            elif _rows(a) != _rows(b):
                problems.append(f"{rule} {part}:\n  duckdb {_rows(a)}\n  spark  {_rows(b)}")
    return problems


def _run_case(case: Case) -> str | None:
    """None when both engines agree on the case; else what differs."""
    params = json.dumps({case.rule: case.params} if case.params else {}, sort_keys=True, default=str)
    chosen = [rule for rule in _compiled(None, params) if rule.id == case.rule]
    loaded = load_records(case.events, name=f"<{case.id}>")
    duck, spark, duck_rows, spark_rows = both(loaded, chosen)
    problems = row_differences(duck_rows, spark_rows)
    if duck != spark:
        problems.insert(0, f"reports differ:\n--- duckdb\n{duck}\n--- spark\n{spark}")
    return f"{case.id}: " + "\n".join(problems) if problems else None


# By default each rule's first firing case and first quiet case, so the suite stays within CI's
# time (the whole set costs a few seconds of Spark per case: 28 minutes on two busy cores).
# SALESMIRROR_SPARK_SAMPLE=0 runs every case; N takes the first N cases of each rule.
SAMPLE = os.environ.get("SALESMIRROR_SPARK_SAMPLE")


def _chosen(rule: str) -> list[Case]:
    cases = [case for case in CASES if case.rule == rule]
    if SAMPLE is not None:
        return cases[: int(SAMPLE) or None]
    firing = [case for case in cases if case.expect][:1]
    quiet = [case for case in cases if not case.expect][:1]
    return firing + quiet


@pytest.mark.parametrize("rule", RULE_FILES)
def test_fixture_cases_give_identical_findings(rule: str) -> None:
    cases = _chosen(rule)
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        failures = [f for f in pool.map(_run_case, cases) if f]
    assert not failures, "\n\n".join(failures)


def test_simulated_org_gives_identical_findings() -> None:
    """A small simulated org (4 teams, 8 weeks, with the mess of real logs) under the whole default ruleset."""
    from simulator import simulate

    sim = simulate(managers=4, days=56, seed=7, realism=True)
    loaded = load_records(sim.events, name="<simulated>")
    assert not loaded.problems and loaded.table.num_rows > 1000
    _, compiled = prepare_rules(None, settings=Settings())
    started = time.perf_counter()
    duck, spark, duck_rows, spark_rows = both(loaded, compiled)
    elapsed = time.perf_counter() - started
    assert duck == spark, "reports differ"
    assert json.loads(duck)["findings"], "the simulated org should give findings to compare"
    assert row_differences(duck_rows, spark_rows) == []
    print(f"simulated org: {loaded.table.num_rows} events, {len(compiled)} rules, both engines {elapsed:.1f}s")


def test_spark_rows_have_duckdbs_types() -> None:
    """Timestamps naive, structs as dicts, counts as int: what engine.report.build expects from any backend."""
    case = next(c for c in CASES if c.rule == "glory-grabber/late-takeover" and c.expect)
    params = json.dumps({case.rule: case.params} if case.params else {}, sort_keys=True, default=str)
    (rule,) = [r for r in _compiled(None, params) if r.id == case.rule]
    backend = SparkBackend(load_records(case.events, name="<types>").table, conf=SMALL_DATA)
    try:
        result = backend.run(rule)
        start, end = backend.span()
    finally:
        backend.close()
    assert result.findings
    row = result.findings[0]
    assert isinstance(row["window_start"], datetime) and row["window_start"].tzinfo is None
    assert isinstance(start, datetime) and isinstance(end, datetime) and start < end
    assert isinstance(row["evidence"], list) and all(isinstance(e, str) for e in row["evidence"])


def test_row_comparison_sees_types_and_values_but_not_float_noise() -> None:
    """The row check can fail: another type or value is a difference, the last bits of a float are not."""
    duck = {"r": RuleResult([{"metric": 0.5, "n": 2, "at": datetime(2026, 1, 5)}], [{"manager": "m", "windows": 3}])}

    def spark(**changed: Any) -> Results:
        return {"r": RuleResult([{"metric": 0.5, "n": 2, "at": datetime(2026, 1, 5), **changed}], duck["r"].assessment)}

    assert row_differences(duck, spark()) == []
    assert row_differences(duck, spark(metric=0.5 + 1e-16)) == []
    assert row_differences(duck, spark(metric=Decimal("0.5")))  # DuckDB's DOUBLE as Spark's DECIMAL
    assert row_differences(duck, spark(n=3))
    assert row_differences(duck, spark(at=datetime(2026, 1, 5, 0, 0, 1)))
    assert row_differences(duck, {})
