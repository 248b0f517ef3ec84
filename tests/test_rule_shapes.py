"""Structural rules live in the rule models: each is reported at the key it is about."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import RuleError
from engine.lang.compiler import compile_rules
from engine.lang.kinds import KINDS, LOGIC_KINDS
from engine.lang.loader import load_rules
from engine.lang.model import Rule

HEAD = "id: t/shape\ntrait: test-trait\ntitle: A test rule\nseverity: low\n"  # lines 1-4
TAIL = 'message: "{count} events"\nadvice: Do better.\ndocs: {why: W., instead: I., false_positives: F.}\n'


def problems(tmp_path: Path, logic: str) -> list[str]:
    rules = tmp_path / "rules" / "t"
    rules.mkdir(parents=True, exist_ok=True)
    (rules / "shape.yaml").write_text(HEAD + logic + TAIL, encoding="utf-8")
    with pytest.raises(RuleError) as info:
        compile_rules(load_rules([str(tmp_path / "rules")]))
    return [f"{p.line}:{p.col}: {p.message}" for p in info.value.problems]


CASES = [
    (  # exactly one window mode
        "logic:\n  kind: match\n  where: {type: call_listened}\n  window: {calendar: month, sliding: 7d}\n",
        ["8:11: window needs exactly one of whole, sliding or calendar"],
    ),
    (  # exactly one aggregate
        "logic:\n  kind: threshold\n  where: {type: call_logged}\n  metric: {sum: attrs.duration_s, max: attrs.duration_s}\n"
        "  op: gt\n  value: 1\n",
        ["8:11: a metric takes exactly one of count, distinct, sum, avg, max, min, items"],
    ),
    (  # similarity compares two fields
        "logic:\n  kind: match\n  where: {type: message_relayed}\n  derive:\n    same: {similarity: [attrs.text]}\n",
        ["9:24: similarity compares exactly two fields"],
    ),
    (  # one measure per derived value
        "logic:\n  kind: match\n  where: {type: message_relayed}\n"
        "  derive:\n    n: {word_count: attrs.text, length: attrs.text}\n",
        [
            "9:8: a derived value needs exactly one of similarity, added_words, lexicon, specificity, length, word_count, prior, on_team"
        ],
    ),
    (  # words only with lexicon
        "logic:\n  kind: match\n  where: {type: message_sent}\n  derive:\n    n: {word_count: attrs.text, words: [a]}\n",
        ["9:40: 'words' goes with lexicon only"],
    ),
    (  # sequence: without and absent do not mix
        "logic:\n  kind: sequence\n  first: {where: {type: deal_review}}\n  then: {where: {type: one_on_one_held}}\n"
        "  within: 7d\n  absent: true\n  without: {where: {type: call_listened}, within: 3d}\n",
        ["11:12: 'without' cannot be combined with 'absent'"],
    ),
    (  # sequence: before only with absent
        "logic:\n  kind: sequence\n  first: {where: {type: deal_review}}\n  then: {where: {type: one_on_one_held}}\n"
        "  within: 7d\n  before: 2d\n",
        ["10:11: 'before' only applies with 'absent: true'"],
    ),
    (  # concurrency: the key is not a group
        "logic:\n  kind: concurrency\n  key: rep\n  group_by: [manager, rep]\n"
        "  open: {where: {type: deal_created}}\n  close: {where: {type: deal_closed_won}}\n  op: gt\n  value: 12\n",
        ["7:8: the key 'rep' cannot also be a group_by field"],
    ),
    (  # absence: no unless
        "logic:\n  kind: absence\n  where: {type: one_on_one_held}\n  max_gap: 30d\n"
        "  unless: {where: {type: person_absent}, same: [rep], within: 14d}\n",
        [
            "9:11: 'unless' applies to match, threshold and ratio rules; absence rules measure gaps between all qualifying events"
        ],
    ),
]


@pytest.mark.parametrize(("logic", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_structural_rule_reported_at_its_key(tmp_path: Path, logic: str, expected: list[str]) -> None:
    assert problems(tmp_path, logic) == expected


def test_the_rule_model_accepts_exactly_the_registered_kinds() -> None:
    """The Logic union and the loader's kind list both come from the kind registry."""
    assert tuple(KINDS) == LOGIC_KINDS
    schema = Rule.model_json_schema()
    mapping = schema["properties"]["logic"]["discriminator"]["mapping"]
    assert sorted(mapping) == sorted(LOGIC_KINDS)
