"""salesmirror watch: late events, refused lines, state and restart, webhook, follow and directory sources, durable-rules."""

from __future__ import annotations

import base64
import http.server
import io
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner
from live_support import batches, check_findings, identity, in_time_order, lines_of, watch_events

from engine.api import prepare_rules
from engine.live import watch_command
from engine.live.durable import Gate, durable_available, ruleset_for, translate
from engine.live.runner import LiveOptions, LiveRun
from engine.live.sources import directory_batches, file_batches, stream_batches
from engine.live.store import Store
from engine.live.webhook import Webhook

ROOT = Path(__file__).resolve().parent.parent
needs_durable = pytest.mark.skipif(durable_available() is not None, reason="durable-rules cannot be imported here")


def _ts(day: int, hour: int = 9) -> str:
    return (
        (datetime(2026, 1, 5, tzinfo=timezone.utc) + timedelta(days=day, hours=hour)).isoformat().replace("+00:00", "Z")
    )


def _churn_log(changes: list[int], *, manager: str = "mgr-1", days: int = 200) -> list[dict[str, Any]]:
    """A team with a rep, daily calls, and strategy changes on the given days (knee-jerk-reactionary)."""
    events: list[dict[str, Any]] = [
        {"id": f"add-{manager}", "ts": _ts(0, 0), "type": "team_member_added", "actor": manager, "manager": manager,
         "rep": f"rep-{manager}"},
    ]  # fmt: skip
    for day in range(days):
        events.append(
            {"id": f"call-{manager}-{day}", "ts": _ts(day, 10), "type": "call_logged", "actor": f"rep-{manager}",
             "attrs": {"duration_s": 300, "outcome": "connected"}}
        )  # fmt: skip
    for number, day in enumerate(changes):
        events.append(
            {"id": f"chg-{manager}-{number}", "ts": _ts(day, 11), "type": "strategy_changed", "actor": manager,
             "manager": manager, "attrs": {"area": "messaging", "summary": f"change {number}"}}
        )  # fmt: skip
    return in_time_order(events)


@pytest.fixture(scope="module")
def rules():  # type: ignore[no-untyped-def]
    ruleset, compiled = prepare_rules()
    return ruleset, compiled


def _only(compiled: list[Any], rule_id: str) -> list[Any]:
    return [c for c in compiled if c.id == rule_id]


CHURN = "knee-jerk-reactionary/strategy-churn"


def _churn_rules(tmp_path: Path) -> list[str]:
    """Command-line options that run strategy-churn alone (a tick of every rule is the benchmark's business)."""
    target = tmp_path / "rules" / "knee-jerk-reactionary"
    target.mkdir(parents=True, exist_ok=True)
    (target / "strategy-churn.yaml").write_bytes((ROOT / "rules" / f"{CHURN}.yaml").read_bytes())
    (tmp_path / "rules" / "_library.yaml").write_bytes((ROOT / "rules" / "_library.yaml").read_bytes())
    return ["--rules", str(tmp_path / "rules"), "--no-config"]


# ---------------------------------------------------------------- settling early


@needs_durable
def test_a_finding_is_printed_before_the_input_ends_once_certain(rules) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = rules
    chosen = _only(compiled, "knee-jerk-reactionary/strategy-churn")
    log = _churn_log([10, 20, 30])  # three changes early on, then 170 quiet days
    want = check_findings(log, chosen)
    assert len(want) == 1
    got = watch_events(lines_of(log), chosen, ruleset, every=timedelta(days=2))
    assert got.identities == want
    settled = got.lines[0]["settled"]
    assert settled != "end of input"
    # certain only once a later change could no longer merge into it: the 90-day window, the 30-day
    # `within`, the 14 days of absence inference and the span's day after the last change (ticks every 2 days)
    assert _ts(30 + 90 + 30 + 14, 0) <= settled < _ts(30 + 90 + 30 + 14 + 4, 0)


@needs_durable
def test_batch_size_ticks_and_gate_do_not_change_the_lines(rules) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = rules
    chosen = _only(compiled, "knee-jerk-reactionary/strategy-churn")
    log = _churn_log([10, 20, 30, 150, 160, 170], days=320)
    lines = lines_of(log)
    runs = [
        watch_events(lines, chosen, ruleset, every=timedelta(days=5), batch=1),
        watch_events(lines, chosen, ruleset, every=timedelta(days=5), batch=5000),
        watch_events(lines, chosen, ruleset, every=timedelta(days=5), batch=37, gate=False),
    ]
    first = [json.dumps(line, sort_keys=True) for line in runs[0].lines]
    assert len(first) == 2
    for other in runs[1:]:
        assert [json.dumps(line, sort_keys=True) for line in other.lines] == first


# ---------------------------------------------------------------- late and refused lines


@needs_durable
def test_late_events_go_to_the_rejects_file_with_their_reason(tmp_path: Path) -> None:
    log = _churn_log([10, 20, 30], days=60)
    late = {"id": "late-1", "ts": _ts(5), "type": "call_logged", "actor": "rep-mgr-1"}
    lines = lines_of(log)
    lines.insert(40, json.dumps(late).encode())  # arrives after day ~37, dated day 5
    lines.insert(10, b"{not json")
    stream = tmp_path / "in.jsonl"
    stream.write_bytes(b"".join(line + b"\n" for line in lines))
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(
        watch_command,
        [str(stream), "--rejects", str(rejects), "--allowed-lateness", "2d", "--every", "5d", *_churn_rules(tmp_path)],
    )
    assert result.exit_code in (0, 1), result.output
    refused = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in refused] == [11, 42]
    assert "late event: ts 2026-01-10T09:00:00Z is before the watermark" in refused[1]["reason"]
    assert "allowed lateness of 2d" in refused[1]["reason"]
    assert base64.b64decode(refused[1]["raw_b64"]) == json.dumps(late).encode()
    # every line accounted for: evaluated or refused
    assert f"{len(lines):,} line(s) read, 2 refused (1 late)" in result.stderr


@needs_durable
def test_refused_lines_without_a_rejects_file_are_named_and_exit_2(tmp_path: Path) -> None:
    stream = tmp_path / "in.jsonl"
    good = lines_of(_churn_log([], days=3))
    stream.write_bytes(
        b"\n".join([*good, b'{"id": "x", "ts": "yesterday", "type": "call_logged", "actor": "a"}']) + b"\n"
    )
    result = CliRunner().invoke(watch_command, [str(stream), *_churn_rules(tmp_path)])
    assert result.exit_code == 2
    assert f"{stream}:{len(good) + 1}: " in result.stderr
    assert "Traceback" not in result.output


@needs_durable
def test_a_different_event_under_a_seen_id_is_refused_and_the_same_one_kept_once(rules) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = rules
    log = _churn_log([], days=5)
    lines = lines_of(log)
    changed = dict(log[3], actor="someone-else")
    lines += [lines[3], json.dumps(changed).encode()]
    # the repeat (line 7) shares a batch with the first (line 4); the changed event (line 8) comes later
    got = watch_events(lines, _only(compiled, CHURN), ruleset, batch=7)
    assert len(got.refused) == 1
    assert got.refused[0].line == len(lines)
    assert "with different content (also at stream.jsonl:4)" in got.refused[0].message
    # within one batch, as in check, every record of the clash is refused, each naming the other's place
    together = watch_events(lines, _only(compiled, CHURN), ruleset, batch=100)
    assert sorted(p.line for p in together.refused) == [4, 7, 8]
    assert any("stream.jsonl:8" in p.message for p in together.refused if p.line == 4)


@needs_durable
def test_a_stray_far_future_date_does_not_close_every_window(rules) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = rules
    log = _churn_log([10, 20, 30], days=180)
    stray = {"id": "stray", "ts": "9999-12-31T00:00:00Z", "type": "call_logged", "actor": "rep-mgr-1"}
    lines = lines_of(log)
    lines.insert(5, json.dumps(stray).encode())
    chosen = _only(compiled, "knee-jerk-reactionary/strategy-churn")
    got = watch_events(lines, chosen, ruleset)
    assert not got.refused
    assert any("does not move the watermark" in w for w in got.warnings)
    assert got.identities == check_findings([*log, stray], chosen)


# ---------------------------------------------------------------- state and restart


@needs_durable
def test_a_restart_from_state_resumes_without_loss_or_duplicates(rules, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = rules
    chosen = _only(compiled, "knee-jerk-reactionary/strategy-churn")
    log = _churn_log([10, 20, 30, 150, 160, 170, 300, 305, 310], days=450)
    lines = lines_of(log)
    parts = batches(lines, 50)
    state = str(tmp_path / "state")
    printed: list[dict[str, Any]] = []

    def deliver(store: Store) -> None:
        printed.extend(json.loads(line) for _, line in store.outbox())
        store.delivered(max((n for n, _ in store.outbox()), default=0))

    store = Store(state)
    run = LiveRun(store, chosen, ruleset, LiveOptions(every=timedelta(days=3)), reject=print, warn=print)
    for part in parts[:5]:  # then the process dies: no finish, the connection simply dropped
        run.feed(part)
        deliver(store)
    store.con.close()
    assert len(printed) == 1  # the first burst settled while the first run was alive

    store = Store(state)
    resumed = store.offsets()["stream.jsonl"]
    assert resumed == (0, 250)
    run = LiveRun(store, chosen, ruleset, LiveOptions(every=timedelta(days=3)), reject=print, warn=print)
    for part in parts[5:]:
        run.feed(part)
        deliver(store)
    run.finish()
    deliver(store)
    store.close()
    got = [identity(line) for line in printed]
    assert len(got) == len(set(got))
    assert sorted(got) == check_findings(log, chosen)
    assert len(got) == 3


@needs_durable
def test_killing_the_process_and_restarting_loses_nothing(tmp_path: Path) -> None:
    """A real kill -9 of ``watch --follow`` mid-stream, then a restart on the same state."""
    log = _churn_log([10, 20, 30, 150, 160, 170], days=330)
    stream = tmp_path / "in.jsonl"
    stream.write_bytes(b"".join(line + b"\n" for line in lines_of(log)))
    state = tmp_path / "state"
    script = (
        "import sys; sys.argv[0] = 'salesmirror'; from engine.live import watch_command; "
        "watch_command(sys.argv[1:], prog_name='salesmirror watch')"
    )
    common = [str(stream), "--state", str(state), *_churn_rules(tmp_path), "--every", "3d", "--batch-lines", "20"]
    first = subprocess.Popen(
        [sys.executable, "-c", script, *common, "--follow", "--poll", "0.2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert first.stdout is not None
    line = first.stdout.readline()  # the first burst's finding: the run is mid-stream
    # kill -9 once the line is marked as printed (a kill between printing and marking prints it again:
    # delivery is at least once), while the run is still reading
    time.sleep(1.0)
    assert first.poll() is None
    first.kill()
    first.wait()
    second = subprocess.run([sys.executable, "-c", script, *common], cwd=ROOT, capture_output=True, timeout=600)
    assert second.returncode == 1, second.stderr.decode()
    lines = [line, *second.stdout.splitlines()]
    got = [identity(json.loads(text)) for text in lines if text.strip()]
    assert len(got) == len(set(got))
    _, compiled = prepare_rules()
    assert sorted(got) == check_findings(log, _only(compiled, CHURN))


# ---------------------------------------------------------------- webhook


class _Collector(http.server.BaseHTTPRequestHandler):
    bodies: list[bytes] = []
    fail_first = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(503)
        else:
            type(self).bodies.append(body)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    _Collector.bodies = []
    _Collector.fail_first = 0
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@needs_durable
def test_each_finding_is_posted_to_the_webhook_after_retries(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _Collector.fail_first = 2  # two 503s: retried with backoff
    stream = tmp_path / "in.jsonl"
    stream.write_bytes(b"".join(line + b"\n" for line in lines_of(_churn_log([10, 20, 30], days=200))))
    url = f"http://127.0.0.1:{server.server_port}/hook"
    result = CliRunner().invoke(
        watch_command, [str(stream), "--webhook", url, "--every", "5d", *_churn_rules(tmp_path)]
    )
    assert result.exit_code == 1, result.output
    printed = [line for line in result.stdout.splitlines() if line.strip()]
    assert printed and [body.decode() for body in _Collector.bodies] == printed


def test_a_webhook_that_keeps_failing_is_reported_not_dropped(server) -> None:  # type: ignore[no-untyped-def]
    _Collector.fail_first = 10
    hook = Webhook(f"http://127.0.0.1:{server.server_port}/", attempts=3, sleep=lambda _: None)
    assert not hook.post('{"rule": "x"}')
    assert hook.last_error == "HTTP 503"
    assert _Collector.bodies == []


def test_only_http_urls_are_accepted() -> None:
    result = CliRunner().invoke(watch_command, ["-", "--webhook", "file:///etc/passwd", "--no-config"], input="")
    assert result.exit_code == 2
    assert "give an http:// or https:// URL" in result.stderr


# ---------------------------------------------------------------- sources


def test_a_followed_file_yields_appended_lines_and_ends_when_idle(tmp_path: Path) -> None:
    path = tmp_path / "grow.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2')  # the second line is not finished yet

    def append() -> None:
        time.sleep(0.3)
        with open(path, "ab") as handle:
            handle.write(b'}\n{"a": 3}\n')

    writer = threading.Thread(target=append)
    writer.start()
    got = list(file_batches(str(path), offsets={}, follow=True, poll=0.05, idle_exit=1.0))
    writer.join()
    lines = [line for batch in got for line in batch.lines]
    assert lines == [(1, b'{"a": 1}'), (2, b'{"a": 2}'), (3, b'{"a": 3}')]
    assert got[-1].offset == path.stat().st_size and got[-1].line == 3
    resumed = list(file_batches(str(path), offsets={str(path): (9, 1)}))
    assert [line for batch in resumed for line in batch.lines] == [(2, b'{"a": 2}'), (3, b'{"a": 3}')]


def test_what_is_ready_at_once_is_one_batch_up_to_its_size(tmp_path: Path) -> None:
    body = b"".join(b'{"n": %d, "pad": "%s"}\n' % (n, b"x" * 200) for n in range(12_000))  # 2.6 MB
    expected = [(n + 1, line) for n, line in enumerate(body.split(b"\n")[:-1])]
    # a pipe hands out at most 64 KB per read, a file 1 MB: either way the batches are as big as allowed
    read, write = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write, body), os.close(write)))
    writer.start()
    with os.fdopen(read, "rb") as pipe:
        piped = list(stream_batches(pipe, max_lines=5_000))
    writer.join()
    assert [line for batch in piped for line in batch.lines] == expected
    assert all(len(batch.lines) <= 5_000 for batch in piped)
    path = tmp_path / "big.jsonl"
    path.write_bytes(body + b'{"n": "last, no newline"}')
    batches_of = list(file_batches(str(path), offsets={}, max_lines=5_000))
    assert [len(batch.lines) for batch in batches_of] == [5_000, 5_000, 2_000, 1]  # the unfinished line at the end
    assert batches_of[-1].lines[-1] == (12_001, b'{"n": "last, no newline"}')
    assert batches_of[-1].offset == path.stat().st_size
    whole = list(stream_batches(io.BytesIO(body), max_lines=20_000))
    assert [len(batch.lines) for batch in whole] == [12_000]


def test_lines_held_back_for_a_full_batch_come_out_when_nothing_more_comes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("engine.live.sources._READ", 24)  # three 8-byte lines per read
    path = tmp_path / "grow.jsonl"
    path.write_bytes(b'{"a":1}\n{"a":2}\n{"a":3}\n')
    slept: list[float] = []
    seen: list[tuple[int, int]] = []  # (line, naps taken when it was handed out)
    for batch in file_batches(
        str(path), offsets={}, follow=True, poll=1.0, idle_exit=2.0, max_lines=2, sleep=slept.append
    ):
        seen += [(number, len(slept)) for number, _ in batch.lines]
    assert seen == [(1, 0), (2, 0), (3, 0)]  # the third line did not wait for the idle exit


def test_the_store_finds_a_stored_id_again_after_a_restart(tmp_path: Path) -> None:
    from engine.ingest import EVENT_SCHEMA
    from engine.live.store import IdFilter, Store

    assert IdFilter().maybe(["a", "b"]) == [False, False]
    ids = [f"ev-{n}" for n in range(5_000)]
    row = {f.name: None for f in EVENT_SCHEMA}
    rows = [dict(row, id=i, ts=datetime(2026, 1, 5), type="call_logged", file="x", line=n) for n, i in enumerate(ids)]
    store = Store(str(tmp_path / "state"))
    store.begin()
    store.insert(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))
    store.commit()
    assert sorted(store.holders(["ev-7", "nope", "ev-4999"])) == ["ev-4999", "ev-7"]
    store.close()
    again = Store(str(tmp_path / "state"))  # the filter is rebuilt from the stored events
    try:
        assert all(again.ids.maybe(ids))
        assert again.holders(["ev-7", "nope"])["ev-7"][1] == "x:7"
        assert sum(again.ids.maybe([f"other-{n}" for n in range(5_000)])) < 5  # nearly all answered at once
    finally:
        again.close()


def test_a_directory_yields_each_landed_file_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "0002.jsonl").write_bytes(b'{"b": 1}\n')
    (tmp_path / "0001.jsonl").write_bytes(b'{"a": 1}\n{"a": 2}\n')
    (tmp_path / "notes.txt").write_bytes(b"not events\n")

    def land() -> None:
        time.sleep(0.3)
        (tmp_path / "0003.jsonl").write_bytes(b'{"c": 1}\n')

    writer = threading.Thread(target=land)
    writer.start()
    got = list(directory_batches(str(tmp_path), offsets={}, follow=True, poll=0.05, idle_exit=1.0))
    writer.join()
    seen = [(os.path.basename(batch.key), line) for batch in got for line in batch.lines]
    assert seen == [
        ("0001.jsonl", (1, b'{"a": 1}')),
        ("0001.jsonl", (2, b'{"a": 2}')),
        ("0002.jsonl", (1, b'{"b": 1}')),
        ("0003.jsonl", (1, b'{"c": 1}')),
    ]


@needs_durable
def test_watch_over_a_directory_and_stdin_equals_check(tmp_path: Path) -> None:
    log = _churn_log([10, 20, 30, 150, 160, 170], days=330)
    lines = lines_of(log)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for number, start in enumerate(range(0, len(lines), 100)):
        (inbox / f"{number:04}.jsonl").write_bytes(b"".join(line + b"\n" for line in lines[start : start + 100]))
    _, compiled = prepare_rules()
    want = check_findings(log, _only(compiled, CHURN))
    options = [*_churn_rules(tmp_path), "--every", "5d"]
    from_dir = CliRunner().invoke(watch_command, [str(inbox), *options])
    from_stdin = CliRunner().invoke(watch_command, options, input=b"".join(x + b"\n" for x in lines))
    for result in (from_dir, from_stdin):
        assert result.exit_code == 1, result.output
        assert sorted(identity(json.loads(x)) for x in result.stdout.splitlines()) == want


# ---------------------------------------------------------------- durable-rules


@needs_durable
def test_a_sequence_rule_becomes_one_ruleset_with_the_workarounds(rules) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = rules
    rule = _only(compiled, "glory-grabber/late-takeover")[0]
    plan = ruleset_for(rule, ruleset, lambda c: None)
    assert plan is not None and plan.sequence
    ((name, body),) = plan.definition.items()
    first, then = body["r0"]["all"]
    joins = then["then"]["$and"]
    assert joins[-1] == {"sm_ok": 1}  # the always-true last test of a correlated join
    assert {"deal": {"first": "deal"}} in joins  # correlated on the deal as written
    assert {"manager": {"first": "manager"}} not in joins  # never on a field the roster fills in
    assert plan.reach == 30 * 86400


@needs_durable
def test_the_gate_pairs_steps_within_the_time_and_retracts_expired_facts(rules) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = rules
    gate = Gate(_only(compiled, "glory-grabber/late-takeover"), ruleset)
    day = 86400.0
    take = {"id": "t1", "type": "deal_owner_changed", "actor": "mgr-1", "deal": "d1"}
    gate.post(take, 10 * day)
    gate.post({"id": "w-other", "type": "deal_closed_won", "actor": "mgr-1", "deal": "d2"}, 11 * day)
    gate.post({"id": "w-late", "type": "deal_closed_won", "actor": "mgr-1", "deal": "d1"}, 50 * day)
    assert not gate.has_candidate("glory-grabber/late-takeover", 0)
    gate.post({"id": "w1", "type": "deal_closed_won", "actor": "mgr-1", "deal": "d1"}, 20 * day)
    assert gate.has_candidate("glory-grabber/late-takeover", 19 * day)
    assert not gate.has_candidate("glory-grabber/late-takeover", 21 * day)
    # the same event id posted again is a new message, not a duplicate dropped by durable-rules' id hash
    gate.post({"id": "w1", "type": "deal_closed_won", "actor": "mgr-1", "deal": "d1"}, 25 * day)
    assert gate.has_candidate("glory-grabber/late-takeover", 24 * day)
    held = gate.held()
    assert held >= 1
    gate.expire(watermark=200 * day, lateness=0)
    assert gate.held() == 0


@needs_durable
def test_an_action_that_fails_is_raised_not_swallowed(rules, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = rules
    gate = Gate(_only(compiled, "knee-jerk-reactionary/strategy-churn"), ruleset)
    monkeypatch.setattr("engine.live.durable.bisect.insort", lambda *a: 1 / 0)
    gate.post({"id": "s1", "type": "strategy_changed", "actor": "m"}, 100.0)  # a first step alone: no action yet
    with pytest.raises(RuntimeError, match="a durable-rules action failed: ZeroDivisionError"):
        gate.post({"id": "s2", "type": "strategy_changed", "actor": "m"}, 200.0)


def test_translation_only_widens(rules) -> None:  # type: ignore[no-untyped-def]
    ruleset, _ = rules
    a, b = ("eq", "type", "a"), ("eq", "type", "b")
    assert translate({"type": ["a", "b"]}, ruleset) == [(a,), (b,)]
    assert translate({"not": {"type": "a"}}, ruleset) == [(("neq", "type", "a"),)]
    # a field durable-rules cannot test as SQL does becomes "any event", even under a negation
    assert translate({"not": {"attrs.focus": "skills"}}, ruleset) == [()]
    assert translate({"not": {"any": [{"type": "a"}, {"rep_on_team": False}]}}, ruleset) == [(("neq", "type", "a"),)]
    assert translate({"type": {"not_in": ["a"]}}, ruleset) == [(("neq", "type", "a"),)]
    # flat alternatives: a list under a negated one narrows, two types at once match nothing
    assert translate({"all": [{"type": ["a", "b"]}, {"not": {"type": "a"}}]}, ruleset) == [(b,)]
    assert translate({"all": [{"type": "a"}, {"type": "b"}]}, ruleset) == []
    assert translate({"any": [{"type": "a"}, {"attrs.x": 1}]}, ruleset) == [()]


def _list_rule(tmp_path: Path) -> tuple[Any, list[Any]]:
    """late-takeover with a list of types as its second step (alternatives: one durable-rules rule each)."""
    source = (ROOT / "rules" / "glory-grabber" / "late-takeover.yaml").read_text(encoding="utf-8")
    changed = source.replace("where: {type: deal_closed_won}", "where: {type: [deal_closed_won, deal_closed_lost]}")
    assert changed != source
    target = tmp_path / "rules" / "glory-grabber"
    target.mkdir(parents=True)
    (target / "late-takeover.yaml").write_text(changed, encoding="utf-8")
    (tmp_path / "rules" / "_library.yaml").write_bytes((ROOT / "rules" / "_library.yaml").read_bytes())
    return prepare_rules([str(tmp_path / "rules")])


@needs_durable
def test_alternatives_keep_the_joins_durable_rules_drops_when_nested(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = _list_rule(tmp_path)
    rule = _only(compiled, "glory-grabber/late-takeover")
    gate = Gate(rule, ruleset)
    (body,) = gate.definition("glory-grabber/late-takeover").values()
    assert len(body) == 2  # one rule per type of the second step
    for pattern in body.values():
        for step in pattern["all"]:
            (tests,) = [test["$and"] for test in step.values()]
            assert not any("$and" in t or "$or" in t for t in tests)  # flat: nested tests lose the joins
    day = 86400.0
    gate.post({"id": "t1", "type": "deal_owner_changed", "actor": "mgr-1", "deal": "d1"}, 10 * day)
    gate.post({"id": "l-other", "type": "deal_closed_lost", "actor": "mgr-1", "deal": "d2"}, 11 * day)
    assert not gate.has_candidate("glory-grabber/late-takeover", 0)  # another deal: no pair
    gate.post({"id": "l1", "type": "deal_closed_lost", "actor": "mgr-1", "deal": "d1"}, 12 * day)
    assert gate.has_candidate("glory-grabber/late-takeover", 12 * day)


@needs_durable
def test_a_second_step_fires_once_and_never_with_itself(rules) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = rules
    gate = Gate(_only(compiled, CHURN), ruleset)
    state = gate._rules[CHURN]
    gate.post({"id": "s1", "type": "strategy_changed", "actor": "m"}, 100.0)
    assert not gate.has_candidate(CHURN, 0)  # one change: both steps of a sequence, never paired with itself
    for n in range(2, 12):  # each later change could pair with every earlier one
        gate.post({"id": f"s{n}", "type": "strategy_changed", "actor": "m"}, 100.0 * n)
    assert state.candidates == [100.0 * n for n in range(2, 12)]  # one action per completing event
    assert len(state.facts) == 11 and len(state.waiting) == 1  # s1 as a second step waits for a late first
    gate.expire(watermark=150.0, lateness=0)
    assert len(state.waiting) == 0 and len(state.facts) == 11  # it cannot get one now; first steps have reach
    gate.expire(watermark=100.0 * 11 + state.plan.reach + 1, lateness=0)
    assert gate.held() == 0


@needs_durable
def test_a_late_first_step_pairs_with_a_waiting_second_step(rules) -> None:  # type: ignore[no-untyped-def]
    ruleset, compiled = rules
    gate = Gate(_only(compiled, "glory-grabber/late-takeover"), ruleset)
    day = 86400.0
    gate.post({"id": "w1", "type": "deal_closed_won", "actor": "mgr-1", "deal": "d1"}, 20 * day)
    assert not gate.has_candidate("glory-grabber/late-takeover", 0)
    gate.post({"id": "t1", "type": "deal_owner_changed", "actor": "mgr-1", "deal": "d1"}, 19 * day)  # arrives late
    assert gate.has_candidate("glory-grabber/late-takeover", 20 * day)
    gate.expire(watermark=100 * day, lateness=0)
    assert gate.held() == 0


def test_watch_says_plainly_when_durable_rules_cannot_run(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("engine.live.durable.importlib.import_module", _no_durable)
    result = CliRunner().invoke(watch_command, ["-", "--no-config"], input="")
    assert result.exit_code == 2
    assert "needs durable-rules 2.0.28" in result.stderr and "pip install 'salesmirror[live]'" in result.stderr
    assert "Traceback" not in result.output


def _no_durable(name: str) -> Any:
    raise ImportError(f"No module named {name!r}")


def test_a_gzip_file_is_refused_with_a_reason(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(b"{}\n"))
    result = CliRunner().invoke(watch_command, [str(path), "--no-config", "--no-gate"])
    assert result.exit_code == 2
    assert "decompress it first" in result.stderr


def test_a_rules_reach_adds_up_every_duration_it_names() -> None:
    """How far back a tick's slice reaches for a rule: one more window, each duration it names, absences and logging.

    A lookback at earlier events of known types (``unless``, ``prior``, a
    sequence's ``without``) reaches further back for those types only.
    """
    from engine.live.evaluator import Reach, rule_reach, window_length

    ruleset, compiled = prepare_rules()
    by_id = {rule.id: rule for rule in compiled}
    extra = timedelta(days=14 + 14 + 14 + 2)  # absence inference, logging grace and burst, rounding
    monthly = by_id["call-listening/monthly-minimum"]  # names no duration
    assert window_length(monthly) == timedelta(days=31)
    assert rule_reach(monthly, 14.0, ruleset) == Reach(timedelta(days=31) + extra)
    closing = by_id["glory-grabber/closing-share"]  # a two-year lookback at the owner's book: deal_created only
    quarter = timedelta(days=92)
    assert rule_reach(closing, 14.0, ruleset) == Reach(
        quarter + extra, timedelta(days=730), frozenset({"deal_created"})
    )
    unknown = rule_reach(closing, 14.0)  # without the rule set the lookback's types are unknown: all of it, near
    assert unknown == Reach(quarter + timedelta(days=730) + extra)
    churn = by_id["knee-jerk-reactionary/strategy-churn"]  # sliding 90 days, a bed-down time and a merge gap
    reach = rule_reach(churn, 14.0, ruleset)
    assert reach is not None and reach.near >= timedelta(days=90 + 90 + 30) + extra and not reach.far_types
