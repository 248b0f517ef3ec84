"""``salesmirror import SOURCE PATH [--mapping FILE] -o events.jsonl``: an export into canonical JSONL.

The command only parses arguments, runs :func:`engine.importers.import_source`
and prints its report; the CLI registers it as ``import``. Exit codes follow
``check``: 0 when every record was read, 2 for a bad mapping, an export that
cannot be read, or records that cannot (every one listed as ``file:line:
reason`` on stderr, and nothing written, unless ``--rejects FILE`` takes them,
as ``check --rejects`` does).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import click

from engine import cliutil
from engine.importers import SOURCES, default_mapping_text, import_source
from engine.ingest import write_rejects

__all__ = ["import_command"]


def _write(path: str, text: str) -> None:
    """Write all of ``text`` or nothing: a half-written events file is worse than none."""
    if path == "-":
        sys.stdout.write(text)
        return
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".salesmirror-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


@click.command("import")
@click.argument("source", type=click.Choice(SOURCES))
@click.argument("path", required=False)
@click.option("--mapping", "mapping", metavar="FILE", help="The org's mapping, laid over the source's default.")
@click.option("-o", "--output", "output", metavar="FILE", default="-", show_default=True, help="Events (JSONL).")
@click.option("--rejects", metavar="FILE", help="Write records that cannot be read here (JSONL) and keep going.")
@click.option("--report", "report_path", metavar="FILE", help="Also write the import report as JSON.")
@click.option("--show-mapping", is_flag=True, help="Print the source's default mapping (commented) and exit.")
@click.option("-q", "--quiet", is_flag=True, help="Do not print the import report.")
@click.option("--redact", is_flag=True, help="Leave people's ids out of the printed report (counts only).")
@cliutil.guard
def import_command(
    source: str,
    path: str | None,
    mapping: str | None,
    output: str,
    rejects: str | None,
    report_path: str | None,
    show_mapping: bool,
    quiet: bool,
    redact: bool,
) -> None:
    """Import a CRM export (folder, zip or file) as canonical events.

    SOURCE is salesforce, hubspot, gong or csv. The report (records read,
    events made, records skipped and why, per object) goes to stderr.
    """
    if show_mapping:
        click.echo(default_mapping_text(source), nl=False)
        return
    if path is None:
        raise click.UsageError("PATH is required (a folder, zip or file of the export)")
    imported = import_source(source, path, mapping)  # a bad mapping or export: the guard reports it
    report = imported.report
    failed = bool(report.errors) or (bool(report.problems) and rejects is None)
    for problem in report.errors:
        click.echo(f"salesmirror: {problem}", err=True)
    if rejects is None:
        for record in report.problems:
            click.echo(str(record), err=True)
    if not quiet:
        for line in report.lines(redact=redact):
            click.echo(line, err=True)
    if report_path is not None:
        _write(report_path, json.dumps(report.as_dict(), indent=2, sort_keys=True) + "\n")
    if failed:
        count = len(report.errors) + len(report.problems)
        click.echo(f"salesmirror: {count} {'problem' if count == 1 else 'problems'} found; nothing written", err=True)
        sys.exit(2)
    if rejects is not None:
        write_rejects(rejects, report.problems)
    _write(output, imported.jsonl())
