"""The repository's own promises: CI runs exactly the test command the README gives."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S)]


def test_ci_runs_the_readme_test_command() -> None:
    commands = _readme_commands()
    assert len(commands) >= 2, "the README opens with an install-and-run and a test command"
    test_command = commands[1]
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert script[-1] == test_command
    for tool in ("ruff check", "ruff format --check", "mypy --strict", "pytest"):
        assert tool in test_command


def test_readme_first_command_runs_the_demo() -> None:
    first = _readme_commands()[0]
    assert "pip install" in first and "salesmirror check fixtures/demo/" in first
