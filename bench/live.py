"""Throughput and memory of ``salesmirror watch`` next to ``check``, on a simulated org streamed in time order.

The stream is generated on the fly and piped into ``watch``'s stdin, never
stored: one simulated org (``--managers`` teams over ``--days``) is copied
as many times as it takes to reach ``--events``, each copy with its own
people, deals and ids, and the copies' events are interleaved in time order.
The RSS of the ``watch`` process is sampled from /proc as the stream passes
each millionth event and at the end. ``check`` runs on the same events
written to a temporary file (only up to ``--check-max`` events: it holds the
whole log in memory by design).

    python bench/live.py --events 1000000
    python bench/live.py --events 10000000 --every 30d --check-max 1000000
    python bench/live.py --events 10000000 --every 30d --memory-limit 512MB
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

_WATCH = (
    "import sys; sys.argv[0] = 'salesmirror'; from engine.live import watch_command; "
    "watch_command(sys.argv[1:], prog_name='salesmirror watch')"
)
_PEOPLE = ("id", "actor", "manager", "rep", "deal")


def _base(managers: int, days: int) -> list[dict[str, Any]]:
    from engine.events.timestamps import parse_timestamp
    from simulator import simulate

    events = simulate(managers=managers, days=days, seed=11, start=date(2026, 1, 5)).events
    return sorted(events, key=lambda e: (parse_timestamp(str(e["ts"])), str(e["id"])))


def _copy(event: dict[str, Any], number: int) -> dict[str, Any]:
    """The event of copy ``number`` of the org: every person, deal and id prefixed, so the copies never meet."""
    if number == 0:
        return event
    out = dict(event)
    for key in _PEOPLE:
        if isinstance(out.get(key), str):
            out[key] = f"c{number}-{out[key]}"
    attrs = out.get("attrs")
    if isinstance(attrs, dict) and isinstance(attrs.get("participants"), list):
        out["attrs"] = dict(attrs, participants=[f"c{number}-{p}" for p in attrs["participants"]])
    return out


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ROSTER = ("team_member_added", "team_member_removed")


def _shifted(event: dict[str, Any], number: int, days: int) -> dict[str, Any]:
    """Copy ``number`` of an event, ``days`` later: its time and the dates in its attributes moved along."""
    out = _copy(event, number)
    if days == 0:
        return out
    out = dict(out, ts=_later(str(out["ts"]), days))
    attrs = out.get("attrs")
    if isinstance(attrs, dict):
        out["attrs"] = {k: _later(v, days) if isinstance(v, str) and _DATE.match(v) else v for k, v in attrs.items()}
    return out


def _later(text: str, days: int) -> str:
    if _DATE.match(text):
        return (date.fromisoformat(text) + timedelta(days=days)).isoformat()
    instant = datetime.fromisoformat(text.replace("Z", "+00:00")) + timedelta(days=days)
    return instant.isoformat().replace("+00:00", "Z")


def long_stream(base: list[dict[str, Any]], total: int, start: date, days: int, concurrency: int) -> Iterator[bytes]:
    """``total`` JSON lines in time order at a constant density: copies of the org that start one after another.

    Copy ``k`` is the org with its own people, ids and deals, moved ``k``
    times a stagger (``days / concurrency``, whole weeks, so weekdays stay)
    later; about ``concurrency`` copies run at any time, so the stream goes
    on in event time at one org's rate instead of piling up in one stretch.
    A copy's roster history (adds dated before it starts) is in the roster
    file (:func:`roster_rows`), as an org's HR system would give it.
    """
    stagger = 7 * max(1, round(days / concurrency / 7))
    copies = -(-total // len(base))
    first = datetime.combine(start, datetime.min.time(), tzinfo=timezone.utc)

    def copy(number: int) -> Iterator[tuple[datetime, int, bytes]]:
        for event in base:
            moved = _shifted(event, number, number * stagger)
            instant = datetime.fromisoformat(str(moved["ts"]).replace("Z", "+00:00"))
            if moved["type"] in _ROSTER and instant < first + timedelta(days=number * stagger):
                continue  # history: in the roster file
            yield instant, number, (json.dumps(moved) + "\n").encode()

    merged = heapq.merge(*(copy(n) for n in range(copies)))
    yield from (line for _, _, line in itertools.islice(merged, total))


def roster_rows(base: list[dict[str, Any]], total: int, start: date, days: int, concurrency: int) -> str:
    """The roster CSV of :func:`long_stream`: each copy's adds dated before the copy starts, with their removals."""
    stagger = 7 * max(1, round(days / concurrency / 7))
    copies = -(-total // len(base))
    rows = ["rep,manager,start,end"]
    for number in range(copies):
        begins = datetime.combine(start, datetime.min.time(), tzinfo=timezone.utc) + timedelta(days=number * stagger)
        moved = [_shifted(e, number, number * stagger) for e in base if e["type"] in _ROSTER]
        for event in moved:
            when = datetime.fromisoformat(str(event["ts"]).replace("Z", "+00:00"))
            if event["type"] != "team_member_added" or when >= begins or not event.get("rep"):
                continue
            ends = [
                str(r["ts"])
                for r in moved
                if r["type"] == "team_member_removed" and r.get("rep") == event["rep"]
                and r.get("manager") == event["manager"] and str(r["ts"]) > str(event["ts"])
            ]  # fmt: skip
            end = min(ends) if ends and min(ends) < begins.isoformat().replace("+00:00", "Z") else ""
            rows.append(f"{event['rep']},{event['manager']},{event['ts']},{end}")
    return "\n".join(rows) + "\n"


def stream(base: list[dict[str, Any]], total: int) -> Iterator[bytes]:
    """``total`` JSON lines in time order: each base event followed by its copies."""
    copies = -(-total // len(base))
    written = 0
    for event in base:
        for number in range(copies):
            if written == total:
                return
            yield (json.dumps(_copy(event, number)) + "\n").encode()
            written += 1


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_watch(
    lines: Iterable[bytes],
    total: int,
    every: str,
    marks: list[int],
    memory_limit: str | None = None,
    roster: str | None = None,
) -> dict[str, Any]:
    limit = ["--memory-limit", memory_limit] if memory_limit else []
    limit += ["--roster", roster] if roster else []
    process = subprocess.Popen(
        [sys.executable, "-c", _WATCH, "-", "--no-config", "--every", every, "--fail-on", "never", *limit],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    lines_out: list[bytes] = []
    reader = threading.Thread(target=lambda: lines_out.extend(process.stdout or []), daemon=True)
    reader.start()
    errors: list[bytes] = []
    err_reader = threading.Thread(target=lambda: errors.extend(process.stderr or []), daemon=True)
    err_reader.start()
    peaks: dict[int, int] = {}
    highest = [0]
    segment = [0]  # the peak since the last mark: a tick's working set comes and goes between marks
    segments: dict[int, int] = {}

    def sample() -> None:  # the process's own peak, sampled (RUSAGE_CHILDREN would mix in check's)
        while process.poll() is None:
            now = _rss_kb(process.pid)
            highest[0] = max(highest[0], now)
            segment[0] = max(segment[0], now)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    at = set(marks)
    for written, line in enumerate(lines, 1):
        process.stdin.write(line)
        if written in at:
            peaks[written] = _rss_kb(process.pid)
            segments[written] = max(segment[0], peaks[written])
            segment[0] = 0
    process.stdin.close()
    fed = time.perf_counter() - start
    peak_before_end = _rss_kb(process.pid)
    process.wait()
    seconds = time.perf_counter() - start
    reader.join()
    err_reader.join()
    sampler.join()
    return {
        "seconds": seconds,
        "fed_seconds": fed,
        "events_per_s": total / seconds,
        "rss_at_mb": {mark: kb / 1024 for mark, kb in peaks.items()},
        "peak_to_mb": {mark: kb / 1024 for mark, kb in segments.items()},
        "rss_fed_mb": peak_before_end / 1024,
        "max_rss_mb": highest[0] / 1024,
        "lines": len(lines_out),
        "findings": _identities(lines_out),
        "exit": process.returncode,
        "stderr_tail": b"".join(errors[-3:]).decode(errors="replace"),
    }


def _identities(lines: Iterable[bytes]) -> list[str]:
    """Each finding line's identity (rule, people, window, metrics, evidence): what the differential compares."""
    from tests.live_support import identity

    return [identity(json.loads(line)) for line in lines if line.strip()]


def run_check(lines: Iterable[bytes], total: int, roster: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "events.jsonl")
        with open(path, "wb") as out:
            out.writelines(lines)
        start = time.perf_counter()
        process = subprocess.run(
            [
                sys.executable,
                "-c",
                "import resource, sys, cli\ntry:\n    cli.main()\nfinally:\n"
                "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)",
                "check", path, "--format", "json", "--no-config", *(["--roster", roster] if roster else []),
            ],
            cwd=ROOT,
            capture_output=True,
        )  # fmt: skip
        seconds = time.perf_counter() - start
    tail = process.stderr.decode(errors="replace").strip().splitlines()
    peak = int(tail[-1]) / 1024 if tail and tail[-1].isdigit() else 0.0
    from tests.live_support import identity

    findings = [identity(f) for f in json.loads(process.stdout)["findings"]] if process.stdout else []
    return {
        "seconds": seconds,
        "events_per_s": total / seconds,
        "findings": findings,
        "exit": process.returncode,
        "max_rss_mb": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--managers", type=int, default=12)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--every", default="7d", help="watch --every")
    parser.add_argument("--check-max", type=int, default=1_000_000, help="Run check only up to this many events.")
    parser.add_argument("--memory-limit", help="watch --memory-limit (the store's DuckDB limit; default 1GB).")
    parser.add_argument(
        "--shape",
        choices=["long", "dense"],
        default="long",
        help="long: copies start one after another, so the stream goes on in time at a constant density; "
        "dense: every copy over the same days (the density grows with --events).",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="long: about this many copies at any time.")
    args = parser.parse_args()
    base = _base(args.managers, args.days)
    marks = list(range(1_000_000, args.events + 1, 1_000_000)) or [args.events]  # RSS at every millionth event
    print(f"org: {args.managers} teams over {args.days} days, {len(base):,} events, copied to {args.events:,}")
    roster: str | None = None
    keep = tempfile.TemporaryDirectory()
    if args.shape == "long":
        roster = os.path.join(keep.name, "roster.csv")
        start = date(2026, 1, 5)
        with open(roster, "w", encoding="utf-8") as out:
            out.write(roster_rows(base, args.events, start, args.days, args.concurrency))

        def lines() -> Iterator[bytes]:
            return long_stream(base, args.events, start, args.days, args.concurrency)

        stagger = 7 * max(1, round(args.days / args.concurrency / 7))
        copies = -(-args.events // len(base))
        print(
            f"shape long: {copies} copies, one every {stagger} days, about {args.concurrency} at a time: "
            f"{(copies - 1) * stagger + args.days:,} days of event time"
        )
    else:

        def lines() -> Iterator[bytes]:
            return stream(base, args.events)

        print("shape dense: every copy over the same days")
    if args.events <= args.check_max:
        checked = run_check(lines(), args.events, roster)
        print(
            f"check: {checked['seconds']:.1f} s, {checked['events_per_s']:,.0f} events/s, "
            f"{len(checked['findings'])} findings (exit {checked['exit']}), peak RSS {checked['max_rss_mb']:,.0f} MB"
        )
    watched = run_watch(lines(), args.events, args.every, marks, args.memory_limit, roster)
    at = ", ".join(f"{mark:,}: {mb:,.0f} MB" for mark, mb in watched["rss_at_mb"].items())
    print(
        f"watch --every {args.every}{' --memory-limit ' + args.memory_limit if args.memory_limit else ''}: "
        f"{watched['seconds']:.1f} s ({watched['fed_seconds']:.1f} s to take the stream), "
        f"{watched['events_per_s']:,.0f} events/s, {watched['lines']} finding lines (exit {watched['exit']})"
    )
    seen = watched["findings"]
    print(f"watch: {len(set(seen))} distinct findings, {len(seen) - len(set(seen))} printed more than once")
    if args.events <= args.check_max:
        only_check = len(set(checked["findings"]) - set(seen))
        only_watch = len(set(seen) - set(checked["findings"]))
        print(f"watch against check: {only_check} only in check, {only_watch} only in watch")
        ratio = checked["seconds"] / watched["seconds"]
        print(f"watch's throughput is {ratio:.2f}x check's on the same events (check's time / watch's)")
    print(
        f"watch RSS at {at}; when the stream ended: {watched['rss_fed_mb']:,.0f} MB; peak {watched['max_rss_mb']:,.0f} MB"
    )
    highs = ", ".join(f"{mark:,}: {mb:,.0f} MB" for mark, mb in watched["peak_to_mb"].items())
    print(f"watch peak RSS up to each mark (since the one before): {highs}")
    print(f"watch: {watched['stderr_tail'].strip().splitlines()[-1] if watched['stderr_tail'].strip() else ''}")
    if watched["exit"] not in (0, 1):
        print(watched["stderr_tail"])


if __name__ == "__main__":
    main()
