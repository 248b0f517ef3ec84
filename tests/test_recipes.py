"""The ARCHITECTURE.md recipes hold: an input format and an output format added from
outside the engine (here, from this test) work through ``salesmirror check`` with no
other change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner

from cli import main
from engine.ingest import Entry, Source, register_reader
from engine.ingest.readers import unregister_reader
from engine.report import Report
from engine.report.formats import RenderOptions, register_format, unregister_format


class PipeReader:
    """'id|ts|type|actor|manager' per line: a tiny format of this test's own."""

    name = "pipes"
    extensions = (".pipes",)

    def sniff(self, head: bytes) -> bool:
        return head.count(b"|") == 4

    def entries(self, source: Source) -> Iterator[Entry]:
        for number, raw in enumerate(source.lines, 1):
            if not raw.strip():
                continue
            cells = raw.decode("utf-8").rstrip("\r\n").split("|")
            if len(cells) != 5:
                yield Entry(source.shown, number, raw, [], [f"expected 5 cells, got {len(cells)}"])
                continue
            names = ("id", "ts", "type", "actor", "manager")
            yield Entry(source.shown, number, raw, [dict(zip(names, cells))], [])


def render_lines(report: Report, options: RenderOptions) -> str:
    """One 'manager rule evidence-count' line per finding, then the counts."""
    lines = [f"{f.manager} {f.rule} {len(f.evidence)}" for f in report.findings]
    summary = report.summary()
    lines.append(f"read={summary['read']} rejected={summary['rejected']}")
    return "\n".join(lines) + "\n"


def test_check_through_a_reader_and_a_format_added_from_outside(tmp_path: Path) -> None:
    # Three strategy changes in three weeks by one manager: the knee-jerk rule's pattern.
    rows = [
        f"s{i}|2026-0{m}-{d:02d}T09:00:00Z|strategy_changed|mgr-1|mgr-1"
        for i, (m, d) in enumerate([(1, 5), (1, 12), (1, 19), (1, 26), (2, 2), (2, 9), (2, 16), (2, 23)], 1)
    ]
    log = tmp_path / "org.pipes"
    log.write_text("\n".join([*rows, "bad|line"]) + "\n", encoding="utf-8")
    register_reader(PipeReader())
    register_format("lines", render_lines)
    try:
        result = CliRunner().invoke(
            main,
            ["check", str(log), "--format", "lines", "--rejects", str(tmp_path / "rejects.jsonl"), "--no-config"],
        )
    finally:
        unregister_reader("pipes")
        unregister_format("lines")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == "read=9 rejected=1"
    assert any(line.startswith("mgr-1 knee-jerk-reactionary/") for line in lines[:-1]), lines
    rejects = (tmp_path / "rejects.jsonl").read_text(encoding="utf-8")
    assert "expected 5 cells, got 2" in rejects


def test_the_registrations_are_gone_afterwards(tmp_path: Path) -> None:
    log = tmp_path / "org.pipes"
    log.write_text("a|2026-01-05|email_sent|rep-1|mgr-1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(log), "--format", "lines", "--no-config"])
    assert result.exit_code == 2
    assert "lines" in result.output
