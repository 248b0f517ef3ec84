"""Cost follows the size of the input, never a value inside it.

One class of hostile value per section: dates far from the rest of the log
(and long spans in general), and long texts. Nothing here is timed: each test
asserts bounded work by structure (the rows of the tables a rule builds, the
shape of the SQL plans) or runs in a child process under a DuckDB memory limit
and a generous timeout. The timings are in ``bench/hostile.py``.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlglot import exp

import engine
from engine.api import prepare_rules
from engine.backends.duckdb import DuckDBBackend
from engine.ingest import load_events
from engine.lang.derive import TEXT_CUT_OFF, compile_derived, plan_notes
from engine.lang.fields import Context
from engine.lang.parts import DeriveSpec
from engine.lang.plan import CompiledRule
from engine.lang.portable import portability_problems
from simulator import simulate
from tests.helpers import D, added, ev, findings, one, removed, run_rule, write_events, write_rule

ROOT = Path(__file__).resolve().parent.parent


def stage_rows(log: Path, compiled: list[CompiledRule]) -> dict[str, list[dict[str, Any]]]:
    """Every stage of every rule, materialised as the backend does, with its rows."""
    loaded = load_events([str(log)])
    assert not loaded.problems, loaded.problems[:3]
    backend = DuckDBBackend(loaded.table)
    tables: dict[str, list[dict[str, Any]]] = {}
    try:
        for rule in compiled:
            for name, stage in rule.stages:
                backend.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {stage.sql(dialect='duckdb')}")
                cursor = backend.con.execute(f"SELECT * FROM {name}")
                columns = [d[0] for d in cursor.description]
                tables[f"{rule.id}:{name.rsplit('_', 1)[-1]}"] = [dict(zip(columns, r)) for r in cursor.fetchall()]
    finally:
        backend.close()
    return tables


def sizes(tables: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {name: len(rows) for name, rows in tables.items()}


# ---------------------------------------------------------------------------------------------
# dates far from the rest of the log


@pytest.fixture(scope="module")
def team_log(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return simulate(managers=1, days=45, seed=3).events


def test_far_dates_change_no_table_a_rule_builds(team_log: list[dict[str, Any]], tmp_path: Path) -> None:
    """Events dated 9999-12-31 and 0001-01-01 leave every stage of every default rule as it was without them."""
    plain = write_events(tmp_path / "plain.jsonl", team_log)
    stray = dict(team_log[-1], id="far-future", ts="9999-12-31T18:00:00Z")
    ancient = dict(team_log[-1], id="far-past", ts="0001-01-01T00:00:00Z")
    hostile = write_events(tmp_path / "hostile.jsonl", [ancient, *team_log, stray])
    _, compiled = prepare_rules()
    assert sizes(stage_rows(hostile, compiled)) == sizes(stage_rows(plain, compiled))
    before, after = engine.check([str(plain)]), engine.check([str(hostile)])
    assert after.span == before.span
    assert (after.read, after.evaluated) == (before.read + 2, before.evaluated + 2)
    assert [f.to_dict() for f in after.findings] == [f.to_dict() for f in before.findings]
    outliers = [w for w in after.warnings if w not in before.warnings]
    assert len(outliers) == 2
    assert outliers[0].startswith(f"event 'far-past' ({hostile}:1) is dated 0001-01-01, 2,025 years from")
    assert outliers[1].startswith(f"event 'far-future' ({hostile}:{len(team_log) + 2}) is dated 9999-12-31, ")


OPS = [ev("a", "2026-01-05 09:00", "forecast_updated", "ops"), ev("b", "2026-01-09 17:00", "forecast_updated", "ops")]
ANY_EVENT = {"kind": "match", "where": {"type": "forecast_updated"}}


def by_m1(event_id: str, when: str) -> dict[str, Any]:
    return ev(event_id, when, "forecast_updated", manager="m1")


def lines_of(log: Path) -> dict[str, int]:
    return {json.loads(text)["id"]: n for n, text in enumerate(log.read_text().splitlines(), 1)}


def test_outlier_warning_names_each_event_then_counts(tmp_path: Path) -> None:
    far = [by_m1(f"f{i}", f"{9980 + 3 * i}-06-01") for i in range(6)]  # three years apart: six clusters of one
    near = by_m1("n", "2027-02-13 08:00")  # 400 days after the log's last day
    report = run_rule(tmp_path, [by_m1("a", "2026-01-05 09:00"), by_m1("b", "2026-01-09 17:00"), near, *far], ANY_EVENT)
    log = tmp_path / "events.jsonl"
    line = lines_of(log)
    rest = "the rest of the log (2026-01-05..2026-01-09)"
    assert report.warnings == [
        f"event 'n' ({log}:{line['n']}) is dated 2027-02-13, 400 days from {rest}; it is left out of the assessment",
        *(
            f"event 'f{i}' ({log}:{line[f'f{i}']}) is dated {9980 + 3 * i}-06-01, {7954 + 3 * i:,} years from {rest}; "
            "it is left out of the assessment"
            for i in range(4)
        ),
        "2 more events outside the log's span (2026-01-05..2026-01-09) are left out of the assessment",
    ]
    assert report.span == (D("2026-01-05"), D("2026-01-10"))
    assert (one(report).window_end, one(report).evidence) == (D("2026-01-10"), ["a", "b"])
    assert (report.read, report.evaluated) == (9, 9)


def test_the_cluster_with_most_events_is_the_log(tmp_path: Path) -> None:
    """More than 366 days without an event cut the log; 366 days do not. Of tied clusters the earliest wins."""
    spaced = [by_m1("s1", "2020-01-01"), by_m1("s2", "2021-01-01")]  # 366 days apart: one cluster
    recent = [by_m1("a", "2026-01-05 09:00"), by_m1("b", "2026-01-09 17:00")]
    tied = run_rule(tmp_path, [*spaced, *recent], ANY_EVENT)
    assert tied.span == (D("2020-01-01"), D("2021-01-02"))
    assert one(tied).evidence == ["s1", "s2"]
    report = run_rule(tmp_path, [*spaced, *recent, by_m1("c", "2026-01-07")], ANY_EVENT)
    assert report.span == (D("2026-01-05"), D("2026-01-10"))
    line = lines_of(tmp_path / "events.jsonl")
    rest = "the rest of the log (2026-01-05..2026-01-09); it is left out of the assessment"
    assert report.warnings == [
        f"event 's1' ({tmp_path / 'events.jsonl'}:{line['s1']}) is dated 2020-01-01, 6 years from {rest}",
        f"event 's2' ({tmp_path / 'events.jsonl'}:{line['s2']}) is dated 2021-01-01, 5 years from {rest}",
    ]


def test_a_span_is_at_most_a_hundred_years(tmp_path: Path) -> None:
    """A chain of events a year apart is one cluster however long; the span keeps its last 100 years,
    so a weekly series has at most 5,219 periods per scope."""
    chain = [by_m1(f"y{year}", f"{year}-07-01") for year in range(1800, 2027)]
    rules = tmp_path / "rules"
    write_rule(rules, "t/weekly", {**ANY_EVENT, "window": {"calendar": "week"}})
    log = write_events(tmp_path / "events.jsonl", chain)
    _, compiled = prepare_rules([str(rules)])
    assert len(stage_rows(log, compiled)["t/weekly:w"]) == 5219
    report = engine.check([str(log)], rules=[str(rules)])
    start = D("2026-07-02") - timedelta(days=36525)
    assert report.span == (start, D("2026-07-02"))
    assert report.warnings[0] == (
        f"event 'y1800' ({log}:1) is dated 1800-07-01, more than 100 years before the end of the log "
        f"({start.date()}..2026-07-01); it is left out of the assessment"
    )
    assert (
        report.warnings[-1]
        == f"{1926 - 1800 - 4} more events outside the log's span ({start.date()}..2026-07-01) are left out of the assessment"
    )


def test_the_last_day_of_9999_is_a_valid_log(tmp_path: Path) -> None:
    """A log on the last day a timestamp can hold runs; its span ends at the last microsecond."""
    events = [by_m1(f"e{i}", f"9999-12-31 {10 + i}:00") for i in range(3)] + [by_m1("first", "0001-01-01")]
    report = run_rule(tmp_path, events, ANY_EVENT)
    assert report.span == (D("9999-12-31"), datetime(9999, 12, 31, 23, 59, 59, 999999))
    assert one(report).evidence == ["e0", "e1", "e2"]
    assert [w.split(", ")[1] for w in report.warnings] == [
        "9,999 years from the rest of the log (9999-12-31..9999-12-31); it is left out of the assessment"
    ]


def test_a_log_of_roster_events_only_has_no_span_and_no_scopes(tmp_path: Path) -> None:
    """Without a span nothing is assessed, however long the roster says someone led."""
    events = [added("a1", "2026-01-05", "m1", "r1"), removed("x1", "9999-12-01", "m1", "r1")]
    log = write_events(tmp_path / "roster.jsonl", events)
    report = engine.check([str(log)])
    assert (report.span, report.managers, report.findings) == ((None, None), [], [])
    # the rules that would read zero events as a finding say once that they could not judge anyone
    assert report.not_assessed and all(n.manager is None for n in report.not_assessed)
    assert all("could not judge anyone" in n.reason for n in report.not_assessed)


# ---------------------------------------------------------------------------------------------
# concurrency: open items counted at noon of every day, without a row per day

CONCURRENT = {
    "kind": "concurrency",
    "group_by": ["manager", "rep"],
    "key": "deal",
    "open": {"where": {"type": "deal_created"}},
    "close": {"where": {"type": ["deal_closed_won", "deal_closed_lost"]}},
    "window": {"calendar": "month", "min_coverage": 0.1},
    "op": "gte",
    "value": 0,
}


def deal(event_id: str, when: str, event_type: str, rep: str, item: str, manager: str | None = None) -> dict[str, Any]:
    return ev(event_id, when, event_type, rep, rep=rep, deal=item, manager=manager)


def noon_counts(events: list[dict[str, Any]], rep: str, start: datetime, end: datetime) -> list[int]:
    """The rule's definition, day by day: the rep's open deals at each noon UTC in [start, end)."""
    opened: dict[str, datetime] = {}
    closed: dict[str, datetime] = {}
    for e in sorted(events, key=lambda e: e["ts"]):
        if e.get("rep") != rep or "deal" not in e:
            continue
        ts = datetime.fromisoformat(e["ts"][:-1])
        if e["type"] == "deal_created":
            opened.setdefault(e["deal"], ts)
        elif e["deal"] in opened and e["deal"] not in closed and ts >= opened[e["deal"]]:
            closed[e["deal"]] = ts
    counts = []
    day = datetime(start.year, start.month, start.day)
    while day < end:
        noon = day + timedelta(hours=12)
        if start <= noon < end:
            counts.append(sum(1 for d, t in opened.items() if t <= noon and (d not in closed or closed[d] > noon)))
        day += timedelta(days=1)
    return counts


def test_concurrency_matches_the_daily_count_and_builds_no_day_rows(tmp_path: Path) -> None:
    """Deals over 30 years: every window's average, highest and lowest are those of its noon samples,
    and no table the rule builds has a row per day (11,000 days; a few hundred windows)."""
    rng = random.Random(5)
    events = [added("a1", "1996-01-01", "m1", "r1"), removed("x1", "2011-06-15 12:00", "m1", "r1")]
    events += [added("a2", "2011-06-15 12:00", "m2", "r1")]
    day0 = datetime(1996, 1, 3)
    for i in range(40):
        start = day0 + timedelta(days=rng.randint(0, 28 * 365), hours=rng.choice([0, 11, 12, 13]))
        events.append(deal(f"o{i}", start.isoformat(sep=" "), "deal_created", "r1", f"d{i % 30}"))
        if rng.random() < 0.7:
            end = start + timedelta(days=rng.randint(0, 400), hours=rng.choice([0, 12, 23]))
            events.append(deal(f"c{i}", end.isoformat(sep=" "), "deal_closed_won", "r1", f"d{i % 30}"))
    events += [ev(f"p{y}", f"{y}-01-02", "forecast_updated", "ops") for y in range(1996, 2027)]  # one cluster
    rules = tmp_path / "rules"
    for measure in ("avg", "max", "min"):
        write_rule(rules, f"t/{measure}", {**CONCURRENT, "measure": measure, "name": "open"}, message="{open}")
    log = write_events(tmp_path / "events.jsonl", events)
    _, compiled = prepare_rules([str(rules)])
    tables = stage_rows(log, compiled)
    days = (datetime(2026, 1, 3) - datetime(1996, 1, 2)).days
    assert max(sizes(tables).values()) < days / 20
    steps = {
        n.args["step"].sql()
        for rule in compiled
        for _, stage in rule.stages
        for n in stage.find_all(exp.GenerateSeries)
    }
    assert steps == {"INTERVAL '1' MONTH"}  # the calendar months; no series of days
    for measure in ("avg", "max", "min"):
        windows = tables[f"t/{measure}:w"]
        assert len(windows) > 300
        for w in windows:
            counts = noon_counts(events, "r1", w["w_start"], w["w_end"])
            expected = {"avg": sum(counts) / len(counts), "max": max(counts), "min": min(counts)}[measure]
            assert (w["open"], w["peak_open"], w["days"]) == (expected, max(counts), len(counts)), w


def test_concurrency_windows_without_a_noon_are_not_assessed(tmp_path: Path) -> None:
    """A led period with no noon in it has no daily count, as before: no window at all."""
    events = [added("a1", "2026-01-05 13:00", "m1", "r1"), removed("x1", "2026-01-06 11:00", "m1", "r1")]
    events += [deal("o1", "2026-01-05 14:00", "deal_created", "r1", "d1"), *OPS]
    report = run_rule(tmp_path, events, {**CONCURRENT, "window": "whole"}, message="{open_items}")
    assert findings(report) == []


# ---------------------------------------------------------------------------------------------
# long texts


def derived(**spec: Any) -> exp.Expr:
    ctx = Context(report=lambda *a, **k: None, resolve=lambda value, loc: value, lists={}, macros={})
    sql = compile_derived("x", DeriveSpec.model_validate(spec), ctx, (), None)
    assert sql is not None
    return sql


PAIR = ["attrs.original_text", "attrs.text"]


def measure(sql: exp.Expr, pairs: list[tuple[str, str]]) -> list[Any]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, attrs JSON)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?)",
        [(i, json.dumps({"original_text": a, "text": b})) for i, (a, b) in enumerate(pairs)],
    )
    return [r[0] for r in con.execute(f"SELECT {sql.sql(dialect='duckdb')} FROM t ORDER BY i").fetchall()]


def words(text: str) -> set[str]:
    return set(re.findall("[a-z0-9]+", text.lower()))


def test_added_words_is_the_set_difference() -> None:
    rng = random.Random(2)
    vocabulary = ["q3", "pricing", "VP", "deal", "Acme's", "renewal", "20%", "friday", "plan"]
    pairs = [("", ""), ("", "new words here"), ("Same text.", "same, TEXT!"), ("a a a", "a b b c")]
    for _ in range(30):
        pairs.append(tuple(" ".join(rng.choices(vocabulary, k=rng.randint(0, 40))) for _ in range(2)))  # type: ignore[arg-type]
    expected = [len(words(new) - words(old)) for old, new in pairs]
    assert measure(derived(added_words=PAIR), pairs) == expected


def test_no_measure_looks_words_up_or_compares_unbounded_texts() -> None:
    """Added words use no lambda (a lookup per word is quadratic); the edit distance sees bounded openings."""
    assert not list(derived(added_words=PAIR).find_all(exp.Lambda, exp.ArrayContains))
    _, compiled = prepare_rules()
    distances = [node for rule in compiled for _, stage in rule.stages for node in stage.find_all(exp.Levenshtein)]
    assert distances  # the shipped verbatim-relay rule
    for node in distances:
        for side in (node.this, node.expression):
            assert isinstance(side, exp.Substring) and int(side.args["length"].name) <= TEXT_CUT_OFF


def test_similarity_within_the_cut_off_is_the_plain_measure() -> None:
    def levenshtein(a: str, b: str) -> int:
        row = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            prev, row[0] = row[0], i
            for j, y in enumerate(b, 1):
                prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
        return row[-1]

    rng = random.Random(4)
    pairs = [("", ""), ("abc", ""), ("kitten", "sitting")]
    pairs += [
        ("".join(rng.choices("ab c", k=rng.randint(0, 60))), "".join(rng.choices("abc ", k=60))) for _ in range(20)
    ]
    pairs += [("x" * TEXT_CUT_OFF, "x" * (TEXT_CUT_OFF - 7) + "yyyyyyy")]
    norm = [(" ".join(a.split()), " ".join(b.split())) for a, b in pairs]
    expected = [1 - levenshtein(a, b) / max(len(a), len(b), 1) for a, b in norm]
    assert measure(derived(similarity=PAIR), pairs) == expected


def test_similarity_of_long_texts_is_judged_on_openings_and_lengths(tmp_path: Path) -> None:
    base = " ".join(f"w{i}" for i in range(1200))  # about 5,800 characters
    longer = base + " and a long paragraph of context added by the manager" * 20
    assert measure(derived(similarity=PAIR), [(base, base), (base, longer), (base, "x " + base)]) == [
        1,
        1 - (len(longer) - len(base)) / len(longer),  # the openings are identical: the lengths decide
        1 - 4 / TEXT_CUT_OFF,  # "x " shifts the opening: two characters in at the start, two out at the end
    ]
    logic = {
        "kind": "threshold",
        "where": {"type": "message_relayed"},
        "derive": {"similarity": {"similarity": PAIR}},
        "metric": {"min": "similarity"},
        "op": "gte",
        "value": 0,
    }

    def relay(event_id: str, day: str, original: str, text: str) -> dict[str, Any]:
        attrs = {"source": "vp", "original_text": original, "text": text}
        return ev(event_id, day, "message_relayed", manager="m1", attrs=attrs)

    relays = [relay("r1", "2026-01-06", "hi", "hi")]
    assert not any("similarity" in w for w in run_rule(tmp_path, [*OPS, *relays], logic).warnings)
    relays.append(relay("r2", "2026-01-07", base, longer))
    report = run_rule(tmp_path, [*OPS, *relays], logic)
    assert report.warnings == [
        f"rule 't/rule': 1 event(s) (e.g. 'r2' ({tmp_path / 'events.jsonl'}:4)) compare texts "
        f"(attrs.original_text and attrs.text) longer than {TEXT_CUT_OFF:,} characters once normalised: "
        f"their similarity is judged on the first {TEXT_CUT_OFF:,} characters and on their lengths"
    ]


def test_cut_off_notes_translate_to_spark() -> None:
    notes = plan_notes(derived(similarity=PAIR))
    assert len(notes) == 1 and portability_problems(notes[0].query) == []


CHILD = """
import json, sys
import duckdb
import engine.backends.duckdb as backend

connect = duckdb.connect
def limited(*args, **kwargs):
    con = connect(*args, **kwargs)
    con.execute("SET memory_limit = '1GB'")
    con.execute("SET threads = 1")
    return con
backend.duckdb.connect = limited

import engine
report = engine.check([sys.argv[1]])
print(json.dumps({"findings": len(report.findings), "warnings": report.warnings, "read": report.read}))
"""


def test_hostile_values_run_in_bounded_memory(team_log: list[dict[str, Any]], tmp_path: Path) -> None:
    """The default rules on a log with a date in 9999 and two 140,000-character texts, in 1 GB of DuckDB memory."""
    rng = random.Random(7)
    original = " ".join(
        rng.choice(["pricing", "update", "q3", "approval", "vp", "deal", "renewal"]) for _ in range(25_000)
    )
    relay = ev("long", "2026-01-20 10:00", "message_relayed", "mgr-001", manager="mgr-001")
    relay["attrs"] = {"source": "exec-ceo", "original_text": original[:140_000], "text": ("FYI " + original)[:140_000]}
    far = dict(team_log[-1], id="far", ts="9999-12-31T23:59:59Z")
    log = write_events(tmp_path / "hostile.jsonl", [*team_log[:2000], relay, far])
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(log)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["read"] == 2002
    assert any(w.startswith("event 'far'") for w in result["warnings"])
    assert any("'long'" in w and "similarity" in w for w in result["warnings"])
