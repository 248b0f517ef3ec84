"""``salesmirror self-assess``: from a log, for one manager only, and from the questionnaire."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from engine.audit.command import self_assess_command
from engine.audit.questionnaire import load_questionnaire
from engine.lang.loader import load_rules
from tests.audit_log import churn_args, write_log
from tests.test_audit import parse

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo" / "events.jsonl.gz"


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(self_assess_command, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_log(Path("events.jsonl"))


def test_written_to_the_manager_with_trend(log: Path) -> None:
    code, out, err = run("events.jsonl", "--manager", "mgr-a", "--period", "2026-Q1", *churn_args())
    assert code == 0, err
    assert out.startswith("# Your sales-management mirror: 2026-Q1")
    assert out.index("## What you do well") < out.index("## What to watch") < out.index("## Trend")
    watch = out[out.index("## What to watch") : out.index("## Trend")]
    assert "Strategy changed again before the last change could bed down" in watch
    assert "[persisting]" in watch and "(to keep an eye on: low confidence)" in watch
    assert "evidence: 2026-01-05 09:00 strategy_changed a-q1-0, salesforce Task 00TA0 (events.jsonl:12)" in watch
    assert "instead: Before the next change" in watch
    trend = out[out.index("## Trend") :]
    assert "also there in 2025-Q4" in trend


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_no_other_manager_anywhere(log: Path, fmt: str) -> None:
    code, out, err = run("events.jsonl", "--manager", "mgr-b", "--period", "2026-Q1", "--format", fmt, *churn_args())
    assert code == 0, err
    for other in ("mgr-a", "mgr-c", "mgr-d", "rep-a1", "rep-c1", "rep-d1", "a-q1-", "c-q1-", "00TA"):
        assert other not in out, (fmt, other)


def test_resolved_since_the_previous_period(log: Path) -> None:
    code, out, _ = run("events.jsonl", "--manager", "mgr-b", "--period", "2026-Q1", *churn_args())
    assert code == 0
    assert "Nothing to watch" in out
    assert "resolved since 2025-Q4" in out
    assert "no sign of knee-jerk-reactionary" in out


def test_manager_not_assessed_is_told_why(log: Path) -> None:
    code, out, _ = run("events.jsonl", "--manager", "mgr-d", "--period", "2026-Q1", *churn_args())
    assert code == 0
    assert "Nothing could be confirmed this time" in out
    assert "shorter than the 90-day window" in out[out.index("## Could not be assessed") :]


def test_files_md_and_html(log: Path) -> None:
    assert run("events.jsonl", "--manager", "mgr-a", *churn_args(), "-o", "me.md")[0] == 0
    md = Path("me.md").read_text(encoding="utf-8")
    assert md.startswith("# Your sales-management mirror") and "&lt;script>" in md and "<script" not in md
    assert run("events.jsonl", "--manager", "mgr-a", *churn_args(), "-o", "me.html")[0] == 0
    html = Path("me.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "&lt;script&gt;alert(1)" in html
    tags = parse(html).tags
    assert [tag for tag, _ in tags if tag in ("script", "img", "link", "iframe")] == []
    assert all("src" not in attrs and "href" not in attrs for _, attrs in tags)


def test_unknown_manager(log: Path) -> None:
    code, out, err = run("events.jsonl", "--manager", "mgr-zz", *churn_args())
    assert code == 2 and out == ""
    assert "--manager mgr-zz: no such manager" in err and "mgr-a" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give EVENTS (or --from SOURCE:PATH) and --manager ID"),
        (["events.jsonl"], "give EVENTS (or --from SOURCE:PATH) and --manager ID"),
        (["--questionnaire", "events.jsonl"], "--questionnaire takes no EVENTS"),
        (["events.jsonl", "--manager", "mgr-a", "--answers", "a.yaml"], "--answers needs --questionnaire"),
    ],
)
def test_usage(log: Path, args: list[str], message: str) -> None:
    code, _, err = run(*args)
    assert code == 2 and message in err


def test_rich_on_a_terminal_plain_otherwise(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.audit import command

    _, plain, _ = run("events.jsonl", "--manager", "mgr-a", *churn_args())
    assert "\x1b[" not in plain
    monkeypatch.setattr(command, "_stdout_is_terminal", lambda: True)
    _, coloured, _ = run("events.jsonl", "--manager", "mgr-a", *churn_args())
    assert "\x1b[1;4m# Your sales-management mirror" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured).split() == plain.split()


def _demo_managers() -> tuple[str, str, engine.Report]:
    report = engine.check([str(DEMO)], config=None)
    with_findings = sorted({f.manager for f in report.findings})
    without = sorted(set(report.managers) - set(with_findings))
    assert with_findings and without, "the demo log has managers with and without findings"
    return with_findings[0], without[0], report


def test_demo_log_with_and_without_findings() -> None:
    flagged, clean, report = _demo_managers()
    code, out, err = run(str(DEMO), "--manager", flagged, "--no-config")
    assert code == 0, err
    watch = out[out.index("## What to watch") : out.index("## Trend")]
    for finding in report.findings:
        if finding.manager == flagged:
            assert finding.title in watch
    for other in report.managers:
        if other != flagged:
            assert not re.search(rf"(?<![\w-]){re.escape(other)}(?![\w-])", out), other
    code, out, err = run(str(DEMO), "--manager", clean, "--no-config")
    assert code == 0, err
    assert "Nothing to watch" in out
    assert out.index("## What you do well") < out.index("Nothing to watch")


# ---------------------------------------------------------------- the questionnaire

ANSWERS = """\
manager: Dana
answers:
  team-size: 8
  morale-events: 2
  coaching-contacts: 30
  calls-listened: 5
  calls-with-feedback: 4
  target-method: per-seller
  one-on-ones: 16
  longest-gap: 50
  kpi-count: 5
  activity-quota: "no"
"""


def test_questionnaire_from_answers(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS, encoding="utf-8")
    code, out, err = run("--questionnaire", "--answers", str(answers))
    assert code == 0, err
    assert out.startswith("# Your sales-management mirror\n")
    well = out[out.index("## What you do well") : out.index("## What to watch")]
    assert "Targets built seller by seller" not in well  # the strength's own words, not the choice's
    assert "targets built seller by seller (you answered Built per seller" in well
    assert "one-on-ones at least fortnightly for every seller (you answered 16)" in well
    assert "seven KPIs or fewer (you answered 5)" in well
    watch = out[out.index("## What to watch") : out.index("## Trend")]
    assert "### Listening to a dozen or more sales calls a month" in watch
    assert "fewer than a dozen sales calls listened to in four weeks" in watch
    assert "### Distant from the day-to-day selling" in watch  # a seller went 50 days without contact
    assert "for you: one-on-ones at least fortnightly for every seller (you answered 16)" in watch
    assert "for you: feedback given after most listened calls (you answered 4)" in watch  # 4 of 5
    unassessed = out[out.index("## Could not be assessed") :]
    assert "Closing the team's deals yourself: not answered" in unassessed
    assert "Morale activity crowds out method" not in out[out.index("## What to watch") :]


def test_questionnaire_covers_every_trait_and_practice() -> None:
    from engine.vocab import TRAITS

    questionnaire = load_questionnaire()
    shipped = {r.rule.trait for r in load_rules([str(ROOT / "rules")]).rules}
    assert set(TRAITS) <= set(questionnaire.checks)
    assert shipped <= set(questionnaire.checks)
    for check in questionnaire.checks:
        scored = [q for q in questionnaire.questions if q.check == check and (q.watch or q.good or q.answer.choices)]
        assert scored, f"{check} has no scored question"
    for question in questionnaire.questions:
        assert question.ask.endswith("?"), question.id
        if question.watch is not None or any(c.signal == "watch" for c in question.answer.choices):
            assert question.concern, question.id


BAD_ANSWERS = """\
manager: Dana
answers:
  team-size: eight
  calls-listened: 5.5
  kpi-count: -1
  target-method: random
  call-listened: 3
  calls-with-feedback: 9
colour: blue
"""


def test_every_bad_answer_located(tmp_path: Path) -> None:
    answers = tmp_path / "bad.yaml"
    answers.write_text(BAD_ANSWERS, encoding="utf-8")
    code, out, err = run("--questionnaire", "--answers", str(answers))
    assert code == 2 and out == ""
    expected = [
        f"{answers}:3:14: team-size: a whole number from 0 to 500",
        f"{answers}:4:19: calls-listened: give a whole number (a whole number from 0 to 1000)",
        f"{answers}:5:14: kpi-count: give a number from 0 to 1000",
        f"{answers}:6:18: target-method: answer one of same, even-split, per-seller, not-mine (or its number, 1 to 4)",
        f"{answers}:7:3: unknown question 'call-listened' (did you mean 'calls-listened'?)",
        f"{answers}:9:1: unknown key 'colour' (the file has 'manager' and 'answers')",
        "salesmirror: 6 problems found",
    ]
    assert err.splitlines() == expected


def test_contradicting_answers_located(tmp_path: Path) -> None:
    answers = tmp_path / "bad.yaml"
    answers.write_text("answers:\n  calls-listened: 3\n  calls-with-feedback: 9\n", encoding="utf-8")
    code, _, err = run("--questionnaire", "--answers", str(answers))
    assert code == 2
    assert (
        err.splitlines()[0] == f"{answers}:3:24: calls-with-feedback: 9 is more than the answer to calls-listened (3)"
    )


def test_answers_not_yaml(tmp_path: Path) -> None:
    answers = tmp_path / "bad.yaml"
    answers.write_text("answers: [1, 2\n", encoding="utf-8")
    code, _, err = run("--questionnaire", "--answers", str(answers))
    assert code == 2 and err.startswith(f"{answers}:2:1: ") and "Traceback" not in err


def test_questionnaire_interactive() -> None:
    questions = load_questionnaire().questions
    typed = {"calls-listened": ["lots", "5"], "target-method": ["3"], "calls-with-feedback": ["9", "2"]}
    lines = ["Sam"]
    for question in questions:
        lines += typed.get(question.id, [""])
    code, out, err = run("--questionnaire", input="\n".join(lines) + "\n")
    assert code == 0, err
    assert "give a whole number" in out or "a whole number from 0 to 1000" in out  # 'lots' asked again
    assert "that is more than your answer to question calls-listened (5)" in out
    report = out[out.index("# Your sales-management mirror") :]
    assert "fewer than a dozen sales calls listened to in four weeks" in report
    assert "targets built seller by seller (you answered Built per seller" in report
    assert "most listened calls left without specific feedback" in report  # 2 of 5
