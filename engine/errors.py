"""Errors the library raises; the CLI maps each family to exit code 2."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in a user file (rule, config or input)."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        if self.col:
            return f"{self.path}:{self.line}:{self.col}: {self.message}"
        if self.line:
            return f"{self.path}:{self.line}: {self.message}"
        return f"{self.path}: {self.message}"


class SalesmirrorError(Exception):
    """Base of every error a user can cause; carries one or more problems."""

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("salesmirror", 0, 0, problems)]
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RuleError(SalesmirrorError):
    """A rule file, library file or rule override is invalid."""


class ConfigError(SalesmirrorError):
    """The config file or a --set override is invalid."""


class InvalidInput(SalesmirrorError):
    """Input events are invalid and no rejects file was given."""


class EngineError(SalesmirrorError):
    """A rule failed while running: a bug in salesmirror or an unsupported construct."""
