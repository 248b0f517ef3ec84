"""``--format junit``: one testsuite per rule, one testcase per manager; checked through the CLI with a
golden file, against an XSD of the shape CI servers' JUnit readers share (``tests/schemas/junit.xsd``,
written for these tests), and for counts that agree with the testcases.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

import engine
from engine.report.formats import RenderOptions, render_junit
from tests.ci_support import CHURN, churn_log, cli, golden, normalise, own_log, own_rules

XSD = Path(__file__).parent / "schemas" / "junit.xsd"


def _valid(text: str) -> ET.Element:
    """The document, after checking it against the XSD and checking that every count agrees with its testcases."""
    xmlschema.XMLSchema(str(XSD)).validate(text)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        counted = {
            "tests": len(cases),
            "failures": sum(case.find("failure") is not None for case in cases),
            "skipped": sum(case.find("skipped") is not None for case in cases),
        }
        assert {key: int(suite.get(key, "-1")) for key in counted} == counted, suite.get("name")
        assert suite.get("errors") == "0"
        for key, value in counted.items():
            totals[key] += value
    assert {key: int(root.get(key, "-1")) for key in totals} == totals
    return root


def _outcomes(root: ET.Element) -> dict[tuple[str, str], str]:
    out = {}
    for suite in root.iter("testsuite"):
        for case in suite.findall("testcase"):
            state = "failed" if case.find("failure") is not None else "passed"
            state = "skipped" if case.find("skipped") is not None else state
            out[(str(suite.get("name")), str(case.get("name")))] = state
    return out


def test_junit_golden(tmp_path: Path) -> None:
    churn_log(tmp_path)
    code, out, err = cli(tmp_path, "check", "events.jsonl", *CHURN, "--format", "junit")
    assert code == 1, err
    golden("check.junit.xml", normalise(out))
    root = _valid(out)
    assert _outcomes(root) == {
        ("knee-jerk-reactionary/strategy-churn", "mgr-a"): "failed",
        ("knee-jerk-reactionary/strategy-churn", "mgr-b"): "skipped",  # an 86-day log, a 90-day window
    }
    skipped = root.find("testsuite/testcase[@name='mgr-b']/skipped")
    assert skipped is not None and str(skipped.get("message")).startswith("not assessed: 1 led period of 86 days")


def test_the_xsd_refuses_what_ci_servers_cannot_read(tmp_path: Path) -> None:
    churn_log(tmp_path)
    _, out, _ = cli(tmp_path, "check", "events.jsonl", *CHURN, "--format", "junit")
    schema = xmlschema.XMLSchema(str(XSD))
    assert schema.is_valid(out)
    two_outcomes = out.replace("</failure>", '</failure><skipped message="also"/>')
    no_classname = out.replace(' classname="knee-jerk-reactionary.strategy-churn"', "", 1)
    bad_count = out.replace('tests="2" failures="1"', 'tests="two" failures="1"', 1)
    for broken in (two_outcomes, no_classname, bad_count):
        assert broken != out and not schema.is_valid(broken)


def test_each_rule_a_suite_each_manager_a_case(tmp_path: Path) -> None:
    rules, log = own_rules(tmp_path), own_log(tmp_path)
    code, out, err = cli(tmp_path, "check", "events.jsonl", "--no-config", "--rules", "rules", "--format", "junit")
    assert code == 1, err
    root = _valid(out)
    report = engine.check([str(log)], rules=[str(rules)])
    assert [s.get("name") for s in root.iter("testsuite")] == [r.id for r in report.rules]
    assert _outcomes(root) == {
        (rule, manager): ("failed" if manager == "m1" else "passed")
        for rule in ("ci/rep-sessions", "ci/deal-pushes", "ci/monthly-calls")
        for manager in ("m1", "m2")
    }
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "ci/deal-pushes")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {
        "trait": "ci-trait",
        "severity": "medium",
        "title": "Test rule ci/deal-pushes",
    }
    case = suite.find("testcase[@name='m1']")
    assert case is not None and case.get("classname") == "ci.deal-pushes"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "medium"
    assert failure.get("message") == "1 finding: pushed D-1 2 times\nwithin 14 days: a, b: c"
    body = str(failure.text)
    assert body.startswith("MEDIUM 2026-02-02 .. 2026-02-09 deal D-1\n  pushed D-1 2 times")
    assert "  evidence: p1, p2\n  advice: Do better." in body


def test_user_text_is_escaped_and_characters_xml_cannot_hold_are_spelled_out(tmp_path: Path) -> None:
    rules, log = own_rules(tmp_path), own_log(tmp_path)
    report = engine.check([str(log)], rules=[str(rules)])
    odd = copy.deepcopy(report)
    target = next(f for f in odd.findings if f.rule == "ci/rep-sessions")
    target.message = 'bell \x07, nul-free \ufffe and a lone \ud800 <b>&amp; "quoted"</b>'
    target.manager = "m1 & <co>"
    odd.managers = sorted({*odd.managers, target.manager})
    text = render_junit(odd, RenderOptions())
    root = _valid(text)
    text.encode("utf-8")  # a lone surrogate would not encode
    case = root.find("testsuite[@name='ci/rep-sessions']/testcase[@name='m1 & <co>']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == '1 finding: bell \\x07, nul-free \\ufffe and a lone \\ud800 <b>&amp; "quoted"</b>'
    assert 'lone \\ud800 <b>&amp; "quoted"</b>' in str(failure.text)


def test_suppressed_skip_and_baselined_pass_with_a_note(tmp_path: Path) -> None:
    own_rules(tmp_path)
    own_log(tmp_path)
    base = ["check", "events.jsonl", "--no-config", "--rules", "rules"]
    assert cli(tmp_path, "baseline", "create", *base[1:], "-o", "b.json")[0] == 0
    (tmp_path / "quiet.yaml").write_text(
        "suppressions:\n  - rule: ci/monthly-calls\n    manager: m1\n    reason: Listening week, agreed\n"
        "    approved_by: hr-lead\n    expires: 2026-12-31\n",
        encoding="utf-8",
    )
    code, out, err = cli(
        tmp_path,
        *base,
        "--format",
        "junit",
        "--baseline",
        "b.json",
        "--suppressions",
        "quiet.yaml",
        "--today",
        "2026-04-01",
    )
    assert code == 0, err  # nothing new, and one suppressed
    root = _valid(out)
    outcomes = _outcomes(root)
    assert outcomes[("ci/monthly-calls", "m1")] == "skipped"
    assert outcomes[("ci/rep-sessions", "m1")] == outcomes[("ci/deal-pushes", "m1")] == "passed"
    skipped = root.find("testsuite[@name='ci/monthly-calls']/testcase[@name='m1']/skipped")
    assert skipped is not None and skipped.get("message") == "suppressed: Listening week, agreed"
    note = root.find("testsuite[@name='ci/deal-pushes']/testcase[@name='m1']/system-out")
    assert note is not None and str(note.text).startswith("1 finding already in the baseline, not reported again:")


def test_redacted_junit_names_no_one(tmp_path: Path) -> None:
    own_rules(tmp_path)
    own_log(tmp_path)
    _, out, _ = cli(
        tmp_path, "check", "events.jsonl", "--no-config", "--rules", "rules", "--format", "junit", "--redact"
    )
    root = _valid(out)
    names = {case.get("name") for case in root.iter("testcase")}
    assert names and all(str(name).startswith("manager-") for name in names)
    assert "r1" not in out and '"m1"' not in out
