"""Errors the library raises: one family, each carrying located problems.

Every error a user can cause is a ``SalesmirrorError`` holding one or more
``Problem`` (path, line, col, message), so a caller needs one ``except`` and
one way to show them; the CLI maps the family to exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "EngineError",
    "InputError",
    "InvalidInput",
    "Problem",
    "ProblemsFound",
    "RuleError",
    "SalesmirrorError",
    "UsageError",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in a user file (rule, config or input); line/col 0 = unknown."""

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

    def problem_lines(self) -> list[str]:
        """Each problem as a command line shows it."""
        return [str(p) for p in self.problems]

    def report_lines(self) -> list[str]:
        """What a command line shows for this error: each problem, then how many there are."""
        return [*self.problem_lines(), _found(len(self.problems))]


def _found(count: int) -> str:
    return f"salesmirror: {count} {'problem' if count == 1 else 'problems'} found"


class RuleError(SalesmirrorError):
    """A rule file, library file or rule override is invalid."""


class ConfigError(SalesmirrorError):
    """The config file or a --set override is invalid."""


class InvalidInput(SalesmirrorError):
    """Input events are invalid and no rejects file was given."""


class InputError(SalesmirrorError):
    """A whole input cannot be used (missing, unreadable, corrupt, bad CSV header).

    Per-record trouble is never raised; it becomes an ``InputProblem`` instead.
    An input stops at its first such problem, so there is one, shown as it
    always was: ``salesmirror: file[:line]: cannot read: ...``.
    """

    @classmethod
    def at(cls, path: str, message: str, *, line: int = 0, col: int = 0) -> InputError:
        """The error for one place of an input (line 0: the input as a whole)."""
        return cls([Problem(path, line, col, message)])

    def problem_lines(self) -> list[str]:
        return [f"salesmirror: {problem}" for problem in self.problems]

    def report_lines(self) -> list[str]:
        return self.problem_lines()


class UsageError(SalesmirrorError):
    """The command line asks for something that cannot be done safely (an output over an input)."""

    def problem_lines(self) -> list[str]:
        return [f"salesmirror: {problem.message}" for problem in self.problems]

    def report_lines(self) -> list[str]:
        return self.problem_lines()


class ProblemsFound(SalesmirrorError):
    """Problems of several layers (config, rules, inputs) found in one run, reported together.

    ``errors`` keeps each layer's error in the order the layers were read, so
    each problem is shown the way its own layer shows it.
    """

    def __init__(self, errors: list[SalesmirrorError]) -> None:
        self.errors = errors
        super().__init__([problem for error in errors for problem in error.problems])

    def problem_lines(self) -> list[str]:
        return [line for error in self.errors for line in error.problem_lines()]

    def report_lines(self) -> list[str]:
        return [*self.problem_lines(), _found(len(self.problems))]


class EngineError(SalesmirrorError):
    """A rule failed while running: a bug in salesmirror or an unsupported construct."""


class OutOfMemory(SalesmirrorError):
    """The run needs more memory than it was allowed (``--memory-limit``) even with spilling."""
