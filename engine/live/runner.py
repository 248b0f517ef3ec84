"""The watch loop: validate each batch, hold event time to a watermark, store, tick, emit.

Every line goes through ``check``'s acceptance path (the JSONL reader and the
loader, as one small input per batch), so an event is refused for exactly
what ``check`` refuses it for. Then, in arrival order, each accepted event
meets the watermark: the latest event time seen less the allowed lateness.
An event older than the watermark is *late*: it could change windows already
settled, so it is refused with that reason (rejects file, or stderr), and
the watermark never goes back. An event more than a year ahead of the latest
one (a stray date in 9999) is kept for the end, where ``check``'s outlier
rule judges it, but does not move the watermark, which would otherwise close
every window at once and make every later event late.

Whenever the watermark passes a tick boundary (every ``every`` of event
time, aligned to the epoch, so the ticks do not depend on how the stream was
cut into batches), the events accepted before it are in the store and the
evaluator settles what it can. Everything a batch did (events, offsets,
watermark, emitted findings) is committed at once, then delivered.

An id seen again: the same event again is kept once (as ``check`` does); a
different event under a stored id is refused, naming where the first was,
because the first may already stand behind an emitted finding. (Within one
batch, as in ``check``, every record of such a clash is refused.)
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from engine.ingest import InputProblem, LoadResult
from engine.ingest.loader import _Loader
from engine.ingest.readers import get_reader
from engine.lang.coverage import condition_types
from engine.lang.kinds.sequence import SequenceLogic
from engine.lang.loader import RuleSet
from engine.lang.params import format_duration
from engine.lang.plan import CompiledRule
from engine.live.durable import Gate
from engine.live.evaluator import final_report, finding_key, rule_reach, settle_margin, tick_findings
from engine.live.sources import Batch
from engine.live.store import Store, content_of
from engine.report.model import Finding, Report, iso

__all__ = ["LiveOptions", "LiveRun"]

_US = 1_000_000
_FAR_AHEAD = timedelta(days=366)  # engine.lang.setup.OUTLIER_GAP_DAYS: beyond it, check's outlier rule decides
_EPOCH = datetime(1970, 1, 1)  # timestamps are naive UTC here, as the loader and DuckDB keep them
_BATCH_PLACE = re.compile(r"<stdin>:(\d+)")
_REPEATED = re.compile(r"^([\d,]+) repeated events? \(same id, same content\) kept once$")


@dataclass
class LiveOptions:
    lateness: timedelta = timedelta(hours=1)
    every: timedelta = timedelta(days=1)
    max_evidence: int = 50
    infer_absence_days: float = 14.0
    use_gate: bool = True
    slicing: bool = True  # ticks read the slice of the store they need (engine.live.evaluator.tick_findings)


@dataclass
class _Counts:
    read: int = 0
    rejected: int = 0
    late: int = 0
    repeated: int = 0
    sliced: int = 0  # rule runs at ticks over a slice of the store, over the whole store, and found again
    whole: int = 0
    again: int = 0
    warnings: set[str] = field(default_factory=set)


def _us(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _at(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class LiveRun:
    """One watch run over a store: feed it batches, then :meth:`finish` a finite input.

    ``emit(key, line)`` is called for each finding line once it is committed to
    the store's outbox (the command delivers it); ``reject(problem)`` for each
    refused line, at once.
    """

    def __init__(
        self,
        store: Store,
        compiled: Sequence[CompiledRule],
        ruleset: RuleSet,
        options: LiveOptions,
        *,
        reject: Callable[[InputProblem], None],
        warn: Callable[[str], None],
    ) -> None:
        self.store = store
        self.compiled = list(compiled)
        self.options = options
        self.reject = reject
        self.warn = warn
        self.counts = _Counts()
        self.emitted = store.emitted()
        saved = store.get("run") or {}
        self.max_ts: int | None = saved.get("max_ts")
        self.last_cut: int | None = saved.get("last_cut")  # the latest tick's instant (us)
        self.last_limit: int | None = None  # the latest tick's end of log (us); None after a restart: look at all
        self.counts.read = int(saved.get("read", 0))
        self.counts.rejected = int(saved.get("rejected", 0))
        self.counts.warnings = set(saved.get("warnings", []))
        self.inputs: list[str] = list(saved.get("inputs", []))
        self.windowed = [r for r in self.compiled if settle_margin(r, options.infer_absence_days) is not None]
        self.reaches = {r.id: rule_reach(r, options.infer_absence_days, ruleset) for r in self.windowed}
        self.gate: Gate | None = None
        self.gate_types: dict[str, set[str] | None] = {}
        if options.use_gate:
            self.gate = Gate(self.compiled, ruleset)
            for rule in self.compiled:
                if rule.id in self.gate.rules:
                    self.gate_types[rule.id] = _rule_types(rule, ruleset)
            self._replay_gate()

    # ------------------------------------------------------------ state

    @property
    def watermark(self) -> int | None:
        if self.max_ts is None:
            return None
        return self.max_ts - _us_of(self.options.lateness)

    def _save(self) -> None:
        self.store.put(
            "run",
            {
                "max_ts": self.max_ts,
                "last_cut": self.last_cut,
                "read": self.counts.read,
                "rejected": self.counts.rejected,
                "warnings": sorted(self.counts.warnings),
                "inputs": self.inputs,
            },
        )

    def _replay_gate(self) -> None:
        """After a restart: assert again the stored events a first step could still pair with."""
        if self.gate is None or self.watermark is None or not self.gate.rules:
            return
        reach = self.gate.reach() + self.options.lateness + self.options.every
        self._post_gate(self.store.recent(self.watermark - _us_of(reach)))

    # ------------------------------------------------------------ batches

    def feed(self, batch: Batch) -> None:
        """Validate, watermark, store and tick one batch; commit it with its offset."""
        if batch.key not in self.inputs:
            self.inputs.append(batch.key)
        self.store.begin()
        try:
            table = self._validate(batch)
            self._advance(batch, table)
            self.store.set_offset(batch.key, batch.offset, batch.line)
            self._save()
            self.store.commit()
        except BaseException:
            self.store.con.execute("ROLLBACK")
            raise

    def _validate(self, batch: Batch) -> pa.Table:
        """The batch's lines through check's loader: the accepted rows (file and line set right), problems reported."""
        data = b"".join(raw + b"\n" for _, raw in batch.lines)
        with ExitStack() as keep:
            loader = _Loader(keep)
            loader.load("-", get_reader("jsonl"), io.BytesIO(data))
            loaded: LoadResult = loader.result()
        numbers = [number for number, _ in batch.lines]
        self.counts.read += loaded.read
        for warning in loaded.warnings:
            repeated = _REPEATED.match(warning)
            if repeated:  # said once for the whole run at the end, not per batch
                self.counts.repeated += int(repeated.group(1).replace(",", ""))
            else:
                self.counts.warnings.add(warning)

        def place(found: re.Match[str]) -> str:  # the loader names lines of its one-batch input
            return f"{batch.name}:{numbers[int(found.group(1)) - 1]}"

        for problem in loaded.problems:
            message = _BATCH_PLACE.sub(place, problem.message)
            self._refuse(InputProblem(batch.name, numbers[problem.line - 1], message, problem.raw, problem.data))
        table = loaded.table
        if table.num_rows:
            lines = pc.take(pa.array(numbers, pa.int64()), pc.subtract(table.column("line"), 1))
            table = table.set_column(table.schema.get_field_index("line"), "line", lines)
            names = pa.array([batch.name] * table.num_rows, pa.string())
            table = table.set_column(table.schema.get_field_index("file"), "file", names)
            table = table.sort_by([("line", "ascending")])
        return table

    def _refuse(self, problem: InputProblem) -> None:
        self.counts.rejected += 1
        self.reject(problem)

    def _advance(self, batch: Batch, table: pa.Table) -> None:
        """Each accepted row in arrival order: repeats, late events, the watermark and the ticks it passes."""
        if table.num_rows == 0:
            return
        rows = table.to_pylist()
        raws = dict(batch.lines)
        held = self.store.holders([row["id"] for row in rows])
        seen: dict[str, tuple[tuple[Any, ...], str]] = {}
        keep: list[int] = []
        lateness = _us_of(self.options.lateness)
        every = _us_of(self.options.every)
        for index, row in enumerate(rows):
            where = f"{row['file']}:{row['line']}"
            first = held.get(row["id"]) or seen.get(row["id"])
            if first is not None:
                if first[0] == content_of(row):
                    self.counts.repeated += 1
                    continue
                self._refuse_row(
                    batch, row, raws, f"duplicate id {row['id']!r} with different content (also at {first[1]})"
                )
                continue
            ts = _us(row["ts"])
            watermark = self.watermark
            if watermark is not None and ts < watermark:
                self.counts.late += 1
                self._refuse_row(batch, row, raws, self._late_reason(ts, watermark))
                continue
            seen[row["id"]] = (content_of(row), where)
            keep.append(index)
            if self.max_ts is None or (ts > self.max_ts and ts - self.max_ts <= _us_of(_FAR_AHEAD)):
                self.max_ts = ts
            elif ts > self.max_ts:
                self.warn(
                    f"event {row['id']!r} ({where}) is dated {iso(row['ts'])}, more than a year after the latest "
                    "event so far; it does not move the watermark (the end of the log judges it)"
                )
            mark = self.max_ts - lateness
            boundary = (mark // every) * every
            if self.last_cut is None or boundary > self.last_cut:
                self._store_rows(table, keep)
                keep = []
                self._tick(boundary)
        self._store_rows(table, keep)

    def _late_reason(self, ts: int, watermark: int) -> str:
        latest = iso(_at(self.max_ts or 0))
        return (
            f"late event: ts {iso(_at(ts))} is before the watermark {iso(_at(watermark))} (the latest event time "
            f"seen, {latest}, less the allowed lateness of {format_duration(self.options.lateness)}); "
            "windows up to the watermark may already be settled"
        )

    def _refuse_row(self, batch: Batch, row: dict[str, Any], raws: dict[int, bytes], reason: str) -> None:
        raw = raws.get(row["line"], b"")
        text = raw.decode("utf-8", "backslashreplace")
        self._refuse(InputProblem(batch.name, row["line"], reason, text, raw))

    def _store_rows(self, table: pa.Table, indices: list[int]) -> None:
        if not indices:
            return
        chosen = table.take(pa.array(indices, pa.int64()))
        self.store.insert(chosen)
        self._post_gate(chosen)

    def _post_gate(self, table: pa.Table) -> None:
        if self.gate is None or not self.gate.rules or table.num_rows == 0:
            return
        wanted: set[str] | None = set()
        for types in self.gate_types.values():
            if types is None or wanted is None:
                wanted = None
            else:
                wanted |= types
        if wanted is not None:
            table = table.filter(pc.is_in(table.column("type"), value_set=pa.array(sorted(wanted), pa.string())))
        for row in table.select(["id", "ts", "type", "actor", "rep", "deal"]).to_pylist():
            self.gate.post(row, _us(row["ts"]) / _US)

    # ------------------------------------------------------------ ticks

    def _tick(self, cut_us: int) -> None:
        """Settle what the store's events before ``cut_us`` decide, for the windowed rules that may have changed."""
        self.last_cut = cut_us
        if self.gate is not None and self.watermark is not None:
            self.gate.expire(self.watermark / _US, 0.0)
        rules = [r for r in self.windowed if self._may_settle(r)]
        if not rules or self.store.count() == 0:
            return
        tick = tick_findings(
            self.store,
            rules,
            _at(cut_us),
            infer_absence_days=self.options.infer_absence_days,
            max_evidence=self.options.max_evidence,
            settled_until=None if self.last_limit is None else _at(self.last_limit),
            slicing=self.options.slicing,
            reaches=self.reaches,
        )
        self.last_limit = _us(tick.limit)
        self.counts.sliced += tick.sliced
        self.counts.whole += tick.whole
        self.counts.again += tick.again
        for finding in tick.findings:
            self._emit(finding, iso(_at(cut_us)) or "")

    def _may_settle(self, rule: CompiledRule) -> bool:
        """Whether the gate lets the rule run: a counting match/sequence rule needs a recent completed pattern."""
        if self.gate is None or rule.id not in self.gate.rules or self.last_limit is None:
            return True
        if rule.op not in ("gt", "gte") or rule.threshold < 1:
            return True
        margin = settle_margin(rule, self.options.infer_absence_days)
        assert margin is not None
        # a finding this tick can settle ends after the last tick's limit less the margin (else that tick
        # settled it), and its last counted event lies within one window of its end
        window = timedelta(seconds=rule.window.seconds) if rule.window.mode == "sliding" else timedelta(days=92)
        since = self.last_limit - _us_of(margin + window + timedelta(days=1))
        return self.gate.has_candidate(rule.id, since / _US)

    def _emit(self, finding: Finding, settled: str) -> None:
        key = finding_key(finding)
        if key in self.emitted:
            return
        self.emitted.add(key)
        line = finding_line(finding, settled)
        self.store.add_emitted(key, self.max_ts or 0, line)

    # ------------------------------------------------------------ the end

    def finish(self) -> Report:
        """The input has ended: evaluate the whole log as check does and emit every finding not yet emitted."""
        self.store.begin()
        try:
            warnings = set(self.counts.warnings)
            if self.counts.repeated:
                noun = "event" if self.counts.repeated == 1 else "events"
                warnings.add(f"{self.counts.repeated} repeated {noun} (same id, same content) kept once")
            report = final_report(
                self.store,
                self.compiled,
                read=self.counts.read,
                rejected=self.counts.rejected,
                warnings=sorted(warnings),
                infer_absence_days=self.options.infer_absence_days,
                max_evidence=self.options.max_evidence,
                inputs=self.inputs,
            )
            report.evaluated = self.counts.read - self.counts.rejected
            final = {finding_key(f) for f in report.findings}
            before = set(self.emitted)
            for finding in report.findings:
                self._emit(finding, "end of input")
            unconfirmed = len(before - final)
            if unconfirmed:
                self.warn(
                    f"{unconfirmed} finding(s) emitted while the stream ran are not among the findings of the whole "
                    "log (please report this)"
                )
            self._save()
            self.store.commit()
        except BaseException:
            self.store.con.execute("ROLLBACK")
            raise
        return report


def finding_line(finding: Finding, settled: str) -> str:
    """One finding as one JSON line: check's finding object, plus when it was settled."""
    import json

    data = finding.to_dict()
    data["fingerprint"] = finding.fingerprint
    data["settled"] = settled
    return json.dumps(data, ensure_ascii=False, default=str)


def _us_of(value: timedelta) -> int:
    return value // timedelta(microseconds=1)


def _rule_types(rule: CompiledRule, ruleset: RuleSet) -> set[str] | None:
    """The event types any step of a match or sequence rule can match (None: any type)."""
    logic = rule.loaded.rule.logic
    conditions = [logic.where]
    if isinstance(logic, SequenceLogic):
        conditions = [{"all": [logic.where, logic.first.where]}, {"all": [logic.where, logic.then.where]}]
    found: set[str] = set()
    for condition in conditions:
        types = condition_types(condition, ruleset.macros, ruleset.lists)
        if types is None:
            return None
        found |= types
    return found
