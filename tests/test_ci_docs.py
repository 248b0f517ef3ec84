"""docs/CI.md, the README's CI section and .pre-commit-hooks.yaml say what the commands really accept.

Every ``salesmirror`` command line in the page (shell blocks and the workflow's
``run:`` steps) and in the README's CI section is parsed by the CLI itself, so an option renamed in the code
and not in the page fails here; the YAML examples load; the hooks run.
"""

from __future__ import annotations

import re
import shlex
from datetime import date
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from engine.report.suppress import read_suppressions
from tests.ci_support import ROOT, cli, own_rules

PAGE = ROOT / "docs" / "CI.md"
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)


def _commands(text: str) -> list[list[str]]:
    """The salesmirror command lines of a shell text, continuation lines joined."""
    joined = text.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
        words = shlex.split(line, comments=True)
        if words and words[0] == "salesmirror":
            found.append(words[1:])
    return found


def _workflow() -> dict[str, Any]:
    (workflow,) = [yaml.safe_load(block) for block in _blocks("yaml") if "jobs:" in block]
    assert isinstance(workflow, dict)
    return workflow


def _readme_ci_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## In CI", 1)[1]
    return section.split("\n## ", 1)[0]


def _every_command() -> list[list[str]]:
    commands = [words for block in _blocks("sh") for words in _commands(block)]
    for block in re.findall(r"```sh\n(.*?)```", _readme_ci_section(), flags=re.S):
        commands += _commands(block)
    for step in _workflow()["jobs"]["check"]["steps"]:
        commands += _commands(str(step.get("run", "")))
    return commands


def _parse(words: list[str]) -> None:
    """Parse a command line as the CLI would, without running it (unknown options raise)."""
    group: click.Command = main
    args = list(words)
    while isinstance(group, click.Group):
        name = args.pop(0)
        sub = group.get_command(click.Context(group), name)
        assert sub is not None, f"no command {name!r} in {words}"
        group = sub
    with group.make_context(group.name or "", args, resilient_parsing=False):
        pass


def test_the_page_has_a_workflow_and_a_shell_version() -> None:
    steps = _workflow()["jobs"]["check"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif") for u in uses)
    assert any(u.startswith("actions/setup-python") for u in uses)
    runs = " ".join(str(step.get("run", "")) for step in steps)
    assert "pip install" in runs and "--baseline" in runs and "--fail-on high" in runs and "--output-sarif" in runs
    assert any("baseline create" in " ".join(words) for words in _every_command())


@pytest.mark.parametrize("words", _every_command(), ids=lambda words: " ".join(words[:2]))
def test_every_command_in_the_page_parses(words: list[str]) -> None:
    _parse(words)


def test_a_misspelt_option_would_be_caught() -> None:
    with pytest.raises(click.NoSuchOption):
        _parse(["check", "events.jsonl", "--baseline-file", "b.json"])


def test_the_suppressions_example_is_a_valid_file(tmp_path: Path) -> None:
    (example,) = [block for block in _blocks("yaml") if block.startswith("# suppressions.yaml")]
    path = tmp_path / "suppressions.yaml"
    path.write_text(example, encoding="utf-8")
    (entry,) = read_suppressions([str(path)])
    assert (entry.rule, entry.manager, entry.rep, entry.expires) == (
        "detached-dictator/rep-without-contact",
        "mgr-007",
        "rep-031",
        date(2026, 6, 30),
    )
    assert entry.period is not None and (entry.period.start, entry.period.end) == (date(2026, 1, 1), date(2026, 4, 1))


def test_the_pre_commit_hooks_run_salesmirror_rules_commands(tmp_path: Path) -> None:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert [hook["id"] for hook in hooks] == ["salesmirror-rules-validate", "salesmirror-rules-test"]
    for hook in hooks:
        words = shlex.split(hook["entry"])
        assert words[:2] == ["salesmirror", "rules"] and hook["language"] == "python"
        assert hook["pass_filenames"] is False  # the commands take directories, not the changed files
        result = CliRunner().invoke(main, [*words[1:], "--help"])
        assert result.exit_code == 0, result.output
    validate = hooks[0]
    own_rules(tmp_path)
    entry = shlex.split(validate["entry"])[1:]
    code, out, err = cli(tmp_path, *entry, "rules")
    assert (code, out) == (0, "3 rule(s) valid\n"), err
    (tmp_path / "rules" / "ci" / "broken.yaml").write_text("id: ci/broken\ntrait: x\n", encoding="utf-8")
    code, _, err = cli(tmp_path, *entry, "rules")
    assert code == 2 and "broken.yaml:" in err
