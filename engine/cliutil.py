"""What every salesmirror command shares: exit codes, stderr and stdout lines, and the error guard.

``cli.py`` and the commands that live beside their packages (``engine.audit``,
``engine.importers``, ``engine.live``) all report problems the same way:
located lines on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_FINDINGS", "fail", "guard", "out", "say", "silence_stdout"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def say(line: str) -> None:
    """A line on stderr; a closed stderr (``2>&- ``, a reader gone) changes nothing, least of all the exit code."""
    with contextlib.suppress(ValueError, OSError):  # BrokenPipeError is an OSError
        click.echo(line, err=True)


def out(text: str) -> None:
    """Text on stdout; when the reader stops early (``| head``) the rest is dropped quietly."""
    try:
        click.echo(text, nl=False)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def fail(message: str) -> NoReturn:
    say(message)
    sys.exit(EXIT_ERROR)


def guard(func: F) -> F:
    """Turn library errors into stderr lines and exit code 2, never a traceback.

    The exit code never depends on the output pipes: a closed stdout ends the
    output quietly, a closed stderr loses only the messages.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from engine.errors import SalesmirrorError

        try:
            return func(*args, **kwargs)
        except SalesmirrorError as exc:  # rules, config, inputs: each error says how it is shown
            *lines, last = exc.report_lines()
            for line in lines:
                say(line)
            fail(last)
        except BrokenPipeError:  # the reader of stdout went away: not an error worth printing
            silence_stdout()
            sys.exit(EXIT_CLEAN)
        except OSError as exc:
            fail(f"salesmirror: {exc.filename or ''}: {exc.strerror or exc}")
        except KeyboardInterrupt:
            fail("salesmirror: interrupted")
        except Exception as exc:  # a bug: say so plainly; SALESMIRROR_DEBUG=1 shows the traceback
            if os.environ.get("SALESMIRROR_DEBUG"):
                raise
            fail(
                f"salesmirror: internal error ({type(exc).__name__}: {exc}); please report it, "
                "and set SALESMIRROR_DEBUG=1 for the details"
            )

    return wrapper  # type: ignore[return-value]
