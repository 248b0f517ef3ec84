"""Shared helpers of the live-mode tests: run ``watch``'s loop over events in memory and compare with check."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from engine.api import evaluate
from engine.events.timestamps import parse_timestamp
from engine.ingest import InputProblem, load_records
from engine.lang.loader import RuleSet
from engine.lang.plan import CompiledRule
from engine.live.runner import LiveOptions, LiveRun
from engine.live.sources import Batch
from engine.live.store import Store
from engine.report.model import Finding


def identity(data: dict[str, Any]) -> str:
    """What the differential test compares: rule, people, window, metrics and evidence."""
    keys = [data["rule"], data["manager"], data["rep"], data["deal"], data["window"], data["metrics"], data["evidence"]]
    return json.dumps(keys, sort_keys=True, default=str)


def check_findings(events: Sequence[dict[str, Any]], compiled: Sequence[CompiledRule]) -> list[str]:
    loaded = load_records(list(events))
    assert not loaded.problems, loaded.problems
    return sorted(identity(f.to_dict()) for f in evaluate(loaded, list(compiled)).findings)


def in_time_order(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events as a live stream brings them: by their instant (offsets and bare dates read as check reads them)."""

    def instant(event: dict[str, Any]) -> tuple[int, str]:
        return (parse_timestamp(str(event["ts"])), str(event.get("id")))

    return sorted(events, key=instant)


def lines_of(events: Sequence[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(e).encode() for e in events]


def batches(lines: Sequence[bytes], size: int, name: str = "stream.jsonl") -> list[Batch]:
    out = []
    for start in range(0, len(lines), size):
        chunk = [(start + i + 1, raw) for i, raw in enumerate(lines[start : start + size])]
        out.append(Batch(name, name, chunk, offset=0, line=start + len(chunk)))
    return out


class Watched:
    """What a live run emitted: the finding lines, the refused lines and the final report's findings."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.refused: list[InputProblem] = []
        self.warnings: list[str] = []
        self.final: list[Finding] = []
        self.counts: Any = None  # the run's counters (LiveRun.counts)

    @property
    def identities(self) -> list[str]:
        return sorted(identity(line) for line in self.lines)


def watch_events(
    lines: Sequence[bytes],
    compiled: Sequence[CompiledRule],
    ruleset: RuleSet,
    *,
    every: timedelta = timedelta(days=7),
    lateness: timedelta = timedelta(hours=1),
    batch: int = 1000,
    gate: bool = True,
    state: str | None = None,
    slicing: bool = True,
) -> Watched:
    """Feed lines through LiveRun as ``watch`` does and collect what it emits (lines read from the outbox)."""
    watched = Watched()
    store = Store(state)
    try:
        options = LiveOptions(lateness=lateness, every=every, use_gate=gate, slicing=slicing)
        run = LiveRun(store, compiled, ruleset, options, reject=watched.refused.append, warn=watched.warnings.append)
        for part in batches(lines, batch):
            run.feed(part)
        report = run.finish()
        watched.final = report.findings
        watched.lines = [json.loads(line) for _, line in store.outbox()]
        watched.counts = run.counts
    finally:
        store.close()
    return watched
