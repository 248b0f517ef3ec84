"""Rule files that must not load, and the exact ``file:line:col: message`` they give.

Each rule is written out in full so its line and column numbers can be read
off the text. Lines 1-4 of every rule are the same header (id, trait, title,
severity); ``logic:`` starts on line 5. Paths are shown relative to the
working directory, so every test runs from ``tmp_path``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import engine
from engine.errors import Problem, RuleError
from engine.lang.compiler import compile_rules
from engine.lang.loader import load_rules
from engine.lang.model import rule_json_schema

REPO = Path(__file__).resolve().parent.parent

TAIL = """\
message: "{count} calls"
advice: Listen more.
docs:
  why: Because.
  instead: Do this.
  false_positives: Rarely.
"""


def head(rule_id: str) -> str:
    return f"id: {rule_id}\ntrait: test-trait\ntitle: A test rule\nseverity: low\n"


def good(rule_id: str, where: str = "{type: call_listened}") -> str:
    return head(rule_id) + f"logic:\n  kind: match\n  where: {where}\n" + TAIL


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    rules = tmp_path / "rules"
    for rel, text in files.items():
        target = rules / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return rules


def errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> list[str]:
    """Load and compile ``files`` (relative to tmp_path/rules) from tmp_path; the problems shown."""
    rules = write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuleError) as info:
        compile_rules(load_rules([str(rules)]))  # an absolute path: shown relative to the cwd
    problems = info.value.problems
    assert all(isinstance(p, Problem) for p in problems)
    assert problems == sorted(problems)
    assert str(info.value) == "\n".join(str(p) for p in problems)
    return str(info.value).splitlines()


def col(text: str, line: int, token: str, nth: int = 1) -> int:
    """1-based column of the nth ``token`` on 1-based ``line`` of ``text``."""
    row = text.splitlines()[line - 1]
    index = -1
    for _ in range(nth):
        index = row.index(token, index + 1)
    return index + 1


# ---------------------------------------------------------------------------------------------
# YAML level


def test_load_yaml_syntax_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = good("t/broken", "{type: call_listened")  # the flow mapping never closes
    # line 7 opens it; the parser gives up at the ':' of `message:` on line 8
    assert errors(tmp_path, monkeypatch, {"t/broken.yaml": text}) == [
        "rules/t/broken.yaml:8:8: invalid YAML: expected ',' or '}', but got ':'"
    ]


def test_load_duplicate_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = good("t/dup") + "severity: high\n"  # line 14
    assert errors(tmp_path, monkeypatch, {"t/dup.yaml": text}) == ["rules/t/dup.yaml:14:1: duplicate key 'severity'"]


def test_load_duplicate_key_nested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = head("t/dup") + "logic:\n  kind: match\n  where: {type: ride_along}\n  kind: threshold\n" + TAIL
    assert errors(tmp_path, monkeypatch, {"t/dup.yaml": text}) == ["rules/t/dup.yaml:8:3: duplicate key 'kind'"]


# ---------------------------------------------------------------------------------------------
# schema level


def test_load_unknown_top_level_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = head("t/top") + "statsu: stable\n" + "logic:\n  kind: match\n  where: {type: ride_along}\n" + TAIL
    assert errors(tmp_path, monkeypatch, {"t/top.yaml": text}) == [
        "rules/t/top.yaml:5:1: unknown field 'statsu' in file (did you mean 'status'?)"
    ]


def test_load_misspelled_required_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = good("t/top").replace("advice:", "advise:")  # line 9
    assert errors(tmp_path, monkeypatch, {"t/top.yaml": text}) == [
        "rules/t/top.yaml:1:1: missing required field 'advice'",
        "rules/t/top.yaml:9:1: unknown field 'advise' in file (did you mean 'advice'?)",
    ]


def test_load_unknown_logic_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = head("t/lf") + "logic:\n  kind: match\n  windw: whole\n  where: {type: ride_along}\n" + TAIL
    assert errors(tmp_path, monkeypatch, {"t/lf.yaml": text}) == [
        "rules/t/lf.yaml:7:3: unknown field 'windw' in logic (did you mean 'window'?)"
    ]


def test_load_unknown_window_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        head("t/wf")
        + ("logic:\n  kind: match\n  where: {type: ride_along}\n  window:\n    calendar: month\n    min_coverge: 0.5\n")
        + TAIL
    )
    assert errors(tmp_path, monkeypatch, {"t/wf.yaml": text}) == [
        "rules/t/wf.yaml:10:5: unknown field 'min_coverge' in logic.window (did you mean 'min_coverage'?)"
    ]


def test_load_bad_kind_with_suggestion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = good("t/kind").replace("kind: match", "kind: treshold")
    assert errors(tmp_path, monkeypatch, {"t/kind.yaml": text}) == [
        "rules/t/kind.yaml:6:9: logic.kind 'treshold' is not one of match, threshold, ratio, "
        "sequence, absence, concurrency (did you mean 'threshold'?)"
    ]


def test_load_missing_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = good("t/kind").replace("  kind: match\n", "")
    assert errors(tmp_path, monkeypatch, {"t/kind.yaml": text}) == [
        "rules/t/kind.yaml:6:3: logic needs a 'kind' (match, threshold, ratio, sequence, absence, concurrency)"
    ]


def test_load_wrong_severity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = good("t/sev").replace("severity: low", "severity: critical")
    assert errors(tmp_path, monkeypatch, {"t/sev.yaml": text}) == [
        "rules/t/sev.yaml:4:11: severity: input should be 'low', 'medium' or 'high'"
    ]


def test_load_missing_required_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = good("t/miss").replace("title: A test rule\n", "")
    assert errors(tmp_path, monkeypatch, {"t/miss.yaml": text}) == [
        "rules/t/miss.yaml:1:1: missing required field 'title'"
    ]


def test_load_missing_nested_required_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = good("t/miss").replace("  why: Because.\n", "")  # docs: starts on line 10
    assert errors(tmp_path, monkeypatch, {"t/miss.yaml": text}) == [
        "rules/t/miss.yaml:11:3: missing required field 'docs.why'"
    ]


def test_load_file_name_must_match_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert errors(tmp_path, monkeypatch, {"t/fname.yaml": good("t/other")}) == [
        "rules/t/fname.yaml:1:5: rule id 't/other' does not match its file name 'fname' (name the file 'other.yaml')"
    ]


def test_load_duplicate_rule_id_across_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"t/same.yaml": good("t/same"), "u/same.yaml": good("t/same")}
    assert errors(tmp_path, monkeypatch, files) == [
        "rules/u/same.yaml:1:5: duplicate rule id 't/same' (also in rules/t/same.yaml)"
    ]


def test_load_paths_relative_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = write(tmp_path, {"t/fname.yaml": good("t/other")})
    monkeypatch.chdir(rules / "t")
    with pytest.raises(RuleError) as info:
        load_rules([str(rules)])
    assert [(p.path, p.line, p.col) for p in info.value.problems] == [("fname.yaml", 1, 5)]


# ---------------------------------------------------------------------------------------------
# parameters

PARAM_HEAD = (
    head("t/param")
    + """\
params:
  min_calls:
    type: int
    default: 3
    doc: Calls in a month.
logic:
  kind: match
  where: {type: call_listened}
"""
)  # params: line 5, min_calls: line 6, logic: line 10, where: line 12


def test_param_unknown_with_suggestion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = PARAM_HEAD + "  min_events: $min_cals\n" + TAIL.replace("{count} calls", "{count} of {min_calls}")
    assert errors(tmp_path, monkeypatch, {"t/param.yaml": text}) == [
        "rules/t/param.yaml:13:15: unknown parameter '$min_cals' (did you mean '$min_calls'?)"
    ]


def test_param_declared_but_unused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = PARAM_HEAD + "  min_events: 3\n" + TAIL
    assert errors(tmp_path, monkeypatch, {"t/param.yaml": text}) == [
        "rules/t/param.yaml:6:3: parameter 'min_calls' is declared but never used"
    ]


def test_param_used_only_in_message_is_used(tmp_path: Path) -> None:
    text = PARAM_HEAD + TAIL.replace("{count} calls", "{count} of {min_calls}")
    rules = write(tmp_path, {"t/param.yaml": text})
    assert [r.id for r in compile_rules(load_rules([str(rules)]))] == ["t/param"]


def test_param_default_of_wrong_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = PARAM_HEAD.replace("default: 3", "default: many") + "  min_events: $min_calls\n" + TAIL
    assert errors(tmp_path, monkeypatch, {"t/param.yaml": text}) == [
        "rules/t/param.yaml:8:14: default of 'min_calls': expected an integer, got 'many'"
    ]


# ---------------------------------------------------------------------------------------------
# conditions


def test_condition_unknown_field_with_suggestion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = head("t/cf") + "logic:\n  kind: match\n  where:\n    type: call_listened\n    actr: m1\n" + TAIL
    assert errors(tmp_path, monkeypatch, {"t/cf.yaml": text}) == [
        "rules/t/cf.yaml:9:5: unknown field 'actr' (did you mean 'actor'?)"
    ]


def test_condition_bare_attribute_suggests_attrs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = head("t/cf") + "logic:\n  kind: match\n  where:\n    type: call_listened\n    feedback_given: true\n" + TAIL
    assert errors(tmp_path, monkeypatch, {"t/cf.yaml": text}) == [
        "rules/t/cf.yaml:9:5: unknown field 'feedback_given' (did you mean 'attrs.feedback_given'?)"
    ]


def test_condition_unknown_attr_for_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = head("t/attr") + "logic:\n  kind: match\n  where:\n    type: team_meeting\n    attrs.fcus: skills\n" + TAIL
    assert errors(tmp_path, monkeypatch, {"t/attr.yaml": text}) == [
        "rules/t/attr.yaml:9:5: unknown attribute 'attrs.fcus' for team_meeting (did you mean 'attrs.focus'?)"
    ]


def test_condition_attr_of_custom_type_not_checked(tmp_path: Path) -> None:
    rules = write(tmp_path, {"t/custom.yaml": good("t/custom", "{type: x_custom_thing, attrs.fcus: 1}")})
    assert [r.id for r in compile_rules(load_rules([str(rules)]))] == ["t/custom"]


def test_condition_unknown_operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        head("t/op")
        + ("logic:\n  kind: match\n  where:\n    type: deal_created\n    attrs.amount:\n      gtee: 5\n")
        + TAIL
    )
    assert errors(tmp_path, monkeypatch, {"t/op.yaml": text}) == [
        "rules/t/op.yaml:10:7: unknown operator 'gtee' (did you mean 'gte'?)"
    ]


def test_condition_invalid_regex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        head("t/re")
        + ('logic:\n  kind: match\n  where:\n    type: message_sent\n    attrs.text:\n      regex: "(unclosed"\n')
        + TAIL
    )
    assert errors(tmp_path, monkeypatch, {"t/re.yaml": text}) == [
        "rules/t/re.yaml:10:14: invalid regex: missing ), unterminated subpattern at position 0"
    ]


LIBRARY = """\
lists:
  external: [market, pricing]
macros:
  rep_contact:
    type: [one_on_one_held, ride_along]
"""


def test_condition_unknown_macro(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = head("t/mac") + "logic:\n  kind: match\n  where:\n    use: rep_contct\n" + TAIL
    assert errors(tmp_path, monkeypatch, {"_lib.yaml": LIBRARY, "t/mac.yaml": text}) == [
        "rules/t/mac.yaml:8:10: unknown macro 'rep_contct' (did you mean 'rep_contact'?)"
    ]


def test_condition_unknown_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        head("t/lst")
        + (
            "logic:\n  kind: match\n  where:\n    type: forecast_miss_explained\n"
            '    attrs.cause_category:\n      in: "@externl"\n'
        )
        + TAIL
    )
    assert errors(tmp_path, monkeypatch, {"_lib.yaml": LIBRARY, "t/lst.yaml": text}) == [
        "rules/t/lst.yaml:10:11: unknown list '@externl' (did you mean '@external'?)"
    ]


def test_condition_problem_inside_macro_located_in_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = "macros:\n  skills:\n    type: team_meeting\n    attrs.fcus: skills\n"
    text = head("t/mac") + "logic:\n  kind: match\n  where:\n    use: skills\n" + TAIL
    assert errors(tmp_path, monkeypatch, {"_lib.yaml": library, "t/mac.yaml": text}) == [
        "rules/_lib.yaml:4:5: unknown attribute 'attrs.fcus' for team_meeting "
        "(did you mean 'attrs.focus'?) (in macro 'skills')"
    ]


def test_condition_macro_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = "macros:\n  a:\n    use: b\n  b:\n    any:\n      - use: a\n"
    text = head("t/cyc") + "logic:\n  kind: match\n  where:\n    use: a\n" + TAIL
    lines = errors(tmp_path, monkeypatch, {"_lib.yaml": library, "t/cyc.yaml": text})
    assert lines == ["rules/_lib.yaml:6:14: macro 'a' uses itself (in macro 'b')"]


# ---------------------------------------------------------------------------------------------
# kinds and templates


def test_template_unknown_placeholder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = good("t/msg").replace("{count} calls", "{cont} calls")  # message: on line 8
    assert errors(tmp_path, monkeypatch, {"t/msg.yaml": text}) == [
        "rules/t/msg.yaml:8:10: message uses unknown placeholder '{cont}' (did you mean '{count}'?)"
    ]


def test_template_unknown_placeholder_in_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = good("t/msg").replace("advice: Listen more.", "advice: Listen to {repp}.")  # line 9
    assert errors(tmp_path, monkeypatch, {"t/msg.yaml": text}) == [
        "rules/t/msg.yaml:9:9: advice uses unknown placeholder '{repp}' (did you mean '{rep}'?)"
    ]


def test_kind_distinct_with_sliding_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        head("t/dist")
        + (
            "logic:\n  kind: threshold\n  where: {type: coaching_session}\n"
            "  metric:\n    distinct: rep\n  window:\n    sliding: 30d\n"
            "  op: gte\n  value: 2\n"
        )
        + TAIL
    )
    assert errors(tmp_path, monkeypatch, {"t/dist.yaml": text}) == [
        "rules/t/dist.yaml:9:5: distinct metrics need a calendar or whole window, not a sliding one"
    ]


def test_kind_ratio_min_denominator_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        head("t/ratio")
        + """\
logic:
  kind: ratio
  where: {type: call_listened}
  numerator: {name: fed, where: {attrs.feedback_given: true}}
  denominator: {name: listened, where: {}}
  op: lt
  value: 0.5
  min_denominator: 0
"""
        + TAIL.replace("{count} calls", "{fed} of {listened}")
    )
    assert errors(tmp_path, monkeypatch, {"t/ratio.yaml": text}) == [
        "rules/t/ratio.yaml:12:20: min_denominator must be at least 1 (a ratio over nothing is not evidence)"
    ]


def test_kind_absence_grouped_by_deal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        head("t/gap")
        + ("logic:\n  kind: absence\n  where: {type: call_logged}\n  group_by: [manager, deal]\n  max_gap: 30d\n")
        + TAIL.replace("{count} calls", "{longest_gap_days} days")
    )
    assert errors(tmp_path, monkeypatch, {"t/gap.yaml": text}) == [
        "rules/t/gap.yaml:8:13: absence rules group by manager or by manager and rep (the roster)"
    ]


def test_kind_absence_placeholders_known(tmp_path: Path) -> None:
    text = (
        head("t/gap")
        + ("logic:\n  kind: absence\n  where: {type: call_logged}\n  max_gap: 30d\n")
        + TAIL.replace(
            "{count} calls", "{longest_gap_days} days, {contacts} contacts, {gaps_over} gaps in {scope_days} days"
        )
    )
    rules = write(tmp_path, {"t/gap.yaml": text})
    assert [r.metric_names for r in compile_rules(load_rules([str(rules)]))] == [
        ["longest_gap_days", "gaps_over", "contacts", "scope_days", "away_days"]
    ]


def test_kind_ratio_part_names_are_not_sql(tmp_path: Path) -> None:
    """Numerator and denominator names are labels for templates, never SQL text."""
    text = (
        head("t/ratio")
        + """\
logic:
  kind: ratio
  where: {type: call_listened}
  numerator: {name: order, where: {attrs.feedback_given: false}}
  denominator: {name: all, where: {}}
  op: gte
  value: 0.5
"""
        + TAIL.replace("{count} calls", "{order} of {all}")
    )
    rules = write(tmp_path, {"t/ratio.yaml": text})
    log = tmp_path / "ev.jsonl"
    log.write_text(
        "".join(
            json.dumps(e) + "\n"
            for e in [
                {
                    "id": "a",
                    "ts": "2026-01-05T10:00:00Z",
                    "type": "call_listened",
                    "actor": "m1",
                    "manager": "m1",
                    "attrs": {"feedback_given": False},
                },
                {
                    "id": "b",
                    "ts": "2026-01-06T10:00:00Z",
                    "type": "call_listened",
                    "actor": "m1",
                    "manager": "m1",
                    "attrs": {"feedback_given": True},
                },
            ]
        )
    )
    report = engine.check([str(log)], rules=[str(rules)])
    assert [(f.manager, f.metrics, f.message) for f in report.findings] == [
        ("m1", {"order": 1, "all": 2, "ratio": 0.5}, "1 of 2")
    ]


# ---------------------------------------------------------------------------------------------
# all problems at once


def test_all_problems_of_all_files_in_one_run_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "a/one.yaml": good("a/one", "{type: call_listened"),  # YAML
        "b/two.yaml": good("b/two").replace("kind: match", "kind: mach"),  # schema
        "c/three.yaml": good("c/three")
        .replace("severity: low", "severity: huge")  # schema
        .replace("advice:", "advise:"),
        "d/four.yaml": good("d/fuor"),  # file name
    }
    assert errors(tmp_path, monkeypatch, files) == [
        "rules/a/one.yaml:8:8: invalid YAML: expected ',' or '}', but got ':'",
        "rules/b/two.yaml:6:9: logic.kind 'mach' is not one of match, threshold, ratio, sequence, "
        "absence, concurrency (did you mean 'match'?)",
        "rules/c/three.yaml:1:1: missing required field 'advice'",
        "rules/c/three.yaml:4:11: severity: input should be 'low', 'medium' or 'high'",
        "rules/c/three.yaml:9:1: unknown field 'advise' in file (did you mean 'advice'?)",
        "rules/d/four.yaml:1:5: rule id 'd/fuor' does not match its file name 'four' (name the file 'fuor.yaml')",
    ]


QUOTED_PATTERN = '"a[b"'


def test_all_problems_of_all_files_in_one_run_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "a/one.yaml": good("a/one", '{type: message_sent, attrs.text: {regex: "a[b"}}'),
        "b/two.yaml": good("b/two").replace("{count} calls", "{cuont} calls"),
        "c/three.yaml": good("c/three"),  # fine
        "d/four.yaml": good("d/four", "{use: nothing_like_this}"),
    }
    lines = errors(tmp_path, monkeypatch, files)
    assert lines == [
        f"rules/a/one.yaml:7:{col(files['a/one.yaml'], 7, QUOTED_PATTERN)}: invalid regex: "
        "unterminated character set at position 1",
        "rules/b/two.yaml:8:10: message uses unknown placeholder '{cuont}' (did you mean '{count}'?)",
        f"rules/d/four.yaml:7:{col(files['d/four.yaml'], 7, 'nothing_like_this')}: unknown macro 'nothing_like_this'",
    ]


def test_all_problems_of_all_files_in_one_run_load_and_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that does not validate must not hide compile problems of the other files."""
    files = {
        "a/one.yaml": good("a/one").replace("kind: match", "kind: mach"),
        "b/two.yaml": good("b/two", "{type: team_meeting, attrs.fcus: skills}"),
    }
    rules = write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuleError) as info:
        engine.prepare_rules([str(rules)])
    assert [(p.path, p.line) for p in info.value.problems] == [("rules/a/one.yaml", 6), ("rules/b/two.yaml", 7)]


# ---------------------------------------------------------------------------------------------
# schema file and shipped rules


def test_schema_file_is_current() -> None:
    expected = json.dumps(rule_json_schema(), indent=2, sort_keys=True) + "\n"
    assert (REPO / "docs" / "rule.schema.json").read_text(encoding="utf-8") == expected


def test_schema_lists_every_kind() -> None:
    text = json.dumps(rule_json_schema())
    for kind in ("match", "threshold", "ratio", "sequence", "absence"):
        assert f'"{kind}"' in text


def test_shipped_rules_load_and_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    ruleset = load_rules([str(REPO / "rules")])
    shipped = sorted(
        os.path.relpath(os.path.join(root, name), REPO / "rules")
        for root, _, names in os.walk(REPO / "rules")
        for name in names
        if name.endswith(".yaml") and not name.startswith("_")
    )
    assert len(ruleset.rules) == len(shipped) > 0
    assert sorted(f"{r.rule.id}.yaml" for r in ruleset.rules) == shipped
    compiled = compile_rules(ruleset)
    assert sorted(c.id for c in compiled) == sorted(r.rule.id for r in ruleset.rules)


def test_shipped_rules_run_on_empty_log(tmp_path: Path) -> None:
    log = tmp_path / "empty.jsonl"
    log.write_text("")
    report = engine.check([str(log)], rules=[str(REPO / "rules")])
    assert report.findings == [] and len(report.rules) > 0
    # an empty log holds none of the events any rule needs: those rules say so, once each, for everyone
    needing = sorted(r.id for r in engine.prepare_rules([str(REPO / "rules")])[1] if r.needs)
    assert sorted(n.rule for n in report.not_assessed) == needing and needing
    assert all(n.manager is None for n in report.not_assessed)
    assert len([w for w in report.warnings if "could not judge anyone" in w]) == len(needing)
