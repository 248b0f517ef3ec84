"""``--format github``: workflow-command annotations, escaped as the Actions runner reads them.

The runner reads one command per line: ``::name key=value,...::message``. It decodes ``%25``,
``%0D`` and ``%0A`` in a message, and ``%3A`` and ``%2C`` as well in a property value. The
tests decode the output the same way and check that every piece of text comes back whole.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest

import engine
from engine.report.formats import RenderOptions, render_github
from engine.report.formats.github import command, escape_data, escape_property
from tests.ci_support import CHURN, churn_log, cli, golden, normalise, own_log, own_rules

LINE = re.compile(r"::(?P<name>[a-z]+)(?: (?P<props>[^:]*))?::(?P<message>.*)")


def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    """One annotation line as the runner reads it: command, properties, message (all decoded)."""
    match = LINE.fullmatch(line)
    assert match, line
    props = {}
    for part in (match.group("props") or "").split(","):
        if part:
            key, _, value = part.partition("=")
            props[key] = _unescape_property(value)
    return match.group("name"), props, _unescape_data(match.group("message"))


def _annotations(out: str) -> list[tuple[str, dict[str, str], str]]:
    return [_parse(line) for line in out.splitlines() if line.startswith("::")]


def test_github_golden(tmp_path: Path) -> None:
    churn_log(tmp_path)
    code, out, err = cli(tmp_path, "check", "events.jsonl", *CHURN, "--format", "github")
    assert code == 1, err
    golden("check.github.txt", normalise(out))
    ((name, props, message),) = _annotations(out)
    assert name == "warning"  # a medium finding
    assert props == {
        "file": "events.jsonl",
        "line": "3",
        "title": "knee-jerk-reactionary/strategy-churn (mgr-a)",
    }
    assert message.startswith("mgr-a: changed strategy 2 times within 30d of the previous change\n")


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("50% done", "50%25 done", "50%25 done"),
        ("one\ntwo\r\nthree", "one%0Atwo%0D%0Athree", "one%0Atwo%0D%0Athree"),
        ("a: b, c", "a: b, c", "a%3A b%2C c"),
        ("already %0A encoded", "already %250A encoded", "already %250A encoded"),
        ("::error::injected", "::error::injected", "%3A%3Aerror%3A%3Ainjected"),
    ],
)
def test_escaping_as_the_runner_requires(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data and escape_property(text) == prop
    assert _unescape_data(data) == text and _unescape_property(prop) == text


def test_a_command_line_carries_any_text_whole() -> None:
    title = "rule (mgr:a, rep b)\n::error::x"
    message = "line one\n::warning::not a command\r100% of it, a: b"
    line = command("notice", message, file="in, put:1.jsonl", line=7, title=title)
    assert "\n" not in line and "\r" not in line
    assert _parse(line) == ("notice", {"file": "in, put:1.jsonl", "line": "7", "title": title}, message)
    assert command("warning", "plain") == "::warning::plain"  # no properties, no space


def test_findings_become_annotations_at_their_first_evidence(tmp_path: Path) -> None:
    own_rules(tmp_path)
    shutil.copy(own_log(tmp_path), tmp_path / "nightly, 2026:03.jsonl")
    code, out, err = cli(
        tmp_path, "check", "nightly, 2026:03.jsonl", "--no-config", "--rules", "rules", "--format", "github"
    )
    assert code == 1, err
    found = {props["title"]: (name, props, message) for name, props, message in _annotations(out)}
    assert set(found) == {"ci/rep-sessions (m1, rep r1)", "ci/deal-pushes (m1, deal D-1)", "ci/monthly-calls (m1)"}
    name, props, message = found["ci/deal-pushes (m1, deal D-1)"]
    assert name == "warning"
    assert props["file"] == "nightly, 2026:03.jsonl" and props["line"] == "6"  # p1 is the log's 6th line
    assert message.split("\n")[:3] == [
        "m1, deal D-1: pushed D-1 2 times",
        "within 14 days: a, b: c",
        "count 2; fires when count >= 2, sliding window; 2026-02-02 .. 2026-02-09",
    ]
    assert found["ci/monthly-calls (m1)"][0] == "notice"  # a low finding
    assert "100% of it" in found["ci/rep-sessions (m1, rep r1)"][2]
    assert len(out.splitlines()) == 4  # three annotations and the summary, each on its own line
    assert out.splitlines()[-1] == "salesmirror: 3 finding(s) (0 high, 2 medium, 1 low); 12 events read, 0 rejected."


def test_severities_map_to_error_warning_notice_and_people_cannot_inject_commands(tmp_path: Path) -> None:
    rules, log = own_rules(tmp_path), own_log(tmp_path)
    report = copy.deepcopy(engine.check([str(log)], rules=[str(rules)]))
    for finding, severity in zip(report.findings, ["high", "medium", "low"]):
        finding.severity = severity
    report.findings[0].manager = "m1\n::error file=x::forged"
    report.warnings.append("a warning: with, punctuation\nand a second line")
    out = render_github(report, RenderOptions())
    assert [line.split(" ", 1)[0] for line in out.splitlines()[:4]] == ["::error", "::warning", "::notice", "::warning"]
    assert not any(line.startswith("::error file=x") for line in out.splitlines())
    first = _annotations(out)[0]
    assert first[2].startswith("m1\n::error file=x::forged, deal D-1: pushed D-1")
    assert _annotations(out)[3] == (
        "warning",
        {"title": "salesmirror"},
        "a warning: with, punctuation\nand a second line",
    )


def test_suppressed_findings_are_notices_only_when_asked(tmp_path: Path) -> None:
    own_rules(tmp_path)
    own_log(tmp_path)
    (tmp_path / "quiet.yaml").write_text(
        "suppressions:\n  - rule: ci/monthly-calls\n    manager: m1\n    reason: Listening week, agreed\n"
        "    approved_by: hr-lead\n    expires: 2026-12-31\n",
        encoding="utf-8",
    )
    base = ["check", "events.jsonl", "--no-config", "--rules", "rules", "--format", "github"]
    base += ["--suppressions", "quiet.yaml", "--today", "2026-04-01"]
    _, quiet, _ = cli(tmp_path, *base)
    _, shown, _ = cli(tmp_path, *base, "--show-suppressed")
    assert [props["title"] for _, props, _ in _annotations(quiet)] == [
        "ci/deal-pushes (m1, deal D-1)",
        "ci/rep-sessions (m1, rep r1)",
    ]
    assert quiet.splitlines()[-1].endswith("; 1 suppressed; 12 events read, 0 rejected.")
    extra = [a for a in _annotations(shown) if a not in _annotations(quiet)]
    assert len(extra) == 1 and extra[0][0] == "notice"
    assert extra[0][2].endswith(
        "Suppressed: Listening week, agreed (approved by hr-lead, expires 2026-12-31; quiet.yaml:2:5)"
    )
