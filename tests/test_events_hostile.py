"""Hostile and unlucky event input: one regression test (or a few) per defect class.

1. JSON too deep or too big, anywhere input JSON is parsed: one refused record, never a crash.
2. An object repeating a key: refused as ambiguous, on every path, without false alarms.
3. The rejects file gives back every refused record byte for byte.
4. Roster event ids come from what a row says: row order changes nothing.
5. Records sharing an id: the verdict never depends on which came first.
6. Every problem of every input in one run.
"""

from __future__ import annotations

import base64
import gzip
import io
import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.errors import InputError, InvalidInput, Problem
from engine.ingest import LoadResult, load_events, load_records, register_reader, write_rejects
from engine.ingest.readers import unregister_reader
from engine.ingest.readers.jsonl import JsonlReader, decode
from simulator import simulate, write_simulation

DEEP = 100_000
RULES = Path(__file__).resolve().parent.parent / "rules"
FEW_RULES = [str(RULES / "knee-jerk-reactionary"), str(RULES / "_library.yaml")]
ROSTER_RULES = [str(RULES / "detached-dictator"), str(RULES / "_library.yaml")]  # they cite roster events


def ev(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "ev-1", "ts": "2026-01-05T10:00:00Z", "type": "email_sent", "actor": "rep-1"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def messages(result: LoadResult) -> list[tuple[int, str]]:
    assert result.read == result.evaluated + len(result.problems)
    return [(p.line, p.message) for p in result.problems]


def nested(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = {}
    top = inner
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    return top


class NoPeek(io.RawIOBase):
    """A pipe: readable once, not seekable."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


# ------------------------------------------------------------------ 1. deep and big JSON


def test_deep_json_in_csv_cells_is_one_refused_row(tmp_path: Path) -> None:
    deep = "[" * DEEP
    path = write(
        tmp_path,
        "deep.csv",
        "id,ts,type,actor,participants,attrs,source\n"
        f'a,2026-01-05,meeting_held,r,"{deep}",,\n'
        f'b,2026-01-05,meeting_held,r,,"{{""x"": {deep}",\n'
        f'c,2026-01-05,meeting_held,r,,,"{deep}"\n'
        "d,2026-01-05,meeting_held,r,p1;p2,,\n",
    )
    result = load_events([path])
    assert messages(result) == [
        (2, "attrs.participants is not valid JSON: nested too deeply"),
        (3, "field 'attrs' is not valid JSON: nested too deeply"),
        (4, "field 'source' is not valid JSON: nested too deeply"),
    ]
    assert result.table.column("id").to_pylist() == ["d"]
    assert result.problems[0].raw_bytes() == f'a,2026-01-05,meeting_held,r,"{deep}",,'.encode()


def test_deep_json_in_csv_goes_to_the_rejects_file_through_check(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.csv", "id,ts,type,actor,kpis\n" + f'k,2026-01-05,kpi_set,m,"{"[" * DEEP}"\n')
    rejects = tmp_path / "rejects.jsonl"
    report = engine.check([path], rejects=str(rejects), rules=FEW_RULES)
    assert report.summary()["rejected"] == 1
    (record,) = [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines()]
    assert record["reason"] == "attrs.kpis is not valid JSON: nested too deeply"


@pytest.mark.parametrize("depth", [150, 250, 900, DEEP])  # below and above each parser's limit
def test_deep_json_lines_on_both_paths(tmp_path: Path, depth: int) -> None:
    text = line(ev(attrs={"x": "HOLE"})).replace('"HOLE"', "[" * depth + "]" * depth)
    path = write(tmp_path, "deep.jsonl", text + "\n" + ("[" * depth) + "\n")
    fast = load_events([path])
    register_reader(_SlowJsonl())
    try:
        slow = load_events([write(tmp_path, "deep.slow", text + "\n" + ("[" * depth) + "\n")])
    finally:
        unregister_reader("slow-jsonl")
    assert messages(fast) == messages(slow)
    assert fast.table.num_rows == slow.table.num_rows
    assert fast.problems[-1].line == 2 and fast.problems[-1].message.startswith("invalid JSON")


class _SlowJsonl:
    name = "slow-jsonl"
    extensions = (".slow",)

    def sniff(self, head: bytes) -> bool:
        return False

    entries = JsonlReader().entries


def test_hostile_records_from_memory_are_refused_not_raised() -> None:
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    records: list[object] = [
        ev(id="deep", attrs=nested(DEEP)),
        ev(id="deep-known", type="meeting_held", attrs={"participants": nested(DEEP)}),
        [nested(DEEP)],
        ev(id="cycle", source=cyclic),
        ev(id="big", type="deal_closed_won", attrs={"amount": 10**5000}),
        ev(id="big-bad", type="meeting_held", attrs={"with_customer": 10**5000}),
        ev(id="fine"),
    ]
    result = load_records(records)
    assert messages(result) == [
        (1, "field 'attrs' is nested too deeply"),
        (
            2,
            "field 'attrs' is nested too deeply; attrs.participants must be a list, got <dict too deep or too large to show>",
        ),
        (3, "expected a JSON object, got an array"),
        (4, "field 'source' is nested too deeply"),  # a cycle never ends
        (5, "field 'attrs' holds a number too long to convert"),
        (
            6,
            "field 'attrs' holds a number too long to convert; "
            "attrs.with_customer must be true or false, got <int too deep or too large to show>",
        ),
    ]
    assert result.table.column("id").to_pylist() == ["fine"]
    assert all(p.raw for p in result.problems)


def test_huge_numbers_in_csv_cells_and_json_lines(tmp_path: Path) -> None:
    digits = "9" * 5000
    csv_path = write(tmp_path, "n.csv", f"id,ts,type,actor,quota\nq,2026-01-05,activity_mandate_set,m,{digits}\n")
    assert messages(load_events([csv_path])) == [(2, f"attrs.quota must be an integer, got '{digits[:76]}...")]
    assert decode(f'{{"n": {digits}}}'.encode()) == "invalid JSON: a number has too many digits"


# ------------------------------------------------------------------ 2. repeated keys


REPEATS = [
    ('{"id":"a","id":"b","ts":"2026-01-05","type":"email_sent","actor":"r"}', "duplicate key 'id'"),
    ('{"id" : "a", "ts":"2026-01-05", "id"\t:"b","type":"email_sent","actor":"r"}', "duplicate key 'id'"),
    ('{"i\\u0064":"a","id":"b","ts":"2026-01-05","type":"email_sent","actor":"r"}', "duplicate key 'id'"),
    (
        '{"id":"a","ts":"2026-01-05","type":"team_meeting","actor":"r","attrs":{"focus":"skills","focus":"admin"}}',
        "duplicate key 'focus' in attrs",
    ),
    (
        '{"id":"a","ts":"2026-01-05","type":"x","actor":"r","source":{"system":"sf","system":"hubspot"}}',
        "duplicate key 'system' in source",
    ),
    (
        '{"id":"a","ts":"2026-01-05","type":"x","actor":"r","attrs":{"l":[{"k":1},{"k":1,"k":2}]}}',
        "duplicate key 'k' in attrs.l[1]",
    ),
    ('{"id":"a","ts":"2026-01-05","type":"x","actor":"r","ts":"2026-01-05"}', "duplicate key 'ts'"),
]
LOOKALIKES = [  # key marks inside strings, escapes, blanks: nothing repeats, nothing is refused
    '{"id":"a1","ts":"2026-01-05T10:00:00Z","type":"x","actor":"r","attrs":{"text":"k\\":v\\": \\":"}}',
    '{"id":"a2","ts":"2026-01-05T10:00:00+01:00","type":"x","actor":"r","attrs":{"t":"a : b\\t: c\\": d"}}',
    '{"id":"a3","ts":"2026-01-05","type":"x","actor":"r","attrs":{"url":"http://x:80/","id":"inner"}}',
    '{ "id" : "a4" , "ts" : "2026-01-05" , "type" : "x" , "actor" : "r\\u00e9" }',
    '{"id":"a5","ts":"2026\\u002d01-05T10\\u003a00:00Z","type":"x","actor":"r"}',
    '{"id":"a6","ts":"2026-01-05","type":"x","actor":"r","attrs":{"m":{"a":{"b":1},"c":[{"d":2}]}}}',
]


def test_repeated_keys_are_refused_on_every_path(tmp_path: Path) -> None:
    text = "".join(f"{raw}\n" for raw, _ in REPEATS) + "".join(f"{raw}\n" for raw in LOOKALIKES)
    fast = load_events([write(tmp_path, "keys.jsonl", text)])
    expected = [(n, reason) for n, (_, reason) in enumerate(REPEATS, 1)]
    assert messages(fast) == expected
    assert fast.table.column("id").to_pylist() == ["a1", "a2", "a3", "a4", "a5", "a6"]
    register_reader(_SlowJsonl())
    try:
        slow = load_events([write(tmp_path, "keys.slow", text)])
    finally:
        unregister_reader("slow-jsonl")
    assert messages(slow) == expected
    assert slow.table.drop_columns(["file"]).equals(fast.table.drop_columns(["file"]))
    assert [decode(raw.encode()) for raw, _ in REPEATS] == [reason for _, reason in REPEATS]


def test_repeated_keys_in_csv_json_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "keys.csv",
        "id,ts,type,actor,attrs,source,kpis\n"
        'a,2026-01-05,x,r,"{""n"": 1, ""n"": 2}",,\n'
        'b,2026-01-05,x,r,,"{""system"": ""a"", ""system"": ""b""}",\n'
        'c,2026-01-05,kpi_set,m,,,"[{""k"": 1, ""k"": 1}]"\n'
        'd,2026-01-05,kpi_set,m,"{""n"": ""x\\"": 1""}",,"[""a"", ""b""]"\n',
    )
    result = load_events([path])
    assert messages(result) == [
        (2, "duplicate key 'n' in attrs"),
        (3, "duplicate key 'system' in source"),
        (4, "duplicate key 'k' in attrs.kpis[0]"),
    ]
    assert result.table.column("id").to_pylist() == ["d"]


# ------------------------------------------------------------------ 3. lossless rejects


GARBAGE = [
    b"\xff\xfe",
    b"\\xff\\xfe",  # the text a lossy rejects file would have made of the line above
    b'{"id": "caf\xe9"}',
    b'{"id": "\xed\xa0\x80"}',  # a UTF-8-encoded lone surrogate
    b"\x00\x01\x02 nul",
    b'{"id":"a","id":"b"}\r',  # CRLF: the \r belongs to the line ending
    b"  [1, 2]  \t",
    b"\xc0\xaf\x80",
    '{"actor": "Zoë"}'.encode(),
    '{"text": "line\u2028break\x85next\u2029"}'.encode(),  # line breaks to str.splitlines: still one record
]


def test_rejects_give_back_every_line_byte_for_byte(tmp_path: Path) -> None:
    data = b"\n".join(GARBAGE) + b"\n"
    jsonl_path = write(tmp_path, "garbage.jsonl", data)
    csv_path = write(tmp_path, "garbage.csv", b"id,ts,type,actor\n" + data)
    result = load_events([jsonl_path, csv_path])
    assert result.evaluated == 0 and len(result.problems) == 2 * len(GARBAGE)
    out = tmp_path / "rejects.jsonl"
    write_rejects(str(out), result.problems)
    records = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    back = [base64.b64decode(r["raw_b64"]) for r in records]
    expected = [raw.removesuffix(b"\r") for raw in GARBAGE]
    assert back == expected + expected
    # the text forms of the first two lines collide; their bytes do not
    assert records[0]["raw"] == records[1]["raw"] == "\\xff\\xfe"
    assert back[0] != back[1]
    assert all(r["raw"] == raw.decode("utf-8") for r, raw in zip(records, expected) if _utf8(raw))


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_rejects_of_multiline_csv_rows_and_of_gzip_keep_their_bytes(tmp_path: Path) -> None:
    row = b'a,2026-01-05,x,r,"two\r\nlines \xff",extra'
    path = write(tmp_path, "rows.csv.gz", gzip.compress(b"\xef\xbb\xbfid,ts,type,actor,note\r\n" + row + b"\r\n"))
    (problem,) = load_events([path]).problems
    assert problem.raw_bytes() == row


def test_rejects_to_stdout_are_utf8_whatever_the_terminal(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    result = load_records([ev(id="é", actor=None)])
    write_rejects("-", result.problems)
    out = capfdbinary.readouterr().out
    assert json.loads(out.decode("utf-8"))["reason"] == "missing required field 'actor'"
    assert "é".encode() in out


# ------------------------------------------------------------------ 4. roster ids from content


def _org(tmp_path: Path) -> tuple[str, list[list[str]]]:
    """A simulated log whose team membership is given as roster rows instead."""
    log = tmp_path / "org.jsonl"
    profiles = ["detached-dictator", "new-manager"]
    write_simulation(simulate(managers=2, days=60, seed=11, profiles=profiles), str(log))
    events = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    membership = {"team_member_added", "team_member_removed"}
    rows: list[list[str]] = []
    current: dict[tuple[str, str], list[str]] = {}
    for event in sorted((e for e in events if e["type"] in membership), key=lambda e: e["ts"]):
        key = (event["rep"], event["manager"])
        if event["type"] == "team_member_added":
            current[key] = [event["rep"], event["manager"], event["ts"], ""]
            rows.append(current[key])
        elif key in current:
            current.pop(key)[3] = event["ts"]
    rest = tmp_path / "rest.jsonl"
    rest.write_text("".join(json.dumps(e) + "\n" for e in events if e["type"] not in membership), encoding="utf-8")
    return str(rest), rows


def _roster(path: Path, rows: list[list[str]]) -> str:
    path.write_text("rep,manager,start,end\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_roster_row_order_changes_nothing(tmp_path: Path) -> None:
    events, rows = _org(tmp_path)
    expected = engine.check([events], roster=_roster(tmp_path / "a.csv", rows), rules=ROSTER_RULES).to_json()
    assert "roster:" in expected  # roster events are cited, so their ids matter
    shuffled = list(rows)
    random.Random(5).shuffle(shuffled)
    assert shuffled != rows
    assert (
        engine.check([events], roster=_roster(tmp_path / "team.csv", shuffled), rules=ROSTER_RULES).to_json()
        == expected
    )
    # a row given twice, once with its dates spelt another way, is one membership
    again = [*rows, [rows[0][0], rows[0][1], rows[0][2].replace("Z", "+00:00"), rows[0][3]]]
    report = engine.check([events], roster=_roster(tmp_path / "b.csv", again), rules=ROSTER_RULES)
    same = json.loads(report.to_json())
    assert (same["findings"], same["not_assessed"]) == (
        json.loads(expected)["findings"],
        json.loads(expected)["not_assessed"],
    )
    assert report.summary()["rejected"] == 0


def test_identical_roster_rows_are_one_row(tmp_path: Path) -> None:
    roster = _roster(tmp_path / "r.csv", [["r1", "m1", "2026-01-01", "2026-02-01"]] * 2)
    result = load_events([], roster=roster)
    assert messages(result) == []
    assert (result.read, result.evaluated, result.table.num_rows) == (2, 2, 2)  # added and removed, once each
    assert result.warnings == ["2 repeated events (same id, same content) kept once"]


# ------------------------------------------------------------------ 5. shared ids, any order


def _shape(result: LoadResult) -> tuple[Any, ...]:
    """What must not depend on input order: the events and the problems, line numbers aside."""
    events = sorted(result.table.drop_columns(["seq", "file", "line"]).to_pylist(), key=lambda r: r["id"])
    refused = sorted((p.message.split(" (also at")[0], p.raw) for p in result.problems)
    return events, refused, result.read, result.evaluated, result.warnings


def test_shared_ids_give_the_same_verdict_in_every_order(tmp_path: Path) -> None:
    lines = [
        line(ev(id="x")),
        line(ev(id="x", actor="rep-2")),
        line(ev(id="y")),
        line(ev(id="y")),
        line(ev(id="z", actor=None)),
        line(ev(id="z")),
    ]
    shapes = set()
    orders = list(itertools.permutations(lines))
    for order in random.Random(3).sample(orders, 60):
        result = load_events(["-"], stdin=io.BytesIO(("\n".join(order) + "\n").encode()))
        shapes.add(repr(_shape(result)))
    assert len(shapes) == 1
    result = load_events(["-"], stdin=io.BytesIO(("\n".join(lines) + "\n").encode()))
    assert messages(result) == [
        (1, "duplicate id 'x' with different content (also at <stdin>:2)"),
        (2, "duplicate id 'x' with different content (also at <stdin>:1)"),
        (5, "missing required field 'actor'; duplicate id 'z' (also at <stdin>:6)"),
    ]
    assert result.table.column("id").to_pylist() == ["y", "z"]


def test_refused_first_holder_is_read_again_from_a_pipe_and_from_gzip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.ingest.loader as loader_module

    monkeypatch.setattr(loader_module, "_CHUNK", 2)  # the first holder is long in an Arrow batch
    lines = [line(ev(id=f"e{n}")) for n in range(7)] + [line(ev(id="e1", actor="other"))]
    data = ("\n".join(lines) + "\n").encode()
    for stdin in (io.BufferedReader(NoPeek(data)), NoPeek(data), io.BytesIO(gzip.compress(data))):
        result = load_events(["-"], stdin=stdin)  # type: ignore[arg-type]
        assert [(p.line, p.raw) for p in result.problems] == [(2, lines[1]), (8, lines[7])]
        assert result.table.column("id").to_pylist() == ["e0", "e2", "e3", "e4", "e5", "e6"]
    gz = write(tmp_path, "a.jsonl.gz", gzip.compress(data))
    assert [p.raw for p in load_events([gz]).problems] == [lines[1], lines[7]]


def test_strict_check_lists_both_holders(tmp_path: Path) -> None:
    a = write(tmp_path, "a.jsonl", line(ev(id="x")) + "\n")
    b = write(tmp_path, "b.jsonl", line(ev(id="x", ts="2026-01-06")) + "\n" + line(ev(id="y")) + "\n")
    with pytest.raises(InvalidInput) as info:
        engine.check([a, b], rules=FEW_RULES)
    assert info.value.problems == [
        Problem(a, 1, 0, f"duplicate id 'x' with different content (also at {b}:1)"),
        Problem(b, 1, 0, f"duplicate id 'x' with different content (also at {a}:1)"),
    ]
    assert engine.check([a, a], rules=FEW_RULES).summary()["rejected"] == 0  # the same file twice: the same events


def test_a_file_changed_before_its_refused_line_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(line(ev(id="x")) + "\n" + line(ev(id="x", actor="b")) + "\n", encoding="utf-8")
    import engine.ingest.loader as loader_module

    real = loader_module._Loader.reread

    def vanish(self: Any, origin: int, wanted: set[int]) -> dict[int, object]:
        path.unlink()
        return real(self, origin, wanted)

    loader_module._Loader.reread = vanish  # type: ignore[method-assign]
    try:
        result = load_events([str(path)])
    finally:
        loader_module._Loader.reread = real  # type: ignore[method-assign]
    assert [p.message.endswith("its text could not be read again") for p in result.problems] == [True, True]
    assert result.read == result.evaluated + len(result.problems)


# ------------------------------------------------------------------ 6. every problem of every input


def test_every_bad_input_is_reported_in_one_run(tmp_path: Path) -> None:
    bad_a = write(tmp_path, "a.csv", "id,ts,,actor\n")
    bad_b = write(tmp_path, "b.csv", "\nid,ts,type,id\n")
    jsonl = write(tmp_path, "c.jsonl", line(ev(id="c1")) + "\n{oops\n")
    missing = str(tmp_path / "gone.jsonl")
    truncated = write(tmp_path, "d.jsonl.gz", gzip.compress(b'{"id": 1}\n' * 50)[:30])
    roster = write(tmp_path, "team.csv", "rep,boss,start\n")
    paths = [bad_a, jsonl, missing, bad_b, truncated]
    with pytest.raises(InputError) as info:
        load_events(paths, roster=roster)
    problems = info.value.problems
    assert [(p.path, p.line) for p in problems] == sorted(
        [(bad_a, 1), (bad_b, 2), (truncated, 0), (missing, 0), (roster, 1)]
    )
    assert Problem(missing, 0, 0, "cannot read: No such file or directory") in problems
    assert all(p.message.startswith("cannot read: ") for p in problems)
    # asked not to raise: the same problems beside the per-record ones, and the good input read
    result = load_events(paths, roster=roster, raise_input_errors=False)
    assert result.input_errors == problems
    assert [str(p) for p in result.problems] == [
        f"{jsonl}:2: invalid JSON: Expecting property name enclosed in double quotes (column 2)"
    ]
    assert result.table.column("id").to_pylist() == ["c1"]
    with pytest.raises(InputError) as again:
        result.raise_input_errors()
    assert again.value.problems == problems
