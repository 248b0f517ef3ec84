"""``--format sarif``: SARIF 2.1.0, checked against the OASIS schema (read in place from ../shared),
against the report it renders, and through the CLI with a golden file; and several outputs in one run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import engine
from engine.report.fingerprint import fingerprint
from tests.ci_support import CHURN, churn_log, cli, golden, normalise, own_log, own_rules, sarif_schema
from tests.helpers import ev, write_rule


def _validate(document: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(sarif_schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    problems = sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document))
    assert problems == []


def _line_of(log: Path, event_id: str) -> int:
    for number, line in enumerate(log.read_text(encoding="utf-8").splitlines(), start=1):
        if json.loads(line)["id"] == event_id:
            return number
    raise AssertionError(event_id)


def _results(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["ruleId"]: r for r in document["runs"][0]["results"]}


def test_sarif_golden(tmp_path: Path) -> None:
    churn_log(tmp_path)
    code, out, err = cli(tmp_path, "check", "events.jsonl", *CHURN, "--format", "sarif")
    assert code == 1, err
    golden("check.sarif", normalise(out))


def test_sarif_output_is_valid_against_the_schema(tmp_path: Path) -> None:
    churn_log(tmp_path)
    _, out, _ = cli(tmp_path, "check", "events.jsonl", *CHURN, "--format", "sarif")
    _validate(json.loads(out))


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    """The validation above would catch a document that breaks the schema."""
    churn_log(tmp_path)
    _, out, _ = cli(tmp_path, "check", "events.jsonl", *CHURN, "--format", "sarif")
    document = json.loads(out)
    document["runs"][0]["results"][0]["level"] = "high"  # SARIF says error, warning, note or none
    document["runs"][0]["results"][0]["suppressions"] = [{"kind": "somewhere"}]
    with pytest.raises(AssertionError, match="'high' is not one of"):
        _validate(document)


def test_every_rule_that_ran_is_described_as_configured(tmp_path: Path) -> None:
    churn_log(tmp_path)
    args = ["check", "events.jsonl", *CHURN, "--format", "sarif"]
    code, out, _ = cli(tmp_path, *args, "--set", "knee-jerk-reactionary/strategy-churn.min_churn=3")
    assert code == 0  # three changes within 30 days of the last are needed now
    run = json.loads(out)["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("salesmirror", engine.__version__)
    (rule,) = driver["rules"]
    assert rule["id"] == "knee-jerk-reactionary/strategy-churn"
    assert rule["name"] == "KneeJerkReactionaryStrategyChurn"
    assert rule["shortDescription"]["text"] == "Strategy changed again before the last change could bed down"
    assert rule["defaultConfiguration"] == {"level": "warning"}  # a medium rule
    assert rule["properties"]["trait"] == "knee-jerk-reactionary"
    assert rule["properties"]["parameters"]["min_churn"] == 3  # as set, not the default of 2
    assert rule["properties"]["parameters"]["bed_down"] == "30d"
    help_text, markdown = rule["help"]["text"], rule["help"]["markdown"]
    assert help_text.startswith("Why: A plan needs time") and "\n\nInstead: Set a review date" in help_text
    assert "When the rule is wrong:\n- A genuine emergency" in help_text
    assert markdown.startswith("**Why.** A plan needs time") and "**When the rule is wrong:**" in markdown
    assert rule["fullDescription"]["text"].startswith("A plan needs time")
    assert run["results"] == []


def test_results_locate_their_evidence_and_name_the_people(tmp_path: Path) -> None:
    rules, log = own_rules(tmp_path), own_log(tmp_path)
    code, out, err = cli(tmp_path, "check", "events.jsonl", "--no-config", "--rules", "rules", "--format", "sarif")
    assert code == 1, err
    document = json.loads(out)
    _validate(document)
    run = document["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
    report = engine.check([str(log)], rules=[str(rules)])
    expected = {f.rule: f for f in report.findings}
    results = _results(document)
    assert set(results) == set(expected) == {"ci/rep-sessions", "ci/deal-pushes", "ci/monthly-calls"}
    levels = {"high": "error", "medium": "warning", "low": "note"}
    assert {rule: r["level"] for rule, r in results.items()} == {
        rule: levels[f.severity] for rule, f in expected.items()
    }
    assert expected["ci/rep-sessions"].severity == "medium"  # a high rule, lowered: it rests on one rep
    assert {r["id"]: r["defaultConfiguration"]["level"] for r in run["tool"]["driver"]["rules"]} == {
        "ci/rep-sessions": "error",
        "ci/deal-pushes": "warning",
        "ci/monthly-calls": "note",
    }
    assert {r["level"] for r in results.values()} == {"warning", "note"}
    for rule, result in results.items():
        finding = expected[rule]
        (where,) = result["locations"]
        first, *others = finding.evidence
        assert where["physicalLocation"]["artifactLocation"]["uri"] == "events.jsonl"
        assert where["physicalLocation"]["region"] == {"startLine": _line_of(log, first)}
        assert [r["physicalLocation"]["region"]["startLine"] for r in result.get("relatedLocations", [])] == [
            _line_of(log, event_id) for event_id in others
        ]
        assert result["partialFingerprints"] == {"salesmirrorFinding/v1": fingerprint(finding)}
        props = result["properties"]
        assert props["metrics"] == finding.metrics and props["threshold"] == finding.threshold
        assert props["evidence"] == finding.evidence
        assert result["message"]["text"].startswith(f"m1{', rep r1' if finding.rep else ''}")
    assert results["ci/rep-sessions"]["locations"][0]["logicalLocations"] == [
        {"name": "m1", "kind": "manager"},
        {"name": "r1", "kind": "rep"},
    ]
    assert results["ci/deal-pushes"]["locations"][0]["logicalLocations"][1] == {"name": "D-1", "kind": "deal"}
    assert results["ci/monthly-calls"]["locations"][0]["logicalLocations"][1] == {
        "name": "C-77",
        "fullyQualifiedName": "hubspot/call/C-77",
        "kind": "record",
    }
    assert results["ci/monthly-calls"]["properties"]["window"] == {
        "start": "2026-03-01T00:00:00Z",
        "end": "2026-04-01T00:00:00Z",
    }
    assert results["ci/monthly-calls"]["properties"]["period"] == "month:2026-03-01"
    assert run["artifacts"] == [{"location": {"uri": "events.jsonl"}}]


def test_invocation_records_the_command_the_counts_and_the_warnings(tmp_path: Path) -> None:
    own_rules(tmp_path)
    log = own_log(tmp_path)
    lines = log.read_text(encoding="utf-8").splitlines()
    log.write_text("\n".join([*lines, lines[2], "{not json"]) + "\n", encoding="utf-8")  # a repeat, a broken line
    args = ["check", "events.jsonl", "--no-config", "--rules", "rules", "--rejects", "bad.jsonl", "--format", "sarif"]
    code, out, err = cli(tmp_path, *args)
    assert code == 1, err
    document = json.loads(out)
    _validate(document)
    (invocation,) = document["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["arguments"] == args
    assert invocation["commandLine"].endswith(" ".join(args))
    # read = evaluated + rejected; the repeated event counts as read and evaluated, and is kept once
    assert invocation["properties"] == {"read": 14, "evaluated": 13, "rejected": 1, "findings": 3}
    notes = [(n["level"], n["message"]["text"]) for n in invocation["toolExecutionNotifications"]]
    assert notes == [("warning", "1 repeated event (same id, same content) kept once")]


def test_a_finding_about_what_the_log_lacks_points_at_the_log(tmp_path: Path) -> None:
    write_rule(
        tmp_path / "rules",
        "ci/no-ride-along",
        {"kind": "threshold", "where": {"type": "ride_along"}, "op": "lt", "value": 1},
        message="no ride-along",
    )
    events = [
        ev("a", "2026-01-01", "forecast_updated", "ops"),
        ev("b", "2026-01-20", "ride_along", "m2", manager="m2", rep="r9"),
        ev("c", "2026-01-21", "email_sent", "m1", manager="m1", rep="r1"),
        ev("d", "2026-02-28", "forecast_updated", "ops"),
    ]
    own_log(tmp_path, events)
    code, out, err = cli(tmp_path, "check", "events.jsonl", "--no-config", "--rules", "rules", "--format", "sarif")
    assert code == 1, err
    document = json.loads(out)
    _validate(document)
    (result,) = document["runs"][0]["results"]
    assert result["properties"]["evidence"] == [] and result["properties"]["manager"] == "m1"
    (where,) = result["locations"]
    assert where["physicalLocation"] == {"artifactLocation": {"index": 0, "uri": "events.jsonl"}}
    assert where["message"] == {"text": "no evidence event: the finding is about what the log lacks"}
    assert "relatedLocations" not in result


def test_a_stdin_log_is_an_artifact_without_a_uri(tmp_path: Path) -> None:
    own_rules(tmp_path)
    text = own_log(tmp_path).read_text(encoding="utf-8")
    code, out, _ = cli(tmp_path, "check", "-", "--no-config", "--rules", "rules", "--format", "sarif", input=text)
    assert code == 1
    document = json.loads(out)
    _validate(document)
    run = document["runs"][0]
    assert run["artifacts"] == [{"description": {"text": "standard input"}}]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"index": 0}


def test_redacted_sarif_names_no_one_and_keeps_the_fingerprints(tmp_path: Path) -> None:
    own_rules(tmp_path)
    own_log(tmp_path)
    base = ["check", "events.jsonl", "--no-config", "--rules", "rules", "--format", "sarif"]
    _, plain, _ = cli(tmp_path, *base)
    _, hidden, _ = cli(tmp_path, *base, "--redact")
    _validate(json.loads(hidden))
    for person in ('"m1"', '"m2"', '"r1"', '"r2"', "m1:", "r1 ", "C-77"):
        assert person not in hidden
    prints = [r["partialFingerprints"] for r in json.loads(plain)["runs"][0]["results"]]
    assert [r["partialFingerprints"] for r in json.loads(hidden)["runs"][0]["results"]] == prints


def test_suppressed_and_baselined_results_say_so(tmp_path: Path) -> None:
    own_rules(tmp_path)
    log = own_log(tmp_path)
    code, _, err = cli(
        tmp_path, "baseline", "create", "events.jsonl", "--no-config", "--rules", "rules", "-o", "b.json"
    )
    assert code == 0, err
    more = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    more.append(
        {
            "id": "q3",
            "ts": "2026-01-22T00:00:00Z",
            "type": "coaching_session",
            "actor": "m2",
            "manager": "m2",
            "rep": "r9",
        }
    )
    own_log(tmp_path, more)
    (tmp_path / "quiet.yaml").write_text(
        "suppressions:\n"
        "  - rule: ci/deal-pushes\n"
        "    manager: m1\n"
        "    deal: D-1\n"
        "    reason: The customer moved its budget year\n"
        "    approved_by: hr-lead\n"
        "    expires: 2026-12-31\n",
        encoding="utf-8",
    )
    args = ["check", "events.jsonl", "--no-config", "--rules", "rules", "--format", "sarif", "--baseline", "b.json"]
    code, out, err = cli(tmp_path, *args, "--suppressions", "quiet.yaml", "--today", "2026-04-01")
    assert code == 1, err  # m2's coaching is new
    document = json.loads(out)
    _validate(document)
    run = document["runs"][0]
    states = {(r["ruleId"], r["properties"]["manager"]): r.get("baselineState") for r in run["results"]}
    assert states == {
        ("ci/rep-sessions", "m1"): "unchanged",
        ("ci/rep-sessions", "m2"): "new",
        ("ci/deal-pushes", "m1"): "unchanged",
        ("ci/monthly-calls", "m1"): "unchanged",
    }
    (suppressed,) = [r for r in run["results"] if "suppressions" in r]
    assert suppressed["ruleId"] == "ci/deal-pushes"
    assert suppressed["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "The customer moved its budget year",
            "properties": {"approvedBy": "hr-lead", "expires": "2026-12-31"},
            "location": {
                "physicalLocation": {
                    "artifactLocation": {"uri": "quiet.yaml"},
                    "region": {"startLine": 2, "startColumn": 5},
                }
            },
        }
    ]
    props = run["invocations"][0]["properties"]
    assert props["suppressed"] == 1 and props["baseline"] == {"new": 1, "unchanged": 2, "gone": 0}


def test_several_outputs_in_one_run_match_single_runs(tmp_path: Path) -> None:
    own_rules(tmp_path)
    own_log(tmp_path)
    base = ["check", "events.jsonl", "--no-config", "--rules", "rules"]
    code, out, err = cli(
        tmp_path,
        *base,
        "--format",
        "json",
        "--output-sarif",
        "out.sarif",
        "--output-junit",
        "out.xml",
        "--format",
        "github=out.github",
        "--format",
        "text=out.txt",
    )
    assert code == 1, err
    assert out == cli(tmp_path, *base, "--format", "json")[1]
    for fmt, name in [("junit", "out.xml"), ("github", "out.github"), ("text", "out.txt")]:
        assert (tmp_path / name).read_text(encoding="utf-8") == cli(tmp_path, *base, "--format", fmt)[1]

    def without_command(text: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(text)
        for invocation in document["runs"][0]["invocations"]:
            invocation.pop("commandLine"), invocation.pop("arguments")
        return document

    single = cli(tmp_path, *base, "--format", "sarif")[1]
    assert without_command((tmp_path / "out.sarif").read_text(encoding="utf-8")) == without_command(single)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "x.out", "--output-sarif", "x.out"], "-o and --output-sarif both write x.out"),
        (
            ["--format", "sarif=y.out", "--format", "junit=y.out"],
            "--format sarif= and --format junit= both write y.out",
        ),
        (["--format", "json", "--format", "sarif"], "--format json and --format sarif: one format goes to stdout"),
        (["--output-junit", "events.jsonl"], "--output-junit events.jsonl is also an input"),
        (["--format", "sarif="], "'sarif=': give the file to write after '='"),
        (["--format", "yaml=z.out"], "'yaml' is not one of 'text', 'json', 'sarif', 'junit', 'github'"),
    ],
)
def test_outputs_that_cannot_all_be_written_are_refused(tmp_path: Path, extra: list[str], message: str) -> None:
    churn_log(tmp_path)
    code, out, err = cli(tmp_path, "check", "events.jsonl", *CHURN, *extra)
    assert code == 2 and out == ""
    assert message in err
    assert not any((tmp_path / name).exists() for name in ("x.out", "y.out", "z.out"))
