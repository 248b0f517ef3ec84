"""``salesmirror watch [SOURCE]``: the click command (registered by cli.py as ``main.add_command(watch_command)``).

Exit codes are ``check``'s: 0 no finding at or above ``--fail-on``, 1 there
are, 2 invalid input (refused lines with no ``--rejects`` file), rules,
configuration or usage, or findings the webhook never took. Problems go to
stderr as ``file:line: reason``, never as a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, TextIO

import click

from engine import cliutil
from engine.errors import SalesmirrorError, UsageError
from engine.ingest import InputProblem
from engine.ingest.rejects import reject_line
from engine.lang.params import parse_duration
from engine.live.sources import DEFAULT_MAX_LINES, Batch, directory_batches, file_batches, stream_batches

__all__ = ["watch_command"]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = cliutil.EXIT_CLEAN, cliutil.EXIT_FINDINGS, cliutil.EXIT_ERROR
_say, _fail = cliutil.say, cliutil.fail


def _duration(option: str, text: str, *, allow_zero: bool = False) -> timedelta:
    if allow_zero and text.strip() in ("0", "0s"):
        return timedelta(0)
    try:
        return parse_duration(text)
    except (ValueError, SalesmirrorError) as exc:
        raise UsageError(f"{option} {text!r}: {exc}") from None


class _Deliver:
    """Prints the outbox's lines, then POSTs them, each cursor kept in the store so a restart resumes it."""

    def __init__(self, store: Any, webhook: Any, out: TextIO) -> None:
        self.store, self.webhook, self.out = store, webhook, out
        self.failed = 0

    def __call__(self) -> None:
        entries = self.store.outbox()
        if not entries:
            return
        printed = int(self.store.get("stdout_done") or 0)
        posted = int(self.store.get("webhook_done") or 0)
        for number, line in entries:
            if number > printed:
                with contextlib.suppress(BrokenPipeError):
                    self.out.write(line + "\n")
                    self.out.flush()
                printed = number
                self.store.put("stdout_done", printed)
        self.failed = 0
        if self.webhook is None:
            posted = printed
        else:
            for number, line in entries:
                if number <= posted:
                    continue
                if not self.webhook.post(line):
                    self.failed = sum(1 for n, _ in entries if n > posted)
                    _say(
                        f"salesmirror watch: webhook {self.webhook.url}: {self.webhook.last_error}; "
                        f"{self.failed} finding(s) kept to send again"
                    )
                    break
                posted = number
                self.store.put("webhook_done", posted)
        self.store.delivered(min(printed, posted))


def _batches(
    source: str, follow: bool, offsets: Any, poll: float, idle_exit: float | None, lines: int
) -> Iterator[Batch]:
    if source == "-":
        start = offsets.get("-", (0, 0))[1]
        yield from stream_batches(sys.stdin.buffer, line=start, max_lines=lines)
    elif os.path.isdir(source):
        yield from directory_batches(
            source, offsets=offsets, follow=follow, poll=poll, idle_exit=idle_exit, max_lines=lines
        )
    else:
        with open(source, "rb") as probe:
            if probe.read(2) == b"\x1f\x8b":
                raise UsageError(f"{source}: watch reads plain JSONL (a gzip file cannot grow); decompress it first")
        yield from file_batches(
            source, offsets=offsets, follow=follow, poll=poll, idle_exit=idle_exit, max_lines=lines, warn=_say
        )


@click.command("watch")
@click.argument("source", required=False, default="-")
@click.option("--follow", is_flag=True, help="Keep reading what is appended to SOURCE (a file or directory).")
@click.option(
    "--idle-exit", type=click.FloatRange(0), help="With --follow: end (and settle) after this many idle seconds."
)
@click.option(
    "--poll",
    type=click.FloatRange(0.01),
    default=0.5,
    show_default=True,
    help="Seconds between looks at a followed file.",
)
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(), help="Rule directory (repeatable).")
@click.option("--config", type=click.Path(dir_okay=False), help="salesmirror.yaml to use (default: searched upwards).")
@click.option("--no-config", is_flag=True, help="Ignore any salesmirror.yaml.")
@click.option("--set", "sets", multiple=True, metavar="RULE.PARAM=VALUE", help="Override a rule parameter.")
@click.option("--roster", type=click.Path(dir_okay=False), help="Team membership CSV (rep,manager,start,end).")
@click.option("--rejects", type=click.Path(dir_okay=False), help="Write refused and late lines here and keep going.")
@click.option(
    "--state", "state_dir", type=click.Path(file_okay=False), help="Checkpoint here; a restart resumes from it."
)
@click.option("--webhook", help="POST each finding (one JSON object) to this http(s) URL.")
@click.option(
    "--allowed-lateness",
    default="1h",
    show_default=True,
    help="How far behind the latest event time an event may arrive.",
)
@click.option("--every", default="1d", show_default=True, help="Event time between evaluations of the windowed rules.")
@click.option(
    "--fail-on",
    type=click.Choice(["low", "medium", "high", "never"]),
    help="Exit 1 from this severity (default: config, else low).",
)
@click.option("--max-evidence", type=click.IntRange(1), default=50, show_default=True)
@click.option("--memory-limit", default="1GB", show_default=True, help="DuckDB's memory limit for the store.")
@click.option(
    "--batch-lines",
    type=click.IntRange(1),
    default=DEFAULT_MAX_LINES,
    show_default=True,
    help="Most lines validated at a time.",
)
@click.option(
    "--gate/--no-gate",
    default=True,
    help="Use the durable-rules rulesets to skip match/sequence rules with nothing new.",
)
@cliutil.guard
def watch_command(
    source: str,
    follow: bool,
    idle_exit: float | None,
    poll: float,
    rules_dirs: Sequence[str],
    config: str | None,
    no_config: bool,
    sets: Sequence[str],
    roster: str | None,
    rejects: str | None,
    state_dir: str | None,
    webhook: str | None,
    allowed_lateness: str,
    every: str,
    fail_on: str | None,
    max_evidence: int,
    memory_limit: str,
    batch_lines: int,
    gate: bool,
) -> None:
    """Watch a stream of events (stdin, a growing file, a directory of JSONL files) and print findings as JSON lines."""
    from engine.live.durable import durable_available

    missing = durable_available()
    if missing is not None and gate:
        _fail(f"salesmirror watch: {missing}")
    try:
        code = _watch(
            source, follow, idle_exit, poll, rules_dirs, config, no_config, sets, roster, rejects, state_dir,
            webhook, allowed_lateness, every, fail_on, max_evidence, memory_limit, batch_lines, gate,
        )  # fmt: skip
    except OSError as exc:  # (other library errors are the guard's: located lines, exit 2)
        _fail(f"salesmirror watch: {exc.filename or ''}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        _fail(
            "salesmirror watch: interrupted"
            + (f"; the state in {state_dir} resumes from the last batch" if state_dir else "")
        )
    sys.exit(code)


def _watch(
    source: str,
    follow: bool,
    idle_exit: float | None,
    poll: float,
    rules_dirs: Sequence[str],
    config: str | None,
    no_config: bool,
    sets: Sequence[str],
    roster: str | None,
    rejects: str | None,
    state_dir: str | None,
    webhook_url: str | None,
    allowed_lateness: str,
    every: str,
    fail_on: str | None,
    max_evidence: int,
    memory_limit: str,
    batch_lines: int,
    gate: bool,
) -> int:
    from engine.api import prepare_rules, refuse_outputs_over_inputs
    from engine.config import find_config, read_config
    from engine.ingest import load_events
    from engine.live.runner import LiveOptions, LiveRun
    from engine.live.store import Store
    from engine.live.webhook import Webhook, check_url

    lateness = _duration("--allowed-lateness", allowed_lateness, allow_zero=True)
    step = _duration("--every", every)
    if webhook_url is not None:
        check_url(webhook_url)
    refuse_outputs_over_inputs({"--rejects": rejects}, [source, roster, config])
    config_path = None if no_config else (config or find_config())
    settings = read_config(config_path)
    ruleset, compiled = prepare_rules(list(rules_dirs) or None, settings=settings, sets=sets)
    store = Store(state_dir, memory_limit=memory_limit)
    try:
        resuming = bool(store.offsets()) or store.count() > 0
        rejects_file = open(rejects, "a" if resuming else "w", encoding="utf-8", newline="\n") if rejects else None  # noqa: SIM115
        refused: list[InputProblem] = []

        def reject(problem: InputProblem) -> None:
            if rejects_file is not None:
                rejects_file.write(reject_line(problem))
                rejects_file.flush()
            else:
                refused.append(problem)
                _say(str(problem))

        hook = Webhook(webhook_url) if webhook_url else None
        deliver = _Deliver(store, hook, sys.stdout)
        deliver()  # what a previous run committed but had not delivered
        options = LiveOptions(
            lateness=lateness,
            every=step,
            max_evidence=max_evidence,
            infer_absence_days=settings.infer_absence_days,
            use_gate=gate,
        )
        run = LiveRun(store, compiled, ruleset, options, reject=reject, warn=lambda text: _say(f"warning: {text}"))
        if roster is not None and not store.get("roster"):
            loaded = load_events([], roster=roster)
            store.begin()
            store.insert(loaded.table)
            store.put("roster", roster)
            store.commit()
            for problem in loaded.problems:
                reject(problem)
        offsets = store.offsets()
        for batch in _batches(source, follow, offsets, poll, idle_exit, batch_lines):
            run.feed(batch)
            deliver()
        report = run.finish()
        deliver()
        for warning in report.warnings:
            _say(f"warning: {warning}")
        _say(
            f"salesmirror watch: {run.counts.read:,} line(s) read, {run.counts.rejected:,} refused "
            f"({run.counts.late:,} late), {len(report.findings):,} finding(s); rules ran at ticks "
            f"{run.counts.sliced:,} time(s) over a slice of the store, {run.counts.whole:,} over all of it"
            + (f"; refused lines written to {rejects}" if rejects and run.counts.rejected else "")
        )
        if rejects_file is not None:
            rejects_file.close()
        if refused or deliver.failed:
            return EXIT_ERROR
        level = fail_on or settings.fail_on or "low"
        return EXIT_FINDINGS if report.at_or_above(level) else EXIT_CLEAN
    finally:
        store.close()
