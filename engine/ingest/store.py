"""Where a load keeps its accepted events: a DuckDB table, not Python or Arrow memory.

A quarter of an org's log is millions of events; held as an Arrow table in
the Python process it costs about a kilobyte per event and cannot spill. The
loader therefore appends every accepted row to a table of one DuckDB
connection (the memory limit and temporary directory of ``engine.limits``
apply, so a log larger than memory spills to disk), and the DuckDB backend
evaluates the rules on that same database, through a cursor of its own. An
Arrow copy is made only for a caller that asks for one
(:attr:`LoadResult.table`: the Spark backend, the audit's period slices).

Rows arrive in ``sm_rows`` with the number of their input (``sm_origin``),
their line and a running number (``sm_n``) that keeps the order of the
events of one record; :meth:`finish` settles them into ``sm_events`` with the
event schema (``seq`` in input and line order, ``file`` named).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from engine import limits
from engine.ingest.dedupe import record_keys
from engine.ingest.results import EVENT_SCHEMA

__all__ = ["ROWS", "STORE_MIN_ROWS", "TABLE", "EventStore"]

ROWS = "sm_rows"  # rows as they are accepted
TABLE = "sm_events"  # the settled events, EVENT_SCHEMA's columns (a view)
SORTED = "sm_sorted"  # ... and the table under it, in input and line order
_FIELDS = [f.name for f in EVENT_SCHEMA if f.name not in ("seq", "file", "line")]
_SQL_TYPES = {
    pa.int64(): "BIGINT",
    pa.string(): "VARCHAR",
    pa.timestamp("us"): "TIMESTAMP",
}
_names = itertools.count(1)


STORE_MIN_ROWS = 262_144  # rows kept as Arrow before they move to DuckDB (tests lower it to 0)


class EventStore:
    """A load's accepted rows: Arrow batches while few, then one DuckDB table.

    A small load (a test, a team's week) stays in Arrow: a DuckDB database
    costs tens of milliseconds to set up and settle, more than such a load
    takes to check. Past :data:`STORE_MIN_ROWS` rows everything moves to a
    DuckDB table and later rows go straight there. Both ways settle to the
    same events in the same order (tests/test_store.py).
    """

    def __init__(self, min_rows: int | None = None) -> None:
        self.min_rows = STORE_MIN_ROWS if min_rows is None else min_rows
        self.con: duckdb.DuckDBPyConnection | None = None  # set once the rows are in DuckDB
        self._batches: list[pa.Table] = []  # the rows while in Arrow, with sm_origin, line, sm_n
        self.finished = False
        self._rows = 0
        self._arrow: pa.Table | None = None
        if self.min_rows <= 0:
            self._open()

    @property
    def in_duckdb(self) -> bool:
        return self.con is not None

    def _open(self) -> duckdb.DuckDBPyConnection:
        """Move the rows so far to a new DuckDB table; later rows go there directly."""
        con = duckdb.connect(database=":memory:")
        limits.apply(con)
        columns = ", ".join(f"{name} {_SQL_TYPES[EVENT_SCHEMA.field(name).type]}" for name in _FIELDS)
        con.execute(f"CREATE TABLE {ROWS} (sm_origin INTEGER, line BIGINT, sm_n BIGINT, {columns})")
        self.con = con
        batches, self._batches = self._batches, []
        for batch in batches:
            self._insert(batch)
        return con

    def _insert(self, batch: pa.Table) -> None:
        assert self.con is not None
        name = f"sm_batch_{next(_names)}"
        self.con.register(name, batch)
        try:
            self.con.execute(f"INSERT INTO {ROWS} SELECT * FROM {name}")
        finally:
            self.con.unregister(name)

    # ------------------------------------------------------------ filling

    def append(self, rows: pa.Table | pa.RecordBatch, origins: pa.Array, lines: pa.Array, first_n: int) -> None:
        """Append rows of the event columns (no seq, file, line), their inputs and lines."""
        batch = pa.table(
            {
                "sm_origin": origins.cast(pa.int32()),
                "line": lines.cast(pa.int64()),
                "sm_n": pa.array(range(first_n, first_n + len(lines)), pa.int64()),
                **{field: rows.column(field).cast(EVENT_SCHEMA.field(field).type) for field in _FIELDS},
            }
        )
        self._rows += batch.num_rows
        if self.con is not None:
            self._insert(batch)
            return
        self._batches.append(batch)
        if self._rows > self.min_rows:
            self._open()

    def connection(self) -> duckdb.DuckDBPyConnection | None:
        """The DuckDB connection once the rows are there (None while they are few, in Arrow)."""
        return self.con

    def insert_from(self, table: str, origin: int, first_n: int, first_line: int) -> int:
        """Append the rows of a table of the store's connection (``line`` and event columns): how many."""
        assert self.con is not None
        fields = ", ".join(_FIELDS)
        self.con.execute(
            f"INSERT INTO {ROWS} SELECT {int(origin)}, line, {int(first_n)} + line - {int(first_line)}, {fields} "
            f"FROM {table}"
        )
        count = int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        self._rows += count
        return count

    # ------------------------------------------------------------ settling

    def _memory(self) -> pa.Table:
        """The Arrow rows as one table (in the order they came)."""
        if not self._batches:
            return _empty_rows()
        table = pa.concat_tables(self._batches).combine_chunks()
        self._batches = [table]
        return table

    def repeated_ids(self) -> list[str]:
        """Ids more than one row holds, sorted."""
        if self.con is None:
            table = self._memory()
            if not table.num_rows:
                return []
            counts = pc.value_counts(table.column("id"))
            return sorted(counts.field("values").filter(pc.greater(counts.field("counts"), 1)).to_pylist())
        rows = self.con.execute(f"SELECT id FROM {ROWS} GROUP BY id HAVING count(*) > 1 ORDER BY id").fetchall()
        return [r[0] for r in rows]

    def rows_with_ids(self, ids: Sequence[str]) -> tuple[pa.Table, pa.Array, pa.Array, pa.Array]:
        """The rows holding these ids in input order: event columns, then inputs, lines, running numbers."""
        if self.con is None:
            table = self._memory()
            table = table.filter(pc.is_in(table.column("id"), value_set=pa.array(list(ids), pa.string())))
            table = table.sort_by([("sm_origin", "ascending"), ("line", "ascending"), ("sm_n", "ascending")])
        else:
            fields = ", ".join(_FIELDS)
            table = self.con.sql(
                f"SELECT {fields}, sm_origin, line, sm_n FROM {ROWS} WHERE id IN (SELECT UNNEST(?)) "
                "ORDER BY sm_origin, line, sm_n",
                params=[list(ids)],
            ).to_arrow_table()
        return (
            table.select(_FIELDS),
            table.column("sm_origin").combine_chunks(),
            table.column("line").combine_chunks(),
            table.column("sm_n").combine_chunks(),
        )

    def drop(self, records: Sequence[tuple[int, int]], numbers: Sequence[int]) -> None:
        """Drop every row of these (input, line) records and the rows of these running numbers."""
        if not records and not numbers:
            return
        if self.con is None:
            table = self._memory()
            keys = record_keys(table.column("sm_origin").combine_chunks(), table.column("line").combine_chunks())
            wanted = record_keys(
                pa.array([o for o, _ in records], pa.int64()), pa.array([n for _, n in records], pa.int64())
            )
            gone = pc.or_(
                pc.is_in(keys, value_set=wanted),
                pc.is_in(table.column("sm_n"), value_set=pa.array(list(numbers), pa.int64())),
            )
            self._batches = [table.filter(pc.invert(gone))]
            self._rows = self._batches[0].num_rows
            return
        if records:
            self.con.execute(
                f"DELETE FROM {ROWS} WHERE sm_origin::BIGINT * {1 << 40} + line IN (SELECT UNNEST(?))",
                [[(o << 40) + line for o, line in records]],
            )
        if numbers:
            self.con.execute(f"DELETE FROM {ROWS} WHERE sm_n IN (SELECT UNNEST(?))", [list(numbers)])
        self._rows = int(self.con.execute(f"SELECT count(*) FROM {ROWS}").fetchall()[0][0])

    def finish(self, names: Sequence[str]) -> None:
        """The settled events: in input and line order, numbered (seq) and with their input's name."""
        self.finished = True
        if self.con is None:
            table = self._memory()
            order = pc.sort_indices(
                table, sort_keys=[("sm_origin", "ascending"), ("line", "ascending"), ("sm_n", "ascending")]
            )
            table = table.take(order)
            files = pa.array(list(names), pa.string()).take(table.column("sm_origin").cast(pa.int64()))
            arrays = [
                pa.array(range(table.num_rows), pa.int64()),
                *(table.column(name) for name in _FIELDS),
                files,
                table.column("line"),
            ]
            self._arrow = pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)
            self._batches = []
            self._rows = self._arrow.num_rows
            return
        # one sort into a table, numbered by its row ids (a window's ROW_NUMBER would sort again)
        fields = ", ".join(f"r.{name}" for name in _FIELDS)
        self.con.execute(
            f"CREATE TABLE {SORTED} AS SELECT {fields}, (?::VARCHAR[])[r.sm_origin + 1] AS file, r.line "
            f"FROM {ROWS} r ORDER BY r.sm_origin, r.line, r.sm_n",
            [list(names) or [""]],
        )
        self.con.execute(f"DROP TABLE {ROWS}")
        columns = ", ".join(f.name for f in EVENT_SCHEMA if f.name != "seq")
        self.con.execute(f"CREATE VIEW {TABLE} AS SELECT rowid::BIGINT AS seq, {columns} FROM {SORTED}")
        self._rows = int(self.con.execute(f"SELECT count(*) FROM {SORTED}").fetchall()[0][0])

    def type_counts(self) -> list[tuple[str, int]]:
        """(type, events) of the settled events."""
        if self.con is None:
            table = self.arrow()
            counted = pc.value_counts(table.column("type")).to_pylist() if table.num_rows else []
            return [(item["values"], int(item["counts"])) for item in counted]
        rows = self.con.execute(f"SELECT type, count(*) FROM {TABLE} GROUP BY type").fetchall()
        return [(r[0], int(r[1])) for r in rows]

    # ------------------------------------------------------------ reading

    @property
    def num_rows(self) -> int:
        return self._rows

    def arrow(self) -> pa.Table:
        """The settled events as one Arrow table of EVENT_SCHEMA (made once, on first use)."""
        if self._arrow is None:
            assert self.con is not None and self.finished
            table = self.con.sql(f"SELECT * FROM {TABLE} ORDER BY seq").to_arrow_table()
            self._arrow = pa.Table.from_arrays(
                [table.column(f.name).cast(f.type) for f in EVENT_SCHEMA], schema=EVENT_SCHEMA
            ).combine_chunks()
        return self._arrow

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own to this database (its temporary tables are its own)."""
        assert self.con is not None
        return self.con.cursor()

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


def _empty_rows() -> pa.Table:
    schema = pa.schema(
        [pa.field("sm_origin", pa.int32()), pa.field("line", pa.int64()), pa.field("sm_n", pa.int64())]
        + [pa.field(name, EVENT_SCHEMA.field(name).type) for name in _FIELDS]
    )
    return schema.empty_table()
