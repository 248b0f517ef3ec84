"""Parquet input (issue 13): the same events in a columnar file are judged exactly as in JSONL."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import engine
from engine.errors import InputError
from engine.ingest import load_events, write_rejects
from tests.helpers import ev

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "events.jsonl.gz"
TEXT_COLUMNS = ["id", "ts", "type", "actor", "actor_role", "manager", "rep", "deal", "attrs", "source"]


def as_parquet(records: list[dict[str, Any]], path: Path, **replace: pa.Array) -> Path:
    """The records as a Parquet file: envelope fields as text, attrs and source as JSON text."""
    data: dict[str, list[Any]] = {name: [] for name in TEXT_COLUMNS}
    for record in records:
        for name in TEXT_COLUMNS:
            value = record.get(name)
            if name in ("attrs", "source") and value is not None:
                value = json.dumps(value)
            data[name].append(value)
    table = pa.table({name: pa.array(values, pa.string()) for name, values in data.items()})
    for name, array in replace.items():
        table = table.set_column(table.column_names.index(name), name, array)
    pq.write_table(table, path)
    return path


def summary(report: engine.Report) -> list[tuple[Any, ...]]:
    return [
        (f.rule, f.manager, f.rep, f.deal, f.window_start, f.window_end, f.metrics, f.evidence, f.severity)
        for f in report.findings
    ]


def test_the_demo_log_as_parquet_gives_the_same_table_and_findings(tmp_path: Path) -> None:
    with gzip.open(DEMO, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    path = as_parquet(records, tmp_path / "demo.parquet")
    from_jsonl, from_parquet = load_events([str(DEMO)]), load_events([str(path)])
    assert from_parquet.table.num_rows == from_jsonl.table.num_rows == len(records)
    columns = [c for c in from_jsonl.table.column_names if c != "file"]  # same rows, same line numbers
    assert from_parquet.table.select(columns).equals(from_jsonl.table.select(columns))
    first, second = engine.check([str(DEMO)]), engine.check([str(path)])
    assert summary(first) == summary(second) and len(first.findings) > 5


def test_a_timestamp_column_is_read_as_utc(tmp_path: Path) -> None:
    records = [ev("e1", "2026-01-05 10:00", "email_sent", "r1"), ev("e2", "2026-01-06 11:30", "email_sent", "r1")]
    stamps = pa.array(
        [datetime(2026, 1, 5, 10, tzinfo=timezone.utc), datetime(2026, 1, 6, 11, 30)], pa.timestamp("us", tz=None)
    )
    typed = load_events([str(as_parquet(records, tmp_path / "typed.parquet", ts=stamps))])
    text = load_events([str(as_parquet(records, tmp_path / "text.parquet"))])
    assert typed.table.column("ts").equals(text.table.column("ts"))


def test_bad_rows_are_reported_at_their_row_and_written_to_rejects_as_json_lines(tmp_path: Path) -> None:
    records = [
        ev("ok-1", "2026-01-05 10:00", "email_sent", "r1"),
        {"id": "bad-ts", "ts": "yesterday", "type": "email_sent", "actor": "r1"},
        ev("ok-2", "2026-01-05 11:00", "email_sent", "r1"),
        {"id": "bad-attrs", "ts": "2026-01-05T12:00:00Z", "type": "email_sent", "actor": "r1"},
    ]
    path = as_parquet(records, tmp_path / "log.parquet")
    table = pq.read_table(path)
    attrs = pa.array([None, None, None, '{"a": 1, "a": 2}'], pa.string())
    pq.write_table(table.set_column(table.column_names.index("attrs"), "attrs", attrs), path)
    loaded = load_events([str(path)])
    assert loaded.read == 4 and loaded.evaluated == 2
    where = [(p.line, p.message) for p in loaded.problems]
    assert [line for line, _ in where] == [2, 4]
    assert "ts" in where[0][1] and "duplicate key" in where[1][1]
    rejects = tmp_path / "rejects.jsonl"
    write_rejects(str(rejects), loaded.problems)
    written = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [w["line"] for w in written] == [2, 4]
    assert json.loads(written[0]["raw"]) == records[1]  # the row as the JSON line it stands for
    assert json.loads(written[1]["raw"])["attrs"] == '{"a": 1, "a": 2}'  # kept as the cell held it


def test_unknown_columns_and_stdin_are_refused_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "extra.parquet"
    pq.write_table(
        pa.table({"id": ["e1"], "ts": ["2026-01-05T10:00:00Z"], "type": ["x"], "actor": ["a"], "x": [1]}), path
    )
    with pytest.raises(InputError) as caught:
        load_events([str(path)])
    assert "unknown column(s) x" in str(caught.value.problems[0])
    not_parquet = tmp_path / "broken.parquet"
    not_parquet.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError) as caught:
        load_events([str(not_parquet)])
    assert "not a readable Parquet file" in caught.value.problems[0].message


# ------------------------------------------------------------------ DuckDB's judgement of whole columns

_HOSTILE_CELLS: list[dict[str, Any]] = [
    {"id": 'quo"te'},
    {"id": "back\\slash"},
    {"id": "ctl\x01"},
    {"id": "tab\there"},
    {"id": " lead"},
    {"id": ""},
    {"id": "Zoë"},
    {"actor": "r\u00e9"},
    {"ts": "2026-02-30T10:00:00Z"},
    {"ts": "2026-01-05T10:00:00+02:00"},
    {"ts": "2026-01-05"},
    {"ts": "2026-01-05T10:00:00.1234567Z"},
    {"ts": ""},
    {"actor_role": "boss"},
    {"type": "team_member_added"},
    {"type": "call_logged", "attrs": {"duration_s": "long"}},
    {"type": "call_logged", "attrs": {"outcome": "maybe"}},
    {"attrs": {"b": 1, "a": 2}},
    {"attrs": {"v": 1e5, "w": 0.00001}},
    {"attrs": {"v": 12345678901234567890}},
    {"attrs": {"n": {"deep": 1}}},
    {"attrs": {"t": 'a "quoted" {x}'}},
    {"attrs": {"list": [1, "two", None]}},
    {"attrs": {"ünï": "cödé"}},
    {"attrs": {}},
    {"source": {"system": "salesforce", "record_id": "006A"}},
    {"source": {"z": 1, "a": 2}},
]
_BAD_TEXT = ["{not json", "[1, 2]", "null", "", '{"a": 1, "a": 2}', '  {"a": 1}', '{"a":1}']


def _hostile_table(count: int) -> pa.Table:
    """``count`` rows cycling through plain rows, hostile cells and bad JSON text in attrs and source."""
    records = []
    for index in range(count):
        record: dict[str, Any] = {"id": f"e{index}", "ts": "2026-01-05T10:00:00Z", "type": "email_sent"}
        record["actor"] = "r1"
        if index % 3 == 1:
            record.update(_HOSTILE_CELLS[(index // 3) % len(_HOSTILE_CELLS)])
        records.append(record)
    data: dict[str, list[Any]] = {name: [] for name in TEXT_COLUMNS}
    for index, record in enumerate(records):
        for name in TEXT_COLUMNS:
            value = record.get(name)
            if name in ("attrs", "source") and value is not None:
                value = json.dumps(value, ensure_ascii=index % 2 == 0)
            if name == "attrs" and index % 7 == 5:
                value = _BAD_TEXT[index % len(_BAD_TEXT)]
            data[name].append(value)
    return pa.table({name: pa.array(values, pa.string()) for name, values in data.items()})


def _both_ways(path: Path) -> tuple[Any, Any]:
    from unittest import mock

    from engine.ingest import loader as loader_module
    from engine.ingest.sqlfast import SqlChunk

    judge = SqlChunk.judge_columns

    def nothing(self: SqlChunk, batch: pa.RecordBatch, first_line: int) -> str:
        return judge(self, batch.slice(0, 0), first_line)

    with mock.patch.object(loader_module, "SQL_MIN_LINES", 1):
        judged = load_events([str(path)], raise_input_errors=False)
        with mock.patch.object(SqlChunk, "judge_columns", nothing):
            exact = load_events([str(path)], raise_input_errors=False)
    return judged, exact


@pytest.mark.parametrize("drop", [(), ("manager", "rep", "deal", "source"), ("actor_role", "attrs")])
def test_duckdb_judges_columns_exactly_as_the_row_path(tmp_path: Path, drop: tuple[str, ...]) -> None:
    table = _hostile_table(400)
    table = table.drop_columns(list(drop)) if drop else table
    path = tmp_path / "hostile.parquet"
    pq.write_table(table, path, row_group_size=150)
    judged, exact = _both_ways(path)
    assert judged.table.equals(exact.table)
    assert judged.problems == exact.problems
    assert (judged.read, judged.evaluated, judged.warnings) == (exact.read, exact.evaluated, exact.warnings)
    assert 0 < len(exact.problems) < exact.read and exact.table.num_rows > 250


def test_the_demo_log_as_parquet_is_mostly_judged_by_duckdb(tmp_path: Path) -> None:
    from engine.ingest.sqlfast import SqlChunk

    with gzip.open(DEMO, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    path = as_parquet(records, tmp_path / "demo.parquet")
    batch = pq.read_table(path).to_batches()[0]
    judge = SqlChunk()
    try:
        table = judge.judge_columns(batch, 1)
        assert len(judge.lines(table)) > 0.9 * batch.num_rows
    finally:
        judge.close()
    judged, exact = _both_ways(path)
    assert judged.table.equals(exact.table)
