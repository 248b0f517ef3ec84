"""Fuzzing event input: garbage in, located problems out, never a crash, never order-dependent.

Generated input (valid events and mutations of them: wrong types, huge
numbers, odd unicode, BOMs, CRLF, NUL, deep nesting, repeated keys, far
timestamps, shared ids; random bytes) is written as JSONL and CSV files,
plain and gzip, and given to ``load_events``; records from memory (which may
hold what JSON cannot) to ``load_records``. Every run must

- raise nothing but the ``SalesmirrorError`` family, and that only for a
  whole input (with ``raise_input_errors=False``: nothing at all);
- locate every problem (its input, and a line >= 1 for a record);
- account for every record: read == evaluated + rejected, and the rejects
  give back each refused line byte for byte;
- give the same accepted events, problems and warnings when the lines are
  shuffled or split over several files (line numbers and file names aside).

One end-to-end property runs ``engine.check(..., rejects=...)`` with the
shipped rules on a small simulated log with generated garbage, repeats and
clashing ids mixed in: the JSON report and the rejects file must be the same
under shuffling and splitting (rules are compiled once for all examples;
``tests/test_determinism.py`` checks a clean log the same way).

Profiles: ``events-ci`` (the default, well under a minute on two cores) and
``events-long`` (twenty times the examples), chosen with the environment
variable ``SALESMIRROR_FUZZ`` (``ci`` or ``long``, as for the YAML fuzzers)::

    SALESMIRROR_FUZZ=long .venv/bin/python -m pytest -q tests/test_fuzz_events.py

``bench/fuzz.sh`` runs the long profile.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
import re
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
import engine.api
from engine.errors import SalesmirrorError
from engine.ingest import LoadResult, load_events, load_records
from engine.vocab import EVENT_TYPES, ROLES
from simulator import simulate, write_simulation

for name, scale in (("events-ci", 1), ("events-long", 20)):
    settings.register_profile(
        name,
        max_examples=150 * scale,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
FUZZ = settings.get_profile(f"events-{os.environ.get('SALESMIRROR_FUZZ', 'ci')}")
FEW = settings(FUZZ, max_examples=max(4, FUZZ.max_examples // 25))  # end to end: each example runs the rules twice

# ---------------------------------------------------------------------------------------------
# values and events

BOM = b"\xef\xbb\xbf"
IDS = [f"e{n}" for n in range(8)]  # a small pool, so ids are shared often
PEOPLE = ["rep-1", "rep-2", "mgr-1", "Zoë", "r\u202eep", "e\u0301", "😀"]
ODD_TEXT = [
    "",
    " ",
    "\t",
    "\x00",
    "nul\x00inside",
    "\ufeffbom",
    "line\u2028sep",
    "\ud800",  # a lone surrogate: not storable
    "x\udfff",
    "😀" * 3,
    "a" * 300,
    '":',
    'k": "v',
    "\\",
    "\r\n",
]
STAMPS = [
    "2026-01-05T10:00:00Z",
    "2026-01-05",
    "2026-01-05T10:00:00.123456789+05:45",
    "2026-01-05T10:00:00-00:00",
    "2024-02-29T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59-01:00",  # past the end once in UTC
    "0001-01-01T00:00:00+01:00",  # before the start once in UTC
    "10000-01-01",
    "2026-02-29",
    "2026-01-05T10:00:00",
    "2026-01-05T24:00:00Z",
    "yesterday",
]
HUGE = [10**30, -(10**19), 1e308, -1e-320, 2**63, 10**400]
GOOD_BY_KIND: dict[str, st.SearchStrategy[Any]] = {
    "str": st.sampled_from(["a", "pipeline", "Zoë", ""]),
    "int": st.integers(-3, 50),
    "number": st.integers(0, 10**6) | st.floats(0, 1e6, allow_nan=False),
    "bool": st.booleans(),
    "list": st.lists(st.sampled_from(PEOPLE), max_size=3),
    "date": st.sampled_from(["2026-02-01", "2026-02-01T00:00:00Z"]),
    "any": st.integers(0, 3) | st.text(max_size=3) | st.dictionaries(st.sampled_from("ab"), st.integers(0, 2)),
}
ODD_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(HUGE),
    st.sampled_from(ODD_TEXT),
    st.lists(st.integers(0, 2), max_size=2),
    st.dictionaries(st.sampled_from(["a", "id", '":']), st.integers(0, 2), max_size=2),
)
TYPES = [t for t in EVENT_TYPES if t not in ("team_member_added", "team_member_removed")]


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(st.sampled_from([*TYPES, "team_member_added", "custom_thing"]))
    event: dict[str, Any] = {
        "id": draw(st.sampled_from(IDS)),
        "ts": draw(st.sampled_from(STAMPS[:7])),
        "type": event_type,
        "actor": draw(st.sampled_from(PEOPLE)),
    }
    if event_type == "team_member_added" or draw(st.booleans()):
        event["manager"] = "mgr-1"
        event["rep"] = draw(st.sampled_from(PEOPLE[:2]))
    if draw(st.booleans()):
        event["actor_role"] = draw(st.sampled_from(ROLES))
    spec = EVENT_TYPES.get(event_type, {})
    attrs = {
        name: draw(st.sampled_from(attr.values) if attr.kind == "enum" else GOOD_BY_KIND[attr.kind])
        for name, attr in spec.items()
        if draw(st.booleans())
    }
    if attrs or draw(st.booleans()):
        event["attrs"] = attrs
    if draw(st.booleans()):
        event["source"] = {"system": "salesforce", "record_id": draw(st.sampled_from(["00T1", "00T2", 'q":']))}
    return event


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with one or two things wrong (or, one time in four, none)."""
    event = draw(valid_events())
    for _ in range(draw(st.integers(0, 2))):
        how = draw(st.sampled_from(["type", "drop", "huge", "text", "stamp", "extra", "attr"]))
        field = draw(st.sampled_from(["id", "ts", "type", "actor", "actor_role", "manager", "rep", "deal", "source"]))
        if how == "type":
            event[field] = draw(ODD_VALUE)
        elif how == "drop":
            event.pop(field, None)
        elif how == "huge":
            attrs = event.get("attrs")
            event["attrs"] = {**(attrs if isinstance(attrs, dict) else {}), "amount": draw(st.sampled_from(HUGE))}
        elif how == "text":
            event[field] = draw(st.sampled_from(ODD_TEXT))
        elif how == "stamp":
            event["ts"] = draw(st.sampled_from(STAMPS))
        elif how == "extra":
            event[draw(st.sampled_from(["timestamp", "mananger", "attributes", "x"]))] = 1
        else:
            event["attrs"] = draw(ODD_VALUE | st.dictionaries(st.sampled_from(["focus", "kpis", "split"]), ODD_VALUE))
    return event


def jsonable(event: dict[str, Any]) -> bool:
    try:
        json.dumps(event, allow_nan=False)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# lines of text


def _dumps(event: dict[str, Any], style: int) -> bytes:
    if style == 0:
        text = json.dumps(event)  # \u escapes for everything beyond ASCII
    elif style == 1:
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(event, ensure_ascii=False, indent=None, separators=(" , ", " : "))
    return text.encode("utf-8", "surrogatepass")  # lone surrogates become bad bytes


@st.composite
def text_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """Damage done to the text of a line rather than to its object."""
    how = draw(st.sampled_from(["none", "none", "repeat-key", "deep", "digits", "nul", "bom", "cut", "flip", "crlf"]))
    if how == "repeat-key" and data.startswith(b"{"):
        key = draw(st.sampled_from([b'"id"', b'"ts"', b'"attrs"', b'"i\\u0064"']))
        value = draw(st.sampled_from([b'"e1"', b"1", b"{}", b'{"a":1,"a":2}']))
        return b"{" + key + b":" + value + b"," + data[1:]
    if how == "deep":
        depth = draw(st.sampled_from([150, 250, 1200, 100_000]))
        closed = draw(st.booleans())
        return b'{"id":"deep","attrs":{"x":' + b"[" * depth + (b"]" * depth + b"}}" if closed else b"")
    if how == "digits":
        return data.replace(b'"e', b"1" + b"0" * draw(st.sampled_from([20, 5000])) + b',"e', 1)
    if how == "nul":
        return data.replace(b"e", b"e\x00", 1)
    if how == "bom":  # inside the line: a BOM starting a file is not part of its first record
        return data[:1] + BOM + data[1:]
    if how == "cut" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if how == "crlf":
        return data + b"\r"
    return data


@st.composite
def jsonl_lines(draw: st.DrawFn) -> list[bytes]:
    """Lines (without their newline) of a hostile JSONL file."""
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(st.binary(max_size=40)).replace(b"\n", b""))
        elif kind == 1:
            lines.append(draw(st.sampled_from([b"", b"  ", b"[]", b"null", b"{", b'{"id": NaN}', b"\t\r"])))
        else:
            event = draw(mutated_events() if kind > 4 else valid_events())
            if not jsonable(event):
                event = draw(valid_events())
            data = _dumps(event, draw(st.integers(0, 2)))
            lines.append(draw(text_mutations(data)))
    # A line starting with a BOM or the gzip magic changes meaning when it comes first in a
    # file (a BOM is the file's then; gzip is told by content); tests/test_ingest.py covers
    # both, here lines must be movable.
    return [b"_" + line if line.startswith((BOM, b"\x1f\x8b")) else line for line in lines]


CSV_COLUMNS = ["id", "ts", "type", "actor", "manager", "rep", "attrs", "source", "participants", "amount", "note"]
CSV_ODD_CELLS = [
    "",
    "[" * 100_000,
    '{"n": 1, "n": 2}',
    '{"x": ' + "[" * 2000 + "}",
    "9" * 5000,
    "1e400",
    "nan",
    "a;b;;c",
    '["a", {"k": 1, "k": 2}]',
    "two\nlines",
    "cr\r\nlf",
    'quote " inside',
    "\x00",
    "\udcff\udcfe",  # bytes that are not UTF-8, once written
    "Zoë",
]


@st.composite
def csv_rows(draw: st.DrawFn) -> tuple[list[str], list[bytes]]:
    """A header and well-formed rows (so rows can be moved about) with hostile cells."""
    columns = ["id", "ts", "type", "actor", *draw(st.lists(st.sampled_from(CSV_COLUMNS[4:]), unique=True))]
    rows = []
    for _ in range(draw(st.integers(1, 10))):
        event = draw(valid_events())
        cells = []
        for column in columns:
            value: Any = event.get(column, "")
            if column in ("attrs", "source"):
                value = json.dumps(value, ensure_ascii=False) if value else ""
            elif column == "participants":
                value = ";".join(event.get("attrs", {}).get("participants", []))
            elif not isinstance(value, str):
                value = json.dumps(value)
            if draw(st.integers(0, 4)) == 0:
                value = draw(st.sampled_from(CSV_ODD_CELLS))
            cells.append(value)
        if draw(st.integers(0, 9)) == 0:
            cells = cells[: draw(st.integers(0, len(cells)))]  # a short row
        out = io.StringIO()
        csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerow(cells)
        rows.append(out.getvalue().encode("utf-8", "surrogateescape"))
    return columns, rows


# ---------------------------------------------------------------------------------------------
# checks


def _write(folder: str, name: str, data: bytes) -> str:
    path = os.path.join(folder, name)
    with open(path, "wb") as out:
        out.write(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    return path


def accounted(result: LoadResult, paths: Sequence[str]) -> None:
    """Every record read is evaluated or refused, every problem names its input and line."""
    assert result.read == result.evaluated + len(result.problems)
    assert result.table.num_rows <= result.evaluated * 2  # a roster row is two events; nothing else more than one
    for problem in result.problems:
        assert problem.path in paths and problem.line >= 1 and problem.message
        problem.raw_bytes()
        assert "Traceback" not in problem.message and "internal error" not in problem.message
    for error in result.input_errors:
        assert error.path in paths and error.line >= 0 and error.message.startswith("cannot read")
    ids = result.table.column("id").to_pylist()
    assert len(ids) == len(set(ids))


_ALSO = re.compile(r" \(also at [^()]*\)")


def shape(result: LoadResult, folder: str) -> tuple[Any, ...]:
    """What must not depend on order or file split: events, problems and warnings, places aside."""
    events = sorted(
        result.table.drop_columns(["seq", "file", "line"]).to_pylist(),
        key=lambda row: (row["id"], row["ts"], row["type"]),
    )
    problems = Counter((_ALSO.sub(" (also at …)", p.message), p.raw_bytes()) for p in result.problems)
    warnings = sorted({re.sub(re.escape(folder) + r"\S*?: ", "<input>: ", w) for w in result.warnings})
    return events, problems, result.read, result.evaluated, warnings, len(result.input_errors)


def load_all(paths: Sequence[str]) -> LoadResult:
    """load_events, which must raise nothing but InputError, and that only for whole inputs."""
    try:
        raising = load_events(list(paths))
    except SalesmirrorError as exc:
        assert type(exc).__name__ == "InputError", exc
        assert exc.problems and all(p.path in paths for p in exc.problems)
        raising = None
    result = load_events(list(paths), raise_input_errors=False)
    assert (raising is None) == bool(result.input_errors)
    accounted(result, paths)
    return result


def _parts(items: list[bytes], cuts: list[int]) -> list[list[bytes]]:
    bounds = sorted({min(max(cut, 0), len(items)) for cut in cuts})
    pieces, start = [], 0
    for bound in [*bounds, len(items)]:
        pieces.append(items[start:bound])
        start = bound
    return pieces


# ---------------------------------------------------------------------------------------------
# the properties


@FUZZ
@given(
    lines=jsonl_lines(),
    ending=st.sampled_from([b"\n", b"\r\n"]),
    zipped=st.booleans(),
    bom=st.booleans(),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 12), max_size=3),
)
def test_jsonl_garbage_is_located_lossless_and_order_free(
    lines: list[bytes], ending: bytes, zipped: bool, bom: bool, order: Any, cuts: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        body = ending.join(lines) + ending
        name = "a.jsonl.gz" if zipped else "a.jsonl"
        path = _write(folder, name, (BOM if bom else b"") + body)
        result = load_all([path])
        physical = body.split(b"\n")
        for problem in result.problems:  # the rejects give each line back exactly
            assert problem.raw_bytes() == physical[problem.line - 1].removesuffix(b"\r")
        expected = shape(result, folder)

        shuffled = list(lines)
        order.shuffle(shuffled)
        again = load_all([_write(folder, "b.jsonl", ending.join(shuffled) + ending)])
        assert shape(again, folder) == expected

        pieces = _parts(lines, cuts)
        paths = [
            _write(folder, f"part{n}.jsonl" + (".gz" if n % 2 else ""), b"".join(x + ending for x in piece))
            for n, piece in enumerate(pieces)
        ]
        assert shape(load_all(paths), folder) == expected


@FUZZ
@given(table=csv_rows(), zipped=st.booleans(), order=st.randoms(use_true_random=False), cut=st.integers(0, 10))
def test_csv_garbage_is_located_and_order_free(
    table: tuple[list[str], list[bytes]], zipped: bool, order: Any, cut: int
) -> None:
    columns, rows = table
    header = (",".join(columns) + "\n").encode()
    with tempfile.TemporaryDirectory() as folder:
        name = "a.csv.gz" if zipped else "a.csv"
        result = load_all([_write(folder, name, header + b"".join(rows))])
        expected = shape(result, folder)
        shuffled = list(rows)
        order.shuffle(shuffled)
        assert shape(load_all([_write(folder, "b.csv", header + b"".join(shuffled))]), folder) == expected
        first = _write(folder, "c.csv", header + b"".join(rows[:cut]))
        second = _write(folder, "d.csv.gz", header + b"".join(rows[cut:]))
        assert shape(load_all([first, second]), folder) == expected


@FUZZ
@given(data=st.binary(max_size=300), name=st.sampled_from(["x.jsonl", "x.csv", "x.txt", "x.jsonl.gz", "x"]))
def test_random_bytes_never_escape(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        raw = _write(folder, name.removesuffix(".gz"), data)
        zipped = _write(folder, "z" + name, data) if name.endswith(".gz") else raw
        broken = _write(folder, "cut.jsonl.gz", gzip.compress(data)[: max(1, len(data) // 2)])
        load_all([raw, zipped, broken, os.path.join(folder, "missing.csv")])
        result = load_events(["-"], stdin=io.BytesIO(data), raise_input_errors=False)
        accounted(result, ["<stdin>"])


def _memory_value() -> st.SearchStrategy[Any]:
    cyclic: dict[str, Any] = {}
    cyclic["me"] = cyclic
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    return st.one_of(
        ODD_VALUE,
        st.sampled_from([{1, 2}, (1, 2), b"bytes", float("nan"), float("inf"), cyclic, deep, object()]),
        st.dictionaries(st.sampled_from([1, None, ("t",), "a"]), st.integers(0, 1), max_size=2),
    )


@st.composite
def memory_records(draw: st.DrawFn) -> object:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(_memory_value())
    event: dict[Any, Any] = dict(draw(mutated_events()))
    if kind == 1:
        event[draw(st.sampled_from(["attrs", "source", "id", "ts", 7]))] = draw(_memory_value())
    return event


@FUZZ
@given(records=st.lists(memory_records(), max_size=8), order=st.randoms(use_true_random=False))
def test_records_from_memory_never_escape_and_are_order_free(records: list[object], order: Any) -> None:
    result = load_records(records, name="<mem>")
    accounted(result, ["<mem>"])
    assert all(p.line <= len(records) for p in result.problems)
    shuffled = list(records)
    order.shuffle(shuffled)
    assert shape(load_records(shuffled, name="<mem>"), "<mem>") == shape(result, "<mem>")


# ---------------------------------------------------------------------------------------------
# end to end, with the shipped rules


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    path = tmp_path_factory.mktemp("sim") / "org.jsonl"
    write_simulation(simulate(managers=2, days=35, seed=8, profiles=["glory-grabber", "cheerleader"]), str(path))
    return path.read_bytes().splitlines()


@pytest.fixture(scope="module")
def compiled_once() -> Iterator[None]:
    """Rules compiled once for all examples (check() compiles them on every call)."""
    real = engine.api.prepare_rules
    memo: dict[str, Any] = {}

    def prepare(*args: Any, **kwargs: Any) -> Any:
        key = repr((args, kwargs))
        if key not in memo:
            memo[key] = real(*args, **kwargs)
        return memo[key]

    engine.api.prepare_rules = prepare  # type: ignore[assignment]
    yield
    engine.api.prepare_rules = real  # type: ignore[assignment]


def _check(paths: list[str], rejects: str) -> tuple[str, list[tuple[str, str]]]:
    """The JSON report, and the rejects without the places (which move when lines do)."""
    report = engine.check(paths, rejects=rejects, config=None).to_json()
    records = [json.loads(line) for line in Path(rejects).read_text(encoding="utf-8").splitlines()]
    return report, sorted((_ALSO.sub(" (also at …)", r["reason"]), r["raw_b64"]) for r in records)


@FEW
@given(
    extra=st.lists(jsonl_lines(), max_size=3).map(lambda groups: [x for group in groups for x in group]),
    repeats=st.lists(st.integers(0, 10**6), max_size=6),
    changes=st.lists(st.integers(0, 10**6), max_size=4),
    seed=st.integers(0, 2**32),  # not st.randoms: shuffling thousands of lines would overrun the example's data
    cuts=st.lists(st.integers(0, 10**4), min_size=1, max_size=3),
)
def test_check_report_is_byte_identical_under_shuffling_and_splitting(
    simulated: list[bytes],
    compiled_once: None,
    extra: list[bytes],
    repeats: list[int],
    changes: list[int],
    seed: int,
    cuts: list[int],
) -> None:
    lines = list(simulated) + extra
    lines += [simulated[n % len(simulated)] for n in repeats]  # the same events again
    for n in changes:  # an id given to a different event
        lines.append(simulated[n % len(simulated)].replace(b'"actor":"', b'"actor":"x', 1))
    with tempfile.TemporaryDirectory() as folder:
        rejects = os.path.join(folder, "rejects.jsonl")
        expected = _check([_write(folder, "all.jsonl", b"\n".join(lines) + b"\n")], rejects)
        shuffled = list(lines)
        random.Random(seed).shuffle(shuffled)
        pieces = _parts(shuffled, [cut % (len(lines) + 1) for cut in cuts])
        paths = [
            _write(folder, f"p{n}.jsonl" + (".gz" if n % 2 else ""), b"".join(x + b"\n" for x in piece))
            for n, piece in enumerate(pieces)
        ]
        assert _check(paths, rejects) == expected
