"""Progress on stderr for long runs, only when a person is watching.

Reading a large log, evaluating the rules (and, for an audit, two periods and
the charts) take seconds to minutes, so a terminal gets a progress display
(rich) of the steps, with a bar where the work has a count (the rules). It is
drawn on stderr and only when stderr is a terminal: a pipe, a file or CI gets
nothing, and stdout, which may carry the report, never does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = ["Steps", "steps"]


class Steps:
    """Named steps, each shown while it runs; a no-op when nobody is watching."""

    def __init__(self, progress: Any | None) -> None:
        self._progress = progress

    @contextmanager
    def step(self, words: str) -> Iterator[None]:
        if self._progress is None:
            yield
            return
        task = self._progress.add_task(words, total=1)
        try:
            yield
        finally:
            self._progress.update(task, completed=1)

    @contextmanager
    def bar(self, words: str, total: int) -> Iterator[Callable[[str], None]]:
        """A step of ``total`` parts; the callable it gives marks one more done (and names the next)."""
        if self._progress is None:
            yield lambda _: None
            return
        progress = self._progress
        task = progress.add_task(words, total=total)

        def advance(label: str) -> None:
            progress.update(task, advance=1, description=f"{words}: {label}")

        try:
            yield advance
        finally:
            progress.update(task, completed=total, description=words)


@contextmanager
def steps(stream: IO[str] | None = None) -> Iterator[Steps]:
    """A :class:`Steps` drawing on ``stream`` (stderr) when it is a terminal."""
    out = stream if stream is not None else sys.stderr
    if not _is_terminal(out):
        yield Steps(None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(file=out)
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    )
    with progress:
        yield Steps(progress)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
