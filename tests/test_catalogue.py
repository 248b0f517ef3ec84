"""The shipped rule catalogue: complete, documented, tested, and covering every trait."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from engine.lang.compiler import compile_rules
from engine.lang.loader import default_rules_dir, load_rules
from engine.rulecases import find_case_files, load_cases
from engine.vocab import TRAITS

ROOT = Path(__file__).resolve().parent.parent
RULESET = load_rules([default_rules_dir()])
RULES = RULESET.rules
CASES = [case for path in find_case_files([str(ROOT / "fixtures" / "rules")]) for case in load_cases(path)]
PRACTICES = {
    "call-listening",
    "deal-capacity",
    "kpi-overload",
    "performance-avoidance",
    "even-target-split",
    "meeting-focus",
}


def test_ids_are_unique_and_match_paths() -> None:
    ids = [r.rule.id for r in RULES]
    assert len(ids) == len(set(ids))
    for loaded in RULES:
        relative = Path(loaded.path).resolve().relative_to(Path(default_rules_dir()).resolve())
        assert str(relative.with_suffix("")) == loaded.rule.id


def test_every_trait_and_practice_has_a_stable_rule() -> None:
    covered = {r.rule.trait for r in RULES if r.rule.status == "stable"}
    assert set(TRAITS) <= covered
    assert covered >= PRACTICES
    assert covered <= set(TRAITS) | PRACTICES


def test_all_rules_compile_with_every_param_used() -> None:
    compiled = compile_rules(RULESET)  # an unused parameter is a compile error
    assert len(compiled) == len(RULES)


@pytest.mark.parametrize("loaded", RULES, ids=[r.rule.id for r in RULES])
def test_rule_docs_are_complete(loaded) -> None:  # type: ignore[no-untyped-def]
    rule = loaded.rule
    for part in (rule.docs.why, rule.docs.instead):
        assert len(part.split()) >= 15, f"{rule.id}: docs too thin"
    assert rule.docs.false_positives
    assert rule.docs.references, f"{rule.id}: tie it to the source material"
    for name, spec in rule.params.items():
        assert len(spec.doc.split()) >= 5, f"{rule.id}: param {name} needs a real doc line"
    assert rule.advice.strip() and rule.message.strip()
    fields = {f for _, f, _, _ in string.Formatter().parse(rule.message) if f}
    assert fields, f"{rule.id}: the message should state the metric"


@pytest.mark.parametrize("loaded", RULES, ids=[r.rule.id for r in RULES])
def test_rule_has_firing_and_quiet_cases(loaded) -> None:  # type: ignore[no-untyped-def]
    cases = [c for c in CASES if c.rule == loaded.rule.id]
    assert any(c.expect for c in cases), f"{loaded.rule.id}: no case that must fire"
    assert any(not c.expect for c in cases), f"{loaded.rule.id}: no look-alike that must stay quiet"


def test_every_case_names_a_shipped_rule() -> None:
    ids = {r.rule.id for r in RULES}
    assert {c.rule for c in CASES} <= ids
