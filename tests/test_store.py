"""The load's event store: Arrow while few, DuckDB past a size, the same events either way.

Every load past ``STORE_MIN_ROWS`` rows keeps its events in DuckDB and the
backend evaluates them there (engine.ingest.store). These tests run loads
and checks both ways (the threshold lowered to 0 forces DuckDB) and demand
identical tables, problems, warnings, counts and reports, including the
whole JSONL and duplicate-id suite of tests/test_ingest.py run with every
row in DuckDB.
"""

from __future__ import annotations

import gzip
import inspect
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.api import evaluate, prepare_rules
from engine.ingest import LoadResult, load_events
from engine.ingest import loader as loader_module
from engine.ingest import store as store_module
from engine.report import render_json
from tests import test_ingest

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "events.jsonl.gz"


def in_duckdb() -> Any:
    """Every row in DuckDB from the first (and DuckDB judging blocks of any size)."""
    stack = mock.patch.object(store_module, "STORE_MIN_ROWS", 0)
    return stack


def both(load: Callable[[], LoadResult]) -> tuple[LoadResult, LoadResult]:
    arrow = load()
    with in_duckdb():
        duck = load()
    return arrow, duck


def assert_same(arrow: LoadResult, duck: LoadResult) -> None:
    assert arrow.store is None
    assert duck.store is not None and duck.store.in_duckdb
    assert duck.num_rows == arrow.num_rows == arrow.table.num_rows
    assert duck.table.equals(arrow.table)
    assert duck.problems == arrow.problems
    assert (duck.read, duck.evaluated, duck.warnings, duck.input_errors) == (
        arrow.read,
        arrow.evaluated,
        arrow.warnings,
        arrow.input_errors,
    )


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("demo") / "events.jsonl"
    path.write_bytes(gzip.decompress(DEMO.read_bytes()))
    return str(path)


def test_the_demo_log_loads_and_checks_the_same_in_duckdb(demo_path: str) -> None:
    arrow, duck = both(lambda: load_events([demo_path]))
    assert arrow.num_rows > 90_000
    assert_same(arrow, duck)
    _, compiled = prepare_rules()
    assert render_json(evaluate(duck, compiled)) == render_json(evaluate(arrow, compiled))


def test_a_large_load_moves_to_duckdb_at_the_threshold(demo_path: str) -> None:
    with mock.patch.object(store_module, "STORE_MIN_ROWS", 10_000):
        moved = load_events([demo_path])
    assert moved.store is not None and moved.store.in_duckdb
    assert moved.table.equals(load_events([demo_path]).table)


# a pool of lines: plain, repeated exactly, clashing, invalid, blank, escaped
_POOL = [
    test_ingest.line(test_ingest.ev(id="a")),
    test_ingest.line(test_ingest.ev(id="a")),  # an exact repeat
    test_ingest.line(test_ingest.ev(id="a", actor="rep-9")),  # a clash
    test_ingest.line(test_ingest.ev(id="b", attrs={"n": 1})),
    '{"attrs": {"n": 1}, "actor": "rep-1", "type": "email_sent", "ts": "2026-01-05T11:00:00+01:00", "id": "b"}',
    test_ingest.line(test_ingest.ev(id="c", actor=None)),  # refused, holds an id
    test_ingest.line(test_ingest.ev(id="d", type="custom_thing")),
    test_ingest.line(test_ingest.ev(id="e\\u00e9")),
    "not json",
    "",
    test_ingest.line(test_ingest.ev(id="f", ts="2026-02-30T00:00:00Z")),
    test_ingest.line(test_ingest.ev(id="g", manager="mgr-1", rep="rep-1")),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(st.lists(st.sampled_from(_POOL), min_size=0, max_size=12), min_size=1, max_size=3),
    small_blocks=st.booleans(),
)
def test_any_mix_of_lines_and_files_settles_the_same_in_duckdb(
    tmp_path: Path, files: list[list[str]], small_blocks: bool
) -> None:
    paths = []
    for number, lines in enumerate(files):
        path = tmp_path / f"f{number}.jsonl"
        path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
        paths.append(str(path))
    # small blocks: DuckDB judges every block of lines, whatever its size
    with mock.patch.object(loader_module, "SQL_MIN_LINES", 1 if small_blocks else loader_module.SQL_MIN_LINES):
        arrow, duck = both(lambda: load_events(paths))
    assert_same(arrow, duck)


def test_records_from_memory_and_stdin_settle_the_same_in_duckdb() -> None:
    records = [json.loads(_POOL[0]), json.loads(_POOL[2]), json.loads(_POOL[3]), {"id": 1}]
    data = "".join(text + "\n" for text in _POOL).encode("utf-8")
    arrow, duck = both(
        lambda: load_events(["-"], stdin=io.BytesIO(data), records=[("crm", records)], raise_input_errors=False)
    )
    assert_same(arrow, duck)


def _ingest_tests() -> list[Callable[..., None]]:
    """The JSONL, timestamp and duplicate-id tests of tests/test_ingest.py that need at most tmp_path."""
    found = []
    for name, function in sorted(vars(test_ingest).items()):
        if not name.startswith("test_") or not callable(function):
            continue
        if hasattr(function, "pytestmark") or hasattr(function, "hypothesis"):
            continue  # parametrized or generated: covered by the hypothesis test above
        if set(inspect.signature(function).parameters) <= {"tmp_path"}:
            found.append(function)
    return found


@pytest.mark.parametrize("test", _ingest_tests(), ids=lambda t: t.__name__)
def test_the_ingest_suite_holds_with_every_row_in_duckdb(test: Callable[..., None], tmp_path: Path) -> None:
    with in_duckdb():
        if "tmp_path" in inspect.signature(test).parameters:
            test(tmp_path)
        else:
            test()
