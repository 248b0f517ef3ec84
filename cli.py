"""The ``salesmirror`` command: parse arguments, call the library, map errors to exit codes.

Exit codes: 0 no finding at or above --fail-on, 1 there are, 2 invalid input,
rules, config or usage. Errors go to stderr as ``file:line[:col]: message``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from engine.cliutil import EXIT_CLEAN, EXIT_FINDINGS
from engine.cliutil import fail as _fail
from engine.cliutil import guard as _guard
from engine.cliutil import out as _out
from engine.cliutil import say as _say

_COMMAND_LINE = "salesmirror.command_line"


class _Root(click.Group):
    """The top-level group; it keeps the command line for the output formats that cite it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_COMMAND_LINE] = (ctx.info_name or "salesmirror", *args)
        return super().parse_args(ctx, args)


if TYPE_CHECKING:
    _Choice = click.Choice[str]
else:
    _Choice = click.Choice  # generic only from click 8.4


class _FormatChoice(_Choice):
    """``--format``: the registered output formats, read at parse time so late registrations count."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from engine.report import format_names

        return tuple(format_names())

    @choices.setter
    def choices(self, _: Sequence[str]) -> None:
        """The registry decides; click's own assignment is ignored."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """``FMT`` or ``FMT=FILE`` (another output of the same run); the format must be registered."""
        name, sep, path = str(value).partition("=")
        if sep and not path:
            self.fail(f"'{value}': give the file to write after '='", param, ctx)
        known = str(super().convert(name, param, ctx))
        return f"{known}={path}" if sep else known


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="salesmirror", prog_name="salesmirror")
def main() -> None:
    """Flag sales-manager anti-patterns in CRM event logs."""


def _config_path(config: str | None, no_config: bool) -> str | None:
    from engine.config import find_config

    if no_config:
        return None
    return config or find_config()


def _memory_limit(_: click.Context, __: click.Parameter, value: str | None) -> None:
    from engine import limits
    from engine.errors import UsageError

    if value is not None:
        try:
            limits.LIMITS.memory = limits.parse_memory(value)
        except UsageError as exc:
            raise click.BadParameter(exc.problems[0].message) from None
        if limits.LIMITS.temp_directory is None:
            limits.LIMITS.temp_directory = tempfile.mkdtemp(prefix="salesmirror-spill-")


def _temp_dir(_: click.Context, __: click.Parameter, value: str | None) -> None:
    from engine import limits

    if value is not None:
        limits.LIMITS.temp_directory = value


def _check_options(func: Any) -> Any:
    """The options of every command that runs a check (``check``, ``baseline create``): the same log, the same findings."""
    options = [
        click.option(
            "--rules",
            "rules_dirs",
            multiple=True,
            type=click.Path(),
            help="Rule directory (repeatable; default: the shipped rules).",
        ),
        click.option(
            "--rejects",
            type=click.Path(dir_okay=False),
            help="Write invalid lines here (JSONL, with reasons) and evaluate the rest.",
        ),
        click.option("--roster", type=click.Path(), help="Roster CSV: rep,manager,start,end."),
        click.option("--config", type=click.Path(), help="Config file (default: salesmirror.yaml searched upwards)."),
        click.option("--no-config", is_flag=True, help="Ignore any salesmirror.yaml."),
        click.option(
            "--set", "sets", multiple=True, metavar="RULE.PARAM=VALUE", help="Override a rule parameter (repeatable)."
        ),
        click.option(
            "--suppressions",
            multiple=True,
            type=click.Path(dir_okay=False),
            help="Suppression file (YAML; repeatable); instead of the config's 'suppressions:'.",
        ),
        click.option(
            "--today",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            metavar="YYYY-MM-DD",
            help="The day suppression expiry is judged on (default: today, UTC), to re-run a past check as it was.",
        ),
        click.option("--redact", is_flag=True, help="Replace manager and rep ids with stable pseudonyms."),
        click.option(
            "--from",
            "sources",
            multiple=True,
            metavar="SOURCE:PATH",
            help="Also read a CRM export directly (salesforce, hubspot, gong or csv; repeatable).",
        ),
        click.option(
            "--mapping", type=click.Path(dir_okay=False), help="Mapping file for --from (default: the source's own)."
        ),
        click.option(
            "--engine",
            "backend",
            type=click.Choice(["duckdb", "spark"]),
            default="duckdb",
            show_default=True,
            help="Where the rules run: embedded DuckDB, or Spark SQL (pip install 'salesmirror[spark]'; "
            "SPARK_MASTER or SPARK_REMOTE for a cluster).",
        ),
        click.option(
            "--memory-limit",
            metavar="SIZE",
            callback=_memory_limit,
            expose_value=False,
            help="Most memory the engine may use (e.g. 1GB); beyond it, work spills to --temp-dir.",
        ),
        click.option(
            "--temp-dir",
            type=click.Path(file_okay=False),
            callback=_temp_dir,
            expose_value=False,
            help="Where to spill what does not fit in --memory-limit (default: the system's temporary directory).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_check(
    events: Sequence[str],
    *,
    rules_dirs: Sequence[str],
    roster: str | None,
    config: str | None,
    sets: Sequence[str],
    rejects: str | None,
    suppressions: Sequence[str],
    today: Any,
    sources: Sequence[str],
    mapping: str | None,
    backend: str,
    **more: Any,
) -> Any:
    """engine.check with the options every checking command shares; its warnings and rejects said on stderr."""
    import engine

    report = engine.check(
        events,
        rules=list(rules_dirs) or None,
        roster=roster,
        config=config,
        sets=sets,
        rejects=rejects,
        stdin=sys.stdin.buffer if "-" in events else None,
        suppressions=list(suppressions) or None,
        today=today.date() if today else None,
        sources=sources,
        mapping=mapping,
        backend=backend,
        **more,
    )
    for warning in report.warnings:
        _say(f"warning: {warning}")
    if report.rejected:
        _say(f"salesmirror: {report.rejected} invalid line(s) written to {rejects}")
    return report


def _need_events(events: Sequence[str], sources: Sequence[str]) -> None:
    if not events and not sources:
        raise click.UsageError("give EVENTS (files, or - for stdin) or --from SOURCE:PATH")


def _outputs(
    formats: Sequence[str], output: str | None, output_sarif: str | None, output_junit: str | None
) -> tuple[str, list[tuple[str, str, str]]]:
    """The format for stdout (or ``-o``) and the (format, file, option) of every other output."""
    main_format: str | None = None
    files: list[tuple[str, str, str]] = []
    for item in formats:
        name, sep, path = item.partition("=")
        if sep:
            files.append((name, path, f"--format {name}="))
        elif main_format not in (None, name):
            _fail(
                f"salesmirror: --format {main_format} and --format {name}: one format goes to "
                f"{'-o' if output else 'stdout'}; write the others with --format FMT=FILE"
            )
        else:
            main_format = name
    files += [("sarif", path, "--output-sarif") for path in [output_sarif] if path]
    files += [("junit", path, "--output-junit") for path in [output_junit] if path]
    return main_format or "text", files


def _refuse_clashes(outputs: list[tuple[str, str]]) -> None:
    """Two outputs of one run written to the same file: the second would overwrite the first."""
    seen: dict[str, str] = {}
    for option, path in outputs:
        key = os.path.abspath(path)
        if key in seen:
            _fail(f"salesmirror: {seen[key]} and {option} both write {path}; give each output its own file")
        seen[key] = option


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


@main.command()
@click.argument("events", nargs=-1)
@_check_options
@click.option(
    "--format",
    "formats",
    type=_FormatChoice(),
    multiple=True,
    help="Output format (default text). FMT=FILE also writes FMT to FILE (repeatable), so one run gives every output.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report here instead of stdout."
)
@click.option("--output-sarif", type=click.Path(dir_okay=False), help="Also write SARIF here (--format sarif=FILE).")
@click.option(
    "--output-junit", type=click.Path(dir_okay=False), help="Also write JUnit XML here (--format junit=FILE)."
)
@click.option(
    "--fail-on",
    type=click.Choice(["low", "medium", "high", "never"]),
    default=None,
    help="Exit 1 when a finding is at or above this severity (default low); with --baseline, a new finding.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    help="Report only findings not in this baseline (salesmirror baseline create); count new, unchanged, gone.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False),
    help="Record this run's findings (all but the suppressed) as a baseline file; may be the --baseline file.",
)
@click.option("--show-suppressed", is_flag=True, help="List the findings suppressions accept (always counted).")
@click.option("--origins", is_flag=True, help="Cite each evidence event's file:line (depends on input order).")
@click.option(
    "--max-evidence", type=click.IntRange(1), default=50, show_default=True, help="Evidence ids listed per finding."
)
@click.option("-v", "--verbose", is_flag=True, help="Text: list all evidence, not the first five.")
@_guard
def check(
    events: Sequence[str],
    rules_dirs: Sequence[str],
    rejects: str | None,
    roster: str | None,
    config: str | None,
    no_config: bool,
    sets: Sequence[str],
    suppressions: Sequence[str],
    today: Any,
    redact: bool,
    sources: Sequence[str],
    mapping: str | None,
    backend: str,
    formats: Sequence[str],
    output: str | None,
    output_sarif: str | None,
    output_junit: str | None,
    fail_on: str | None,
    baseline: str | None,
    write_baseline: str | None,
    show_suppressed: bool,
    origins: bool,
    max_evidence: int,
    verbose: bool,
) -> None:
    """Check EVENTS (JSONL, CSV or Parquet files, .gz, or - for stdin; or --from CRM exports) against the rules."""
    import engine
    from engine.progress import steps
    from engine.report import RenderOptions, get_format, plain_style
    from engine.report import redact as redact_report
    from engine.report.baseline import write_baseline as record

    _need_events(events, sources)

    main_format, files = _outputs(formats, output, output_sarif, output_junit)
    written = [("-o", output)] if output else []
    written += [(option, path) for _, path, option in files]
    written += [("--write-baseline", write_baseline)] if write_baseline else []
    written += [("--rejects", rejects)] if rejects else []
    _refuse_clashes([(option, path) for option, path in written if path])
    config_path = _config_path(config, no_config)
    inputs = [*events, roster, config_path, *suppressions, mapping, *(spec.partition(":")[2] for spec in sources)]
    engine.refuse_outputs_over_inputs(
        {option: path for option, path in written if option != "--write-baseline"}, [*inputs, baseline]
    )
    engine.refuse_outputs_over_inputs({"--write-baseline": write_baseline}, inputs)  # updating --baseline is fine
    with steps() as watching:  # a progress display on stderr, only on a terminal
        report = _run_check(
            events,
            rules_dirs=rules_dirs,
            roster=roster,
            config=config_path,
            sets=sets,
            rejects=rejects,
            suppressions=suppressions,
            today=today,
            sources=sources,
            mapping=mapping,
            backend=backend,
            max_evidence=max_evidence,
            baseline=baseline,
            progress=watching,
        )
    if redact:
        report = redact_report(report)
    colour = output is None and sys.stdout.isatty()
    command = click.get_current_context().meta.get(_COMMAND_LINE, ())
    options = RenderOptions(
        origins=origins, verbose=verbose, style=plain_style, command=command, show_suppressed=show_suppressed
    )
    rendered = [(path, get_format(name)(report, options)) for name, path, _ in files]
    if colour:
        options = RenderOptions(
            origins=origins, verbose=verbose, style=click.style, command=command, show_suppressed=show_suppressed
        )
    text = get_format(main_format)(report, options)
    level = fail_on or report.fail_on or "low"
    code = EXIT_FINDINGS if report.at_or_above(level) else EXIT_CLEAN
    if write_baseline:
        record(write_baseline, [*report.findings, *report.unchanged])
        recorded = len(report.findings) + len(report.unchanged)
        _say(f"salesmirror: baseline of {recorded} finding(s) written to {write_baseline}")
    for path, document in rendered:
        _write(path, document)
    if output:
        _write(output, text)
    else:
        _out(text)
    sys.exit(code)


@main.command()
@click.option("--managers", type=click.IntRange(1), default=25, show_default=True, help="Teams to simulate.")
@click.option("--days", type=click.IntRange(1), default=90, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2026-01-05", show_default=True)
@click.option(
    "--profile", "profiles", multiple=True, help="Profile per manager, in turn (repeatable; default: a mix of all)."
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="Events file (.jsonl or .jsonl.gz)."
)
@click.option(
    "--labels", type=click.Path(dir_okay=False), help="Ground truth per manager (default: OUTPUT with .labels.json)."
)
@click.option(
    "--realism",
    is_flag=True,
    help="Add the mess of real CRM logs (leave, tool rollouts, joiners and leavers, handovers, small teams, "
    "player-coaches, reorganisations, a VP's and reps' events under the manager, field noise); "
    "the labels name the conditions each manager's team carries.",
)
@click.option(
    "--market-shock",
    "market_shock",
    metavar="QUARTER",
    help="Make QUARTER (such as 2026-Q2) an org-wide market shock: results fall for every team and most "
    "managers, honest ones included, explain their misses by the market.",
)
@_guard
def simulate(
    managers: int,
    days: int,
    seed: int,
    start: Any,
    profiles: Sequence[str],
    output: str,
    labels: str | None,
    realism: bool,
    market_shock: str | None,
) -> None:
    """Write a simulated org (teams, selling, coaching, messages) with known manager traits."""
    from simulator import PROFILES, write_simulation
    from simulator import simulate as run_simulation

    unknown = [p for p in profiles if p not in PROFILES]
    if unknown:
        _fail(f"salesmirror: unknown profile(s) {', '.join(unknown)}; known: {', '.join(PROFILES)}")
    try:
        sim = run_simulation(
            managers=managers,
            days=days,
            seed=seed,
            start=start.date(),
            profiles=list(profiles) or None,
            realism=realism,
            market_shock=market_shock,
        )
    except ValueError as err:  # a quarter that is not one
        _fail(f"salesmirror: --market-shock: {err}")
    if labels is None:
        base = output[:-3] if output.endswith(".gz") else output
        labels = (base[:-6] if base.endswith(".jsonl") else base) + ".labels.json"
    write_simulation(sim, output, labels)
    _say(f"{len(sim.events)} events for {len(sim.labels['managers'])} managers written to {output}; labels in {labels}")


@main.group("baseline")
def baseline_group() -> None:
    """Record the accepted state of a log's findings, so check --baseline reports only what is new."""


@baseline_group.command("create")
@click.argument("events", nargs=-1)
@_check_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The baseline file to write.")
@_guard
def baseline_create(
    events: Sequence[str],
    rules_dirs: Sequence[str],
    rejects: str | None,
    roster: str | None,
    config: str | None,
    no_config: bool,
    sets: Sequence[str],
    suppressions: Sequence[str],
    today: Any,
    redact: bool,
    sources: Sequence[str],
    mapping: str | None,
    backend: str,
    output: str,
) -> None:
    """Check EVENTS and record the fingerprints of their findings (all but the suppressed) in a baseline file."""
    import engine

    _need_events(events, sources)
    from engine.report import redact as redact_report
    from engine.report.baseline import write_baseline

    config_path = _config_path(config, no_config)
    _refuse_clashes([(option, path) for option, path in [("-o", output), ("--rejects", rejects)] if path])
    engine.refuse_outputs_over_inputs({"-o": output}, [*events, roster, config_path, *suppressions])
    report = _run_check(
        events,
        rules_dirs=rules_dirs,
        roster=roster,
        config=config_path,
        sets=sets,
        rejects=rejects,
        suppressions=suppressions,
        today=today,
        sources=sources,
        mapping=mapping,
        backend=backend,
    )
    if redact:
        report = redact_report(report)
    write_baseline(output, report.findings)
    left_out = f" ({len(report.suppressed)} suppressed, left out)" if report.suppressed else ""
    _say(f"salesmirror: baseline of {len(report.findings)} finding(s) written to {output}{left_out}")


@main.group()
def rules() -> None:
    """List, explain, validate and export the schema of rules."""


@rules.command("list")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_guard
def rules_list(rules_dirs: Sequence[str], fmt: str) -> None:
    """List the rules with their trait, severity and status."""
    from engine.lang.loader import default_rules_dir, load_rules

    ruleset = load_rules(list(rules_dirs) or [default_rules_dir()])
    rows = [
        {
            "id": r.rule.id,
            "trait": r.rule.trait,
            "severity": r.rule.severity,
            "status": r.rule.status,
            "title": r.rule.title,
        }
        for r in ruleset.rules
    ]
    if fmt == "json":
        _out(json.dumps(rows, indent=2) + "\n")
        return
    width = max((len(r["id"]) for r in rows), default=10)
    _out("".join(f"{row['id']:<{width}}  {row['severity']:<6}  {row['status']:<12}  {row['title']}\n" for row in rows))


@rules.command("explain")
@click.argument("rule_id")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path())
@_guard
def rules_explain(rule_id: str, rules_dirs: Sequence[str]) -> None:
    """Print a rule's documentation: why, what to do instead, false positives, parameters."""
    import difflib

    from engine.lang.explain import explain
    from engine.lang.loader import default_rules_dir, load_rules

    ruleset = load_rules(list(rules_dirs) or [default_rules_dir()])
    loaded = ruleset.get(rule_id)
    if loaded is None:
        ids = [r.rule.id for r in ruleset.rules]
        hint = difflib.get_close_matches(rule_id, ids, n=1, cutoff=0.4)
        _fail(f"salesmirror: unknown rule '{rule_id}'" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
    _out(explain(loaded.rule, ruleset.macros, ruleset.lists) + "\n")


@rules.command("validate")
@click.argument("directories", nargs=-1, required=True, type=click.Path())
@_guard
def rules_validate(directories: Sequence[str]) -> None:
    """Load and compile every rule below DIRECTORIES; report all problems."""
    from engine.api import prepare_rules
    from engine.config import Settings

    _, compiled = prepare_rules(list(directories), settings=Settings())
    _out(f"{len(compiled)} rule(s) valid\n")


@rules.command("test")
@click.argument("cases", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--rules", "rules_dirs", multiple=True, type=click.Path(), help="Rule directory (default: the shipped rules)."
)
@click.option("-k", "select", help="Only cases whose 'rule::name' contains this text.")
@_guard
def rules_test(cases: Sequence[str], rules_dirs: Sequence[str], select: str | None) -> None:
    """Run rule test cases (default: fixtures/rules below the working directory)."""
    from engine.rulecases import find_case_files, load_cases, run_case

    paths = list(cases) or (["fixtures/rules"] if os.path.isdir("fixtures/rules") else [])
    if not paths:
        _fail("salesmirror: no case files given and no fixtures/rules directory here")
    loaded = [case for path in find_case_files(paths) for case in load_cases(path)]
    if select:
        loaded = [case for case in loaded if select in case.id]
    failed = 0
    for case in loaded:
        outcome = run_case(case, list(rules_dirs) or None)
        mark = "ok  " if outcome.passed else "FAIL"
        _out(
            f"{mark} {case.id}" + ("" if outcome.passed else f"\n     {case.path}:{case.line}: {outcome.detail}") + "\n"
        )
        failed += not outcome.passed
    _out(f"{len(loaded) - failed} passed, {failed} failed\n")
    sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


@rules.command("schema")
@_guard
def rules_schema() -> None:
    """Print the JSON Schema of rule files (for editors)."""
    from engine.lang.model import rule_json_schema

    _out(json.dumps(rule_json_schema(), indent=2, sort_keys=True) + "\n")


@main.group("events")
def events_group() -> None:
    """The event contract."""


@events_group.command("schema")
@_guard
def events_schema() -> None:
    """Print the JSON Schema of an event line (what docs/event.schema.json holds)."""
    from engine.events import schema_text

    _out(schema_text())


def _register_commands() -> None:
    """The commands that live beside their packages (each tested there through its own command object)."""
    from engine.audit.command import audit_command, self_assess_command
    from engine.importers.command import import_command
    from engine.live.command import watch_command

    main.add_command(import_command, "import")
    main.add_command(audit_command)
    main.add_command(self_assess_command)
    main.add_command(watch_command)


_register_commands()


if __name__ == "__main__":
    main()
