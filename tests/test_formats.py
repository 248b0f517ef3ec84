"""Output formats: the registry, and the recipe for adding one (a module and a registration)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import engine
from engine.report import (
    RenderOptions,
    Report,
    format_names,
    get_format,
    register_format,
    render_json,
    render_text,
    unregister_format,
)
from tests.test_cli import CHURN_RULES, GOLDEN, RULES, churn, run, small_log, write_jsonl

SEEN: list[tuple[Report, RenderOptions]] = []


def render_tally(report: Report, options: RenderOptions) -> str:
    """A throwaway format: one line per rule that ran, with its count of findings."""
    SEEN.append((report, options))
    lines = [f"{rule.id} [{rule.severity}]: {sum(f.rule == rule.id for f in report.findings)}" for rule in report.rules]
    return "\n".join(lines) + "\n"


@pytest.fixture()
def tally() -> Iterator[str]:
    SEEN.clear()
    register_format("tally", render_tally)
    yield "tally"
    unregister_format("tally")


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "events.jsonl", small_log())


def test_shipped_formats_are_registered_text_first() -> None:
    assert format_names()[:2] == ["text", "json"]
    assert get_format("text") is render_text and get_format("json") is render_json


def test_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(engine.ConfigError, match=r"unknown output format 'xml' \(known: text, json"):
        get_format("xml")


def test_a_registered_format_is_offered_and_used_by_the_cli(tally: str, log: Path) -> None:
    code, out, err = run(*churn(str(log), "--format", tally, "--origins"))
    assert code == 1, err
    assert out == "knee-jerk-reactionary/strategy-churn [medium]: 1\n"
    (report, options), *_ = SEEN
    assert options.origins and not options.verbose
    assert options.command[1:] == tuple(churn(str(log), "--format", tally, "--origins"))
    assert report.inputs == [str(log)]
    _, help_text, _ = run("check", "--help")
    assert "tally" in help_text


def test_a_withdrawn_format_is_a_usage_error(log: Path) -> None:
    register_format("tally", render_tally)
    unregister_format("tally")
    code, _, err = run(*churn(str(log), "--format", "tally"))
    assert code == 2 and "'tally' is not one of 'text', 'json'" in err


def test_formats_render_the_api_report_as_the_cli_does(log: Path) -> None:
    report = engine.check([str(log)], rules=[str(CHURN_RULES), str(RULES / "_library.yaml")])
    assert get_format("json")(report, RenderOptions()) == (GOLDEN / "check.json").read_text(encoding="utf-8")
    assert get_format("text")(report, RenderOptions()) == (GOLDEN / "check.txt").read_text(encoding="utf-8")


def test_text_cites_origins_and_styles_only_when_asked(log: Path) -> None:
    report = engine.check([str(log)], rules=[str(CHURN_RULES), str(RULES / "_library.yaml")])
    plain = render_text(report)
    assert f"({log}:3)" not in plain
    assert f"s-a0 ({log}:3)" in render_text(report, RenderOptions(origins=True))
    marked = render_text(report, RenderOptions(style=lambda text, **kw: f"<{text}>" if kw.get("bold") else text))
    assert "<mgr-a>" in marked and "<MEDIUM>" in marked
