"""The shipped demo log: reproducible from the simulator, and the default rules find what it holds."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import engine
from simulator import simulate, write_simulation

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
PROFILES = [
    "healthy",
    "cheerleader",
    "drum-banger",
    "turnaround-promoter",
    "glory-grabber",
    "excuse-maker",
    "detached-dictator",
    "spreadsheet-jockey",
    "platitude-peddler",
    "knee-jerk-reactionary",
    "regurgitator",
    "new-manager",
]


def test_demo_is_reproducible(tmp_path: Path) -> None:
    from datetime import date

    sim = simulate(managers=12, days=70, seed=7, start=date(2026, 1, 5), profiles=PROFILES)
    write_simulation(sim, str(tmp_path / "events.jsonl.gz"), str(tmp_path / "events.labels.json"))
    assert (tmp_path / "events.jsonl.gz").read_bytes() == (DEMO / "events.jsonl.gz").read_bytes()
    assert (tmp_path / "events.labels.json").read_bytes() == (DEMO / "events.labels.json").read_bytes()


def test_default_rules_find_exactly_the_labelled_traits() -> None:
    labels = json.loads((DEMO / "events.labels.json").read_text(encoding="utf-8"))["managers"]
    report = engine.check([str(DEMO / "events.jsonl.gz")])
    found: dict[str, set[str]] = defaultdict(set)
    for finding in report.findings:
        found[finding.manager].add(finding.trait)
    expected = {m: set(v["traits"]) | set(v["practices"]) for m, v in labels.items()}
    assert {m: found.get(m, set()) for m in expected} == expected
    assert report.rejected == 0 and report.read == report.evaluated


def test_ratio_counts_never_exceed_their_evidence() -> None:
    """Each counted event is one evidence event: a numerator above the distinct evidence
    means rows were counted twice (as a split manager scope once did for mgr-009)."""
    report = engine.check([str(DEMO / "events.jsonl.gz")], config=None)
    ratios = [f for f in report.findings if f.threshold.get("metric") == "ratio"]
    assert ratios
    for finding in ratios:
        numerator = next(iter(finding.metrics.values()))
        assert numerator <= finding.evidence_total, (finding.manager, finding.rule, finding.metrics)
