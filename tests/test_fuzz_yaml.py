"""Fuzzing the YAML loaders: garbage in, located problems out, never a crash.

Generated input (random bytes; YAML-ish text from a small grammar of keys,
anchors, aliases, tags, brackets, indentation and awkward scalars; alias
chains; mutations of the shipped rule files and of a config) is thrown at the
rule loader (``collect_rules`` on a temporary directory), the config loader
(``read_config``, then ``resolve_overrides`` against the shipped rules) and
``--set`` (``prepare_rules`` with generated overrides). Each run must end in
the ``SalesmirrorError`` family or in success, every problem must carry a path
and a position (line and column >= 1; ``--set`` problems name ``--set``), and
each load must take well under a second.

Profiles: ``ci`` (the default: 300 examples per loader test and 75 for
``--set``, which compiles rules each time; well under a minute in all) and
``long`` (5000 and 1250), chosen with the environment variable
``SALESMIRROR_FUZZ``::

    SALESMIRROR_FUZZ=long .venv/bin/python -m pytest -q tests/test_fuzz_yaml.py

``bench/fuzz.sh`` runs the long profile.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.api import prepare_rules
from engine.config import Settings, read_config, resolve_overrides
from engine.errors import Problem, SalesmirrorError
from engine.lang.loader import RuleSet, collect_rules, load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"

for profile, examples in (("ci", 300), ("long", 5000)):
    settings.register_profile(
        profile,
        max_examples=examples,
        deadline=None,  # the tests time each load themselves
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
FUZZ = settings.get_profile(os.environ.get("SALESMIRROR_FUZZ", "ci"))
FUZZ_SLOWER = settings(FUZZ, max_examples=FUZZ.max_examples // 4)  # each example compiles rules
SLOW = 1.0  # seconds of CPU one load may take

SHIPPED = sorted(RULES.rglob("*.yaml"))
SHIPPED_TEXT = {path: path.read_bytes() for path in SHIPPED}
SHIPPED_RULES: RuleSet = load_rules([str(RULES)])
RULE_IDS = [r.rule.id for r in SHIPPED_RULES.rules]
PARAMS = sorted({(r.rule.id, name) for r in SHIPPED_RULES.rules for name in r.rule.params})
# --set is fuzzed against a few rules (int, float and duration parameters), which compile quickly
FEW = ("knee-jerk-reactionary/strategy-churn", "glory-grabber/closing-share", "regurgitator/verbatim-relay")
FEW_PARAMS = [(rule_id, name) for rule_id, name in PARAMS if rule_id in FEW]

# ---------------------------------------------------------------------------------------------
# the grammar

SCALARS = [
    "x", "t/x", "1", "-1", "0x1F", "0o17", "1_000", "1e999", ".nan", ".inf", "~", "null", "yes", "no", "on",
    "2026-01-05", "2026-13-45", "0000-01-01", "2026-01-05T10:00:00Z", "2026-01-05 10:00:00 +99:00", "12:30:00",
    "=", "<<", "''", '""', "'it''s'", '"\\u00e9\\t\\x00"', '"\\ud800"', '"\\U00110000"', '"\\', "1" * 40,
    "30d", "0d", "-5d", "99999999999999w", "low", "high", "call_listened", "match", "{count}", "$window",
]  # fmt: skip
TAGS = ["!foo", "!!str", "!!binary", "!!python/name:os.system", "!!python/object/apply:os.system", "!<tag:x>", "!"]
ANCHORS = ["&a", "&b", "&c"]
ALIASES = ["*a", "*b", "*c", "*nowhere"]
KEYS = [
    "id", "trait", "title", "severity", "status", "params", "logic", "kind", "where", "type", "window", "message",
    "advice", "docs", "why", "lists", "macros", "rules", "disable", "fail_on", "<<", "1", "yes", "? x", "a b",
]  # fmt: skip
JUNK = [
    "[", "]", "{", "}", ",", ":", "- ", "? ", "|", ">-", "#", "---", "...", "%YAML 1.1", "%TAG ! tag:x,2000:",
    "'", '"', "\t", "\\", "\r", "\u2028", "\x85", "\ufeff", "\x00", "\x07", "\xff", "&", "*", "!",
]  # fmt: skip

leaf = st.sampled_from(SCALARS + ALIASES)
value = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(st.sampled_from(KEYS), inner), max_size=4).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
        ),
        st.tuples(st.sampled_from(ANCHORS + TAGS), inner).map(" ".join),
    ),
    max_leaves=12,
)
line = st.tuples(
    st.integers(0, 8),
    st.sampled_from(["key", "key", "item", "raw"]),
    st.sampled_from(KEYS),
    st.one_of(value, value, st.sampled_from(JUNK)),
)


def _render(lines: list[tuple[int, str, str, str]]) -> str:
    out = []
    for indent, shape, key, text in lines:
        body = {"key": f"{key}: {text}", "item": f"- {text}", "raw": text}[shape]
        out.append(" " * indent + body)
    return "\n".join(out) + "\n"


def _chain(levels: int, width: int) -> str:
    """Anchors each made of ``width`` aliases of the one before: a small or large alias bomb."""
    rows = ["l0: &l0 [x]"]
    rows += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(rows) + "\n"


yamlish = st.one_of(
    st.lists(line, max_size=30).map(_render),
    st.tuples(st.integers(1, 12), st.integers(1, 12)).map(lambda lw: _chain(*lw)),
    st.tuples(st.sampled_from(["[", "{a: ", "- ", "  - ", "[{", "? "]), st.integers(0, 300)).map(
        lambda ck: ck[0] * ck[1]
    ),
    st.text(max_size=300),
).map(lambda text: text.encode("utf-8", "surrogatepass"))


@st.composite
def mutated(draw: Any, originals: list[bytes]) -> bytes:
    """A real file with a few edits: bytes and YAML tokens inserted, lines cut, doubled or swapped."""
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["token", "junk", "byte", "cut", "line", "swap", "truncate"]))
        if edit == "token":
            data[at:at] = draw(st.sampled_from(TAGS + ANCHORS + ALIASES + SCALARS)).encode("utf-8", "surrogatepass")
        elif edit == "junk":
            data[at:at] = draw(st.sampled_from(JUNK)).encode("utf-8")
        elif edit == "byte":
            data[at:at] = bytes([draw(st.integers(0, 255))])
        elif edit == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif edit == "truncate":
            del data[at:]
        else:
            rows = bytes(data).split(b"\n")
            i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(rows) - 1))
            if edit == "line":
                rows.insert(i, rows[j])
            else:
                rows[i], rows[j] = rows[j], rows[i]
            data = bytearray(b"\n".join(rows))
    return bytes(data)


CONFIG = (
    b"rules: []\n"
    b"disable: [kpi-overload/too-many-kpis]\n"
    b"severity:\n  call-listening/monthly-minimum: high\n"
    b"params:\n"
    b"  knee-jerk-reactionary/strategy-churn:\n    bed_down: 21d\n    min_churn: 3\n"
    b"  glory-grabber/closing-share: {max_share: 0.3}\n"
    b"  regurgitator/verbatim-relay: {min_similarity: 0.9, max_added_words: 0}\n"
    b"fail_on: medium\n"
)
config_lines = st.lists(
    st.one_of(
        line,
        st.tuples(
            st.just(0), st.just("key"), st.sampled_from(["rules", "disable", "severity", "params", "fail_on"]), value
        ),
        st.tuples(st.just(2), st.just("key"), st.sampled_from(RULE_IDS), value),
        st.tuples(st.just(4), st.just("key"), st.sampled_from([name for _, name in PARAMS]), value),
    ),
    max_size=20,
).map(_render)
config_text = st.one_of(
    mutated([CONFIG]),
    config_lines.map(lambda text: text.encode("utf-8", "surrogatepass")),
    yamlish,
    st.binary(max_size=500),
)

set_value = st.one_of(
    st.text(max_size=20),
    st.sampled_from(SCALARS),
    st.integers().map(str),
    st.floats().map(str),
    st.integers(-(10**20), 10**20).map(lambda n: f"{n}{'smhdw'[n % 5]}"),
)
set_item = st.one_of(
    st.text(max_size=40),
    st.tuples(st.sampled_from(FEW_PARAMS), set_value).map(lambda pv: f"{pv[0][0]}.{pv[0][1]}={pv[1]}"),
    st.tuples(st.sampled_from([*FEW, "", "x", "a.b"]), st.text(max_size=10), set_value).map(
        lambda rnv: f"{rnv[0]}.{rnv[1]}={rnv[2]}"
    ),
)

# ---------------------------------------------------------------------------------------------
# the properties


def assert_located(problems: list[Problem]) -> None:
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.path and problem.message, problem
        if problem.path == "--set":
            continue  # about a command-line argument, which the message quotes
        assert problem.line >= 1 and problem.col >= 1, str(problem)


def timed(action: Callable[[], list[Problem]]) -> list[Problem]:
    """The problems of ``action``, which must take less than SLOW seconds of this process's CPU.

    CPU time rather than the wall clock, so that other work on a shared machine does not count.
    """
    start = time.process_time()
    try:
        problems = action()
    except SalesmirrorError as exc:  # the one family allowed out
        problems = exc.problems
    elapsed = time.process_time() - start
    assert elapsed < SLOW, f"took {elapsed:.2f}s"
    return problems


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("fuzz")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def load_rule_file(workdir: Path, name: str, content: bytes) -> None:
    rules = workdir / "rules"
    shutil.rmtree(rules, ignore_errors=True)
    (rules / name).parent.mkdir(parents=True)
    (rules / name).write_bytes(content)
    assert_located(timed(lambda: collect_rules([str(rules)])[1]))


@FUZZ
@given(content=st.binary(max_size=2000), name=st.sampled_from(["x.yaml", "_lib.yaml"]))
def test_rule_loader_random_bytes(workdir: Path, content: bytes, name: str) -> None:
    load_rule_file(workdir, name, content)


@FUZZ
@given(content=yamlish, name=st.sampled_from(["x.yaml", "_lib.yaml"]))
def test_rule_loader_yamlish(workdir: Path, content: bytes, name: str) -> None:
    load_rule_file(workdir, name, content)


@FUZZ
@given(data=st.data())
def test_rule_loader_mutated_shipped_rules(workdir: Path, data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(SHIPPED))
    content = data.draw(mutated([SHIPPED_TEXT[original]]))
    load_rule_file(workdir, str(original.relative_to(RULES)), content)


@FUZZ
@given(content=config_text)
def test_config_loader(workdir: Path, content: bytes) -> None:
    path = workdir / "salesmirror.yaml"
    path.write_bytes(content)

    def load() -> list[Problem]:
        found = read_config(str(path))
        resolve_overrides(found, SHIPPED_RULES)
        return []

    assert_located(timed(load))


@pytest.fixture(scope="module")
def few_rules(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The rules in FEW and the library, copied to a directory of their own."""
    target = tmp_path_factory.mktemp("few-rules")
    for path in SHIPPED:
        rel = path.relative_to(RULES)
        if path.name.startswith("_") or rel.with_suffix("").as_posix() in FEW:
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / rel)
    return str(target)


@FUZZ_SLOWER
@given(sets=st.lists(set_item, max_size=4))
def test_set_overrides(few_rules: str, sets: list[str]) -> None:
    def load() -> list[Problem]:
        prepare_rules([few_rules], settings=Settings(), sets=sets)
        return []

    assert_located(timed(load))
