"""The DuckDB chunk judge (issue 13) never changes a verdict or a row, only who makes it.

Each test loads the same bytes twice: once with every block of lines going
through ``engine.ingest.sqlfast`` (the threshold lowered to one line), once
with the judge accepting nothing, so every line takes the exact per-line path.
Tables, problems, counts and warnings must be identical.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.ingest import LoadResult, load_events
from engine.ingest import loader as loader_module
from engine.ingest.sqlfast import SqlChunk, plain_rows
from tests.test_ingest import _records

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "events.jsonl.gz"


_JUDGE = SqlChunk.judge


def _nothing_plain(self: SqlChunk, lines: pa.Array, first_line: int) -> str:
    return _JUDGE(self, lines.slice(0, 0), first_line)


def both_ways(data: bytes) -> tuple[LoadResult, LoadResult]:
    with mock.patch.object(loader_module, "SQL_MIN_LINES", 1):
        judged = load_events(["-"], stdin=io.BytesIO(data))
        with mock.patch.object(SqlChunk, "judge", _nothing_plain):
            exact = load_events(["-"], stdin=io.BytesIO(data))
    return judged, exact


def assert_same(judged: LoadResult, exact: LoadResult) -> None:
    assert judged.table.equals(exact.table)
    assert judged.problems == exact.problems
    assert (judged.read, judged.evaluated, judged.warnings) == (exact.read, exact.evaluated, exact.warnings)


@pytest.fixture(scope="module")
def demo_bytes() -> bytes:
    return gzip.decompress(DEMO.read_bytes())


def test_the_demo_log_is_mostly_judged_in_sql_and_the_same_either_way(demo_bytes: bytes) -> None:
    lines = demo_bytes.splitlines(keepends=True)
    plain = plain_rows(pa.array(lines, pa.binary()).cast(pa.string()))
    assert plain.num_rows > 0.9 * len(lines)  # the shortcut is taken for the common line
    assert_same(*both_ways(demo_bytes))


ODD_LINES = [
    b'{"id":"a","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","actor":"r2"}\n',  # repeated key
    b'{"id":"b","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","attrs":{"x":1,"x":2}}\n',
    b'{"id":"c","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","attrs":{"b":1,"a":2}}\n',  # unsorted
    b'{"id":"d","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","attrs":{"v":1e5,"w":0.00001}}\n',
    b'{"id":"e","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","attrs":{"v":-0,"w":12345678901234567890}}\n',
    b'{"id":"f","ts":"2026-01-05T24:00:00Z","type":"email_sent","actor":"r1"}\n',  # hour 24
    b'{"id":"g","ts":"2026-02-30T10:00:00Z","type":"email_sent","actor":"r1"}\n',  # no such day
    b'{"id":"h","ts":"2026-01-05T10:00:60Z","type":"email_sent","actor":"r1"}\n',  # leap second
    b'{"id":"i","ts":"2026-01-05T10:00:00.1234567890Z","type":"email_sent","actor":"r1"}\n',  # long fraction
    b'{"id":"j","ts":"2026-01-05","type":"email_sent","actor":"r1"}\n',  # a bare date
    b'{"id":" k","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1"}\n',  # leading blank
    b'{"id":"l","ts":"2026-01-05T10:00:00+02:00","type":"email_sent","actor":"r1"}\n',  # an offset
    b'{"id":"m","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","extra":1}\n',  # unknown field
    b'{"id":"n","ts":"2026-01-05T10:00:00Z","type":"team_member_added","actor":"hr"}\n',  # needs manager, rep
    b'{"id":"o","ts":"2026-01-05T10:00:00Z","type":"call_logged","actor":"r1","attrs":{"duration_s":"long"}}\n',
    b'{"id":"p","ts":"2026-01-05T10:00:00Z","type":"call_logged","actor":"r1","attrs":{"outcome":"maybe"}}\n',
    b'{"id":"q","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","actor_role":"boss"}\n',
    b'{"id":"r","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","attrs":[]}\n',
    b'{"id":"s","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","attrs":{"n":{"deep":1}}}\n',
    b'{"id":"t","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r\\u00e9"}\n',  # an escape
    '{"id":"u","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"Zoë"}\n'.encode(),  # non-ASCII id
    b'{"id":"v","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","manager":null,"attrs":null}\n',
    b'{"id":"w","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","attrs":{"t":"a \\"quoted\\" {x}"}}\n',
    b'{"id":"x","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","source":{"system":"sf","id":7}}\n',
    b"   \n",
    b"\r\n",
    b"[1, 2]\n",
    b'{"id": "y", "ts": "2026-01-05T10:00:00Z", "type": "email_sent", "actor": "r1", "attrs": { }}\r\n',
    b'{"id":"z","ts":"2026-01-05T10:00:00Z","type":"deal_stage_changed","actor":"r1","attrs":{"probability":0.4}}\n',
    b'{"id":"a2","ts":"2026-01-05T10:00:00Z","type":"deal_stage_changed","actor":"r1","attrs":{"probability":1.0}}\n',
    b'{"id":"a3","ts":"2026-01-05T10:00:00Z","type":"quota_result","actor":"ops","attrs":{"attainment":1e400}}\n',
    b'{"id":"a4","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1","attrs":{"d":"2026-13-01"}}\n',
    b'{"id":"a","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1"}\n',  # an id used above
    b'{"id":"a5","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1"}\n',
    b'{"id":"a5","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1"}\n',  # an exact repeat
    b'{"id":"a6","ts":"2026-01-05T10:00:00Z","type":"email_sent","actor":"r1"',  # cut off, no newline
]


def test_odd_lines_get_the_per_line_verdicts() -> None:
    judged, exact = both_ways(b"".join(ODD_LINES))
    assert_same(judged, exact)
    assert exact.problems  # the list holds lines the contract refuses


def test_a_chunk_that_is_not_utf8_is_judged_line_by_line() -> None:
    data = b"".join(ODD_LINES[-4:-1]) + b'{"id":"bad","ts":"2026-01-05T10:00:00Z","type":"x","actor":"\xff"}\n'
    assert_same(*both_ways(data))


def _numbered(records: list[dict[str, Any]]) -> Iterator[str]:
    for i, record in enumerate(records):
        yield json.dumps(record, ensure_ascii=i % 2 == 1, sort_keys=i % 3 != 0) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_records, max_size=8))
def test_generated_records_get_the_same_rows_and_verdicts(records: list[dict[str, Any]]) -> None:
    data = "".join(_numbered(records)).encode("utf-8", "surrogatepass")
    assert_same(*both_ways(data))
