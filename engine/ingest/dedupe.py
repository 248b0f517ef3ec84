"""Records that share an event id, settled once every input has been read.

An id names one event, so two valid records giving one id must say the same.
Deciding as records arrive ("the first one wins") would make the outcome
depend on input order; here the decision is made on the whole load instead:

- every record holding an event whose id another event shares *with
  different content* is refused, and its reason names the other records; so
  is nothing else, and which one came first never matters;
- events that are *the same* (equal after normalisation: fields, values,
  instant, canonical attrs and source; key order, spacing and timestamp
  spelling aside), e.g. one export given twice, are kept once (the first
  read: they differ only in where they were read, which only ``--origins``
  shows) and the others are counted as evaluated and merged.

The loader keeps every valid row in its table while reading, remembering
only which ids came twice; this works on that table with Arrow compute, so
the cost is a few vectorised passes and, for refused records, re-reading
their lines (see ``loader``). Rows of one record share its record key
(input number and line).
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Clash", "Resolution", "record_keys", "resolve"]

CONTENT = ("ts", "type", "actor", "actor_role", "manager", "rep", "deal", "attrs", "source")
_LINE_BITS = 40  # record key = input number << 40 | line


def record_keys(origins: pa.Array, lines: pa.Array) -> pa.Array:
    """One int64 per row naming its record: which input (origins) and which line."""
    return pc.add(pc.shift_left(origins.cast(pa.int64()), _LINE_BITS), lines.cast(pa.int64()))


def split_key(key: int) -> tuple[int, int]:
    """(input number, line) of a record key."""
    return key >> _LINE_BITS, key & ((1 << _LINE_BITS) - 1)


@dataclass(frozen=True)
class Clash:
    """One id of a refused record: the records that hold it (sorted record keys, this one included)."""

    event_id: str
    holders: list[int]


@dataclass
class Resolution:
    keep: pa.Array | None  # boolean mask over the table's rows; None: keep all
    refused: dict[int, list[Clash]] = field(default_factory=dict)  # record key -> its clashing ids
    merged: int = 0  # rows dropped as exact repeats of a kept one


def _isin(values: pa.Array | pa.ChunkedArray, members: pa.Array) -> pa.Array:
    return pc.is_in(values, value_set=members)


def resolve(events: pa.Table, keys: pa.Array, repeated: Collection[str]) -> Resolution:
    """Which rows to keep and which records to refuse, given the ids seen more than once."""
    if not repeated:
        return Resolution(None)
    count = events.num_rows
    at = pc.indices_nonzero(_isin(events.column("id"), pa.array(sorted(repeated), pa.string()))).cast(pa.int64())
    rows = events.select(["id", *CONTENT]).take(at).append_column("sm_at", at).append_column("sm_key", keys.take(at))
    distinct = pc.CountOptions(mode="all")  # null is a value too
    counts = rows.group_by("id").aggregate([(name, "count_distinct", distinct) for name in CONTENT])
    differs = functools.reduce(pc.or_, [pc.greater(counts.column(f"{name}_count_distinct"), 1) for name in CONTENT])
    clashing = _isin(rows.column("id"), counts.filter(differs).column("id").combine_chunks())

    holders: dict[str, set[int]] = {}
    clash_rows = rows.filter(clashing)
    for event_id, key in zip(clash_rows.column("id").to_pylist(), clash_rows.column("sm_key").to_pylist()):
        holders.setdefault(event_id, set()).add(key)
    refused: dict[int, list[Clash]] = {}
    for event_id, keyset in holders.items():
        clash = Clash(event_id, sorted(keyset))
        for key in clash.holders:
            refused.setdefault(key, []).append(clash)

    refused_keys = pa.array(sorted(refused), pa.int64())
    # Exact repeats: what is left of the repeated ids once refused records are gone.
    same = rows.filter(pc.and_(pc.invert(clashing), pc.invert(_isin(rows.column("sm_key"), refused_keys))))
    firsts = same.group_by("id").aggregate([("sm_at", "min")]).column("sm_at_min").combine_chunks()
    extra = same.filter(pc.invert(_isin(same.column("sm_at"), firsts))).column("sm_at").combine_chunks()
    if not refused and len(extra) == 0:
        return Resolution(None)
    index = pa.array(range(count), pa.int64())
    drop = pc.or_(_isin(keys, refused_keys), _isin(index, extra))
    return Resolution(pc.invert(drop), refused, len(extra))
