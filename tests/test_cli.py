"""The command line: exit codes, formats, options and error reporting."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
CHURN_RULES = RULES / "knee-jerk-reactionary"
GOLDEN = Path(__file__).parent / "golden"


def _event(id_: str, ts: str, type_: str, actor: str, **extra: object) -> dict[str, object]:
    return {"id": id_, "ts": ts, "type": type_, "actor": actor, **extra}


def small_log() -> list[dict[str, object]]:
    """Two managers over a quarter: mgr-a churns strategy, mgr-b changes it once."""
    events: list[dict[str, object]] = [
        _event("r-1", "2026-01-01", "team_member_added", "mgr-a", manager="mgr-a", rep="rep-a1"),
        _event("r-2", "2026-01-01", "team_member_added", "mgr-b", manager="mgr-b", rep="rep-b1"),
    ]
    for index, day in enumerate(["2026-01-05", "2026-01-19", "2026-02-02"]):
        events.append(
            _event(
                f"s-a{index}",
                f"{day}T09:00:00Z",
                "strategy_changed",
                "mgr-a",
                attrs={"area": "messaging", "summary": f"new pitch {index}"},
                source={"system": "salesforce", "object": "Task", "record_id": f"00T{index}"},
            )
        )
    events.append(
        _event(
            "s-b0",
            "2026-01-12T09:00:00Z",
            "strategy_changed",
            "mgr-b",
            attrs={"area": "territory", "summary": "split the north"},
        )
    )
    events.append(_event("e-end", "2026-03-31T16:00:00Z", "email_sent", "rep-b1"))
    return events


def write_jsonl(path: Path, events: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events), encoding="utf-8")
    return path


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "events.jsonl", small_log())


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def churn(*args: str) -> list[str]:
    return ["check", "--no-config", "--rules", str(CHURN_RULES), "--rules", str(RULES / "_library.yaml"), *args]


def test_exit_1_when_findings(log: Path) -> None:
    code, out, err = run(*churn(str(log)))
    assert code == 1, err
    assert "knee-jerk-reactionary/strategy-churn" in out
    findings, _, not_assessed = out.partition("Not assessed")
    assert "mgr-a" in findings and "mgr-b" not in findings
    # the log spans 86 days: too short for the rule's 90-day window to clear mgr-b
    assert "mgr-b: knee-jerk-reactionary/strategy-churn" in not_assessed


def test_exit_0_when_clean(tmp_path: Path) -> None:
    events = [e for e in small_log() if e["id"] != "s-a2" and e["id"] != "s-a1"]
    code, out, err = run(*churn(str(write_jsonl(tmp_path / "ok.jsonl", events))))
    assert code == 0, out + err
    assert "0 findings" in out


@pytest.mark.parametrize(("level", "expected"), [("low", 1), ("medium", 1), ("high", 0), ("never", 0)])
def test_fail_on_threshold(log: Path, level: str, expected: int) -> None:
    # strategy-churn is a medium finding
    code, _, _ = run(*churn(str(log), "--fail-on", level))
    assert code == expected


def test_fail_on_from_config(log: Path, tmp_path: Path) -> None:
    config = tmp_path / "salesmirror.yaml"
    config.write_text("fail_on: high\n", encoding="utf-8")
    code, _, _ = run("check", "--config", str(config), "--rules", str(CHURN_RULES), str(log))
    assert code == 0


def test_json_matches_contract_and_golden(log: Path) -> None:
    code, out, _ = run(*churn(str(log), "--format", "json"))
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"findings", "summary", "not_assessed"}
    finding = data["findings"][0]
    assert list(finding)[:11] == [
        "rule",
        "trait",
        "severity",
        "manager",
        "rep",
        "deal",
        "window",
        "message",
        "metrics",
        "evidence",
        "advice",
    ]
    assert finding["evidence"] == ["s-a0", "s-a1", "s-a2"]
    assert finding["sources"]["s-a1"] == {"object": "Task", "record_id": "00T1", "system": "salesforce"}
    assert data["summary"]["events"] == 7 and data["summary"]["rejected"] == 0
    assert out == (GOLDEN / "check.json").read_text(encoding="utf-8")


def test_text_golden(log: Path) -> None:
    _, out, _ = run(*churn(str(log)))
    assert out == (GOLDEN / "check.txt").read_text(encoding="utf-8")


def test_origins_cite_file_and_line(log: Path) -> None:
    _, out, _ = run(*churn(str(log), "--format", "json", "--origins"))
    origins = json.loads(out)["findings"][0]["origins"]
    assert origins == {"s-a0": f"{log}:3", "s-a1": f"{log}:4", "s-a2": f"{log}:5"}


def test_output_file(log: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run(*churn(str(log), "--format", "json", "-o", str(target)))
    assert code == 1 and out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["findings"] == 1


def test_stdin_and_gzip(log: Path, tmp_path: Path) -> None:
    text = log.read_text(encoding="utf-8")
    code_stdin, out_stdin, _ = run(*churn("-", "--format", "json"), input=text)
    packed = tmp_path / "events.jsonl.gz"
    packed.write_bytes(gzip.compress(text.encode("utf-8")))
    code_gz, out_gz, _ = run(*churn(str(packed), "--format", "json"))
    assert code_stdin == code_gz == 1
    assert json.loads(out_stdin)["findings"] == json.loads(out_gz)["findings"]


def test_strict_mode_reports_every_invalid_line(tmp_path: Path) -> None:
    lines = [json.dumps(e) for e in small_log()]
    lines.insert(2, '{"id": "x1", "ts": "2026-01-02", "type": "email_sent"}')
    lines.insert(4, "{not json")
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(*churn(str(path)))
    assert code == 2
    assert out == ""
    assert f"{path}:3: missing required field 'actor'" in err
    assert f"{path}:5: invalid JSON" in err
    assert "Traceback" not in err


def test_rejects_file_keeps_every_line(tmp_path: Path) -> None:
    lines = [json.dumps(e) for e in small_log()]
    lines.append('{"id": "x1", "ts": "yesterday", "type": "email_sent", "actor": "rep-a1"}')
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    code, out, err = run(*churn(str(path), "--format", "json", "--rejects", str(rejects)))
    assert code == 1
    summary = json.loads(out)["summary"]
    assert summary["read"] == 8 and summary["evaluated"] == 7 and summary["rejected"] == 1
    rejected = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in rejected] == [8]
    assert rejected[0]["raw"] == lines[-1]
    assert "1 invalid line" in err


def test_bad_rules_exit_2_with_position(tmp_path: Path, log: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "x.yaml").write_text(
        "id: t/x\ntrait: t\ntitle: T\nseverity: hgh\nlogic: {kind: match, where: {type: email_sent}}\n"
        "message: m\nadvice: a\ndocs: {why: w, instead: i, false_positives: f}\n",
        encoding="utf-8",
    )
    code, out, err = run("check", "--no-config", "--rules", str(rules), str(log))
    assert code == 2 and out == ""
    assert ":4:11: severity: input should be 'low', 'medium' or 'high'" in err


def test_missing_events_file_exit_2(tmp_path: Path) -> None:
    code, _, err = run(*churn(str(tmp_path / "nope.jsonl")))
    assert code == 2
    assert "nope.jsonl" in err and "Traceback" not in err


def test_usage_error_exit_2(log: Path) -> None:
    code, _, err = run("check", "--format", "xml", str(log))
    assert code == 2 and "xml" in err


def test_set_overrides_param(log: Path) -> None:
    key = "knee-jerk-reactionary/strategy-churn"
    code, _, _ = run(*churn(str(log), "--set", f"{key}.min_churn=3"))
    assert code == 0
    code, _, _ = run(*churn(str(log), "--set", f"{key}.bed_down=10d"))
    assert code == 0  # changes 14 days apart are no longer premature


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("knee-jerk-reactionary/strategy-churn.min_chrn=3", "has no parameter 'min_chrn' (did you mean 'min_churn'?)"),
        ("knee-jerk-reactionary/strategy-chrn.min_churn=3", "unknown rule 'knee-jerk-reactionary/strategy-chrn'"),
        ("knee-jerk-reactionary/strategy-churn.min_churn=many", "expected an integer, got 'many'"),
        ("nonsense", "is not RULE.PARAM=VALUE"),
    ],
)
def test_bad_set_exit_2(log: Path, setting: str, message: str) -> None:
    code, _, err = run(*churn(str(log), "--set", setting))
    assert code == 2
    assert message in err


def test_config_searched_upwards(log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "salesmirror.yaml").write_text(
        "params:\n  knee-jerk-reactionary/strategy-churn:\n    min_churn: 5\n", encoding="utf-8"
    )
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    code, _, _ = run("check", "--rules", str(CHURN_RULES), str(log))
    assert code == 0
    code, _, _ = run("check", "--no-config", "--rules", str(CHURN_RULES), str(log))
    assert code == 1


def test_bad_config_exit_2_with_position(log: Path, tmp_path: Path) -> None:
    config = tmp_path / "salesmirror.yaml"
    config.write_text(
        "params:\n  knee-jerk-reactionary/strategy-churn:\n    min_chrun: 5\nfail_onn: high\n", encoding="utf-8"
    )
    code, _, err = run("check", "--config", str(config), "--rules", str(CHURN_RULES), str(log))
    assert code == 2
    assert f"{config}:4:1: invalid config: unknown option 'fail_onn' (did you mean 'fail_on'?)" in err


def test_redact_replaces_people(log: Path) -> None:
    _, out, _ = run(*churn(str(log), "--format", "json", "--redact"))
    assert "mgr-a" not in out and "rep-a1" not in out
    assert json.loads(out)["findings"][0]["manager"].startswith("manager-")


def test_rules_list_and_explain() -> None:
    code, out, _ = run("rules", "list")
    assert code == 0 and "glory-grabber/late-takeover" in out
    code, out, _ = run("rules", "explain", "glory-grabber/late-takeover")
    assert code == 0
    for heading in ("Why it matters", "What to do instead", "Known false positives", "Parameters"):
        assert heading in out
    code, _, err = run("rules", "explain", "glory-grabber/late-takover")
    assert code == 2 and "did you mean 'glory-grabber/late-takeover'" in err


def test_rules_validate(tmp_path: Path) -> None:
    code, out, _ = run("rules", "validate", str(RULES))
    assert code == 0 and "valid" in out
    (tmp_path / "y.yaml").write_text("id: t/y\n", encoding="utf-8")
    code, _, err = run("rules", "validate", str(tmp_path))
    assert code == 2 and "missing required field 'trait'" in err


def test_rules_schema_is_json() -> None:
    code, out, _ = run("rules", "schema")
    assert code == 0
    assert json.loads(out)["title"] == "salesmirror rule"


def test_rules_test_runs_cases(tmp_path: Path) -> None:
    cases = ROOT / "fixtures" / "rules" / "knee-jerk-reactionary"
    code, out, _ = run("rules", "test", str(cases))
    assert code == 0
    assert "knee-jerk-reactionary/strategy-churn::two-changes-a-quarter-apart" in out
    broken = tmp_path / "broken.yaml"
    text = (cases / "strategy-churn.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("metrics: {count: 2}", "metrics: {count: 3}"), encoding="utf-8")
    code, out, _ = run("rules", "test", str(broken))
    assert code == 1
    assert "metrics.count is 2, expected 3" in out and "1 failed" in out


def test_simulate_writes_events_and_labels(tmp_path: Path) -> None:
    target = tmp_path / "org.jsonl.gz"
    code, _, err = run(
        "simulate",
        "--managers",
        "2",
        "--days",
        "14",
        "--seed",
        "3",
        "--profile",
        "regurgitator",
        "--profile",
        "healthy",
        "-o",
        str(target),
    )
    assert code == 0, err
    labels = json.loads((tmp_path / "org.labels.json").read_text(encoding="utf-8"))
    assert sorted(v["profile"] for v in labels["managers"].values()) == ["healthy", "regurgitator"]
    events = gzip.decompress(target.read_bytes()).decode("utf-8").splitlines()
    assert len(events) > 100
    code, _, err = run("simulate", "--profile", "nope", "-o", str(target))
    assert code == 2 and "unknown profile" in err


def test_internal_errors_are_not_tracebacks(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(engine, "check", broken)
    code, _, err = run(*churn(str(log)))
    assert code == 2
    assert "internal error (ZeroDivisionError: boom)" in err and "Traceback" not in err


# ---- commands beside their packages, and CRM exports read directly ---------------------------

SALESFORCE = Path(__file__).resolve().parent.parent / "fixtures" / "importers" / "salesforce"


def test_import_audit_and_self_assess_are_commands_of_salesmirror() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for name in ("import", "audit", "self-assess"):
        assert f"  {name} " in out
        assert run(name, "--help")[0] == 0


def test_check_reads_a_crm_export_with_from(tmp_path: Path) -> None:
    imported = tmp_path / "events.jsonl"
    assert run("import", "salesforce", str(SALESFORCE), "-o", str(imported), "-q")[0] == 0
    via_file = json.loads(run("check", "--no-config", "--format", "json", str(imported))[1])
    code, out, _ = run("check", "--no-config", "--format", "json", "--from", f"salesforce:{SALESFORCE}")
    direct = json.loads(out)
    assert code == 1 and direct["findings"]
    # the same findings as from the imported file; evidence names the CRM records either way
    assert [(f["rule"], f["manager"], f["evidence"]) for f in direct["findings"]] == [
        (f["rule"], f["manager"], f["evidence"]) for f in via_file["findings"]
    ]
    takeover = next(f for f in direct["findings"] if f["rule"] == "glory-grabber/late-takeover")
    assert all(e.startswith("salesforce:Opportunity") for e in takeover["evidence"])


def test_check_needs_events_or_a_source() -> None:
    code, _, err = run("check", "--no-config")
    assert code == 2 and "--from SOURCE:PATH" in err


def test_a_bad_source_is_a_located_error_not_a_traceback(tmp_path: Path) -> None:
    code, _, err = run("check", "--no-config", "--from", f"nosuch:{tmp_path}")
    assert code == 2 and "Traceback" not in err and "nosuch" in err


def test_audit_and_self_assess_read_a_crm_export_with_from(tmp_path: Path) -> None:
    report = tmp_path / "audit.md"
    assert run("audit", "--no-config", "--from", f"salesforce:{SALESFORCE}", "-o", str(report))[0] == 0
    text = report.read_text(encoding="utf-8")
    assert "late-takeover" in text and "salesforce:Opportunity" in text
    manager = json.loads(run("check", "--no-config", "--format", "json", "--from", f"salesforce:{SALESFORCE}")[1])[
        "findings"
    ][0]["manager"]
    code, out, _ = run("self-assess", "--no-config", "--from", f"salesforce:{SALESFORCE}", "--manager", manager)
    assert code == 0 and f"From your team's CRM log: salesforce:{SALESFORCE}" in out and "## What to watch" in out
