"""The live store: accepted events and the run's state in one embedded DuckDB database.

Events, read offsets, the watermark, the keys of findings already emitted and
the outbox of findings not yet delivered are written in one transaction per
batch, so the state on disk is always one a restart can resume from: a kill
between two batches loses nothing that was acknowledged (its offset is
stored only with its events) and emits nothing twice (a finding's key is
stored with it in the outbox, before it is printed or posted; a line still in
the outbox is delivered again on restart, so delivery is at least once, and
exactly once for any crash outside the moment of printing).

Without ``--state`` the database lives in a temporary directory for the run:
on disk either way, so memory stays within DuckDB's ``memory_limit`` however
long the stream is.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine import limits
from engine.errors import UsageError
from engine.ingest import EVENT_SCHEMA
from engine.live.sources import Offsets

__all__ = ["EVENT_COLUMNS", "STANDING_TYPES", "STATE_VERSION", "Store"]

STATE_VERSION = 1
EVENT_COLUMNS = [f.name for f in EVENT_SCHEMA if f.name != "seq"]  # seq is given at evaluation time
_CONTENT = [name for name in EVENT_COLUMNS if name not in ("file", "line")]  # what makes two records the same event
# Events every slice of the store needs whatever their time (engine.live.evaluator): the roster
# (who led whom since when) and recorded absences (dated when logged, about days that may come later).
STANDING_TYPES = ("team_member_added", "team_member_removed", "person_absent")
_STANDING = "(" + ", ".join(f"'{t}'" for t in STANDING_TYPES) + ")"


class IdFilter:
    """A Bloom filter of the ids in the store, so a batch looks up only ids that may be there.

    Looking every batch's ids up in the events table scans all its ids: on a
    stream of 5M events that was two thirds of ``watch``'s time, and it grows
    with the stream. The filter answers "certainly not stored" for nearly all
    of them; only the rest are looked up, so the answer stays exact. Its size
    is fixed (16 MiB, 4 probes: about 1 false "maybe" in 200 at 10M ids), so
    memory stays flat; past a few tens of millions of ids more of them are
    looked up, nothing else changes.
    """

    BITS = 1 << 27
    PROBES = 4

    def __init__(self) -> None:
        self.bits = np.zeros(self.BITS // 8, dtype=np.uint8)

    def _positions(self, ids: Sequence[str]) -> Any:
        digests = b"".join(hashlib.blake2b(i.encode("utf-8", "surrogatepass"), digest_size=16).digest() for i in ids)
        halves = np.frombuffer(digests, dtype="<u8").reshape(-1, 2)
        first, step = halves[:, 0], halves[:, 1] | np.uint64(1)
        probes = np.arange(self.PROBES, dtype=np.uint64)
        with np.errstate(over="ignore"):  # double hashing modulo 2**64, then the table's size
            return (first[:, None] + probes[None, :] * step[:, None]) % np.uint64(self.BITS)

    def add(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        where = self._positions(ids).ravel()
        np.bitwise_or.at(self.bits, where >> np.uint64(3), np.left_shift(1, where & np.uint64(7)).astype(np.uint8))

    def maybe(self, ids: Sequence[str]) -> list[bool]:
        """Per id: False when it is certainly not stored."""
        if not ids:
            return []
        where = self._positions(ids)
        found = (self.bits[where >> np.uint64(3)] >> (where & np.uint64(7)).astype(np.uint8)) & 1
        return [bool(x) for x in found.all(axis=1)]


class Store:
    """One DuckDB database holding the events accepted so far and the state of the run."""

    def __init__(self, state_dir: str | None, *, memory_limit: str = "1GB") -> None:
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if state_dir is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="salesmirror-live-")
            directory = self._scratch.name
        else:
            os.makedirs(state_dir, exist_ok=True)
            directory = state_dir
        self.path = os.path.join(directory, "live.duckdb")
        try:
            self.con = duckdb.connect(self.path)
        except duckdb.Error as exc:
            raise UsageError(f"--state {state_dir}: cannot open its database ({exc})") from exc
        limits.apply(self.con)  # no progress bar on stdout, amid the finding lines; the spill directory, if set
        self.con.execute(f"SET memory_limit = '{_size(memory_limit)}'")  # the store's own limit, over the process's
        self.con.execute("SET preserve_insertion_order = false")
        columns = ", ".join(f"{f.name} {_sql_type(f.type)}" for f in EVENT_SCHEMA if f.name != "seq")
        self.con.execute(f"CREATE TABLE IF NOT EXISTS events ({columns})")
        # a copy of the standing events, so a slice reads them without scanning every event
        self.con.execute(f"CREATE TABLE IF NOT EXISTS standing AS SELECT * FROM events WHERE type IN {_STANDING}")
        # what the whole log says of when each family is logged, kept up as ticks pass (engine.live.evaluator)
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS acc_logged (whole BOOLEAN, manager VARCHAR, family VARCHAR, "
            "l_start TIMESTAMP, l_end TIMESTAMP, events BIGINT, early BIGINT)"
        )
        self.con.execute("CREATE TABLE IF NOT EXISTS acc_logged_r (rep VARCHAR, family VARCHAR, l_start TIMESTAMP)")
        self.con.execute("CREATE TABLE IF NOT EXISTS acc_types (type VARCHAR, events BIGINT)")
        self.con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        self.con.execute("CREATE TABLE IF NOT EXISTS offsets (input VARCHAR PRIMARY KEY, byte BIGINT, line BIGINT)")
        self.con.execute("CREATE TABLE IF NOT EXISTS emitted (key VARCHAR PRIMARY KEY, watermark BIGINT)")
        self.con.execute("CREATE TABLE IF NOT EXISTS outbox (n BIGINT PRIMARY KEY, line VARCHAR)")
        row = self.con.execute("SELECT MIN(ts) FROM events").fetchone()
        self.first_ts = (
            row[0] if row else None
        )  # the earliest stored event's time: a slice before it is the whole store
        self.ids = IdFilter()
        with self.con.cursor() as cursor:
            for batch in cursor.sql("SELECT id FROM events").to_arrow_reader(1 << 16):
                self.ids.add(batch.column(0).to_pylist())
        version = self.get("version")
        if version is None:
            self.put("version", STATE_VERSION)
        elif int(version) != STATE_VERSION:
            raise UsageError(f"--state {state_dir}: written by another version of the live state ({version})")

    # ------------------------------------------------------------ state

    def get(self, key: str) -> Any:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, json.dumps(value)])

    def offsets(self) -> Offsets:
        rows = self.con.execute("SELECT input, byte, line FROM offsets").fetchall()
        return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}

    def set_offset(self, key: str, byte: int, line: int) -> None:
        self.con.execute("INSERT OR REPLACE INTO offsets VALUES (?, ?, ?)", [key, byte, line])

    def emitted(self) -> set[str]:
        return {str(r[0]) for r in self.con.execute("SELECT key FROM emitted").fetchall()}

    def add_emitted(self, key: str, at: int, line: str) -> None:
        """Record a finding as emitted and queue its line for delivery (same transaction as the batch)."""
        self.con.execute("INSERT INTO emitted VALUES (?, ?)", [key, at])
        serial = int(self.get("outbox_serial") or 0) + 1  # never reused, though delivered lines are deleted
        self.put("outbox_serial", serial)
        self.con.execute("INSERT INTO outbox VALUES (?, ?)", [serial, line])

    def outbox(self) -> list[tuple[int, str]]:
        return [(int(r[0]), str(r[1])) for r in self.con.execute("SELECT n, line FROM outbox ORDER BY n").fetchall()]

    def delivered(self, upto: int) -> None:
        self.con.execute("DELETE FROM outbox WHERE n <= ?", [upto])

    def begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.con.execute("COMMIT")

    # ------------------------------------------------------------ events

    def count(self) -> int:
        row = self.con.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(row[0]) if row else 0

    def insert(self, table: pa.Table) -> None:
        """Append accepted events (a table with the event columns; seq, if present, is dropped)."""
        if table.num_rows == 0:
            return
        self.ids.add(table.column("id").to_pylist())
        earliest = pc.min(table.column("ts")).as_py()
        if earliest is not None and (self.first_ts is None or earliest < self.first_ts):
            self.first_ts = earliest
        self.con.register("sm_live_in", table.select(EVENT_COLUMNS))
        try:
            self.con.execute(f"INSERT INTO events SELECT {', '.join(EVENT_COLUMNS)} FROM sm_live_in")
            self.con.execute(
                f"INSERT INTO standing SELECT {', '.join(EVENT_COLUMNS)} FROM sm_live_in WHERE type IN {_STANDING}"
            )
        finally:
            self.con.unregister("sm_live_in")

    def holders(self, ids: list[str]) -> dict[str, tuple[tuple[Any, ...], str]]:
        """For ids already stored: the stored event's content and where it was read (``file:line``)."""
        ids = [i for i, maybe in zip(ids, self.ids.maybe(ids), strict=True) if maybe]
        if not ids:
            return {}
        rows = self.con.execute(
            f"SELECT {', '.join(_CONTENT)}, file, line FROM events WHERE id IN (SELECT UNNEST(?))", [ids]
        ).fetchall()
        return {str(r[0]): (tuple(r[: len(_CONTENT)]), f"{r[-2]}:{r[-1]}") for r in rows}

    def recent(self, since_us: int) -> pa.Table:
        """Stored events at or after an instant (microseconds since the epoch), in time order."""
        query = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE epoch_us(ts) >= {int(since_us)} ORDER BY ts, id"
        cursor = self.con.cursor()  # its own result, whatever the main connection has pending (outside a batch only)
        try:
            return cursor.sql(query).to_arrow_table()
        finally:
            cursor.close()

    def close(self) -> None:
        self.con.close()
        if self._scratch is not None:
            self._scratch.cleanup()


def content_of(row: dict[str, Any]) -> tuple[Any, ...]:
    """The content columns of an event row as :meth:`Store.holders` returns them."""
    return tuple(row[name] for name in _CONTENT)


def _sql_type(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP"
    if pa.types.is_integer(kind):
        return "BIGINT"
    return "VARCHAR"


def _size(text: str) -> str:
    """A memory limit such as 512MB or 2GB, refused unless it is one (it goes into SQL)."""
    cleaned = text.strip().upper()
    number = cleaned.rstrip("KMGTB")
    if not number.isdigit() or cleaned[len(number) :] not in ("KB", "MB", "GB", "TB"):
        raise UsageError(f"--memory-limit {text!r}: give a size such as 512MB or 2GB")
    return cleaned
