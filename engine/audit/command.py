"""The ``audit`` and ``self-assess`` commands (click), registered on the main command by ``cli.py``.

They follow the rest of the command line: every problem of every layer
(config, rules, events, answers) is reported at once on stderr as
``file:line[:col]: reason`` with exit code 2, never a traceback; a report is
written to ``-o`` or stdout; progress, when shown, goes to stderr.

Exit codes: 0 the report was written (an audit is read by people, so
findings are not a failure), 2 invalid input, rules, configuration, answers
or usage.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from engine import cliutil
from engine.audit.periods import FORMS, Period, overlaps, parse_period, previous_period
from engine.errors import UsageError

__all__ = ["audit_command", "self_assess_command"]

F = TypeVar("F", bound=Callable[..., Any])


_say, _fail, _guard = cliutil.say, cliutil.fail, cliutil.guard


if TYPE_CHECKING:
    _ParamType = click.ParamType[Period]
else:
    _ParamType = click.ParamType  # generic only in recent click


class PeriodType(_ParamType):
    """``--period``: a quarter, a month, a year or explicit days."""

    name = "period"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Period:
        if isinstance(value, Period):
            return value
        try:
            return parse_period(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _config_path(config: str | None, no_config: bool) -> str | None:
    from engine.config import find_config

    if no_config:
        return None
    return config or find_config()


def _format_for(fmt: str | None, output: str | None, allowed: Sequence[str], default: str) -> str:
    """``--format`` if given, else the output file's extension, else ``default``."""
    if fmt:
        return fmt
    if output:
        extension = os.path.splitext(output)[1].lower().lstrip(".")
        aliases = {"htm": "html", "markdown": "md"}
        extension = aliases.get(extension, extension)
        if extension in allowed:
            return extension
    return default


def _write(text: str, output: str | None, *, colour: bool = False) -> None:
    if output:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        return
    try:
        click.echo(text, nl=False, color=colour or None)  # colour: rich's codes, kept as they are
        sys.stdout.flush()
    except BrokenPipeError:
        cliutil.silence_stdout()


def _has_events(prepared: Any, period: Period) -> bool:
    """Whether the log holds any event (roster changes aside) dated inside ``period``."""
    from engine.audit.periods import slice_log

    table = slice_log(prepared.loaded, period).table
    types = table.column("type").to_pylist()
    return any(t not in ("team_member_added", "team_member_removed") for t in types)


def _periods(prepared: Any, period: Period | None, compare_to: Period | None) -> tuple[Period | None, str]:
    """The period to compare with, and a note when none could be used; UsageError for a bad choice."""
    if compare_to is not None and period is None:
        raise UsageError("--compare-to needs --period: the period to compare it with")
    if period is not None and not _has_events(prepared, period):
        raise UsageError(f"--period {period.label}: the log holds no events in {period.words()}")
    if compare_to is not None and period is not None:
        if overlaps(compare_to, period):
            raise UsageError(f"--compare-to {compare_to.label} overlaps --period {period.label}")
        if not _has_events(prepared, compare_to):
            raise UsageError(f"--compare-to {compare_to.label}: the log holds no events in {compare_to.words()}")
        return compare_to, ""
    if period is None:
        return None, ""
    before = previous_period(period)
    if _has_events(prepared, before):
        return before, ""
    return None, f"no comparison: the log holds no events in {before.words()}, the period before"


_COMMON_OPTIONS: list[Callable[[F], F]] = [
    click.option("--period", type=PeriodType(), help=f"The period to assess ({FORMS}); default: the whole log."),
    click.option(
        "--compare-to",
        type=PeriodType(),
        help="The period to compare with (default: the one just before --period, when the log has it).",
    ),
    click.option("--rules", "rules_dirs", multiple=True, type=click.Path(), help="Rule directory (repeatable)."),
    click.option("--roster", type=click.Path(), help="Roster CSV: rep,manager,start,end."),
    click.option("--config", type=click.Path(), help="Config file (default: salesmirror.yaml searched upwards)."),
    click.option("--no-config", is_flag=True, help="Ignore any salesmirror.yaml."),
    click.option(
        "--set", "sets", multiple=True, metavar="RULE.PARAM=VALUE", help="Override a rule parameter (repeatable)."
    ),
    click.option("--rejects", type=click.Path(dir_okay=False), help="Write invalid lines here and assess the rest."),
    click.option(
        "--max-evidence", type=click.IntRange(1), default=50, show_default=True, help="Evidence events per finding."
    ),
    click.option(
        "--from",
        "sources",
        multiple=True,
        metavar="SOURCE:PATH",
        help="Also read a CRM export directly (salesforce, hubspot, gong or csv; repeatable).",
    ),
    click.option("--mapping", type=click.Path(dir_okay=False), help="Mapping file for --from."),
]


def _common(func: F) -> F:
    for option in reversed(_COMMON_OPTIONS):
        func = option(func)
    return func


def _assess(
    events: Sequence[str],
    *,
    period: Period | None,
    compare_to: Period | None,
    rules_dirs: Sequence[str],
    roster: str | None,
    config: str | None,
    no_config: bool,
    sets: Sequence[str],
    rejects: str | None,
    max_evidence: int,
    output: str | None,
    sources: Sequence[str] = (),
    mapping: str | None = None,
    managers: Sequence[str] | None = None,
    redact: bool = False,
    want_manager: str | None = None,
) -> Any:
    """Read, evaluate the period (and the one to compare with) and word the result: the audit view."""
    from engine.api import prepare
    from engine.audit.periods import slice_log
    from engine.audit.run import evaluate_period
    from engine.audit.view import build_audit, people, redact_view
    from engine.progress import steps

    with steps() as progress:
        with progress.step("reading events and rules"):
            prepared = prepare(
                events,
                rules=list(rules_dirs) or None,
                roster=roster,
                config=_config_path(config, no_config),
                sets=sets,
                rejects=rejects,
                stdin=sys.stdin.buffer if "-" in events else None,
                outputs={"-o": output},
                sources=sources,
                mapping=mapping,
                suppressions=[],  # suppressions and baselines are the CI check's, not an audit's
            )
        for warning in prepared.loaded.warnings:
            _say(f"warning: {warning}")
        if prepared.loaded.problems:
            _say(f"salesmirror: {len(prepared.loaded.problems)} invalid line(s) written to {rejects}")
        before, note = _periods(prepared, period, compare_to)
        with progress.step(f"evaluating {period.label if period else 'the whole log'}"):
            report = evaluate_period(prepared, period, max_evidence=max_evidence)
        if want_manager is not None and want_manager not in report.managers:
            known = ", ".join(report.managers[:10]) + (" ..." if len(report.managers) > 10 else "")
            where = f" in {period.words()}" if period else ""
            raise UsageError(f"--manager {want_manager}: no such manager{where} (managers: {known or 'none'})")
        previous = None
        if before is not None:
            with progress.step(f"evaluating {before.label} for the comparison"):
                previous = evaluate_period(prepared, before, max_evidence=max_evidence)
        with progress.step("wording the report"):
            in_period = slice_log(prepared.loaded, period).table.num_rows
            view = build_audit(
                report,
                previous,
                table=prepared.loaded.table,
                compiled=prepared.compiled,
                period=period,
                compare_to=before,
                in_period=in_period,
                managers=managers,
            )
            if note:
                view.warnings.append(note)
            if redact:
                view = redact_view(view, people(prepared.loaded.table))
    return view, prepared


@click.command("audit")
@click.argument("events", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here (default: stdout).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md"]),
    default=None,
    help="html (one self-contained file) or md; default: from the -o extension, else html.",
)
@click.option("--redact", is_flag=True, help="Replace people's names and ids by stable pseudonyms everywhere.")
@_common
@_guard
def audit_command(
    events: Sequence[str],
    output: str | None,
    fmt: str | None,
    redact: bool,
    period: Period | None,
    compare_to: Period | None,
    rules_dirs: Sequence[str],
    roster: str | None,
    config: str | None,
    no_config: bool,
    sets: Sequence[str],
    rejects: str | None,
    max_evidence: int,
    sources: Sequence[str],
    mapping: str | None,
) -> None:
    """Write the HR audit of EVENTS: org summary, heatmap, trends, a page per manager, method."""
    from engine.audit.render import render_html, render_markdown

    if not events and not sources:
        raise UsageError("give EVENTS (files, or - for stdin) or --from SOURCE:PATH")
    view, _ = _assess(
        events,
        period=period,
        compare_to=compare_to,
        rules_dirs=rules_dirs,
        roster=roster,
        config=config,
        no_config=no_config,
        sets=sets,
        rejects=rejects,
        max_evidence=max_evidence,
        output=output,
        sources=sources,
        mapping=mapping,
        redact=redact,
    )
    kind = _format_for(fmt, output, ("html", "md"), "html")
    from engine.progress import steps

    with steps() as progress, progress.step("rendering"):
        text = render_html(view) if kind == "html" else render_markdown(view)
    _write(text, output)
    sys.exit(cliutil.EXIT_CLEAN)


def _ask_questionnaire() -> tuple[str, dict[str, float | str | None]]:
    """Ask every question in the terminal; an empty answer skips it (not assessed)."""
    from engine.audit.questionnaire import load_questionnaire, parse_answer

    questionnaire = load_questionnaire()
    click.echo(
        f"Questions about {questionnaire.asks_about}: count what happened, as well as you can. "
        "Press Enter to skip a question (it is then not assessed)."
    )
    manager = click.prompt("Your name, for the report", default="you", show_default=True)
    answers: dict[str, float | str | None] = {}
    current = ""
    for number, question in enumerate(questionnaire.questions, start=1):
        doc = questionnaire.checks[question.check]
        if doc.title != current:
            current = doc.title
            click.echo(f"\n{current}")
        click.echo(f"{number}. {question.ask}")
        for index, choice in enumerate(question.answer.choices, start=1):
            click.echo(f"   {index}) {choice.label}")
        if question.answer.none:
            click.echo(f"   (answer 'none' if {question.answer.none})")
        while True:
            raw = click.prompt("  ", default="", show_default=False)
            if not str(raw).strip():
                break
            try:
                value = parse_answer(question, raw)
            except ValueError as exc:
                click.echo(f"   {exc}")
                continue
            bound = answers.get(question.within or "")
            if isinstance(value, float) and isinstance(bound, float) and value > bound:
                click.echo(f"   that is more than your answer to question {question.within} ({bound:g})")
                continue
            answers[question.id] = value
            break
    return str(manager).strip() or "you", answers


@click.command("self-assess")
@click.argument("events", nargs=-1)
@click.option("--manager", "manager_id", help="Your manager id in the log.")
@click.option("--questionnaire", is_flag=True, help="No log: answer questions about the last four weeks instead.")
@click.option(
    "--answers",
    type=click.Path(dir_okay=False),
    help="With --questionnaire: the answers as YAML (question id: answer), for scripted use.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here (.md or .html).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "md", "html"]),
    default=None,
    help="Default: from the -o extension; text in the terminal.",
)
@_common
@_guard
def self_assess_command(
    events: Sequence[str],
    manager_id: str | None,
    questionnaire: bool,
    answers: str | None,
    output: str | None,
    fmt: str | None,
    period: Period | None,
    compare_to: Period | None,
    rules_dirs: Sequence[str],
    roster: str | None,
    config: str | None,
    no_config: bool,
    sets: Sequence[str],
    rejects: str | None,
    max_evidence: int,
    sources: Sequence[str],
    mapping: str | None,
) -> None:
    """A private report written to you: what you do well, what to watch, your trend.

    From the log (EVENTS with --manager ID), or with --questionnaire when there is no log.
    """
    from engine.audit.selfassess import from_answers, from_audit, render_self, render_terminal

    if questionnaire:
        if events or sources or manager_id:
            raise UsageError("--questionnaire takes no EVENTS, --from or --manager: it asks instead of reading a log")
        from engine.audit.questionnaire import load_questionnaire, read_answers, score

        if answers is not None:
            if output:
                from engine.api import refuse_outputs_over_inputs

                refuse_outputs_over_inputs({"-o": output}, [answers])
            name, given = read_answers(answers)
        else:
            name, given = _ask_questionnaire()
        asks_about = load_questionnaire().asks_about
        view = from_answers(score(given), name, asks_about)
    else:
        if answers is not None:
            raise UsageError("--answers needs --questionnaire")
        if not (events or sources) or not manager_id:
            raise UsageError(
                "give EVENTS (or --from SOURCE:PATH) and --manager ID (or --questionnaire when there is no log)"
            )
        audit, _ = _assess(
            events,
            period=period,
            compare_to=compare_to,
            rules_dirs=rules_dirs,
            roster=roster,
            config=config,
            no_config=no_config,
            sets=sets,
            rejects=rejects,
            max_evidence=max_evidence,
            output=output,
            sources=sources,
            mapping=mapping,
            managers=[manager_id],
            want_manager=manager_id,
        )
        view = from_audit(audit, manager_id, audit.all_managers)
    kind = _format_for(fmt, output, ("text", "md", "html"), "text")
    colour = kind == "text" and output is None and _stdout_is_terminal()
    text = render_terminal(view, width=_terminal_width()) if colour else render_self(view, kind)
    _write(text, output, colour=colour)
    sys.exit(cliutil.EXIT_CLEAN)


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal_width() -> int:
    import shutil

    return max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))
