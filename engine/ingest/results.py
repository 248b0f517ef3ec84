"""What ingestion hands back: the event table, per-line problems, counts, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from engine.errors import InputError  # raised by ingestion; part of its interface

__all__ = ["EVENT_SCHEMA", "InputError", "InputProblem", "LoadResult", "empty_table"]

# Column order and types are part of the engine's contract with ingestion:
# rules are compiled against these names, and `seq` keeps input order stable.
EVENT_SCHEMA: pa.Schema = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us"), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("actor", pa.string(), nullable=False),
        pa.field("actor_role", pa.string()),
        pa.field("manager", pa.string()),
        pa.field("rep", pa.string()),
        pa.field("deal", pa.string()),
        pa.field("attrs", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("file", pa.string(), nullable=False),
        pa.field("line", pa.int64(), nullable=False),
    ]
)


def empty_table() -> pa.Table:
    """A table with no events but the full schema, so queries still compile."""
    return EVENT_SCHEMA.empty_table()


@dataclass(frozen=True)
class InputProblem:
    """One rejected input record; ``raw`` lets the user fix and re-feed it."""

    path: str  # as given by the user ('-' shown as '<stdin>')
    line: int  # 1-based physical line (CSV: the first line of the row)
    message: str  # every problem of the record, joined by '; '
    raw: str  # the record verbatim, without its trailing newline

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class LoadResult:
    """Valid events as an arrow table plus an account of everything refused."""

    table: pa.Table
    problems: list[InputProblem] = field(default_factory=list)
    read: int = 0  # data records read (non-blank lines / CSV rows, roster rows included)
    evaluated: int = 0  # records accepted; read == evaluated + len(problems)
    warnings: list[str] = field(default_factory=list)
