"""What ingestion hands back: the event table, per-line problems, whole-input problems, counts, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from engine.errors import InputError, Problem  # raised by ingestion; part of its interface

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
    raw: str  # the record verbatim, without its line ending; bytes that are not UTF-8 shown as \xNN
    # The record's exact bytes (without its line ending), which ``raw`` cannot
    # always give back; None: the UTF-8 of ``raw`` (a problem made by hand).
    data: bytes | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    def raw_bytes(self) -> bytes:
        """The record byte for byte as it was read (line ending and a file's BOM aside)."""
        if self.data is not None:
            return self.data
        return self.raw.encode("utf-8", "surrogatepass")


@dataclass
class LoadResult:
    """Valid events as an arrow table plus an account of everything refused.

    ``input_errors`` holds the problems of inputs that could not be used as a
    whole (missing, unreadable, a bad CSV header), located: ``path:0`` for a
    file that cannot be read, the header's line for a bad header. Any of them
    makes the load unusable: the table then holds only what could be read.
    """

    table: pa.Table
    problems: list[InputProblem] = field(default_factory=list)
    read: int = 0  # data records read (non-blank lines / CSV rows, roster rows included)
    evaluated: int = 0  # records accepted; read == evaluated + len(problems)
    warnings: list[str] = field(default_factory=list)
    input_errors: list[Problem] = field(default_factory=list)

    def raise_input_errors(self) -> None:
        """Raise one InputError carrying every whole-input problem, if there is any."""
        if self.input_errors:
            raise InputError(self.input_errors)
