"""Ingestion: inputs of every shape in, one event table and exact problems out.

Every test writes its own small inputs into tmp_path, so the expected rows and
messages can be read straight off the test.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic_core import from_json

from engine.errors import Problem, SalesmirrorError
from engine.events import (
    Event,
    TimestampError,
    event_json_schema,
    parse_timestamp,
    schema_text,
    validate_event,
)
from engine.ingest import (
    EVENT_SCHEMA,
    InputError,
    InputProblem,
    LoadResult,
    load_events,
    load_records,
    write_rejects,
)
from engine.ingest.fast import fast_row
from engine.ingest.roster import row_id
from engine.vocab import EVENT_TYPES, ROLES

REPO = Path(__file__).resolve().parents[1]
UTC = timezone.utc


# ------------------------------------------------------------------ helpers


def ev(**fields: Any) -> dict[str, Any]:
    """A valid event; keyword arguments override or add fields (None removes one)."""
    base: dict[str, Any] = {
        "id": "ev-1",
        "ts": "2026-01-05T10:00:00Z",
        "type": "email_sent",
        "actor": "rep-1",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def jsonl(tmp_path: Path, name: str, *objs: Any) -> str:
    return write(tmp_path, name, "".join(line(o) + "\n" for o in objs))


def check_counts(result: LoadResult) -> None:
    assert result.read == result.evaluated + len(result.problems)


def rows(result: LoadResult) -> list[dict[str, Any]]:
    return list(result.table.to_pylist())


def one_problem(tmp_path: Path, text: str) -> InputProblem:
    """Load a one-line JSONL file that must be refused; return its problem."""
    path = write(tmp_path, "one.jsonl", text + "\n")
    result = load_events([path])
    check_counts(result)
    assert result.read == 1 and result.evaluated == 0, result.problems
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.path == path and problem.line == 1 and problem.raw == text
    return problem


# ------------------------------------------------------------------ the table


def test_valid_jsonl_becomes_typed_rows(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        "a.jsonl",
        ev(
            id="ev-1",
            ts="2026-01-05T12:00:00+02:00",
            type="team_meeting",
            actor="mgr-1",
            actor_role="manager",
            manager="mgr-1",
            attrs={"focus": "pipeline", "b": [1, {"z": 1, "a": "ü"}], "a": None},
            source={"system": "salesforce", "record_id": "00T1", "object": "Task"},
        ),
        ev(id="ev-2", type="call_logged", rep="rep-1", deal="D-1", attrs={"duration_s": 61.5}),
    )
    result = load_events([path])
    assert result.table.schema == EVENT_SCHEMA
    assert EVENT_SCHEMA.names == [
        "seq",
        "id",
        "ts",
        "type",
        "actor",
        "actor_role",
        "manager",
        "rep",
        "deal",
        "attrs",
        "source",
        "file",
        "line",
    ]
    assert rows(result) == [
        {
            "seq": 0,
            "id": "ev-1",
            "ts": datetime(2026, 1, 5, 10, 0),
            "type": "team_meeting",
            "actor": "mgr-1",
            "actor_role": "manager",
            "manager": "mgr-1",
            "rep": None,
            "deal": None,
            "attrs": '{"a":null,"b":[1,{"a":"ü","z":1}],"focus":"pipeline"}',
            "source": '{"object":"Task","record_id":"00T1","system":"salesforce"}',
            "file": path,
            "line": 1,
        },
        {
            "seq": 1,
            "id": "ev-2",
            "ts": datetime(2026, 1, 5, 10, 0),
            "type": "call_logged",
            "actor": "rep-1",
            "actor_role": None,
            "manager": None,
            "rep": "rep-1",
            "deal": "D-1",
            "attrs": '{"duration_s":61.5}',
            "source": None,
            "file": path,
            "line": 2,
        },
    ]
    assert (result.read, result.evaluated, result.problems, result.warnings) == (2, 2, [], [])


def test_ts_column_is_naive_utc_microseconds(tmp_path: Path) -> None:
    path = jsonl(tmp_path, "a.jsonl", ev())
    ts_type = load_events([path]).table.schema.field("ts").type
    assert ts_type == pa.timestamp("us") and ts_type.tz is None


def test_empty_input_gives_empty_table_with_schema(tmp_path: Path) -> None:
    result = load_events([write(tmp_path, "empty.jsonl", "\n  \n")])
    assert result.table.num_rows == 0
    assert result.table.schema == EVENT_SCHEMA
    assert (result.read, result.evaluated, result.problems) == (0, 0, [])
    assert load_events([]).table.schema == EVENT_SCHEMA


# ------------------------------------------------------------------ timestamps


def test_mixed_offsets_normalise_to_the_same_instant(tmp_path: Path) -> None:
    stamps = [
        "2026-01-05T10:00:00Z",
        "2026-01-05T12:00:00+02:00",
        "2026-01-05T04:30:00-05:30",
        "2026-01-05t10:00:00z",
        "2026-01-05 10:00:00+00:00",
        "2026-01-05T10:00:00.000000Z",
        "2026-01-06T00:00:00+14:00",
        "2026-01-04T22:00:00-12:00",
    ]
    path = jsonl(tmp_path, "a.jsonl", *(ev(id=f"e{i}", ts=s) for i, s in enumerate(stamps)))
    result = load_events([path])
    assert result.problems == []
    assert {r["ts"] for r in rows(result)} == {datetime(2026, 1, 5, 10, 0)}


def test_date_only_is_midnight_utc_and_fractions_are_kept(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        "a.jsonl",
        ev(id="d", ts="2026-03-01"),
        ev(id="f3", ts="2026-03-01T10:00:00.5Z"),
        ev(id="f9", ts="2026-03-01T10:00:00.123456789+01:00"),
        ev(id="crossday", ts="2026-03-01T01:00:00+03:00"),
    )
    got = {r["id"]: r["ts"] for r in rows(load_events([path]))}
    assert got == {
        "d": datetime(2026, 3, 1),
        "f3": datetime(2026, 3, 1, 10, 0, 0, 500000),
        "f9": datetime(2026, 3, 1, 9, 0, 0, 123456),  # truncated to µs
        "crossday": datetime(2026, 2, 28, 22, 0),
    }


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(None)),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
    st.sampled_from(["T", "t", " "]),
)
def test_parse_timestamp_agrees_with_datetime(local: datetime, minutes: int, sep: str) -> None:
    offset = timezone(timedelta(minutes=minutes))
    aware = local.replace(tzinfo=offset)
    text = aware.isoformat(sep=sep)
    expected = (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert parse_timestamp(text) == expected
    if minutes == 0:
        assert parse_timestamp(text.replace("+00:00", "Z")) == expected


def test_timestamp_shortcut_accepts_nothing_the_full_parse_refuses() -> None:
    """The parse caches dates and times of day it has seen; near misses of a cached
    value must still be refused."""
    assert parse_timestamp("2026-01-05T10:00:00Z") == parse_timestamp("2026-01-05T10:00:00+00:00")
    assert parse_timestamp("2026-01-05T10:00:00.25Z") - parse_timestamp("2026-01-05") == (
        10 * 3600 * 1_000_000 + 250_000
    )
    for bad in [
        "2026-01-05T10:00:00.Z",
        "2026-01-05T10:00:00.\u0663Z",  # an Arabic-Indic digit
        "2026-01-05T10:00:00xZ",
        "2026-01-05T10:00:00.5.5Z",
        "2026-01-05T10:00:00ZZ",
        "2026-01-05X10:00:00Z",
    ]:
        with pytest.raises(TimestampError):
            parse_timestamp(bad)


# ------------------------------------------------------------------ messages, one per rule

MESSAGES = [
    (
        '{"id": "e1", "ts": "2026-01-05T10:00:00Z" "type": "x"}',
        "invalid JSON: Expecting ',' delimiter (column 43)",
    ),
    ("{bad", "invalid JSON: Expecting property name enclosed in double quotes (column 2)"),
    ('{"id": "e1"} {}', "invalid JSON: Extra data (column 14)"),
    ('{"id": "e1", "ts": NaN}', "invalid JSON: NaN is not allowed (numbers must be finite)"),
    ("[1, 2]", "expected a JSON object, got an array"),
    ('"text"', "expected a JSON object, got a string"),
    ("42", "expected a JSON object, got a number"),
    ("true", "expected a JSON object, got a boolean"),
    ("null", "expected a JSON object, got null"),
    (line(ev(actor=None)), "missing required field 'actor'"),
    (
        line({"type": "email_sent"}),
        "missing required field 'id'; missing required field 'ts'; missing required field 'actor'",
    ),
    (line(ev(actor=12)), "field 'actor' must be a non-empty string, got 12"),
    (line(ev(id="")), "field 'id' must be a non-empty string, got ''"),
    (line(ev(type="   ")), "field 'type' must be a non-empty string, got '   '"),
    (line(ev(rep=True)), "field 'rep' must be a non-empty string, got true"),
    (line(ev(deal=["D-1"])), "field 'deal' must be a non-empty string, got [\"D-1\"]"),
    (line(ev(mananger="mgr-1")), "unknown field 'mananger' (did you mean 'manager'?)"),
    (line(ev(timestamp="x")), "unknown field 'timestamp' (did you mean 'ts'?)"),
    (line(ev(duration_s=30)), "unknown field 'duration_s' (did you mean 'attrs.duration_s'?)"),
    (line(ev(colour="red")), "unknown field 'colour' (custom data belongs under 'attrs')"),
    (line(ev(ts="2026-13-01")), "field 'ts' is not an RFC 3339 timestamp or date: '2026-13-01'"),
    (
        line(ev(ts="2026-02-30T10:00:00Z")),
        "field 'ts' is not an RFC 3339 timestamp or date: '2026-02-30T10:00:00Z'",
    ),
    (
        line(ev(ts="2026-01-05T10:00Z")),
        "field 'ts' is not an RFC 3339 timestamp or date: '2026-01-05T10:00Z'",
    ),
    (
        line(ev(ts="2026-01-05T10:00:00+0100")),
        "field 'ts' is not an RFC 3339 timestamp or date: '2026-01-05T10:00:00+0100'",
    ),
    (
        line(ev(ts="2026-01-05T25:00:00Z")),
        "field 'ts' is not an RFC 3339 timestamp or date: '2026-01-05T25:00:00Z'",
    ),
    (
        line(ev(ts="2026-01-05T10:00:00")),
        "field 'ts' has no timezone offset: '2026-01-05T10:00:00' (add Z or +hh:mm)",
    ),
    (
        line(ev(ts="0001-01-01T00:00:00+01:00")),
        "field 'ts' is out of range (years 1 to 9999 in UTC): '0001-01-01T00:00:00+01:00'",
    ),
    (
        line(ev(ts=1767607200)),
        "field 'ts' must be a string (RFC 3339 timestamp or date), got 1767607200",
    ),
    (
        line(ev(actor_role="boss")),
        ("field 'actor_role' must be one of rep, manager, executive, marketing, ops, other, got 'boss'"),
    ),
    (line(ev(type="team_member_added", manager="mgr-1")), "team_member_added needs field 'rep'"),
    (
        line(ev(type="team_member_removed")),
        "team_member_removed needs field 'manager'; team_member_removed needs field 'rep'",
    ),
    (
        line(ev(type="team_meeting", attrs={"focus": "moral"})),
        ("attrs.focus must be one of skills, pipeline, product, morale, admin, activity, got 'moral'"),
    ),
    (
        line(ev(type="deal_closed_won", attrs={"amount": "lots"})),
        "attrs.amount must be a number, got 'lots'",
    ),
    (
        line(ev(type="deal_closed_won", attrs={"amount": True})),
        "attrs.amount must be a number, got true",
    ),
    (
        line(ev(type="activity_mandate_set", attrs={"quota": 2.5})),
        "attrs.quota must be an integer, got 2.5",
    ),
    (
        line(ev(type="call_listened", attrs={"feedback_given": "yes"})),
        "attrs.feedback_given must be true or false, got 'yes'",
    ),
    (line(ev(type="kpi_set", attrs={"kpis": "calls"})), "attrs.kpis must be a list, got 'calls'"),
    (line(ev(type="coaching_session", attrs={"topic": 5})), "attrs.topic must be a string, got 5"),
    (
        line(ev(type="close_date_pushed", attrs={"to": "soon"})),
        "attrs.to must be a date (YYYY-MM-DD) or RFC 3339 timestamp, got 'soon'",
    ),
    (line(ev(source="salesforce")), "field 'source' must be an object"),
    (line(ev(source=[1])), "field 'source' must be an object"),
    (line(ev(attrs=[1])), "field 'attrs' must be an object"),
    (
        '{"id": "e1", "ts": "2026-01-05", "type": "x", "actor": "\\ud800"}',
        "field 'actor' contains a lone surrogate (not valid Unicode)",
    ),
    (
        '{"id": "e1", "ts": "2026-01-05", "type": "x", "actor": "a", "attrs": {"k": "\\udfff"}}',
        "field 'attrs' contains a lone surrogate (not valid Unicode)",
    ),
    (
        '{"id": "e1", "ts": "2026-01-05", "type": "x", "actor": "a", "attrs": {"k": 1e999}}',
        "field 'attrs' holds a non-finite number (NaN or Infinity)",
    ),
    # every problem of a line, in one message
    (
        line(
            {
                "id": 7,
                "ts": "2026-01-05T10:00:00",
                "type": "team_meeting",
                "rep": "",
                "mananger": "m",
                "attrs": {"focus": "moral"},
            }
        ),
        (
            "field 'id' must be a non-empty string, got 7; "
            "field 'ts' has no timezone offset: '2026-01-05T10:00:00' (add Z or +hh:mm); "
            "missing required field 'actor'; field 'rep' must be a non-empty string, got ''; "
            "unknown field 'mananger' (did you mean 'manager'?); "
            "attrs.focus must be one of skills, pipeline, product, morale, admin, activity, "
            "got 'moral'"
        ),
    ),
]


@pytest.mark.parametrize(("text", "message"), MESSAGES, ids=[m for _, m in MESSAGES])
def test_problem_messages(tmp_path: Path, text: str, message: str) -> None:
    problem = one_problem(tmp_path, text)
    assert problem.message == message
    assert str(problem) == f"{problem.path}:1: {message}"


def test_known_attrs_are_checked_only_when_present(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        "a.jsonl",
        ev(id="a", type="deal_closed_won"),
        ev(id="b", type="deal_closed_won", attrs={"amount": None, "note": {"x": [1]}}),
        ev(id="c", type="deal_closed_won", attrs={"amount": 5}),
        ev(id="d", type="close_date_pushed", attrs={"to": "2026-02-01", "from": "2026-01-05"}),
        ev(id="e", type="close_date_pushed", attrs={"to": "2026-02-01T00:00:00Z"}),
        ev(id="f", type="commission_split_adjusted", attrs={"split": {"a": 0.5}}),
        ev(id="g", type="team_member_added", manager="m", rep="r", attrs={"role": "rep"}),
    )
    result = load_events([path])
    assert result.problems == [] and result.evaluated == 7


def test_blank_lines_bom_crlf_and_bad_utf8(tmp_path: Path) -> None:
    content = (
        b"\xef\xbb\xbf" + line(ev(id="a")).encode() + b"\r\n"
        b"\n   \t\n" + line(ev(id="b")).encode() + b"\r\n"
        b'{"id": "c", "actor": "caf\xe9"}\r\n' + line(ev(id="d")).encode()  # no final newline
    )
    path = write(tmp_path, "a.jsonl", content)
    result = load_events([path])
    check_counts(result)
    assert (result.read, result.evaluated) == (4, 3)
    assert [(r["id"], r["line"]) for r in rows(result)] == [("a", 1), ("b", 4), ("d", 6)]
    (problem,) = result.problems
    assert str(problem) == f"{path}:5: line is not valid UTF-8"
    assert problem.raw == '{"id": "c", "actor": "caf\\xe9"}'


# ------------------------------------------------------------------ duplicate ids


def test_duplicate_ids_with_different_content_refuse_every_holder(tmp_path: Path) -> None:
    # No record "comes first": each one holding the id is refused and names the others.
    path = jsonl(
        tmp_path, "a.jsonl", ev(id="ev-1"), ev(id="ev-3"), ev(id="ev-2"), ev(id="ev-3", actor="rep-2"), ev(id="ev-3")
    )
    result = load_events([path])
    check_counts(result)
    assert [str(p) for p in result.problems] == [
        f"{path}:2: duplicate id 'ev-3' with different content (also at {path}:4, {path}:5)",
        f"{path}:4: duplicate id 'ev-3' with different content (also at {path}:2, {path}:5)",
        f"{path}:5: duplicate id 'ev-3' with different content (also at {path}:2, {path}:4)",
    ]
    assert [p.raw for p in result.problems] == [line(ev(id="ev-3")), line(ev(id="ev-3", actor="rep-2"))] + [
        line(ev(id="ev-3"))
    ]
    assert [r["id"] for r in rows(result)] == ["ev-1", "ev-2"]
    assert (result.read, result.evaluated) == (5, 2)


def test_exact_duplicates_are_kept_once(tmp_path: Path) -> None:
    # The same event twice (an export given twice, spelt differently): one event, both lines evaluated.
    first = jsonl(tmp_path, "a.jsonl", ev(id="x", attrs={"n": 1, "m": 2}), ev(id="y"))
    again = write(
        tmp_path,
        "b.jsonl",
        '{"attrs": {"m": 2, "n": 1}, "actor": "rep-1", "type": "email_sent", "ts": "2026-01-05T11:00:00+01:00",'
        ' "id": "x"}\n',
    )
    result = load_events([first, again])
    check_counts(result)
    assert result.problems == []
    assert (result.read, result.evaluated) == (3, 3)
    assert [(r["seq"], r["id"], r["file"], r["line"]) for r in rows(result)] == [(0, "x", first, 1), (1, "y", first, 2)]
    assert result.warnings == ["1 repeated event (same id, same content) kept once"]


def test_duplicate_id_across_files_and_with_other_problems(tmp_path: Path) -> None:
    first = jsonl(tmp_path, "a.jsonl", ev(id="x", actor=None), ev(id="x"))
    second = jsonl(tmp_path, "b.jsonl", ev(id="y"), ev(id="x", actor_role="boss"))
    result = load_events([first, second])
    check_counts(result)
    # a refused record does not claim the id, but its problem names who does
    assert [str(p) for p in result.problems] == [
        f"{first}:1: missing required field 'actor'; duplicate id 'x' (also at {first}:2)",
        (
            f"{second}:2: field 'actor_role' must be one of rep, manager, executive, marketing, "
            f"ops, other, got 'boss'; duplicate id 'x' (also at {first}:2)"
        ),
    ]
    assert [(r["id"], r["file"], r["line"]) for r in rows(result)] == [
        ("x", first, 2),
        ("y", second, 1),
    ]


# ------------------------------------------------------------------ custom types


def test_custom_type_is_kept_and_warned_about_once(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        "a.jsonl",
        ev(id="1", type="foo_bar", attrs={"anything": "goes"}),
        ev(id="2", type="foo_bar"),
        ev(id="3", type="zzz_custom"),
        ev(id="4", type="foo_bar"),
        ev(id="5", type="team_meetng", attrs={"focus": "not-checked"}),
        ev(id="6", type="foo_bar", actor=None),  # refused: not counted
    )
    result = load_events([path])
    assert result.evaluated == 5
    assert result.warnings == [
        "custom event type 'foo_bar' (3 events) is kept; only custom rules match it",
        (
            "custom event type 'team_meetng' (1 event) is kept; only custom rules match it "
            "(did you mean 'team_meeting'?)"
        ),
        "custom event type 'zzz_custom' (1 event) is kept; only custom rules match it",
    ]


# ------------------------------------------------------------------ CSV


def test_csv_columns_extra_columns_and_coercion(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.csv",
        "id,ts,type,actor,actor_role,manager,rep,deal,amount,with_customer,participants,"
        "quota,note\n"
        "c1,2026-01-05T10:00:00Z,deal_closed_won,mgr-1,manager,mgr-1,rep-1,D-1,1200.50,,,,"
        "big one\n"
        "c2,2026-01-05,meeting_held,rep-1,,,,,,Yes,a; b ;;c,,\n"
        'c3,2026-01-05,meeting_held,rep-1,,,,,,0,"[""x"",1]",,\n'
        "c4,2026-01-05,activity_mandate_set,mgr-1,,,,,,,,25,\n"
        "c5,2026-01-05,custom_thing,rep-1,,,,,17,no,a;b,3,\n"
        "c6,2026-01-05,deal_created,rep-1,,,,,1e3,,,,\n",
    )
    result = load_events([path])
    assert result.problems == []
    got = {r["id"]: (r["attrs"], r["actor_role"], r["manager"], r["deal"]) for r in rows(result)}
    assert got == {
        "c1": ('{"amount":1200.5,"note":"big one"}', "manager", "mgr-1", "D-1"),
        "c2": ('{"participants":["a","b","c"],"with_customer":true}', None, None, None),
        "c3": ('{"participants":["x",1],"with_customer":false}', None, None, None),
        "c4": ('{"quota":25}', None, None, None),
        # unknown type: extra columns stay text
        "c5": (
            '{"amount":"17","participants":"a;b","quota":"3","with_customer":"no"}',
            None,
            None,
            None,
        ),
        "c6": ('{"amount":1000.0}', None, None, None),
    }
    assert [r["line"] for r in rows(result)] == [2, 3, 4, 5, 6, 7]


def test_csv_and_jsonl_give_identical_rows(tmp_path: Path) -> None:
    csv_path = write(
        tmp_path,
        "a.csv",
        "id,ts,type,actor,duration_s,outcome,source\n"
        'e1,2026-01-05T11:00:00+01:00,call_logged,rep-1,30,connected,"{""system"":""x""}"\n',
    )
    json_path = jsonl(
        tmp_path,
        "b.jsonl",
        ev(
            id="e1",
            ts="2026-01-05T10:00:00Z",
            type="call_logged",
            attrs={"outcome": "connected", "duration_s": 30},
            source={"system": "x"},
        ),
    )
    a, b = rows(load_events([csv_path])), rows(load_events([json_path]))
    for row in (*a, *b):
        del row["file"], row["line"]
    assert a == b


def test_csv_attrs_and_source_json_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.csv",
        "id,ts,type,actor,attrs,source,focus\n"
        'c1,2026-01-05,team_meeting,m,"{""n"": 2}","{""system"": ""hub""}",skills\n'
        'c2,2026-01-05,team_meeting,m,"{""focus"": ""admin""}",,skills\n'
        'c3,2026-01-05,team_meeting,m,"{""n"": ",,\n'
        "c4,2026-01-05,team_meeting,m,[1],salesforce,\n"
        "c5,2026-01-05,team_meeting,m,,,moral\n",
    )
    result = load_events([path])
    check_counts(result)
    assert [(r["id"], r["attrs"], r["source"]) for r in rows(result)] == [
        ("c1", '{"focus":"skills","n":2}', '{"system":"hub"}')
    ]
    assert [str(p) for p in result.problems] == [
        f"{path}:3: attrs.focus is given twice: in column 'attrs' and in column 'focus'",
        f"{path}:4: field 'attrs' is not valid JSON: Expecting value (column 7)",
        (f"{path}:5: field 'source' is not valid JSON: Expecting value (column 1); field 'attrs' must be an object"),
        (f"{path}:6: attrs.focus must be one of skills, pipeline, product, morale, admin, activity, got 'moral'"),
    ]
    assert result.problems[0].raw == 'c2,2026-01-05,team_meeting,m,"{""focus"": ""admin""}",,skills'


def test_csv_coercion_failures_use_the_json_messages(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.csv",
        "id,ts,type,actor,amount,quota,with_customer,kpis\n"
        "a,2026-01-05,deal_closed_won,r,lots,,,\n"
        "b,2026-01-05,activity_mandate_set,m,,2.5,,\n"
        "c,2026-01-05,meeting_held,r,,,maybe,\n"
        "d,2026-01-05,kpi_set,m,,,,[1\n"
        "e,2026-01-05,deal_closed_won,r,nan,,,\n",
    )
    result = load_events([path])
    assert [p.message for p in result.problems] == [
        "attrs.amount must be a number, got 'lots'",
        "attrs.quota must be an integer, got '2.5'",
        "attrs.with_customer must be true or false, got 'maybe'",
        "attrs.kpis must be a list, got '[1'",
        "attrs.amount must be a number, got 'nan'",
    ]


def test_csv_empty_cells_multiline_cells_and_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.csv",
        b"\xef\xbb\xbfid,ts,type,actor,text\r\n"
        b"\r\n"
        b'm1,2026-01-05,message_sent,mgr-1,"line one\r\nline two"\r\n'
        b"m2,2026-01-05,message_sent,,hi\r\n"
        b"m3,2026-01-05,message_sent,mgr-1\r\n"
        b"   \r\n"
        b'm4,2026-01-05,message_sent,mgr-1,"a\n\nb"\n'
        b"m5,2026-01-05,message_sent,mgr-1,caf\xe9\n"
        b"m6,2026-01-05,message_sent,mgr-1,ok\n",
    )
    result = load_events([path])
    check_counts(result)
    assert (result.read, result.evaluated) == (6, 3)
    assert [(r["id"], r["line"], r["attrs"]) for r in rows(result)] == [
        ("m1", 3, '{"text":"line one\\r\\nline two"}'),
        ("m4", 8, '{"text":"a\\n\\nb"}'),
        ("m6", 12, '{"text":"ok"}'),
    ]
    assert [str(p) for p in result.problems] == [
        f"{path}:5: missing required field 'actor'",
        f"{path}:6: row has 4 cells but the header has 5 columns",
        f"{path}:11: line is not valid UTF-8",
    ]
    assert result.problems[2].raw == "m5,2026-01-05,message_sent,mgr-1,caf\\xe9"


def test_malformed_csv_rows_are_problems_not_swallowed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.csv",
        "id,ts,type,actor,text\n"
        'z,2026-01-05,x,r,"a"b\n'
        "c,2026-01-05,x,r,ok\n"
        'a,2026-01-05,x,r,"never closed\n'
        "b,2026-01-05,x,r,ok\n",
    )
    result = load_events([path])
    check_counts(result)
    assert [r["id"] for r in rows(result)] == ["c"]
    assert [str(p) for p in result.problems] == [
        f"{path}:2: malformed CSV: ',' expected after '\"'",
        f"{path}:4: malformed CSV: unexpected end of data",
    ]
    assert result.problems[1].raw == 'a,2026-01-05,x,r,"never closed\nb,2026-01-05,x,r,ok'


def test_csv_header_problems_stop_the_file(tmp_path: Path) -> None:
    # The error names the header's line (after any leading blank lines).
    for content, line_no, reason in [
        ("id,ts,,actor\n", 1, "CSV header column 3 has no name"),
        ("\n\nid,ts,type,id\n", 3, "CSV header repeats column 'id'"),
        ('id,"ts\n', 1, "CSV header: malformed CSV: unexpected end of data"),
    ]:
        path = write(tmp_path, "h.csv", content)
        with pytest.raises(InputError) as info:
            load_events([path])
        assert str(info.value) == f"{path}:{line_no}: cannot read: {reason}"
        assert info.value.problems == [Problem(path, line_no, 0, f"cannot read: {reason}")]


def test_csv_column_that_looks_like_a_misspelt_field_is_warned_about(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "id,ts,type,actor,mananger\ne,2026-01-05,x,a,m\n")
    result = load_events([path])
    assert rows(result)[0]["attrs"] == '{"mananger":"m"}'
    assert f"{path}: column 'mananger' is kept as attrs.mananger (did you mean 'manager'?)" in result.warnings


# ------------------------------------------------------------------ gzip, stdin, several files


def test_gzip_by_suffix_and_by_magic_bytes(tmp_path: Path) -> None:
    body = (line(ev(id="g1")) + "\n" + line(ev(id="g2", actor=None)) + "\n").encode()
    csv_body = b"id,ts,type,actor\ng3,2026-01-05,email_sent,r\n"
    paths = [
        write(tmp_path, "a.jsonl.gz", gzip.compress(body)),
        write(tmp_path, "b.csv.gz", gzip.compress(csv_body)),
        write(tmp_path, "c.data", gzip.compress(line(ev(id="g4")).encode())),  # sniffed
        write(tmp_path, "d.jsonl", gzip.compress(line(ev(id="g5")).encode())),  # gzip anyway
    ]
    result = load_events(paths)
    check_counts(result)
    assert [r["id"] for r in rows(result)] == ["g1", "g3", "g4", "g5"]
    assert [str(p) for p in result.problems] == [f"{paths[0]}:2: missing required field 'actor'"]
    assert result.problems[0].raw == line(ev(id="g2", actor=None))


def test_unknown_extension_is_sniffed(tmp_path: Path) -> None:
    a = write(tmp_path, "a.txt", "\n\n  " + line(ev(id="s1")) + "\n")
    b = write(tmp_path, "b.log", "id,ts,type,actor\ns2,2026-01-05,email_sent,r\n")
    assert [r["id"] for r in rows(load_events([a, b]))] == ["s1", "s2"]


def test_stdin_jsonl_csv_and_gzip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = (line(ev(id="i1")) + "\n{oops\n").encode()
    result = load_events(["-"], stdin=io.BytesIO(data))
    assert [r["file"] for r in rows(result)] == ["<stdin>"]
    assert [str(p) for p in result.problems] == [
        "<stdin>:2: invalid JSON: Expecting property name enclosed in double quotes (column 2)"
    ]
    csv_data = b"id,ts,type,actor\ni2,2026-01-05,email_sent,r\n"
    assert rows(load_events(["-"], stdin=io.BytesIO(csv_data)))[0]["id"] == "i2"
    zipped = io.BytesIO(gzip.compress(csv_data))
    assert rows(load_events(["-"], stdin=zipped))[0]["id"] == "i2"

    class FakeStdin:
        buffer = io.BufferedReader(io.BytesIO(data))

    monkeypatch.setattr("sys.stdin", FakeStdin)
    assert rows(load_events(["-"]))[0]["id"] == "i1"


def test_several_files_keep_input_order(tmp_path: Path) -> None:
    a = jsonl(tmp_path, "a.jsonl", ev(id="a1", ts="2026-02-01"), ev(id="a2", ts="2026-01-01"))
    b = write(tmp_path, "b.csv", "id,ts,type,actor\nb1,2025-01-01,email_sent,r\n")
    c = jsonl(tmp_path, "c.ndjson", ev(id="c1"))
    result = load_events([a, b, c])
    assert [(r["seq"], r["id"], r["file"], r["line"]) for r in rows(result)] == [
        (0, "a1", a, 1),
        (1, "a2", a, 2),
        (2, "b1", b, 2),
        (3, "c1", c, 1),
    ]


def test_unreadable_inputs_raise_input_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match=r"nope\.jsonl: cannot read: No such file or directory") as info:
        load_events([missing])
    # one error family: the CLI shows it as it always did, on one line
    assert isinstance(info.value, SalesmirrorError)
    assert info.value.problems == [Problem(missing, 0, 0, "cannot read: No such file or directory")]
    assert info.value.report_lines() == [f"salesmirror: {missing}: cannot read: No such file or directory"]
    broken = write(tmp_path, "bad.jsonl.gz", gzip.compress(b'{"id": 1}\n' * 50)[:30])
    with pytest.raises(InputError, match=r"bad\.jsonl\.gz: cannot read: "):
        load_events([broken])


# ------------------------------------------------------------------ roster


def test_roster_rows_become_membership_events(tmp_path: Path) -> None:
    roster = write(
        tmp_path,
        "team.csv",
        "rep,manager,start,end\nrep-1,mgr-1,2026-01-01,\nrep-2,mgr-1,2026-01-01T09:00:00+01:00,2026-03-01\n",
    )
    events = jsonl(tmp_path, "a.jsonl", ev(id="e1"))
    result = load_events([events], roster=roster)
    check_counts(result)
    assert (result.read, result.evaluated, result.problems) == (3, 3, [])
    common = {"actor_role": "manager", "deal": None, "attrs": "{}", "source": None, "file": roster}
    # ids come from what a row says (rep, manager, start, end), never from where it stands
    first = row_id("rep-1", "mgr-1", parse_timestamp("2026-01-01"), None)
    second = row_id("rep-2", "mgr-1", parse_timestamp("2026-01-01T08:00:00Z"), parse_timestamp("2026-03-01"))
    assert first == "024e8c250744d664"  # pinned: ids show in reports, so they must not drift
    assert rows(result)[:3] == [
        {
            "seq": 0,
            "id": f"roster:{first}:start",
            "ts": datetime(2026, 1, 1),
            "type": "team_member_added",
            "actor": "mgr-1",
            "manager": "mgr-1",
            "rep": "rep-1",
            "line": 2,
            **common,
        },
        {
            "seq": 1,
            "id": f"roster:{second}:start",
            "ts": datetime(2026, 1, 1, 8, 0),
            "type": "team_member_added",
            "actor": "mgr-1",
            "manager": "mgr-1",
            "rep": "rep-2",
            "line": 3,
            **common,
        },
        {
            "seq": 2,
            "id": f"roster:{second}:end",
            "ts": datetime(2026, 3, 1),
            "type": "team_member_removed",
            "actor": "mgr-1",
            "manager": "mgr-1",
            "rep": "rep-2",
            "line": 3,
            **common,
        },
    ]
    assert rows(result)[3]["id"] == "e1"


def test_roster_problems(tmp_path: Path) -> None:
    roster = write(
        tmp_path,
        "team.csv",
        "Rep,Manager,Start,End,Name\n"
        "rep-1,mgr-1,2026-02-01,2026-01-01,Ann\n"
        ",mgr-1,2026-01-01,,Bo\n"
        "rep-3,  ,someday,2026-01-01T10:00:00,Cy\n"
        "rep-4,mgr-1,,,Di\n"
        "rep-5,mgr-1,2026-01-01\n"
        "rep-6,mgr-1,2026-01-01,2026-01-01,Ed\n",
    )
    taken = f"roster:{row_id('rep-6', 'mgr-1', parse_timestamp('2026-01-01'), parse_timestamp('2026-01-01'))}:start"
    events = jsonl(tmp_path, "a.jsonl", ev(id=taken))
    result = load_events([events], roster=roster)
    check_counts(result)
    assert (result.read, result.evaluated) == (7, 0)
    assert [str(p) for p in result.problems] == [
        f"{roster}:2: field 'end' ('2026-01-01') is before field 'start' ('2026-02-01')",
        f"{roster}:3: missing required field 'rep'",
        (
            f"{roster}:4: field 'manager' must be a non-empty string, got '  '; "
            "field 'start' is not an RFC 3339 timestamp or date: 'someday'; "
            "field 'end' has no timezone offset: '2026-01-01T10:00:00' (add Z or +hh:mm)"
        ),
        f"{roster}:5: missing required field 'start'",
        f"{roster}:6: row has 3 cells but the header has 5 columns",
        f"{roster}:7: duplicate id {taken!r} with different content (also at {events}:1)",
        f"{events}:1: duplicate id {taken!r} with different content (also at {roster}:7)",
    ]
    assert result.warnings == [f"{roster}: roster column 'Name' is ignored"]


def test_roster_header_must_name_its_columns(tmp_path: Path) -> None:
    roster = write(tmp_path, "team.csv", "rep,boss,start\nr,m,2026-01-01\n")
    with pytest.raises(InputError) as info:
        load_events([], roster=roster)
    assert str(info.value) == (
        f"{roster}:1: cannot read: a roster needs columns rep, manager, start (end optional); missing manager"
    )


# ------------------------------------------------------------------ rejects file


def test_write_rejects_is_verbatim_jsonl(tmp_path: Path) -> None:
    content = (
        b'{"id": "a", "ts": "2026-01-05", "type": "x"}\n'
        b"  [1, 2]  \n" + line(ev(id="b", actor="Zoë", rep="")).encode() + b"\n"
        b"\xff\xfe\n"
    )
    path = write(tmp_path, "in.jsonl", content)
    result = load_events([path])
    out = tmp_path / "rejects.jsonl"
    write_rejects(str(out), result.problems)
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")
    records = [json.loads(x) for x in text.splitlines()]
    assert [list(r) for r in records] == [["file", "line", "reason", "raw", "raw_b64"]] * 4
    # raw_b64 gives back every record's bytes exactly (see test_events_hostile.py for garbage)
    assert [base64.b64decode(r.pop("raw_b64")) for r in records] == content.splitlines()
    assert records == [
        {
            "file": path,
            "line": 1,
            "reason": "missing required field 'actor'",
            "raw": '{"id": "a", "ts": "2026-01-05", "type": "x"}',
        },
        {
            "file": path,
            "line": 2,
            "reason": "expected a JSON object, got an array",
            "raw": "  [1, 2]  ",
        },
        {
            "file": path,
            "line": 3,
            "reason": "field 'rep' must be a non-empty string, got ''",
            "raw": line(ev(id="b", actor="Zoë", rep="")),
        },
        {"file": path, "line": 4, "reason": "line is not valid UTF-8", "raw": "\\xff\\xfe"},
    ]
    assert "Zoë" in text  # not ASCII-escaped
    # the raw lines can be fed straight back in
    assert json.loads(records[0]["raw"]) == {"id": "a", "ts": "2026-01-05", "type": "x"}


def test_write_rejects_with_no_problems_writes_an_empty_file(tmp_path: Path) -> None:
    out = tmp_path / "rejects.jsonl"
    write_rejects(str(out), [])
    assert out.read_bytes() == b""


# ------------------------------------------------------------------ fast path == pydantic


def test_fast_path_handles_ordinary_events_exactly_like_the_model() -> None:
    samples = [
        ev(),
        ev(id="é-1", actor="José", rep="Zoë", manager="M", deal="D", actor_role="ops"),
        ev(type="team_meeting", attrs={"focus": "morale", "extra": [1, None]}),
        ev(type="call_logged", attrs={"duration_s": 12, "outcome": "voicemail"}, source={}),
        ev(type="team_member_added", manager="m", rep="r", attrs={}),
        ev(type="close_date_pushed", ts="2026-01-05", attrs={"to": "2026-02-01"}),
        ev(ts="2026-01-05T10:00:00.123+05:45", attrs=None, source=None),
        ev(type="custom", attrs={"nested": {"b": 1, "a": "x"}}),
    ]
    for sample in samples:
        fast = fast_row(sample)
        model, problems = validate_event(sample)
        assert problems == [] and model is not None
        assert fast is not None, sample
        assert fast == model.to_row()


_text = st.one_of(
    st.sampled_from(["a", "rep-1", "mgr-2", "", " ", "\t", " x", "Zoë", "\ud800", "x\udfff"]),
    st.text(max_size=5),
)
_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    _text,
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(_text, st.integers(0, 3), max_size=2),
)
_stamps = st.sampled_from(
    [
        "2026-01-05T10:00:00Z",
        "2026-01-05",
        "2026-01-05T10:00:00+01:00",
        "2026-01-05T10:00:00",
        "2026-02-30",
        "2026-01-05T10:00:00.1234567z",
        "x",
        "2026-01-05T10:00:00Zjunk",
    ]
)
_types = st.sampled_from([*EVENT_TYPES, "custom_type", ""])
_attrs_keys = sorted({name for spec in EVENT_TYPES.values() for name in spec} | {"other"})
_attrs_values = st.one_of(
    _value,
    st.sampled_from(["connected", "morale", "2026-01-05", "calls", "day", "team"]),
    st.lists(_text, max_size=2),
)
_odd_records = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(_text, _value),
        "ts": st.one_of(_stamps, _value),
        "type": st.one_of(_types, _value),
        "actor": st.one_of(_text, _value),
        "actor_role": st.one_of(st.sampled_from([*ROLES, "boss"]), _value),
        "manager": st.one_of(_text, _value),
        "rep": st.one_of(_text, _value),
        "deal": st.one_of(_text, _value),
        "source": st.one_of(st.dictionaries(_text, _value, max_size=2), _value),
        "attrs": st.one_of(st.dictionaries(st.sampled_from(_attrs_keys), _attrs_values, max_size=3), _value),
        "mananger": _text,
    },
)

_good_text = st.sampled_from(["a", "rep-1", "mgr-2", "Zoë", " padded ", "x\ty"])
_good_by_kind: dict[str, st.SearchStrategy[Any]] = {
    "str": st.text(max_size=4),
    "number": st.integers(-10, 10) | st.floats(allow_nan=False, allow_infinity=False),
    "int": st.integers(-10, 10),
    "bool": st.booleans(),
    "list": st.lists(st.integers(0, 3) | st.text(max_size=2), max_size=3),
    "date": st.sampled_from(["2026-01-05", "2026-01-05T10:00:00+02:00"]),
    "any": _value,
}


@st.composite
def _mostly_valid_records(draw: st.DrawFn) -> dict[str, Any]:
    """Valid events with the odd fault, so both the accept and refuse sides get exercised."""

    def pick(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any] = _value) -> Any:
        return draw(bad) if draw(st.integers(0, 9)) == 0 else draw(good)

    event_type = pick(st.sampled_from([*EVENT_TYPES, "custom_type"]))
    record: dict[str, Any] = {
        "id": pick(_good_text),
        "ts": pick(
            st.sampled_from(["2026-01-05T10:00:00Z", "2026-01-05", "2026-01-05T10:00:00.5-03:00"]),
            _stamps,
        ),
        "type": event_type,
        "actor": pick(_good_text),
    }
    for name in ("manager", "rep", "deal"):
        if draw(st.booleans()):
            record[name] = pick(_good_text | st.none())
    if draw(st.booleans()):
        record["actor_role"] = pick(st.sampled_from(ROLES) | st.none())
    if draw(st.booleans()):
        record["source"] = pick(st.dictionaries(st.text(max_size=3), _value, max_size=2))
    if draw(st.booleans()):
        spec = EVENT_TYPES.get(event_type, {}) if isinstance(event_type, str) else {}
        attrs: dict[str, Any] = {}
        for name, attr in spec.items():
            if draw(st.booleans()):
                good = st.sampled_from(attr.values) if attr.kind == "enum" else _good_by_kind[attr.kind]
                attrs[name] = pick(good | st.none(), _attrs_values)
        if draw(st.booleans()):
            attrs["custom"] = draw(_value)
        record["attrs"] = pick(st.just(attrs))
    if draw(st.integers(0, 9)) == 0:
        record.pop(draw(st.sampled_from(["id", "ts", "type", "actor"])))
    if draw(st.integers(0, 19)) == 0:
        record["mananger"] = "m"
    return record


_records = _odd_records | _mostly_valid_records()


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(_records)
def test_fast_path_never_accepts_what_the_model_refuses(record: dict[str, Any]) -> None:
    fast = fast_row(record)
    model, problems = validate_event(record)
    if fast is not None:
        assert model is not None, problems
        assert fast == model.to_row()
    if model is None:
        assert problems and all(problems)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_records, max_size=6))
def test_load_is_the_same_with_the_fast_path_switched_off(records: list[dict[str, Any]]) -> None:
    # odd records with \uXXXX escapes, even ones as raw UTF-8 (lone surrogates: bad bytes)
    text = "".join(json.dumps(r, ensure_ascii=i % 2 == 1) + "\n" for i, r in enumerate(records))
    data = text.encode("utf-8", "surrogatepass")
    normal = load_events(["-"], stdin=io.BytesIO(data))
    with mock.patch("engine.ingest.loader.fast_row", lambda record: None):
        slow = load_events(["-"], stdin=io.BytesIO(data))
    assert normal.table.equals(slow.table)
    assert normal.problems == slow.problems
    assert (normal.read, normal.evaluated, normal.warnings) == (
        slow.read,
        slow.evaluated,
        slow.warnings,
    )
    check_counts(normal)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_records, max_size=6))
def test_records_from_memory_get_the_verdicts_of_the_same_jsonl(records: list[dict[str, Any]]) -> None:
    try:  # what a file can hold: no NaN or Infinity (from memory those get their own message)
        data = "".join(json.dumps(r, allow_nan=False) + "\n" for r in records).encode("utf-8")
    except ValueError:
        assume(False)
    from_file = load_events(["-"], stdin=io.BytesIO(data))
    from_memory = load_records(records, name="<stdin>")
    assert from_memory.table.equals(from_file.table)
    assert [(p.line, p.message) for p in from_memory.problems] == [(p.line, p.message) for p in from_file.problems]
    assert (from_memory.read, from_memory.evaluated, from_memory.warnings) == (
        from_file.read,
        from_file.evaluated,
        from_file.warnings,
    )


_json_chunks = st.sampled_from(
    [c.encode() for c in '{}[]",:0123456789.eE+- \t\r\n\\/ubtrufalsn\u00e9\u00a0\x0cx']
    + [b"\\u00e9", b"\\ud800", b'\\"', b"1e400", b"-0", b"\x00", b"NaN", b"true", b"null"]
    + [b"\xff", b"\xed\xa0\x80", b"\xc0\xaf", b"\xef\xbb\xbf"]
)


@settings(max_examples=2000)
@given(st.lists(_json_chunks, max_size=30).map(b"".join))
def test_rust_json_parser_agrees_with_the_standard_one(data: bytes) -> None:
    """The loader parses with pydantic-core and asks json.loads only when that fails,
    so whatever pydantic-core accepts must be valid UTF-8 JSON with the same value."""
    try:
        fast = from_json(data, allow_inf_nan=False)
    except ValueError:
        return
    assert repr(fast) == repr(json.loads(data.decode("utf-8")))


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(
            [
                line(ev(id="dup")),
                line(ev(id="dup", actor="rep-2")),
                line(ev(actor=None)),
                "",
                "   ",
                "{",
                "[]",
                line(ev(type="foo")),
                line(ev(ts="2026-01-05T10:00:00")),
            ]
        )
        | st.builds(lambda n: line(ev(id=f"u{n}")), st.integers(0, 5)),
        max_size=12,
    )
)
def test_every_nonblank_line_is_either_evaluated_or_a_problem(lines: list[str]) -> None:
    lines = [line(ev(id="first")), *lines]  # stdin is sniffed: start with an object
    data = "\n".join(lines).encode()
    result = load_events(["-"], stdin=io.BytesIO(data))
    nonblank = [i for i, text in enumerate(lines, 1) if text.strip()]
    check_counts(result)
    assert result.read == len(nonblank)
    kept, refused = result.table["line"].to_pylist(), [p.line for p in result.problems]
    assert len(set(kept)) == len(kept) and not set(kept) & set(refused)
    # every other line repeats a kept event exactly: counted as evaluated, kept once
    merged = sorted(set(nonblank) - set(kept) - set(refused))
    assert {lines[n - 1] for n in merged} <= {lines[n - 1] for n in kept}
    assert result.evaluated == len(kept) + len(merged)
    assert refused == sorted(refused)


# ------------------------------------------------------------------ JSON Schema


def test_event_schema_file_is_up_to_date() -> None:
    committed = (REPO / "docs" / "event.schema.json").read_text(encoding="utf-8")
    assert committed == json.dumps(event_json_schema(), sort_keys=True, indent=2) + "\n"
    assert committed == schema_text()


def test_event_schema_is_printed_by_the_cli() -> None:
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, ["events", "schema"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout == (REPO / "docs" / "event.schema.json").read_text(encoding="utf-8")


def test_event_schema_describes_the_envelope() -> None:
    schema = event_json_schema()
    assert schema["required"] == ["id", "ts", "type", "actor"]
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == list(Event.model_fields)
    assert schema["properties"]["actor_role"]["anyOf"][0]["enum"] == list(ROLES)
    rules = {r["if"]["properties"]["type"]["const"]: r["then"] for r in schema["allOf"]}
    assert rules["team_member_added"]["required"] == ["manager", "rep"]
    focus = rules["team_meeting"]["properties"]["attrs"]["properties"]["focus"]
    assert focus == {"enum": ["skills", "pipeline", "product", "morale", "admin", "activity", None]}


def test_rows_converted_in_chunks_give_the_same_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are moved to Arrow in chunks to bound memory; the result must not depend on it."""
    import engine.ingest.loader as loader_module

    path = tmp_path / "many.jsonl"
    lines = [
        json.dumps(
            {
                "id": f"e{i}",
                "ts": f"2026-01-{1 + i % 28:02d}T10:00:00Z",
                "type": "email_sent",
                "actor": f"rep-{i % 3}",
                "attrs": {"n": i},
            }
        )
        for i in range(20)
    ]
    lines.insert(7, json.dumps({"id": "e3", "ts": "2026-01-05", "type": "email_sent", "actor": "rep-1"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = load_events([str(path)])
    monkeypatch.setattr(loader_module, "_CHUNK", 3)
    chunked = load_events([str(path)])
    assert chunked.table.equals(whole.table)
    assert chunked.table.num_rows == 19
    assert chunked.problems == whole.problems
    # the first e3 was in an Arrow batch long before the second came: it is refused all the same, with its text
    assert [str(p) for p in chunked.problems] == [
        f"{path}:4: duplicate id 'e3' with different content (also at {path}:8)",
        f"{path}:8: duplicate id 'e3' with different content (also at {path}:4)",
    ]
    assert [p.raw for p in chunked.problems] == [lines[3], lines[7]]
