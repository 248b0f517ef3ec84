"""Hostile and unlucky values and names in rules, parameters, config and ``--set``.

Each section is one class of defect a hostile tester found: a value or a name
that loaded fine and then failed when the rule ran ("please report this"),
changed a result silently, or was blamed on the wrong file. Every problem must
be a located error (``file:line:col`` for rule and config files, ``--set`` for
command-line overrides), all of them in one run. The last section is a
property over generated parameter values for shipped rules.

Rules are written out as text so their lines and columns can be read off;
lines 1-4 are the same header everywhere and the body starts on line 5.
"""

from __future__ import annotations

import shutil
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import engine
from engine.api import prepare_rules
from engine.backends import DuckDBBackend, regex_problem
from engine.backends.duckdb import check_regex
from engine.config import read_config
from engine.errors import EngineError, SalesmirrorError
from engine.ingest import LoadResult, load_events
from engine.lang.loader import default_rules_dir
from engine.lang.params import MAX_DURATION, MIN_DURATION, parse_duration
from engine.lang.plan import CompiledRule
from engine.lang.sqlplan import RESERVED_NAMES
from engine.report.build import build_findings, build_not_assessed, render_template
from tests.helpers import ev, findings, run_rule, write_events

REPO = Path(__file__).resolve().parent.parent
HEAD = "id: t/rule\ntrait: test-trait\ntitle: A test rule\nseverity: low\n"
TAIL = "advice: Do better.\ndocs:\n  why: Because.\n  instead: Do this.\n  false_positives: Rarely.\n"
RULE = "rules/t/rule.yaml"


def rule_text(body: str, message: str = "{count}") -> str:
    return HEAD + body + f"message: {message!r}\n" + TAIL


def problems(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    *,
    sets: tuple[str, ...] = (),
    config: str | None = None,
    library: str | None = None,
) -> list[str]:
    """Load, configure and compile one rule from tmp_path; every problem shown, in order."""
    target = tmp_path / RULE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    if library is not None:
        (tmp_path / "rules" / "_lib.yaml").write_text(library, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SalesmirrorError) as info:
        if config is not None:
            Path("salesmirror.yaml").write_text(config, encoding="utf-8")
        chosen = read_config("salesmirror.yaml") if config is not None else None
        prepare_rules(["rules"], settings=chosen, sets=sets)
    return [str(p) for p in info.value.problems]


def compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, sets: tuple[str, ...] = ()) -> None:
    target = tmp_path / RULE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    prepare_rules(["rules"], sets=sets)


def col(text: str, line: int, token: str) -> int:
    """1-based column of ``token`` on 1-based ``line`` of ``text``."""
    return text.splitlines()[line - 1].index(token) + 1


QUOTE = "'"
MATCH_TEXT = "logic:\n  kind: match\n  where:\n    type: message_sent\n    attrs.text: {regex: '%s'}\n"


# ---------------------------------------------------------------------------------------------
# 1. regexes Python accepts and the SQL engine (DuckDB's RE2) does not


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", r"invalid escape sequence: \1"),  # back-reference
        ("(?=x)", "invalid perl operator: (?="),  # look-ahead
        ("(?<!x)y", "invalid perl operator: (?<"),  # look-behind
        ("a++", "bad repetition operator: ++"),  # possessive quantifier
        (r"end\Z", r"invalid escape sequence: \Z"),  # Python's end of text
        ("(?x) a b", "invalid perl operator: (?x"),  # verbose mode
        ("a{1001}", "invalid repetition size: {1001}"),
    ],
)
def test_regex_the_engine_refuses_is_a_load_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pattern: str, reason: str
) -> None:
    text = rule_text(MATCH_TEXT % pattern)
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:9:{col(text, 9, repr(pattern)[0])}: invalid regex: DuckDB's regex engine (RE2) refuses it: "
        f"{reason} (RE2 has no look-arounds, back-references or possessive quantifiers)"
    ]


def test_regex_python_refuses_keeps_its_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = rule_text(MATCH_TEXT % "(unclosed")
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:9:25: invalid regex: missing ), unterminated subpattern at position 0"
    ]


def test_regex_in_a_macro_is_located_in_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = "macros:\n  shouting:\n    attrs.text: {regex: '(?<=!)!'}\n"
    text = rule_text("logic:\n  kind: match\n  where: {type: message_sent, use: shouting}\n")
    found = problems(tmp_path, monkeypatch, text, library=library)
    assert len(found) == 1
    assert found[0].startswith("rules/_lib.yaml:3:25: invalid regex: DuckDB's regex engine (RE2) refuses it")
    assert found[0].endswith("(in macro 'shouting')")


def test_regex_every_problem_of_a_rule_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (
        "logic:\n  kind: match\n  where:\n    type: message_sent\n"
        "    any: [{attrs.text: {regex: '(a)\\1'}}, {attrs.text: {regex: '(?=b)'}}, {attrs.text: {regex: 'ok'}}]\n"
    )
    text = rule_text(body)
    assert [p.split(": ", 1)[0] for p in problems(tmp_path, monkeypatch, text)] == [
        f"{RULE}:9:{col(text, 9, QUOTE + '(a)')}",
        f"{RULE}:9:{col(text, 9, QUOTE + '(?=')}",
    ]


def test_regex_from_a_parameter_set_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text parameter is only checked where the rule uses it, and the problem says where the value came from."""
    body = (
        "params:\n  pattern: {type: str, default: ok, doc: A pattern.}\n"
        "logic:\n  kind: match\n  where: {type: message_sent, attrs.text: {regex: $pattern}}\n"  # line 9
    )
    text = rule_text(body)
    compiles(tmp_path, monkeypatch, text)
    assert problems(tmp_path, monkeypatch, text, sets=("t/rule.pattern=(?=x)",)) == [
        f"{RULE}:9:{col(text, 9, '$pattern')}: invalid regex: DuckDB's regex engine (RE2) refuses it: invalid perl "
        "operator: (?= (RE2 has no look-arounds, back-references or possessive quantifiers) "
        "(the value of $pattern set by the config or --set)"
    ]


def test_regex_check_asks_duckdb_once_per_pattern() -> None:
    assert regex_problem("(?i)\\bmust\\b|[[:alpha:]]+\\p{L}", "duckdb") is None
    assert regex_problem("(?=x)", "no-such-dialect") is None  # no engine to ask: Python's check only
    check_regex.cache_clear()
    for _ in range(3):
        assert regex_problem("(?=x)", "duckdb") is not None
    assert check_regex.cache_info().misses == 1


def test_regex_lexicon_words_are_escaped(tmp_path: Path) -> None:
    """Words of a lexicon go into a pattern we build: every character is escaped, so any word runs."""
    words = ["a(b)c", "(a)\\1", "(?=x)", "a++", "[", "\\", "$^.*", "{2}", "#", "~", "&", "\t", "é"]
    logic = {
        "kind": "match",
        "where": {"type": "message_sent", "odd": {"gt": 0}},
        "derive": {"odd": {"lexicon": "attrs.text", "words": words}},
    }
    events = [
        ev(
            "e1", "2026-01-05 10:00", "message_sent", manager="m1", attrs={"text": "ship a(b)c now", "audience": "team"}
        ),
        ev("e2", "2026-01-06 10:00", "message_sent", manager="m1", attrs={"text": "plain words", "audience": "team"}),
    ]
    assert [f.evidence for f in findings(run_rule(tmp_path, events, logic))] == [["e1"]]


# ---------------------------------------------------------------------------------------------
# 2. numbers that are not finite (or not representable) in rules, config and --set

THRESHOLD = "logic:\n  kind: threshold\n  where: {type: call_logged}\n  op: gte\n"


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_nonfinite_rule_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    text = rule_text(THRESHOLD + f"  value: {value}\n")
    shown = {".nan": "nan", ".NaN": "nan", ".inf": "inf", "-.inf": "-inf"}[value]
    assert problems(tmp_path, monkeypatch, text) == [f"{RULE}:9:10: logic.value: {shown} is not a finite number"]


def test_nonfinite_values_everywhere_in_a_rule_all_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (
        "params:\n"
        "  q: {type: float, default: 1, min: -.inf, max: .inf, doc: A share.}\n"  # 6
        "logic:\n"
        "  kind: threshold\n"
        "  where: {type: call_logged}\n"
        "  window: {whole: true, min_days: .inf}\n"  # 10
        "  op: gte\n"
        "  value: $q\n"
        "  min_events: 100000000000000000000000\n"  # 13
        "  also:\n"
        "    - {metric: {distinct: rep}, op: gte, value: -.inf}\n"  # 15
    )
    text = rule_text(body)
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:6:{col(text, 6, '-.inf')}: params.q.min: -inf is not a finite number",
        f"{RULE}:6:{col(text, 6, ' .inf') + 1}: params.q.max: inf is not a finite number",
        f"{RULE}:10:{col(text, 10, '.inf')}: logic.window.min_days: inf is not a finite number",
        f"{RULE}:13:15: logic.min_events: 100000000000000000000000 is too large (integers go up to 9223372036854775807)",
        f"{RULE}:15:{col(text, 15, '-.inf')}: logic.also[0].value: -inf is not a finite number",
    ]


def test_nonfinite_param_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "params:\n  p: {type: float, default: .nan, doc: A share.}\n" + THRESHOLD + "  value: $p\n"
    text = rule_text(body)
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:6:{col(text, 6, '.nan')}: default of 'p': nan is not a finite number"
    ]


def test_nonfinite_condition_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (
        "logic:\n  kind: match\n  where:\n    type: call_logged\n"
        "    attrs.duration_s: {gte: .nan}\n"  # 9
        "    any: [{attrs.duration_s: [1, .inf]}, {attrs.duration_s: 100000000000000000000000}]\n"  # 10
    )
    text = rule_text(body)
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:9:{col(text, 9, '.nan')}: nan is not a finite number",
        f"{RULE}:10:{col(text, 10, '[1')}: inf is not a finite number",
        f"{RULE}:10:{col(text, 10, '1000')}: 100000000000000000000000 is too large (integers go up to 9223372036854775807)",
    ]


def test_nonfinite_list_values_in_a_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = "lists:\n  durations: [60, .nan]\n"
    text = rule_text("logic:\n  kind: match\n  where: {type: call_logged, attrs.duration_s: '@durations'}\n")
    found = problems(tmp_path, monkeypatch, text, library=library)
    assert found[0] == "rules/_lib.yaml:2:19: lists.durations[1]: nan is not a finite number"
    assert found[1:] == [f"{RULE}:7:48: unknown list '@durations'"]  # the library did not load


PARAM_RULE = rule_text(
    "params:\n"
    "  share: {type: float, default: 0.5, doc: A share.}\n"
    "  calls: {type: int, default: 3, min: 1, doc: Calls.}\n"
    "logic:\n  kind: threshold\n  where: {type: call_logged}\n  op: gte\n  value: $share\n  min_events: $calls\n"
)


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ("t/rule.share=nan", "nan is not a finite number"),
        ("t/rule.share=inf", "inf is not a finite number"),
        ("t/rule.share=-Infinity", "-inf is not a finite number"),
        ("t/rule.share=1e999", "inf is not a finite number"),
        (
            "t/rule.calls=9223372036854775808",
            "9223372036854775808 is too large (integers go up to 9223372036854775807)",
        ),
        ("t/rule.calls=" + "9" * 5000, "'999999999999999999999999...99999999 (5000 characters)' is too large"),
        ("t/rule.calls=0", "0 is below the minimum of 'calls', 1"),
        ("t/rule.calls=1.5", "expected an integer, got '1.5'"),
    ],
)
def test_nonfinite_set_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, reason: str) -> None:
    assert problems(tmp_path, monkeypatch, PARAM_RULE, sets=(setting,)) == [f"--set: {setting}: {reason}"]


def test_nonfinite_config_values_at_their_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = "params:\n  t/rule:\n    share: .nan\n    calls: 1000000000000000000000\n  t/rul: {share: 1}\n"
    assert problems(tmp_path, monkeypatch, PARAM_RULE, config=config) == [
        "salesmirror.yaml:3:12: invalid config: t/rule.share: nan is not a finite number",
        "salesmirror.yaml:4:12: invalid config: t/rule.calls: 1000000000000000000000 is too large "
        "(integers go up to 9223372036854775807)",
        "salesmirror.yaml:5:3: invalid config: unknown rule 't/rul' (did you mean 't/rule'?)",
    ]


def test_large_finite_numbers_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The largest accepted values still compile to SQL that runs (and finds nothing)."""
    sets = ("t/rule.share=1.7e308", f"t/rule.calls={2**63 - 1}")
    compiles(tmp_path, monkeypatch, PARAM_RULE, sets)
    events = [ev("c1", "2026-01-05 10:00", "call_logged", manager="m1", attrs={"outcome": "connected"})]
    log = write_events(tmp_path / "ev.jsonl", events)
    assert engine.check([str(log)], rules=["rules"], sets=sets).findings == []


# ---------------------------------------------------------------------------------------------
# 3. durations: bounded (1s to 100 years, whole seconds) and blamed where they are given

ABSENCE = (
    "params:\n"
    "  gap: {type: duration, default: %s, doc: Longest gap.}\n"  # 6
    "logic:\n"
    "  kind: absence\n"
    "  group_by: [manager, rep]\n"
    "  where: {type: one_on_one_held}\n"
    "  max_gap: %s\n"  # 11
)


def absence(default: str = "35d", max_gap: str = "$gap") -> str:
    return rule_text(ABSENCE % (default, max_gap), "{longest_gap_days} days")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1), ("0.1m", 6), ("1.5m", 90), ("2w", 14 * 86400), ("36525d", 36525 * 86400), (" 12h ", 43200)],
)
def test_duration_bounds_accepted(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0.0001s", "duration '0.0001s' is shorter than 1s"),
        ("0s", "duration '0s' is shorter than 1s"),
        ("1.5s", "duration '1.5s' is not a whole number of seconds"),
        ("36526d", "duration '36526d' is longer than 100 years (36525d)"),
        ("99999999999w", "duration '99999999999w' is longer than 100 years (36525d)"),
        ("9" * 500 + "d", "is longer than 100 years (36525d)"),
        ("1e30d", "'1e30d' is not a duration (use a number and a unit: 30d, 2w, 12h)"),
        ("-3d", "'-3d' is not a duration (use a number and a unit: 30d, 2w, 12h)"),
        ("٣d", "'٣d' is not a duration (use a number and a unit: 30d, 2w, 12h)"),  # digits are ASCII
    ],
)
def test_duration_bounds_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert reason in str(info.value)
    assert MIN_DURATION.total_seconds() == 1 and MAX_DURATION.days == 36525


def test_duration_out_of_range_in_the_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "logic:\n  kind: absence\n  where: {type: one_on_one_held}\n  max_gap: 99999999999w\n"  # line 8
    text = rule_text(body, "{longest_gap_days} days")
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:8:12: duration '99999999999w' is longer than 100 years (36525d)"
    ]


def test_duration_bad_default_at_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = absence(default="0.0001s")
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:6:34: default of 'gap': duration '0.0001s' is shorter than 1s"
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0.0001s", "duration '0.0001s' is shorter than 1s"),
        ("1e30d", "'1e30d' is not a duration (use a number and a unit: 30d, 2w, 12h)"),
        ("99999999999w", "duration '99999999999w' is longer than 100 years (36525d)"),
        ("", "'' is not a duration (use a number and a unit: 30d, 2w, 12h)"),
    ],
)
def test_duration_bad_set_is_blamed_on_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    setting = f"t/rule.gap={value}"
    assert problems(tmp_path, monkeypatch, absence(), sets=(setting,)) == [f"--set: {setting}: {reason}"]


def test_duration_bad_config_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = "params:\n  t/rule:\n    gap: 0.0001s\n"
    assert problems(tmp_path, monkeypatch, absence(), config=config) == [
        "salesmirror.yaml:3:10: invalid config: t/rule.gap: duration '0.0001s' is shorter than 1s"
    ]


def test_duration_set_and_config_problems_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = "params:\n  t/rule:\n    gap: 200y\n"
    assert problems(tmp_path, monkeypatch, absence(), config=config, sets=("t/rule.gap=1e30d", "t/rule.gapp=1d")) == [
        "--set: t/rule.gap=1e30d: '1e30d' is not a duration (use a number and a unit: 30d, 2w, 12h)",
        "--set: t/rule.gapp=1d: rule 't/rule' has no parameter 'gapp' (did you mean 'gap'?)",
        "salesmirror.yaml:3:10: invalid config: t/rule.gap: '200y' is not a duration "
        "(use a number and a unit: 30d, 2w, 12h)",
    ]


def test_duration_longest_and_shortest_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("1s", "36525d"):
        compiles(tmp_path, monkeypatch, absence(), (f"t/rule.gap={value}",))
        events = [ev("o1", "2026-01-05 10:00", "one_on_one_held", manager="m1", rep="r1")]
        log = write_events(tmp_path / "ev.jsonl", events)
        engine.check([str(log)], rules=["rules"], sets=(f"t/rule.gap={value}",))


# ---------------------------------------------------------------------------------------------
# 4. metric and derived names that are the engine's own column names

RESERVED_SAMPLE = ["coverage", "w_start", "w_end", "s_start", "s_end", "anchor_id", "sm_metric", "ts", "id"]
RESERVED_SAMPLE += ["evidence", "first_ts", "peak_start", "windows", "threshold", "when", "x_cnt", "Coverage"]


@pytest.mark.parametrize("name", RESERVED_SAMPLE)
def test_reserved_metric_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    text = rule_text(THRESHOLD + f"  metric: {{sum: attrs.duration_s, name: {name}}}\n  value: 3\n")
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:9:{col(text, 9, name + '}')}: logic.metric.name: the name '{name}' is reserved for the engine's "
        "own columns; choose another name"
    ]


def test_reserved_names_cover_every_kind_of_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ratio = rule_text(
        "logic:\n  kind: ratio\n  where: {type: call_logged}\n"
        "  numerator: {name: w_end, where: {attrs.outcome: connected}}\n"  # 8
        "  denominator: {name: anchor, where: {}}\n"  # 9
        "  op: gte\n  value: 0.5\n"
    )
    assert problems(tmp_path, monkeypatch, ratio) == [
        f"{RULE}:8:{col(ratio, 8, 'w_end')}: logic.numerator.name: the name 'w_end' is reserved for the engine's "
        "own columns; choose another name",
        f"{RULE}:9:{col(ratio, 9, 'anchor')}: logic.denominator.name: the name 'anchor' is reserved for the "
        "engine's own columns; choose another name",
    ]


@pytest.mark.parametrize(("name", "why"), [("s_start", "reserved"), ("peak_open", "metric"), ("Days", "metric")])
def test_reserved_concurrency_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, why: str) -> None:
    text = rule_text(
        "logic:\n  kind: concurrency\n  open: {where: {type: deal_created}}\n"
        "  close: {where: {type: [deal_closed_won, deal_closed_lost]}}\n"
        f"  name: {name}\n  op: gt\n  value: 3\n"  # 9
    )
    expected = (
        f"logic.name: the name '{name}' is reserved for the engine's own columns; choose another name"
        if why == "reserved"
        else f"'{name}' is a metric of every concurrency rule; choose another name"
    )
    assert problems(tmp_path, monkeypatch, text) == [f"{RULE}:9:9: {expected}"]


def test_metric_names_clash_with_each_other_and_the_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (
        "logic:\n  kind: threshold\n  where: {type: call_logged}\n"
        "  group_by: [manager, attrs.outcome]\n"  # 8
        "  metric: {sum: attrs.duration_s, name: Count}\n"  # 9: SQL does not tell Count from count
        "  op: gte\n  value: 3\n"
        "  also:\n"
        "    - {metric: {distinct: rep}, op: gte, value: 1}\n"  # 13
        "    - {metric: {distinct: rep}, op: gte, value: 2}\n"  # 14: distinct_rep again
        "    - {metric: {max: attrs.duration_s, name: attrs_outcome}, op: gte, value: 2}\n"  # 15
        "    - {metric: {max: attrs.duration_s, name: outcome}, op: gte, value: 2}\n"  # 16
    )
    text = rule_text(body)
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:9:{col(text, 9, 'Count')}: metric name 'Count' clashes with the metric 'count'; choose another name",
        f"{RULE}:14:{col(text, 14, '{metric') + 9}: metric name 'distinct_rep' is used twice; give one of them "
        "another name",
        f"{RULE}:15:{col(text, 15, 'attrs_outcome')}: metric name 'attrs_outcome' clashes with the group column of "
        "'attrs.outcome'; choose another name",
        f"{RULE}:16:{col(text, 16, 'outcome')}: metric name 'outcome' clashes with the template name of "
        "'attrs.outcome'; choose another name",
    ]


def test_derived_names_that_are_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (
        "logic:\n  kind: match\n  where: {type: message_sent}\n  derive:\n"
        "    ts: {word_count: attrs.text}\n"  # 9
        "    File: {word_count: attrs.text}\n"  # 10: the events table has file (any case)
        "    sm_words: {word_count: attrs.text}\n"  # 11
        "    coverage: {word_count: attrs.text}\n"  # 12
        "    two words: {word_count: attrs.text}\n"  # 13
        "    order: {word_count: attrs.text}\n"  # 14: an SQL keyword is fine
    )
    assert problems(tmp_path, monkeypatch, rule_text(body)) == [
        f"{RULE}:9:5: derived name 'ts' shadows an event field",
        f"{RULE}:10:5: derived name 'File' shadows an event field",
        f"{RULE}:11:5: derived name 'sm_words' is reserved for the engine",
        f"{RULE}:12:5: derived name 'coverage' is reserved for the engine",
        f"{RULE}:13:5: derived name 'two words': use letters, digits and _",
    ]


def test_parameter_named_like_a_template_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "params:\n  count: {type: int, default: 3, doc: Calls.}\n  rep: {type: int, default: 3, doc: Reps.}\n"
    text = rule_text(body + THRESHOLD + "  value: $count\n  min_events: $rep\n")
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:6:3: parameter 'count' has the name of a template value",
        f"{RULE}:7:3: parameter 'rep' has the name of a template value",
    ]


def test_reserved_list_holds_every_column_the_shared_plan_makes() -> None:
    """Every alias the windowing, scoring and islands SQL gives a column is reserved (sm_/x_ by prefix)."""
    import re

    source = (REPO / "engine" / "lang" / "windows.py").read_text(encoding="utf-8")
    aliases = set(re.findall(r"\bAS ([a-z_]+)\b", source)) - {"t"}  # t(p): the calendar steps, a table alias
    assert {a for a in aliases if not a.startswith("sm_")} <= RESERVED_NAMES


# ---------------------------------------------------------------------------------------------
# 5. message templates: plain names only, checked at load and filled safely


@pytest.mark.parametrize(
    ("placeholder", "reason"),
    [
        ("{manager.__class__}", "must be a plain name such as {count}"),
        ("{manager.__init__.__globals__}", "must be a plain name such as {count}"),
        ("{metrics[0]}", "must be a plain name such as {count}"),
        ("{0}", "must be a plain name such as {count}"),
        ("{}", "must be a plain name such as {count}"),
        ("{count!r}", "may not convert its value ('!r'); write '{count}'"),
        ("{count!s}", "may not convert its value ('!s'); write '{count}'"),
        ("{count:{count}}", "has a format spec that is not a plain one"),
        ("{count:{manager.__class__}}", "has a format spec that is not a plain one"),
        ("{count:999999999}", "has a format spec that is not a plain one"),
        ("{count:.1000f}", "has a format spec that is not a plain one"),
        ("{count:c}", "has a format spec that is not a plain one"),
        ("{manager:.0%}", "formats 'manager' as a number, but it is text"),
    ],
)
def test_template_placeholder_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, placeholder: str, reason: str
) -> None:
    text = rule_text(THRESHOLD + "  value: 3\n", f"calls: {placeholder}")  # message: on line 10
    found = problems(tmp_path, monkeypatch, text)
    assert len(found) == 1
    assert found[0].startswith(f"{RULE}:10:10: message placeholder '{placeholder}' {reason}")


def test_template_advice_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = rule_text(THRESHOLD + "  value: 3\n").replace("advice: Do better.", "advice: 'Ask {rep.__doc__}'")
    assert problems(tmp_path, monkeypatch, text) == [
        f"{RULE}:11:9: advice placeholder '{{rep.__doc__}}' must be a plain name such as {{count}} "
        "(no '.', '[' or position: a template shows values, nothing else)"
    ]


def test_template_plain_specs_allowed_and_rendered(tmp_path: Path) -> None:
    logic = {"kind": "threshold", "where": {"type": "call_logged"}, "op": "gte", "value": 2}
    events = [ev(f"c{i}", f"2026-01-0{5 + i} 10:00", "call_logged", manager="m1") for i in range(3)]
    message = "{count:>4}|{count:.1f}|{threshold:+d}|{manager:*^6}|{count:,}|{{literal}}"
    report = run_rule(tmp_path, events, logic, message=message)
    assert [f.message for f in findings(report)] == ["   3|3.0|+2|**m1**|3|{literal}"]


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("{manager.__class__}", "{manager.__class__}"),
        ("{manager.__init__.__globals__}", "{manager.__init__.__globals__}"),
        ("{metrics[0]}", "{metrics[0]}"),
        ("{0} {}", "{0} {}"),
        ("{manager!r}", "{manager!r}"),
        ("{count:{manager.__class__}}", "3"),  # a nested spec is never filled in
        ("{count:999999999}", "3"),  # nor a huge width
        ("{ratio:.0%} of {count}", "None of 3"),  # an empty metric, unformatted
        ("{ratio:.0%}", "None"),
        ("{count:.0%} {missing}", "300% {missing}"),
        ("{count", "{count"),  # does not parse: kept whole
        ("{obj}", "{obj}"),  # only plain values are shown
    ],
)
def test_render_never_reaches_beyond_the_values(template: str, shown: str) -> None:
    values: dict[str, Any] = {"manager": "m1", "count": 3, "ratio": None, "metrics": [1], "obj": object()}
    assert render_template(template, values) == shown


# ---------------------------------------------------------------------------------------------
# 6. contains on an attribute that is a list in some events and not in others


def test_contains_on_a_custom_attribute_that_is_not_always_a_list(tmp_path: Path) -> None:
    logic = {"kind": "match", "where": {"type": "x_tagged", "attrs.tags": {"contains": "urgent"}}}
    events = [
        ev("t1", "2026-01-05 10:00", "x_tagged", manager="m1", attrs={"tags": "urgent"}),  # text, not a list
        ev("t2", "2026-01-06 10:00", "x_tagged", manager="m1", attrs={"tags": ["urgent", "late"]}),
        ev("t3", "2026-01-07 10:00", "x_tagged", manager="m1", attrs={"tags": ["late"]}),
        ev(
            "t4", "2026-01-08 10:00", "x_tagged", manager="m1", attrs={"tags": '["urgent"]'}
        ),  # text that looks like one
        ev("t5", "2026-01-09 10:00", "x_tagged", manager="m1", attrs={"tags": {"urgent": True}}),
        ev("t6", "2026-01-09 11:00", "x_tagged", manager="m1", attrs={"tags": 7}),
        ev("t7", "2026-01-09 12:00", "x_tagged", manager="m1"),
    ]
    assert [f.evidence for f in findings(run_rule(tmp_path, events, logic))] == [["t2"]]


# ---------------------------------------------------------------------------------------------
# 7. a property: any parameter value, through --set or a config file, is run or refused, located

FUZZ_RULES = [
    "performance-avoidance/no-plan",  # float, two durations (within, before), int; a sequence with absent
    "drum-banger/activity-quotas",  # int, two durations (a sliding window, unless); a threshold
    "regurgitator/verbatim-relay",  # floats in [0, 1] and ints in conditions; derived measures, a ratio
    "detached-dictator/rep-without-contact",  # one duration; absence
]


@pytest.fixture(scope="module")
def fuzz_rules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each rule copied into a directory of its own with the shipped library: an example compiles one rule."""
    shipped = Path(default_rules_dir())
    out: dict[str, Path] = {}
    for rule_id in FUZZ_RULES:
        target = tmp_path_factory.mktemp("fuzz") / "rules"
        (target / rule_id).parent.mkdir(parents=True)
        shutil.copy(shipped / f"{rule_id}.yaml", target / f"{rule_id}.yaml")
        shutil.copy(shipped / "_library.yaml", target / "_library.yaml")
        out[rule_id] = target
    return out


@pytest.fixture(scope="module")
def demo_backend() -> Any:
    """The demo log, loaded once and set up once in DuckDB for every example."""
    loaded: LoadResult = load_events([str(REPO / "fixtures" / "demo" / "events.jsonl.gz")])
    runner = DuckDBBackend(loaded.table)
    yield runner
    runner.close()


def _param_types(rules: Path, rule_id: str) -> dict[str, str]:
    """RULE.PARAM -> its type, for the rule's parameters."""
    doc = yaml.safe_load((rules / f"{rule_id}.yaml").read_text(encoding="utf-8"))
    return {f"{rule_id}.{name}": spec["type"] for name, spec in doc.get("params", {}).items()}


_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, 1e-320, 5e-324, 1.7976931348623157e308, 0.5, 0.999999]),
)
_number_texts = st.one_of(
    _numbers.map(str),
    _numbers.map(repr),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999", "1e-999", "1_000", "0x10", " 7 "]),
)
_durations = st.builds(
    lambda number, unit, pad: f"{pad}{number}{unit}{pad}",
    st.one_of(
        st.integers(min_value=0, max_value=10**20),
        st.floats(min_value=0, max_value=1e20, allow_nan=False).map(lambda x: f"{x:.6f}".rstrip("0")),
        st.sampled_from(["0.0001", "1e30", "99999999999", "36525", "36526", "5218", "0.5", ".5", "1."]),
    ),
    st.sampled_from(["s", "m", "h", "d", "w", "y", "", "D", "ms"]),
    st.sampled_from(["", " "]),
)
_garbage = st.text(alphabet=string.printable + "é٣\u2028\x00", max_size=30)
_PLAUSIBLE = {  # values of each type that may well be accepted, so that rules run too
    "int": st.integers(min_value=0, max_value=60),
    "float": st.floats(min_value=0, max_value=3),
    "duration": st.builds("{}{}".format, st.integers(min_value=1, max_value=200), st.sampled_from("hdw")),
}
_plausible = st.one_of(*(values.map(str) for values in _PLAUSIBLE.values()))
_texts = st.one_of(
    _plausible, _number_texts, _durations, _garbage, st.sampled_from(["true", "false", "a,b", "$x", "@list"])
)
# values a config file may hold: whatever YAML reads (numbers of every size, text, lists, nothing)
_yaml_values = st.one_of(
    _numbers,
    _texts,
    st.booleans(),
    st.none(),
    _plausible.map(yaml.safe_load),
    st.lists(st.one_of(_numbers, _garbage), max_size=3),
    st.dictionaries(st.text(max_size=3), _numbers, max_size=2),
)


def _located(problem: Any, config: Path) -> bool:
    return problem.path == "--set" or (problem.path == str(config) and problem.line >= 1)


def _run(runner: Any, compiled: list[CompiledRule]) -> None:
    """What evaluate() does for each rule, on the one shared backend."""
    for rule in compiled:
        result = runner.run(rule)
        build_findings(rule, result.findings, max_evidence=5, origins=runner.origins)
        build_not_assessed(rule, result.assessment)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzz_parameter_values_are_run_or_refused_located(
    data: st.DataObject, fuzz_rules: dict[str, Path], demo_backend: Any, tmp_path: Path
) -> None:
    rule_id = data.draw(st.sampled_from(FUZZ_RULES), label="rule")
    types = _param_types(fuzz_rules[rule_id], rule_id)
    names = sorted(types)

    def value(key: str, anything: Any, as_text: bool) -> Any:  # three in four fit the parameter's type
        fitting = _PLAUSIBLE.get(types.get(key, ""), _plausible)
        fitting = fitting.map(str) if as_text else fitting
        return st.sampled_from([True, True, True, False]).flatmap(lambda fits: fitting if fits else anything)

    chosen = st.sampled_from(names * 3 + ["no/such.rule", names[0] + "x", "bare"])
    as_text = chosen.flatmap(lambda k: st.builds("{}={}".format, st.just(k), value(k, _texts, True)))
    as_yaml = st.sampled_from(names).flatmap(lambda k: st.tuples(st.just(k), value(k, _yaml_values, False)))
    sets = data.draw(st.lists(as_text, max_size=3), label="sets")
    in_config = data.draw(st.lists(as_yaml, max_size=2), label="config")
    config = tmp_path / "salesmirror.yaml"
    params: dict[str, dict[str, Any]] = {}
    for key, value in in_config:
        rule_id, name = key.rsplit(".", 1)
        params.setdefault(rule_id, {})[name] = value
    config.write_text(yaml.safe_dump({"params": params}), encoding="utf-8")
    try:
        compiled = prepare_rules([str(fuzz_rules[rule_id])], settings=read_config(str(config)), sets=sets)[1]
    except SalesmirrorError as exc:
        assert exc.problems
        assert all(_located(p, config) for p in exc.problems), exc.problems
        event("refused")
        return
    event("run")
    try:
        _run(demo_backend, compiled)
    except EngineError as exc:  # pragma: no cover - the property's failure
        pytest.fail(f"{sets} / {params}: {exc}")
