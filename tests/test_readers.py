"""Input readers: the registry, a format added from outside, records from memory, the shared CSV reader."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.errors import ConfigError
from engine.events import parse_timestamp
from engine.ingest import (
    Entry,
    InputError,
    InputProblem,
    LoadResult,
    Source,
    load_events,
    load_records,
    register_reader,
)
from engine.ingest.csvevents import EventColumns
from engine.ingest.readers import detect_reader, get_reader, json_text, reader_names, unregister_reader
from engine.ingest.readers.csv import CsvReader
from engine.ingest.readers.jsonl import JsonlReader
from engine.ingest.roster import row_id


def ev(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "ev-1", "ts": "2026-01-05T10:00:00Z", "type": "email_sent", "actor": "rep-1"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def without_file(result: LoadResult) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "file"} for row in result.table.to_pylist()]


def problem_lines(result: LoadResult) -> list[tuple[int, str, str]]:
    return [(p.line, p.message, p.raw) for p in result.problems]


# ------------------------------------------------------------------ a format added from a test


class LogfmtReader:
    """'key=value key=value' per line; '#' lines are comments. Small, but a real format."""

    name = "logfmt"
    extensions = (".logfmt",)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"id=")

    def entries(self, source: Source) -> Iterator[Entry]:
        for lineno, raw in enumerate(source.lines, 1):
            text = raw.decode("utf-8").strip()
            if not text or text.startswith("#"):
                continue
            pairs = [part.partition("=") for part in text.split()]
            bad = [key for key, sep, _ in pairs if not sep]
            if bad:
                yield Entry(source.shown, lineno, raw, [], [f"no '=' in {', '.join(bad)}"])
            else:
                yield Entry(source.shown, lineno, raw, [{key: value for key, _, value in pairs}], [])


@pytest.fixture()
def logfmt() -> Iterator[LogfmtReader]:
    reader = LogfmtReader()
    register_reader(reader)
    yield reader
    unregister_reader(reader.name)


def test_a_registered_reader_is_chosen_by_extension(tmp_path: Path, logfmt: LogfmtReader) -> None:
    path = write(
        tmp_path,
        "events.logfmt",
        "# exported by hand\n"
        "id=l1 ts=2026-01-05 type=email_sent actor=rep-1\n"
        "id=l2 ts=2026-01-06 type=email_sent\n"
        "id=l3 ts=2026-01-07 type=call_logged actor=rep-2 oops\n"
        "id=l1  ts=2026-01-05 type=email_sent actor=rep-1\n"
        "id=l4 ts=2026-01-08 type=email_sent actor=rep-1\n"
        "id=l4 ts=2026-01-09 type=email_sent actor=rep-1\n",
    )
    assert detect_reader(path, b"# exported by hand\n") is logfmt
    result = load_events([path])
    # line 5 repeats line 2's event (kept once); the two l4 differ, so both are refused,
    # and their text is read again through the reader
    assert [(r["id"], r["file"], r["line"]) for r in result.table.to_pylist()] == [("l1", path, 2)]
    assert [str(p) for p in result.problems] == [
        f"{path}:3: missing required field 'actor'",
        f"{path}:4: no '=' in oops",
        f"{path}:6: duplicate id 'l4' with different content (also at {path}:7)",
        f"{path}:7: duplicate id 'l4' with different content (also at {path}:6)",
    ]
    assert result.problems[1].raw == "id=l3 ts=2026-01-07 type=call_logged actor=rep-2 oops"
    assert [p.raw for p in result.problems[2:]] == [
        "id=l4 ts=2026-01-08 type=email_sent actor=rep-1",
        "id=l4 ts=2026-01-09 type=email_sent actor=rep-1",
    ]
    assert (result.read, result.evaluated) == (6, 2)


def test_engine_check_runs_through_a_registered_reader(tmp_path: Path, logfmt: LogfmtReader) -> None:
    churn = Path(__file__).resolve().parent.parent / "rules" / "knee-jerk-reactionary"
    lines = ["id=r1 ts=2026-01-01 type=team_member_added actor=mgr-a manager=mgr-a rep=rep-1"]
    lines += [
        f"id=s{n} ts=2026-01-{day}T09:00:00Z type=strategy_changed actor=mgr-a" for n, day in enumerate(["05", "19"])
    ]
    lines.append("id=s2 ts=2026-02-02T09:00:00Z type=strategy_changed actor=mgr-a")
    lines.append("id=end ts=2026-03-31T16:00:00Z type=email_sent actor=rep-1")
    path = write(tmp_path, "org.logfmt", "\n".join(lines) + "\n")
    report = engine.check([path], rules=[str(churn)], config=None)
    assert report.summary()["read"] == 5 and report.summary()["rejected"] == 0
    assert [(f.rule, f.manager, f.evidence) for f in report.findings] == [
        ("knee-jerk-reactionary/strategy-churn", "mgr-a", ["s0", "s1", "s2"])
    ]


def test_a_registered_reader_is_chosen_by_content_and_gzip_still_works(logfmt: LogfmtReader) -> None:
    data = gzip.compress(b"\nid=s1 ts=2026-01-05 type=email_sent actor=rep-1\n")
    result = load_events(["-"], stdin=io.BytesIO(data))
    assert [(r["id"], r["file"], r["line"]) for r in result.table.to_pylist()] == [("s1", "<stdin>", 2)]


def test_unregistered_reader_is_gone(tmp_path: Path, logfmt: LogfmtReader) -> None:
    unregister_reader(logfmt.name)
    assert logfmt.name not in reader_names()
    path = write(tmp_path, "a.logfmt", "id=l1 ts=2026-01-05 type=email_sent actor=rep-1\n")
    assert detect_reader(path, b"id=l1") is get_reader("csv")  # nobody claims it: the fallback


def test_registry_lookups_and_conflicts() -> None:
    assert reader_names()[:4] == ["jsonl", "parquet", "csv", "roster"]
    assert isinstance(get_reader("jsonl"), JsonlReader)
    with pytest.raises(ConfigError, match="unknown input reader 'xml' \\(known: jsonl, parquet, csv, roster"):
        get_reader("xml")
    clash = CsvReader("other-csv", EventColumns, extensions=(".CSV",))
    with pytest.raises(ValueError, match="reader 'other-csv': .csv is already read by 'csv'"):
        register_reader(clash)
    assert "other-csv" not in reader_names()


@pytest.mark.parametrize(
    ("path", "head", "expected"),
    [
        ("a.jsonl", b"id,ts", "jsonl"),  # the name wins over the content
        ("a.NDJSON.gz", b"", "jsonl"),
        ("a.json", b"", "jsonl"),
        ("b.csv.gz", b"{", "csv"),
        ("c.txt", b'  {"id": 1}', "jsonl"),  # unknown name: content decides
        ("c.txt", b"id,ts", "csv"),
        ("-", b'{"id": 1}', "jsonl"),
        ("-", b"", "csv"),
        ("noext", b"", "csv"),
    ],
)
def test_detection(path: str, head: bytes, expected: str) -> None:
    assert detect_reader(path, head).name == expected


# ------------------------------------------------------------------ the general path gives the fast path's verdicts


def test_jsonl_read_gives_the_verdicts_of_the_fast_loop(tmp_path: Path) -> None:
    class SlowJsonl:
        name = "slow-jsonl"
        extensions = (".slow",)

        def sniff(self, head: bytes) -> bool:
            return False

        entries = JsonlReader().entries  # no object_lines: the loader takes the entries

    lines = [
        json.dumps(ev(id="a")),
        "",
        "{oops",
        "[1]",
        json.dumps(ev(id="a", actor="rep-2")),
        json.dumps(ev(id="b", type="custom_thing")),
        b"\xff".decode("latin-1"),
        json.dumps(ev(id="c", actor=None)),
    ]
    content = ("\n".join(lines) + "\n").encode("latin-1")
    fast_path = write(tmp_path, "a.jsonl", content)
    slow_path = write(tmp_path, "a.slow", content)
    fast = load_events([fast_path])
    register_reader(SlowJsonl())
    try:
        slow = load_events([slow_path])
    finally:
        unregister_reader("slow-jsonl")
    assert without_file(slow) == without_file(fast)
    assert [(n, m.replace(slow_path, fast_path), r) for n, m, r in problem_lines(slow)] == problem_lines(fast)
    assert (slow.read, slow.evaluated, slow.warnings) == (fast.read, fast.evaluated, fast.warnings)
    assert [m for _, m, _ in problem_lines(fast)] == [
        f"duplicate id 'a' with different content (also at {fast_path}:5)",
        "invalid JSON: Expecting property name enclosed in double quotes (column 2)",
        "expected a JSON object, got an array",
        f"duplicate id 'a' with different content (also at {fast_path}:1)",
        "line is not valid UTF-8",
        "missing required field 'actor'",
    ]


# ------------------------------------------------------------------ records from memory


MEMORY_CASES: list[Any] = [
    ev(id="m1"),
    ev(id="m2", actor=None, mananger="x"),
    ev(id="m1", actor="rep-2"),
    ["not", "an", "object"],
    "text",
    ev(id="m3", type="team_meeting", attrs={"focus": "nothing"}),
    ev(id="m4", type="my_custom"),
    ev(id="m5", ts="2026-01-05T10:00:00"),
    ev(id="m6", rep="Zoë", attrs={"note": "caf\u00e9"}),
    ev(id="m7", rep="\ud800"),
]


def test_records_from_memory_get_the_verdicts_of_a_jsonl_file(tmp_path: Path) -> None:
    # The file holds each record as load_records shows it in problems, and the
    # memory input is given the file's name: then nothing may differ at all.
    path = write(tmp_path, "same.jsonl", "".join(json_text(r) + "\n" for r in MEMORY_CASES))
    from_file = load_events([path])
    from_memory = load_records(MEMORY_CASES, name=path)
    assert from_memory.table.equals(from_file.table)
    assert from_memory.problems == from_file.problems
    assert (from_memory.read, from_memory.evaluated) == (from_file.read, from_file.evaluated) == (10, 2)
    assert from_memory.warnings == from_file.warnings
    assert from_memory.warnings == ["custom event type 'my_custom' (1 event) is kept; only custom rules match it"]
    assert [p.line for p in from_file.problems] == [1, 2, 3, 4, 5, 6, 8, 10]
    assert [p.raw_bytes() for p in from_memory.problems] == [p.raw_bytes() for p in from_file.problems]


def test_records_from_memory_name_their_position() -> None:
    result = load_records([ev(id="a"), ev(id="a", actor="x"), 7, ev(id="a")])
    assert result.problems == [
        InputProblem(
            "<memory>",
            1,
            "duplicate id 'a' with different content (also at <memory>:2, <memory>:4)",
            json_text(ev(id="a")),
        ),
        InputProblem(
            "<memory>",
            2,
            "duplicate id 'a' with different content (also at <memory>:1, <memory>:4)",
            json_text(ev(id="a", actor="x")),
        ),
        InputProblem("<memory>", 3, "expected a JSON object, got a number", "7"),
        InputProblem(
            "<memory>",
            4,
            "duplicate id 'a' with different content (also at <memory>:1, <memory>:2)",
            json_text(ev(id="a")),
        ),
    ]
    assert load_records([]).table.num_rows == 0


def test_records_from_memory_may_hold_what_json_cannot() -> None:
    # Only a file's JSON is guaranteed to be JSON; from memory anything can come.
    result = load_records(
        [
            ev(id="s", attrs={"tags": {"a", "b"}}),
            ev(id="t", source={1: "x", "a": "y"}),
            ev(id="u", attrs={"t": (1, 2)}),
            ev(id="v", attrs={"n": float("inf")}),  # a file could not even say this
        ]
    )
    assert [(p.line, p.message) for p in result.problems] == [
        (1, "field 'attrs' holds a value that JSON cannot represent"),
        (2, "field 'source' holds a value that JSON cannot represent"),
        (4, "field 'attrs' holds a non-finite number (NaN or Infinity)"),
    ]
    assert result.problems[0].raw.startswith("{'id': 's'")  # not JSON: shown as Python
    assert [(r["id"], r["attrs"]) for r in result.table.to_pylist()] == [("u", '{"t":[1,2]}')]


# ------------------------------------------------------------------ the roster is a mapping on the shared CSV reader


def test_roster_and_event_csv_share_one_reader() -> None:
    roster, events = get_reader("roster"), get_reader("csv")
    assert type(roster) is type(events) is CsvReader
    assert roster.extensions == () and not roster.sniff(b"rep,manager,start")  # never detected, only chosen


def test_roster_rows_get_the_shared_row_problems(tmp_path: Path) -> None:
    # Blank lines, short rows, bad bytes and bad quoting are the shared row reader's
    # business (as are gzip and a BOM), so a roster and an event CSV report them alike.
    body = (
        'r1,m1,2026-01-01,2026-02-01\n\nr2,m2\nr3,m\xe9,2026-01-01,2026-02-01\nr4,"m4,2026-01-01,2026-02-01\n'
    ).encode("latin-1")
    roster = write(tmp_path, "team.data", gzip.compress(b"\xef\xbb\xbfrep,manager,start,end\n" + body))
    events = write(tmp_path, "events.csv", b"id,actor,ts,type\n" + body)
    from_roster = load_events([], roster=roster)
    from_events = load_events([events])
    shared = [(p.line, p.message, p.raw) for p in from_roster.problems]
    assert shared == [(p.line, p.message, p.raw) for p in from_events.problems]
    assert [(line, message) for line, message, _ in shared] == [
        (4, "row has 2 cells but the header has 4 columns"),
        (5, "line is not valid UTF-8"),
        (6, "malformed CSV: unexpected end of data"),
    ]
    key = row_id("r1", "m1", parse_timestamp("2026-01-01"), parse_timestamp("2026-02-01"))
    assert [(r["id"], r["line"]) for r in from_roster.table.to_pylist()] == [
        (f"roster:{key}:start", 2),
        (f"roster:{key}:end", 2),
    ]
    assert [(r["id"], r["line"]) for r in from_events.table.to_pylist()] == [("r1", 2)]
    with pytest.raises(InputError, match=r"team2\.csv:2: cannot read: CSV header repeats column 'rep'"):
        load_events([], roster=write(tmp_path, "team2.csv", "\nrep,rep,start\n"))
