"""The report model: rule metadata, findings complete when built, counts and redaction."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import engine
from engine.backends.base import Origin
from engine.report import ParamMeta, RuleDocs, RuleMeta, redact
from engine.report.build import build_findings
from tests.test_cli import CHURN_RULES, RULES, small_log, write_jsonl

CHURN = "knee-jerk-reactionary/strategy-churn"
CHURN_DIRS = [str(CHURN_RULES), str(RULES / "_library.yaml")]


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "events.jsonl", small_log())


def test_rule_meta_of_a_shipped_rule_as_set(log: Path, tmp_path: Path) -> None:
    config = tmp_path / "salesmirror.yaml"
    config.write_text(f"severity:\n  {CHURN}: high\n", encoding="utf-8")
    report = engine.check([str(log)], rules=CHURN_DIRS, config=str(config), sets=[f"{CHURN}.bed_down=2w"])
    (meta,) = report.rules
    assert isinstance(meta, RuleMeta) and report.rule(CHURN) is meta
    assert (meta.id, meta.trait, meta.status) == (CHURN, "knee-jerk-reactionary", "stable")
    assert meta.title == "Strategy changed again before the last change could bed down"
    assert meta.severity == "high"  # as the config sets it, not the rule's medium
    assert Path(meta.path).resolve() == CHURN_RULES / "strategy-churn.yaml"  # as problems name it
    assert isinstance(meta.docs, RuleDocs)
    assert meta.docs.why.startswith("A plan needs time to be understood")
    assert meta.docs.instead.startswith("Set a review date for each change")
    assert len(meta.docs.false_positives) == 2 and meta.docs.false_positives[0].startswith("A genuine emergency")
    assert meta.docs.references == ("shared/seeds/002 (knee-jerk reactionary)",)
    params = {p.name: p for p in meta.params}
    assert list(params) == ["bed_down", "min_churn", "window", "decision_gap"]
    assert params["bed_down"] == ParamMeta("bed_down", "duration", "2w", "30d", params["bed_down"].doc)
    assert params["bed_down"].doc.startswith("Time a change of strategy")
    assert (params["min_churn"].value, params["min_churn"].default) == (2, 2)


def test_json_summary_still_counts_rules(log: Path) -> None:
    report = engine.check([str(log)], rules=CHURN_DIRS)
    assert report.summary()["rules"] == 1 == len(report.rules)


def test_findings_cite_their_evidence_when_built() -> None:
    _, compiled = engine.prepare_rules(CHURN_DIRS)
    asked: list[list[str]] = []

    def lookup(ids: list[str]) -> dict[str, Origin]:
        asked.append(ids)
        known = {"e2": Origin("a.jsonl", 7, '{"system": "hubspot"}'), "e1": Origin("b.csv", 3, None)}
        return {i: known[i] for i in ids if i in known}

    row = {
        "manager": "m1",
        "window_start": datetime(2026, 1, 5),
        "window_end": datetime(2026, 2, 2),
        "evidence": ["e2", "e1", "e2", "e9", "e3"],
        "count": 2,
        "metric": 2,
        "threshold": 2,
        "windows": 1,
    }
    (finding,) = build_findings(compiled[0], [row], max_evidence=3, origins=lookup)
    assert asked == [["e1", "e2", "e9"]]  # once per rule, only the ids listed
    assert finding.evidence == ["e2", "e1", "e9"] and finding.evidence_total == 4
    assert finding.origins == {"e2": "a.jsonl:7", "e1": "b.csv:3"}
    assert finding.sources == {"e2": {"system": "hubspot"}}
    assert finding.message == "changed strategy 2 times within 30d of the previous change"
    assert build_findings(compiled[0], [], max_evidence=3, origins=lookup) == [] and len(asked) == 1


def test_evaluate_reports_origins_without_patching(log: Path) -> None:
    report = engine.check([str(log)], rules=CHURN_DIRS)
    (finding,) = report.findings
    assert finding.origins == {"s-a0": f"{log}:3", "s-a1": f"{log}:4", "s-a2": f"{log}:5"}
    assert finding.sources["s-a0"] == {"object": "Task", "record_id": "00T0", "system": "salesforce"}


def test_unknown_backend_is_a_config_error(log: Path) -> None:
    with pytest.raises(engine.ConfigError, match="unknown engine 'nope'"):
        engine.check([str(log)], rules=CHURN_DIRS, backend="nope")


def test_redact_pseudonymises_every_field_and_keeps_rule_meta(log: Path) -> None:
    report = engine.check([str(log)], rules=CHURN_DIRS)
    shared = redact(report)
    text = shared.to_json(with_origins=True)
    assert "mgr-a" not in text and "mgr-b" not in text
    assert shared.findings[0].manager.startswith("manager-") and shared.findings[0].sources == {}
    assert shared.rules == report.rules and report.findings[0].manager == "mgr-a"  # the original is untouched
