"""Suppressions: a reviewed, dated acceptance of a known finding, never a silent drop.

The log of ``tests.ci_support.own_events`` gives m1 three findings: ``ci/rep-sessions`` (rep r1,
whole time led, Jan 1 - Apr 1), ``ci/deal-pushes`` (deal D-1, Feb 2 - Feb 9) and
``ci/monthly-calls`` (March). Expiry is judged against a ``today`` the tests give, never the
wall clock.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.report.suppress import parse_period
from tests.ci_support import cli, own_log, own_rules

ENTRY = """\
  - rule: {rule}
    manager: {manager}
    reason: {reason}
    approved_by: hr-lead@example.com
    expires: {expires}
"""


def _file(folder: Path, text: str, name: str = "quiet.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _entries(folder: Path, *entries: str, name: str = "quiet.yaml") -> Path:
    return _file(folder, "suppressions:\n" + "".join(entries), name)


REASON = "Agreed with HR after the reorganisation"


def _entry(
    rule: str = "ci/deal-pushes", manager: str = "m1", expires: str = "2026-06-30", reason: str = REASON, **extra: str
) -> str:
    text = ENTRY.format(rule=rule, manager=manager, expires=expires, reason=reason)
    return text + "".join(f"    {key}: {value}\n" for key, value in extra.items())


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    own_rules(tmp_path)
    own_log(tmp_path)
    return tmp_path


def _check(folder: Path, *extra: str, fmt: str = "json") -> tuple[int, Any, str]:
    args = ["check", "events.jsonl", "--no-config", "--rules", "rules", "--format", fmt, *extra]
    code, out, err = cli(folder, *args)
    return code, (json.loads(out) if fmt == "json" and out else out), err


def _report(folder: Path, files: list[str], today: date) -> engine.Report:
    return engine.check(
        [str(folder / "events.jsonl")],
        rules=[str(folder / "rules")],
        suppressions=[str(folder / f) for f in files],
        today=today,
    )


def test_a_suppressed_finding_is_counted_and_listed_on_request(folder: Path) -> None:
    _entries(folder, _entry())
    code, data, err = _check(folder, "--suppressions", "quiet.yaml", "--today", "2026-04-01")
    assert code == 1, err  # two findings remain
    assert [f["rule"] for f in data["findings"]] == ["ci/monthly-calls", "ci/rep-sessions"]
    assert data["summary"]["suppressed"] == 1 and data["summary"]["findings"] == 2
    assert "suppressed" not in data  # listed only with --show-suppressed
    _, shown, _ = _check(folder, "--suppressions", "quiet.yaml", "--today", "2026-04-01", "--show-suppressed")
    (item,) = shown["suppressed"]
    assert (item["rule"], item["deal"]) == ("ci/deal-pushes", "D-1")
    assert item["suppression"] == {
        "reason": "Agreed with HR after the reorganisation",
        "approved_by": "hr-lead@example.com",
        "expires": "2026-06-30",
        "entry": "quiet.yaml:2:5",
    }
    _, text, _ = _check(folder, "--suppressions", "quiet.yaml", "--today", "2026-04-01", fmt="text")
    assert text.endswith("1 finding suppressed (--show-suppressed lists them).\n")
    assert "ci/deal-pushes" not in text
    _, text, _ = _check(
        folder, "--suppressions", "quiet.yaml", "--today", "2026-04-01", "--show-suppressed", fmt="text"
    )
    assert (
        "Suppressed, each accepted with a reason until its expiry:\n"
        "  m1  MEDIUM ci/deal-pushes  2026-02-02 .. 2026-02-09  deal D-1\n"
        "         pushed D-1 2 times\nwithin 14 days: a, b: c\n"
        "         suppressed: Agreed with HR after the reorganisation (approved by hr-lead@example.com, "
        "expires 2026-06-30; quiet.yaml:2:5)\n"
    ) in text


def test_suppressing_every_finding_clears_the_exit_code(folder: Path) -> None:
    _entries(folder, _entry("ci/deal-pushes"), _entry("ci/monthly-calls"), _entry("ci/rep-sessions"))
    code, data, err = _check(folder, "--suppressions", "quiet.yaml", "--today", "2026-04-01")
    assert code == 0 and data["findings"] == [] and data["summary"]["suppressed"] == 3
    assert err == ""  # every entry used, none expired


def test_an_entry_applies_through_its_expiry_day_and_then_warns(folder: Path) -> None:
    _entries(folder, _entry(expires="2026-04-30"))
    on_the_day = _report(folder, ["quiet.yaml"], date(2026, 4, 30))
    assert [f.rule for f in on_the_day.suppressed] == ["ci/deal-pushes"] and on_the_day.warnings == []
    after = _report(folder, ["quiet.yaml"], date(2026, 5, 1))
    assert after.suppressed == [] and "ci/deal-pushes" in [f.rule for f in after.findings]
    assert after.warnings == [
        f"{folder / 'quiet.yaml'}:2:5: the suppression of ci/deal-pushes expired on 2026-04-30 and no longer "
        "suppresses anything; the 1 finding(s) it matched are reported again; review it, then renew or remove it"
    ]
    code, _, err = _check(folder, "--suppressions", "quiet.yaml", "--today", "2026-05-01")
    assert code == 1
    assert err.startswith("warning: quiet.yaml:2:5: the suppression of ci/deal-pushes expired on 2026-04-30")


def test_an_entry_that_matches_nothing_is_reported_unused(folder: Path) -> None:
    _entries(folder, _entry(), _entry("ci/deal-pushes", manager="m2"), _entry("ci/deal-pushes"))
    report = _report(folder, ["quiet.yaml"], date(2026, 4, 1))
    assert [f.rule for f in report.suppressed] == ["ci/deal-pushes"]
    assert [w.split(": ", 1)[0].rsplit("/", 1)[-1] for w in report.warnings] == ["quiet.yaml:7:5", "quiet.yaml:12:5"]
    assert all("is unused: it matched no finding" in w for w in report.warnings)
    assert all("m2" not in w for w in report.warnings)  # warnings name the entry, not the people in it


def test_trait_rep_deal_and_period_narrow_what_is_suppressed(folder: Path) -> None:
    def suppressed(*entries: str) -> list[str]:
        _entries(folder, *entries)
        return [f.rule for f in _report(folder, ["quiet.yaml"], date(2026, 4, 1)).suppressed]

    by_trait = ENTRY.replace("rule: {rule}", "trait: ci-trait").format(manager="m1", expires="2026-06-30", reason="x")
    assert suppressed(by_trait) == ["ci/deal-pushes", "ci/rep-sessions"]  # ci/monthly-calls has another trait
    assert suppressed(_entry("ci/rep-sessions", rep="r1")) == ["ci/rep-sessions"]
    assert suppressed(_entry("ci/rep-sessions", rep="r2")) == []
    assert suppressed(_entry(deal="D-1")) == ["ci/deal-pushes"]
    assert suppressed(_entry(deal="D-2")) == []
    # the window must lie inside the period: Feb 2 - Feb 9
    assert suppressed(_entry(period="2026-02")) == ["ci/deal-pushes"]
    assert suppressed(_entry(period="2026-Q1")) == ["ci/deal-pushes"]
    assert suppressed(_entry(period="2026-02-02..2026-02-09")) == ["ci/deal-pushes"]
    assert suppressed(_entry(period="2026-02-03..2026-02-28")) == []  # starts before it
    assert suppressed(_entry(period="2026-W06")) == []  # Feb 2 - Feb 8 only
    assert suppressed(_entry("ci/monthly-calls", period="2026-03")) == ["ci/monthly-calls"]  # Mar 1 - Apr 1
    assert suppressed(_entry("ci/rep-sessions", period="2026-02")) == []  # Jan 1 - Apr 1 runs past it


@pytest.mark.parametrize(
    ("written", "start", "end"),
    [
        ("2026", date(2026, 1, 1), date(2027, 1, 1)),
        ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1)),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 5)),
        ("2026-02-28", date(2026, 2, 28), date(2026, 3, 1)),
        ("2026-01-30..2026-02-02", date(2026, 1, 30), date(2026, 2, 3)),
    ],
)
def test_periods_in_every_form(written: str, start: date, end: date) -> None:
    period = parse_period(written)
    assert (period.start, period.end, period.text) == (start, end, written)


def test_invalid_entries_are_all_reported_at_file_line_col(folder: Path) -> None:
    _file(
        folder,
        "suppressions:\n"  # 1
        "  - rule: ci/deal-pushes\n"  # 2: no reason, approver or expiry
        "    manager: m1\n"
        "  - rule: ci/deal-pushes\n"  # 4: both rule and trait
        "    trait: ci-trait\n"
        "    manager: m1\n"
        "    reason: r\n"
        "    approved_by: a\n"
        "    expires: 2026-06-30\n"
        "  - rule: ci/deal-pushes\n"  # 10
        "    manager: m1\n"
        "    reason: '  '\n"
        "    approved_by: a\n"
        "    expires: next year\n"
        "    period: 2026-Q5\n"
        "    approve: a\n"
        "  - rule: ci/deal-push\n"  # 17: no such rule
        "    manager: m1\n"
        "    reason: r\n"
        "    approved_by: a\n"
        "    expires: 2026-06-30\n"
        "  - just text\n",  # 22
    )
    code, out, err = _check(folder, "--suppressions", "quiet.yaml")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "quiet.yaml:2:5: invalid suppression 1: 'approved_by' is missing: say who approved it",
        "quiet.yaml:2:5: invalid suppression 1: 'expires' is missing: give the last day it applies (YYYY-MM-DD), "
        "so it is reviewed again",
        "quiet.yaml:2:5: invalid suppression 1: 'reason' is missing: say why the finding is accepted",
        "quiet.yaml:4:5: invalid suppression 2: name a rule or a trait, not both",
        "quiet.yaml:12:13: invalid suppression 3: reason: must not be empty",
        "quiet.yaml:14:14: invalid suppression 3: expires: 'next year' is not a day (YYYY-MM-DD)",
        "quiet.yaml:15:13: invalid suppression 3: period: '2026-Q5' is not a period; give a year (2026), quarter "
        "(2026-Q1), month (2026-03), ISO week (2026-W10), day (2026-03-02) or days (2026-03-02..2026-03-20)",
        "quiet.yaml:16:5: invalid suppression 3: unknown key 'approve' (did you mean 'approved_by'?)",
        "quiet.yaml:17:5: invalid suppression 4: unknown rule 'ci/deal-push' (did you mean 'ci/deal-pushes'?)",
        "quiet.yaml:22:5: invalid suppression 5: an entry must be a mapping",
        "salesmirror: 10 problems found",
    ]


def test_a_bad_period_and_an_unknown_rule_are_located_too(folder: Path) -> None:
    _entries(folder, _entry(period="2026-Q5"), _entry("ci/deal-push"), _entry("ci/deal-pushes", period="2026-13"))
    code, _, err = _check(folder, "--suppressions", "quiet.yaml")
    assert code == 2
    assert err.splitlines() == [
        "quiet.yaml:7:13: invalid suppression 1: period: '2026-Q5' is not a period; give a year (2026), quarter "
        "(2026-Q1), month (2026-03), ISO week (2026-W10), day (2026-03-02) or days (2026-03-02..2026-03-20)",
        "quiet.yaml:8:5: invalid suppression 2: unknown rule 'ci/deal-push' (did you mean 'ci/deal-pushes'?)",
        "quiet.yaml:18:13: invalid suppression 3: period: '2026-13' is not a valid period (month must be in 1..12)",
        "salesmirror: 3 problems found",
    ]


def test_a_file_that_is_not_a_list_of_suppressions(folder: Path) -> None:
    _file(folder, "- rule: ci/deal-pushes\n")
    code, _, err = _check(folder, "--suppressions", "quiet.yaml")
    assert code == 2 and err.startswith("quiet.yaml:1:1: invalid suppressions: the file must be a mapping with one key")
    code, _, err = _check(folder, "--suppressions", "missing.yaml")
    assert code == 2 and "missing.yaml: cannot read suppressions: No such file or directory" in err


def test_the_config_can_name_the_suppressions_file(folder: Path) -> None:
    (folder / "ci").mkdir()
    _entries(folder / "ci", _entry(), name="accepted.yaml")
    _file(folder, "suppressions: ci/accepted.yaml\n", name="salesmirror.yaml")
    args = ["check", "events.jsonl", "--rules", "rules", "--format", "json", "--today", "2026-04-01"]
    code, out, err = cli(folder, *args)
    data = json.loads(out)
    assert data["summary"]["suppressed"] == 1, err
    # --suppressions replaces the config's list
    _entries(folder, _entry("ci/monthly-calls"), name="other.yaml")
    _, out, _ = cli(folder, *args, "--suppressions", "other.yaml", "--show-suppressed")
    assert [f["rule"] for f in json.loads(out)["suppressed"]] == ["ci/monthly-calls"]
    _file(folder, "suppressions:\n  - ci/accepted.yaml\n  - ci/nowhere.yaml\n", name="salesmirror.yaml")
    code, _, err = cli(folder, *args)
    assert code == 2
    assert f"{folder / 'salesmirror.yaml'}:3:5: invalid config: no such suppressions file 'ci/nowhere.yaml'" in err


def test_redacted_output_hides_the_people_a_suppression_names(folder: Path) -> None:
    _entries(folder, _entry(reason="'m1 was on leave; see case 12'"))
    base = ["--suppressions", "quiet.yaml", "--today", "2026-04-01", "--show-suppressed", "--redact"]
    _, data, _ = _check(folder, *base)
    (item,) = data["suppressed"]
    assert item["manager"].startswith("manager-")
    assert item["suppression"]["reason"].startswith(item["manager"] + " was on leave")
    assert item["suppression"]["approved_by"].startswith("approver-")
    for fmt in ("text", "sarif", "junit", "github"):
        _, out, _ = _check(folder, *base, fmt=fmt)
        assert "hr-lead@example.com" not in out and "m1 was" not in out, fmt
