"""What ingestion hands back: the event table, per-line problems, whole-input problems, counts, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from engine.errors import InputError, Problem  # raised by ingestion; part of its interface

if TYPE_CHECKING:
    from engine.ingest.store import EventStore

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


class LoadResult:
    """Valid events plus an account of everything refused.

    The events live in a DuckDB table (``store``, see ``engine.ingest.store``)
    when ingestion made them, so a large log never has to sit in Python
    memory; ``table`` is them as an Arrow table, made on first use. A result
    built by hand (a period's slice, a live tick) gives ``table`` directly.

    ``input_errors`` holds the problems of inputs that could not be used as a
    whole (missing, unreadable, a bad CSV header), located: ``path:0`` for a
    file that cannot be read, the header's line for a bad header. Any of them
    makes the load unusable: the table then holds only what could be read.
    """

    def __init__(
        self,
        table: pa.Table | None = None,
        problems: list[InputProblem] | None = None,
        read: int = 0,  # data records read (non-blank lines / CSV rows, roster rows included)
        evaluated: int = 0,  # records accepted; read == evaluated + len(problems)
        warnings: list[str] | None = None,
        input_errors: list[Problem] | None = None,
        *,
        store: EventStore | None = None,
    ) -> None:
        if table is None and store is None:
            table = empty_table()
        self._table = table
        self.store = store
        self.problems = problems if problems is not None else []
        self.read = read
        self.evaluated = evaluated
        self.warnings = warnings if warnings is not None else []
        self.input_errors = input_errors if input_errors is not None else []

    @property
    def table(self) -> pa.Table:
        """The events as an Arrow table of EVENT_SCHEMA, in input order."""
        if self._table is None:
            assert self.store is not None
            self._table = self.store.arrow()
        return self._table

    @property
    def num_rows(self) -> int:
        """How many events (without making the Arrow table)."""
        if self._table is not None:
            return int(self._table.num_rows)
        assert self.store is not None
        return self.store.num_rows

    def with_table(self, table: pa.Table) -> LoadResult:
        """The same account with other events (held as Arrow)."""
        return LoadResult(
            table, list(self.problems), self.read, self.evaluated, list(self.warnings), list(self.input_errors)
        )

    def raise_input_errors(self) -> None:
        """Raise one InputError carrying every whole-input problem, if there is any."""
        if self.input_errors:
            raise InputError(self.input_errors)
