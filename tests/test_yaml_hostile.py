"""Hostile and unlucky YAML: every problem is ``file:line:col: message``, none is a crash.

One section per class of trouble found by a hostile tester: alias bombs,
cycles and deep nesting; tags; bytes that are not UTF-8 and characters YAML
does not allow; scalars the safe constructor cannot read; and a config file
with many mistakes, all reported in one go. Each is tried on every loader that
reads YAML (rules, libraries, the config, rule test cases) where the loaders
differ in how they read files.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli import main
from engine.config import Settings, read_config
from engine.errors import ConfigError, RuleError, SalesmirrorError
from engine.lang.loader import collect_rules
from engine.lang.yamlpos import MAX_DEPTH, MAX_NODES, YamlProblems, load_located
from engine.rulecases import load_cases

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
id: t/good
trait: test-trait
title: A test rule
severity: low
logic:
  kind: match
  where: {type: call_listened}
message: "{count} calls"
advice: Listen more.
docs: {why: Because., instead: Do this., false_positives: Rarely.}
"""

# nine levels of nine: 9**9 (387 million) leaves if it were ever expanded
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def rule_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str | bytes]) -> list[str]:
    """What ``collect_rules`` reports for ``files`` below tmp_path/rules, run from tmp_path."""
    rules = tmp_path / "rules"
    shutil.rmtree(rules, ignore_errors=True)
    for rel, content in files.items():
        target = rules / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    monkeypatch.chdir(tmp_path)
    _, problems = collect_rules([str(rules)])
    return [str(p) for p in sorted(problems)]


def file_problems(
    path: Path, content: str | bytes, load: Callable[[str], object], error: type[SalesmirrorError]
) -> list[str]:
    """The problems ``load`` raises (as ``error``) for a file holding ``content``, relative to its folder."""
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    with pytest.raises(error) as info:
        load(str(path))
    return [str(p).removeprefix(f"{path.parent}/") for p in info.value.problems]


def config_problems(tmp_path: Path, content: str | bytes) -> list[str]:
    return file_problems(tmp_path / "salesmirror.yaml", content, read_config, ConfigError)


def case_problems(tmp_path: Path, content: str | bytes) -> list[str]:
    return file_problems(tmp_path / "case.yaml", content, load_cases, RuleError)


def yaml_problems(text: str | bytes) -> list[str]:
    with pytest.raises(YamlProblems) as info:
        load_located(text, "f.yaml")
    return [str(p) for p in info.value.problems]


def timed(action: Callable[[], object]) -> float:
    start = time.process_time()  # CPU time: other work on a shared machine does not count
    action()
    return time.process_time() - start


# ---------------------------------------------------------------------------------------------
# alias bombs, cycles and deep nesting

BOMB_PROBLEM = "5:8: alias '*d' makes the document larger than 10000 nodes"


def test_billion_laughs_refused_at_once_in_a_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seconds = timed(lambda: rule_problems(tmp_path, monkeypatch, {"bomb.yaml": BOMB}))
    assert rule_problems(tmp_path, monkeypatch, {"bomb.yaml": BOMB}) == [f"rules/bomb.yaml:{BOMB_PROBLEM}"]
    assert seconds < 1


def test_billion_laughs_refused_in_a_library_config_and_case_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rule_problems(tmp_path, monkeypatch, {"_lib.yaml": BOMB}) == [f"rules/_lib.yaml:{BOMB_PROBLEM}"]
    assert config_problems(tmp_path, BOMB) == [f"salesmirror.yaml:{BOMB_PROBLEM}"]
    # a case file may be larger (it holds logs), but no bomb fits in its budget either
    assert case_problems(tmp_path, BOMB) == ["case.yaml:6:8: alias '*e' makes the document larger than 100000 nodes"]


def test_aliases_within_the_budget_still_work() -> None:
    doc = load_located("base: &b {type: call_listened}\nfirst: *b\nthen: *b\n", "f.yaml")
    assert doc.data["then"] == {"type": "call_listened"}
    assert doc.where(("then", "type")) == (1, 17)  # an alias's values are located at the anchor


def test_node_budget_counts_plain_nodes_too() -> None:
    text = "".join(f"k{i}: v\n" for i in range(MAX_NODES // 2 + 1))
    assert yaml_problems(text) == [f"f.yaml:{MAX_NODES // 2}:8: the document has more than 10000 nodes"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: &a [*a]\n", "1:8: alias '*a' is inside the node it refers to (a cycle)"),
        ("a: &m {self: {again: *m}}\n", "1:22: alias '*m' is inside the node it refers to (a cycle)"),
        ("a: *nowhere\n", "1:4: alias '*nowhere' refers to no anchor before it"),
        ("a: *later\nb: &later 1\n", "1:4: alias '*later' refers to no anchor before it"),
        ("a: &x 1\nb: &x 2\n", "2:4: anchor '&x' is defined twice (first on line 1)"),
    ],
)
def test_alias_cycles_and_dangling_aliases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, problem: str
) -> None:
    assert rule_problems(tmp_path, monkeypatch, {"t.yaml": text}) == [f"rules/t.yaml:{problem}"]
    assert config_problems(tmp_path, text) == [f"salesmirror.yaml:{problem}"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "1:67: nesting deeper than 64 levels"),
        ("a: " + "{b: " * 10_000 + "}" * 10_000 + "\n", "1:256: nesting deeper than 64 levels"),
        ("- " * 10_000 + "x\n", "1:129: nesting deeper than 64 levels"),
        (
            "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "x\n",
            "65:129: nesting deeper than 64 levels",
        ),
        ("[" * 1_000_000, "1:65: nesting deeper than 64 levels"),  # never closed: refused before the parser stops
    ],
)
def test_deep_nesting_refused_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, problem: str) -> None:
    seconds = timed(lambda: rule_problems(tmp_path, monkeypatch, {"deep.yaml": text}))
    assert seconds < 1
    assert rule_problems(tmp_path, monkeypatch, {"deep.yaml": text}) == [f"rules/deep.yaml:{problem}"]
    assert config_problems(tmp_path, text) == [f"salesmirror.yaml:{problem}"]


def test_nesting_up_to_the_limit_loads() -> None:
    doc = load_located("[" * MAX_DEPTH + "]" * MAX_DEPTH, "f.yaml")
    depth, node = 0, doc.data
    while isinstance(node, list):
        depth, node = depth + 1, node[0] if node else None
    assert depth == MAX_DEPTH
    assert yaml_problems("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)) == [
        "f.yaml:1:65: nesting deeper than 64 levels"
    ]


def test_recursion_error_never_escapes() -> None:
    """Even with almost no stack left, a document nested within the limit is a problem, not a crash."""
    frames, frame = 0, sys._getframe()
    while frame is not None:
        frames, frame = frames + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(frames + 60)
    try:
        with pytest.raises(YamlProblems) as info:
            load_located("[" * 60 + "]" * 60, "f.yaml")
    finally:
        sys.setrecursionlimit(limit)
    assert [str(p) for p in info.value.problems] == ["f.yaml:1:1: invalid YAML: nested too deeply to read"]


# ---------------------------------------------------------------------------------------------
# tags


def test_every_explicit_tag_is_refused_where_it_stands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        "id: !!python/name:os.system t/x\n"
        "trait: !foo x\n"
        "title: !!binary aGVsbG8=\n"
        "severity: !!str low\n"
        "logic: !!map {kind: match, where: !where {type: call_listened}}\n"
        "message: &m !<tag:example.com,2026:text> m\n"
        "advice: [! a]\n"
    )
    assert rule_problems(tmp_path, monkeypatch, {"x.yaml": text}) == [
        "rules/x.yaml:1:5: YAML tags are not allowed: '!!python/name:os.system'",
        "rules/x.yaml:2:8: YAML tags are not allowed: '!foo'",
        "rules/x.yaml:3:8: YAML tags are not allowed: '!!binary'",
        "rules/x.yaml:4:11: YAML tags are not allowed: '!!str'",
        "rules/x.yaml:5:8: YAML tags are not allowed: '!!map'",
        "rules/x.yaml:5:35: YAML tags are not allowed: '!where'",
        "rules/x.yaml:6:13: YAML tags are not allowed: '!<tag:example.com,2026:text>'",
        "rules/x.yaml:7:10: YAML tags are not allowed: '!'",
    ]


def test_tags_in_library_config_and_case_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert rule_problems(tmp_path, monkeypatch, {"_lib.yaml": "lists: !!set {a, b}\n"}) == [
        "rules/_lib.yaml:1:8: YAML tags are not allowed: '!!set'"
    ]
    assert config_problems(tmp_path, "fail_on: !!python/object/apply:os.system [echo]\n") == [
        "salesmirror.yaml:1:10: YAML tags are not allowed: '!!python/object/apply:os.system'"
    ]
    assert case_problems(tmp_path, "rule: !!str t/x\ncases: []\n") == [
        "case.yaml:1:7: YAML tags are not allowed: '!!str'"
    ]


def test_a_tag_never_runs_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "ran"
    text = f"id: !!python/object/apply:os.system ['touch {marker}']\n"
    assert rule_problems(tmp_path, monkeypatch, {"x.yaml": text}) == [
        "rules/x.yaml:1:5: YAML tags are not allowed: '!!python/object/apply:os.system'"
    ]
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------
# encoding and characters


def test_bytes_that_are_not_utf8_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace("title: A test rule", "title: caf\u00e9 \xff").encode("utf-8").replace(b"\xc3\xbf", b"\xff")
    # the column counts characters: 'title: café ' is 12 of them, the é being two bytes
    assert rule_problems(tmp_path, monkeypatch, {"t/good.yaml": text}) == [
        "rules/t/good.yaml:3:13: not valid UTF-8 (byte 0xff)"
    ]
    assert rule_problems(tmp_path, monkeypatch, {"_lib.yaml": b"lists:\n  x: [\xc3x]\n"}) == [
        "rules/_lib.yaml:2:7: not valid UTF-8 (byte 0xc3)"
    ]
    assert config_problems(tmp_path, b"fail_on: high\r\nrules: [\x80]\r\n") == [
        "salesmirror.yaml:2:9: not valid UTF-8 (byte 0x80)"
    ]
    assert case_problems(tmp_path, b"\xff\xfer\x00u\x00") == ["case.yaml:1:1: not valid UTF-8 (byte 0xff)"]


def test_utf8_byte_order_mark_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert rule_problems(tmp_path, monkeypatch, {"t/good.yaml": b"\xef\xbb\xbf" + GOOD.encode("utf-8")}) == []
    # positions on the first line do not count the mark
    broken = b"\xef\xbb\xbf" + GOOD.replace("id: t/good", "id: t/bad").encode("utf-8")
    assert rule_problems(tmp_path, monkeypatch, {"t/good.yaml": broken}) == [
        "rules/t/good.yaml:1:5: rule id 't/bad' does not match its file name 'good' (name the file 'bad.yaml')"
    ]
    assert read_config_ok(tmp_path, b"\xef\xbb\xbffail_on: high\n").fail_on == "high"


def read_config_ok(tmp_path: Path, content: bytes) -> Settings:
    path = tmp_path / "salesmirror.yaml"
    path.write_bytes(content)
    return read_config(str(path))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"id: t/x\ntrait: a\x00b\n", "2:9: character U+0000 is not allowed in YAML"),
        (b"id: t/x\n\x07trait: a\n", "2:1: character U+0007 is not allowed in YAML"),
        (b"a: '\x1b[31m'\n", "1:5: character U+001B is not allowed in YAML"),
        ("a: b\nc: \ufffe\n".encode(), "2:4: character U+FFFE is not allowed in YAML"),
    ],
)
def test_characters_yaml_refuses_are_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, problem: str
) -> None:
    assert rule_problems(tmp_path, monkeypatch, {"x.yaml": content}) == [f"rules/x.yaml:{problem}"]
    assert config_problems(tmp_path, content) == [f"salesmirror.yaml:{problem}"]
    assert case_problems(tmp_path, content) == [f"case.yaml:{problem}"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('a: "\\ud800"\n', "1:4: text holds a lone surrogate (\\ud800), which is not Unicode"),
        ('a: "\\U00110000"\n', "1:7: invalid YAML: an escape names a character beyond U+10FFFF"),
    ],
)
def test_escapes_that_name_no_character(text: str, problem: str) -> None:
    assert yaml_problems(text) == [f"f.yaml:{problem}"]


# ---------------------------------------------------------------------------------------------
# scalars the safe constructor cannot read


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: 2026-13-45\n", "1:4: '2026-13-45' is not a valid date (month must be in 1..12); quote it for text"),
        (
            "a: 0000-01-01\n",
            "1:4: '0000-01-01' is not a valid date (year 0 is out of range); quote it for text",
        ),
        (
            "a: " + "1" * 5000 + "\n",
            "1:4: '1111111111111111111111111111111111111...' is not a valid integer (Exceeds the limit "
            "(4300 digits) for integer string conversion: value has 5000 digits); quote it for text",
        ),
        ("a: {<<: 1}\n", "1:9: invalid YAML: expected a mapping or list of mappings for merging, but found scalar"),
        ("? [a, b]\n: c\n", "1:3: mapping keys must be plain scalars"),
    ],
)
def test_values_that_cannot_be_read(tmp_path: Path, text: str, problem: str) -> None:
    assert yaml_problems(text) == [f"f.yaml:{problem}"]
    assert f"salesmirror.yaml:{problem}" in config_problems(tmp_path, text)


def test_bare_merge_and_value_indicators_are_text() -> None:
    assert load_located("a: =\nb: [<<]\n", "f.yaml").data == {"a": "=", "b": ["<<"]}
    assert load_located("base: &b {x: 1}\nc: {<<: *b, y: 2}\n", "f.yaml").data["c"] == {"x": 1, "y": 2}


def test_more_than_one_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert rule_problems(tmp_path, monkeypatch, {"x.yaml": "a: 1\n---\nb: 2\n"}) == [
        "rules/x.yaml:2:1: invalid YAML: expected a single document in the stream but found another document"
    ]


# ---------------------------------------------------------------------------------------------
# all at once


def test_hostile_files_do_not_hide_each_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files: dict[str, str | bytes] = {
        "a/bomb.yaml": BOMB,
        "b/cycle.yaml": "a: &a [*a]\n",
        "c/deep.yaml": "[" * 10_000,
        "d/tag.yaml": "id: !foo t/x\n",
        "e/latin1.yaml": b"id: caf\xe9\n",
        "f/nul.yaml": b"\x00",
        "t/good.yaml": GOOD,
        "t/typo.yaml": GOOD.replace("id: t/good", "id: t/typo").replace("severity: low", "severity: lo"),
    }
    assert rule_problems(tmp_path, monkeypatch, files) == [
        f"rules/a/bomb.yaml:{BOMB_PROBLEM}",
        "rules/b/cycle.yaml:1:8: alias '*a' is inside the node it refers to (a cycle)",
        "rules/c/deep.yaml:1:65: nesting deeper than 64 levels",
        "rules/d/tag.yaml:1:5: YAML tags are not allowed: '!foo'",
        "rules/e/latin1.yaml:1:8: not valid UTF-8 (byte 0xe9)",
        "rules/f/nul.yaml:1:1: character U+0000 is not allowed in YAML",
        "rules/t/typo.yaml:4:11: severity: input should be 'low', 'medium' or 'high'",
    ]


def test_cli_reports_hostile_rules_without_a_crash(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bomb.yaml").write_text(BOMB, encoding="utf-8")
    (rules / "tag.yaml").write_text("id: !!python/name:os.system x\n", encoding="utf-8")
    (rules / "bytes.yaml").write_bytes(b"\xff\xfe\x00")
    result = CliRunner().invoke(main, ["rules", "validate", str(rules)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert f"{rules}/bomb.yaml:{BOMB_PROBLEM}" in result.stderr
    assert ":1:5: YAML tags are not allowed: '!!python/name:os.system'" in result.stderr
    assert ":1:1: not valid UTF-8 (byte 0xff)" in result.stderr
    assert "3 problems found" in result.stderr


# ---------------------------------------------------------------------------------------------
# the config file: every problem at once, each located

EIGHT_MISTAKES = """\
rules: [more-rules, 5]
disable: x
severity:
  a/b: critical
  1: low
params:
  a/b: 3
fail_onn: high
fail_on: sometimes
fail_on: never
colour: red
"""


def test_config_reports_every_problem_at_once(tmp_path: Path) -> None:
    assert config_problems(tmp_path, EIGHT_MISTAKES) == [
        "salesmirror.yaml:1:9: invalid config: no such rules directory 'more-rules'",
        "salesmirror.yaml:1:21: invalid config: rules.1: Input should be a valid string",
        "salesmirror.yaml:2:10: invalid config: disable: Input should be a valid list",
        "salesmirror.yaml:4:8: invalid config: severity.a/b: Input should be 'low', 'medium' or 'high'",
        "salesmirror.yaml:5:3: invalid config: severity: the key '1' must be text",
        "salesmirror.yaml:7:8: invalid config: params.a/b: Input should be a valid dictionary",
        "salesmirror.yaml:8:1: invalid config: unknown option 'fail_onn' (did you mean 'fail_on'?)",
        "salesmirror.yaml:9:10: invalid config: fail_on: Input should be 'low', 'medium', 'high' or 'never'",
        "salesmirror.yaml:10:1: duplicate key 'fail_on'",
        "salesmirror.yaml:11:1: invalid config: unknown option 'colour'",
    ]


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_config_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    assert config_problems(tmp_path, text) == [
        "salesmirror.yaml:1:1: invalid config: the file must be a mapping of options "
        "(rules, disable, severity, params, fail_on, infer_absence, suppressions)"
    ]


def test_missing_rules_directory_reported_at_its_line_in_the_config(tmp_path: Path) -> None:
    (tmp_path / "extra").mkdir()
    (tmp_path / "own" / "t").mkdir(parents=True)
    (tmp_path / "own" / "t" / "good.yaml").write_text(GOOD, encoding="utf-8")
    config = tmp_path / "salesmirror.yaml"
    config.write_text("fail_on: high\nrules:\n  - extra\n", encoding="utf-8")
    settings = read_config(str(config))
    # the directory disappears after the config was read: still located in the config
    (tmp_path / "extra").rmdir()
    with pytest.raises(RuleError) as info:
        engine.prepare_rules([str(tmp_path / "own")], settings=settings)
    assert [str(p) for p in info.value.problems] == [f"{config}:3:5: invalid config: no such rules directory 'extra'"]


def test_missing_rules_directory_from_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "salesmirror.yaml"
    config.write_text("rules: [nowhere]\nfail_onn: high\n", encoding="utf-8")
    log = tmp_path / "log.jsonl"
    log.write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--config", str(config), str(log)], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        f"{config}:1:9: invalid config: no such rules directory 'nowhere'",
        f"{config}:2:1: invalid config: unknown option 'fail_onn' (did you mean 'fail_on'?)",
    ]


def test_rules_directory_without_config_position_keeps_its_message(tmp_path: Path) -> None:
    _, problems = collect_rules([str(tmp_path / "nowhere")])
    assert [str(p) for p in problems] == [f"{tmp_path}/nowhere: no such rules directory"]


@pytest.mark.parametrize(
    "setting",
    [
        "knee-jerk-reactionary/strategy-churn.bed_down=99999999999999w",
        "knee-jerk-reactionary/strategy-churn.min_churn=" + "9" * 5000,
        "glory-grabber/closing-share.max_share=nan",
        "glory-grabber/closing-share.max_share=-inf",
        "glory-grabber/closing-share.max_share=" + "1" * 400 + "e-400",
        "glory-grabber/closing-share.max_share=\udc80",
        "=\x00",
    ],
)
def test_hostile_set_values_are_problems_of_the_set(setting: str) -> None:
    with pytest.raises(SalesmirrorError) as info:
        engine.prepare_rules(None, settings=Settings(), sets=[setting])
    assert [p.path for p in info.value.problems] == ["--set"]
    assert setting[:40] in info.value.problems[0].message
