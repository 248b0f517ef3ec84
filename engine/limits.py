"""How much memory the embedded engine may use, and where it spills what does not fit.

DuckDB keeps its working set in memory up to a limit (by default most of the
machine's memory) and spills sorts, joins and aggregates beyond it to a
temporary directory, so a log larger than memory still finishes, only slower.
``check --memory-limit 1GB`` sets the limit for every connection the run
opens (ingestion's chunk judge and the backend); ``--temp-dir`` says where
to spill (default: a fresh directory under the system's temporary one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import duckdb

from engine.errors import OutOfMemory, Problem, UsageError

__all__ = ["LIMITS", "Limits", "apply", "memory_guard", "parse_memory"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


class _Connection(Protocol):
    def execute(self, query: str, parameters: object = ...) -> object: ...


@dataclass
class Limits:
    memory: str | None = None  # e.g. "1GB", as DuckDB spells it
    temp_directory: str | None = None


LIMITS = Limits()  # this process's, set once by the command line (or a caller of the API)


def parse_memory(text: str) -> str:
    """``1GB``, ``512 MiB``: the size as DuckDB reads it; UsageError for anything else."""
    found = _SIZE.match(text)
    if found is None:
        raise UsageError(f"--memory-limit {text!r}: give a size such as 512MB or 2GB")
    number, unit = found.groups()
    return f"{number}{unit.upper().replace('IB', 'iB')}"


def apply(con: _Connection) -> None:
    """Give a DuckDB connection this process's limits (none set: DuckDB's defaults), and silence it.

    DuckDB draws a progress bar on stdout for any query that runs over two
    seconds, terminal or not; that would land inside ``--format json``,
    SARIF or ``watch``'s finding lines. Every connection the engine opens
    comes through here.
    """
    con.execute("SET enable_progress_bar = false")
    if LIMITS.memory is not None:
        con.execute(f"SET memory_limit = '{parse_memory(LIMITS.memory)}'")
    if LIMITS.temp_directory is not None:
        con.execute("SET temp_directory = ?", [LIMITS.temp_directory])


@contextmanager
def memory_guard(what: str) -> Iterator[None]:
    """DuckDB running out of its memory limit, as an error a person can act on (not a crash)."""
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        limit = f"--memory-limit {LIMITS.memory}" if LIMITS.memory else "the memory this machine has"
        raise OutOfMemory(
            [
                Problem(
                    "salesmirror",
                    0,
                    0,
                    f"{what} needs more memory than {limit} allows, even spilling to disk: "
                    "raise the limit (or leave it out)",
                )
            ]
        ) from exc
