"""The vectorised shortcut: a chunk of JSONL lines checked and normalised by DuckDB at once.

Python's per-line path (``engine.ingest.fast`` and the model behind it) is
exact but costs microseconds per line. Most lines of a real log are plain:
ASCII-clean keys and ids, a ``...Z`` timestamp, a small flat ``attrs``
object. For a chunk of lines this module asks DuckDB, in one query, which
lines are *certainly* accepted by the contract with a row identical to the one
Python would make, and makes those rows there. Every other line (anything
escaped, nested, exotic or invalid) is handed back by line number to the
Python path, which accepts it or explains why not. The query may therefore be
strict but never lenient: it must not accept a line Python would refuse, and
the rows it makes must equal Python's byte for byte
(tests/test_sqlfast.py checks both on generated and hostile lines).

What makes a line plain here, and why each condition is needed:

- no backslash and no control character: every string is verbatim, so
  DuckDB's text of a value is Python's, and no escape can hide a key;
- a JSON object whose keys are envelope fields, none repeated (at the top
  and in ``attrs``/``source``); ``attrs``/``source`` flat (no nested objects,
  lists of scalars allowed) with keys in sorted order: Python writes them
  sorted and compact, DuckDB minifies in the written order;
- numbers whose canonical text both writers agree on: no exponent, no
  integer of 16 digits or more, no fraction below 1e-4 and no ``-0``
  (Python and yyjson both write the shortest round-trip digits in between);
- id, type and actor (and manager, rep, deal, when given) ASCII text starting
  with a visible character; actor_role one of the roles; the fields a type
  requires present;
- ts ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SSZ`` or with a fraction before the
  ``Z``, a real date and time of day (fractions past microseconds truncated);
- each known attribute of a known type of the right kind (the vocabulary).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from engine import limits
from engine.events import EVENT_FIELDS
from engine.vocab import EVENT_TYPES, REQUIRED_FIELDS, ROLES, Attr

__all__ = ["SqlChunk", "column_fields_sql", "columns_judgeable", "plain_rows"]

_DAY = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TS = f"^{_DAY}(T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\\.[0-9]+)?Z)?$"
_DATE_ATTR = f"^{_DAY}(T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\\.[0-9]+)?(Z|[+-][0-9]{{2}}:[0-9]{{2}}))?$"
# numbers whose text Python and yyjson could write differently (strings blanked out first)
_RISKY_NUMBER = "[eE]|[0-9]{16,}|0\\.0000|-0([^.0-9]|$)|\\.[0-9]{16,}"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(_quote(v) for v in values) + ")"


def _attr_ok(name: str, attr: Attr) -> str:
    """SQL: attrs.<name> absent, null, or of its kind (over the minified attrs text ``a``)."""
    path = _quote(f'$."{name}"')
    kind = f"json_type(a, {path})"
    value = f"json_extract_string(a, {path})"
    test = {
        "str": f"{kind} = 'VARCHAR'",
        "enum": f"{kind} = 'VARCHAR' AND {value} IN {_in(attr.values) if attr.values else '(NULL)'}",
        "number": f"{kind} IN ('UBIGINT', 'BIGINT', 'DOUBLE')",
        "int": f"{kind} IN ('UBIGINT', 'BIGINT')",
        "bool": f"{kind} = 'BOOLEAN'",
        "list": f"{kind} = 'ARRAY'",
        "date": f"{kind} = 'VARCHAR' AND regexp_matches({value}, {_quote(_DATE_ATTR)}) "
        f"AND try_strptime(left({value}, 10), '%Y-%m-%d') IS NOT NULL "
        f"AND (length({value}) = 10 OR (TRY_CAST(substr({value}, 12, 2) AS INT) < 24 AND TRY_CAST(substr({value}, 15, 2) AS INT) < 60 "
        f"AND TRY_CAST(substr({value}, 18, 2) AS INT) < 60))",
    }.get(attr.kind, "TRUE")
    return f"({kind} IS NULL OR {kind} = 'NULL' OR ({test}))"


def _type_rules() -> str:
    """SQL: the per-type checks (required fields, known attribute kinds), TRUE for other types."""
    cases = []
    for event_type in sorted(set(EVENT_TYPES) | set(REQUIRED_FIELDS)):
        tests = [f"{field} IS NOT NULL" for field in REQUIRED_FIELDS.get(event_type, ())]
        tests += [_attr_ok(name, attr) for name, attr in sorted(EVENT_TYPES.get(event_type, {}).items())]
        if tests:
            cases.append(f"WHEN {_quote(event_type)} THEN {' AND '.join(tests)}")
    return "CASE type " + " ".join(cases) + " ELSE TRUE END" if cases else "TRUE"


def _flat_sorted(column: str) -> str:
    """SQL: the object text ``column`` is flat, its keys distinct and sorted, its numbers safe.

    ``<column>_shape`` is its JSON structure: a second brace in it is a nested
    object; only a DOUBLE can be spelled differently by the two writers, and
    then (with no backslash in the line a string is a quote, non-quotes and a
    quote) the text with its strings blanked out shows the numbers' spelling.
    """
    keys, shape = f"{column}_keys", f"{column}_shape"
    bare = f"regexp_replace({column}, '\"[^\"]*\"', '\"\"', 'g')"
    return (
        f"(len(list_distinct({keys})) = len({keys}) AND list_sort({keys}) = {keys} "
        f"AND strpos(substr({shape}, 2), '{{') = 0 "
        f"AND CASE WHEN strpos({shape}, 'DOUBLE') = 0 THEN TRUE ELSE NOT regexp_matches({bare}, {_quote(_RISKY_NUMBER)}) END)"
    )


def _envelope_text(field: str) -> str:
    """SQL: absent, or ASCII text (as many bytes as characters) starting with a visible character."""
    return f"({field} IS NULL OR (strlen({field}) = length({field}) AND ascii({field}) > 32))"


_FIELDS = list(EVENT_FIELDS)

_PATHS = "[" + ", ".join(f"'$.{f}'" for f in _FIELDS) + "]"
_AT = {f: i + 1 for i, f in enumerate(_FIELDS)}


def _value(field: str) -> str:
    """SQL: a field's JSON text in the line (NULL when absent)."""
    return f"r[{_AT[field]}]"


def _string(field: str) -> str:
    """SQL: the field's string value (it is a JSON string with no escape: the text between its quotes)."""
    text = _value(field)
    return f"CASE WHEN left({text}, 1) = '\"' THEN substr({text}, 2, length({text}) - 2) END"


def _absent_or(field: str, first: str) -> str:
    """SQL: the field is absent, null, or JSON text starting with ``first``."""
    text = _value(field)
    return f"({text} IS NULL OR {text} = 'null' OR left({text}, 1) = {_quote(first)})"


# Step 1: lines that are JSON objects of envelope fields, none repeated; each field's JSON text
_PARSED = f"""
SELECT line, len(json_keys(raw)) AS n_keys, json_extract(raw, {_PATHS}) AS r FROM sm_chunk
WHERE strpos(raw, '\\') = 0 AND json_valid(raw) AND left(ltrim(raw), 1) = '{{'
"""
# every key is a known field and none repeats exactly when the keys are as many as the fields found
_PRESENT = " + ".join(f"({_value(f)} IS NOT NULL)::INT" for f in _FIELDS)

# Step 2: the fields, as the contract wants them
_FIELDS_SQL = f"""
SELECT line, {_string("id")} AS id, {_string("ts")} AS ts_text, {_string("type")} AS type,
  {_string("actor")} AS actor, {_string("actor_role")} AS actor_role, {_string("manager")} AS manager,
  {_string("rep")} AS rep, {_string("deal")} AS deal,
  CASE WHEN left({_value("attrs")}, 1) = '{{' THEN {_value("attrs")} END AS a,
  CASE WHEN left({_value("source")}, 1) = '{{' THEN {_value("source")} END AS s,
  json_structure(a)::VARCHAR AS a_shape, json_keys(a) AS a_keys,
  json_structure(s)::VARCHAR AS s_shape, json_keys(s) AS s_keys
FROM sm_parsed
WHERE n_keys = {_PRESENT} AND left({_value("id")}, 1) = '"' AND left({_value("ts")}, 1) = '"' AND left({_value("type")}, 1) = '"'
  AND left({_value("actor")}, 1) = '"'
  AND {_absent_or("actor_role", '"')} AND {_absent_or("manager", '"')} AND {_absent_or("rep", '"')}
  AND {_absent_or("deal", '"')} AND {_absent_or("attrs", "{")} AND {_absent_or("source", "{")}
"""


# Columns (Parquet): each envelope value is already a string, not JSON text. A value is taken as
# it stands only when the JSON line standing for it would have no escape (no quote, backslash or
# control character); attrs and source are JSON text, minified as a line's objects are.
_NEEDS_ESCAPE = '["\\\\\\x00-\\x1f]'
_OBJECT_ESCAPE = "[\\\\\\x00-\\x1f]"  # in JSON text: a backslash or a control character
_TEXT_COLUMNS = ("id", "ts", "type", "actor", "actor_role", "manager", "rep", "deal")


def column_fields_sql(present: set[str]) -> str:
    """SQL over ``sm_cols`` (``line`` and the columns ``present``): rows shaped as ``sm_fields``."""

    def column(name: str) -> str:
        return name if name in present else "CAST(NULL AS VARCHAR)"

    def json_object(name: str) -> str:
        value = column(name)
        return f"CASE WHEN left({value}, 1) = '{{' AND json_valid({value}) THEN json({value}) END"

    values = ", ".join(column(name) for name in _TEXT_COLUMNS)
    objects = ", ".join(column(name) for name in ("attrs", "source"))
    return f"""
SELECT line, {column("id")} AS id, {column("ts")} AS ts_text, {column("type")} AS type, {column("actor")} AS actor,
  {column("actor_role")} AS actor_role, {column("manager")} AS manager, {column("rep")} AS rep,
  {column("deal")} AS deal, {json_object("attrs")} AS a, {json_object("source")} AS s,
  json_structure(a)::VARCHAR AS a_shape, json_keys(a) AS a_keys,
  json_structure(s)::VARCHAR AS s_shape, json_keys(s) AS s_keys
FROM sm_cols
WHERE NOT regexp_matches(concat_ws('', {values}), {_quote(_NEEDS_ESCAPE)})
  AND NOT regexp_matches(concat_ws('', {objects}), {_quote(_OBJECT_ESCAPE)})
  AND {column("id")} IS NOT NULL AND {column("ts")} IS NOT NULL AND {column("type")} IS NOT NULL
  AND {column("actor")} IS NOT NULL
  AND ({column("attrs")} IS NULL OR a IS NOT NULL) AND ({column("source")} IS NULL OR s IS NOT NULL)
"""


def columns_judgeable(schema: pa.Schema) -> bool:
    """Whether DuckDB can judge a batch of this schema: every envelope column plain text."""
    return all(
        name in EVENT_FIELDS and (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
        for name, field in zip(schema.names, schema)
    ) and len(set(schema.names)) == len(schema.names)


def _plain_sql() -> str:
    roles = _in(ROLES)
    seconds = (
        "epoch_us(try_strptime(left(ts_text, 19), '%Y-%m-%dT%H:%M:%S')) + "
        "CASE WHEN length(ts_text) > 21 THEN TRY_CAST(rpad(left(substr(ts_text, 21, length(ts_text) - 21), 6), 6, '0') "
        "AS BIGINT) ELSE 0 END"
    )
    micros = f"CASE WHEN length(ts_text) = 10 THEN epoch_us(try_strptime(ts_text, '%Y-%m-%d')) ELSE {seconds} END"
    ts_ok = (
        f"regexp_matches(ts_text, {_quote(_TS)}) AND try_strptime(left(ts_text, 10), '%Y-%m-%d') IS NOT NULL "
        "AND (length(ts_text) = 10 OR (TRY_CAST(substr(ts_text, 12, 2) AS INT) < 24 "
        "AND TRY_CAST(substr(ts_text, 15, 2) AS INT) < 60 AND TRY_CAST(substr(ts_text, 18, 2) AS INT) < 60))"
    )
    plain = " AND ".join(
        [
            *(_envelope_text(f) for f in ("id", "type", "actor", "manager", "rep", "deal")),
            f"(actor_role IS NULL OR actor_role IN {roles})",
            ts_ok,
            f"(a IS NULL OR a = '{{}}' OR {_flat_sorted('a')})",
            f"(s IS NULL OR {_flat_sorted('s')})",
            _type_rules(),
        ]
    )
    return (
        f"SELECT line, id, make_timestamp({micros}) AS ts, type, actor, actor_role, manager, rep, deal, "
        "COALESCE(a, '{}') AS attrs, s AS source "
        # a NULL verdict leaves the line out as FALSE would; a plain AND lets DuckDB stop at the first
        # failing test (inside a function call, such as COALESCE, every test ran on every line)
        f"FROM sm_fields WHERE {plain}"
    )


_PLAIN = _plain_sql()
_BATCH = 8_192  # lines per Arrow batch handed to DuckDB


class SqlChunk:
    """Judges chunks of lines on one DuckDB connection (kept for a whole load).

    Given the load's store connection (``engine.ingest.store``), the plain rows
    are made in it and moved to the store's table without leaving DuckDB.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.own = con is None
        self.con = duckdb.connect(database=":memory:") if con is None else con
        if self.own:
            limits.apply(self.con)

    def close(self) -> None:
        if self.own:
            self.con.close()

    def judge(self, lines: pa.Array, first_line: int) -> str:
        """A table of this connection holding the rows of the chunk's certainly-plain lines.

        Columns: ``line`` (numbered from ``first_line``) and the event columns
        (no seq, file); the lines not in it are the Python path's to judge.
        """
        numbers = pa.array(range(first_line, first_line + len(lines)), pa.int64())
        # in batches, so that DuckDB parses them on every thread
        whole = pa.table({"line": numbers, "raw": lines})
        chunk = pa.Table.from_batches(whole.to_batches(max_chunksize=_BATCH), schema=whole.schema)
        return self._stages("sm_chunk", chunk, [("sm_parsed", _PARSED), ("sm_fields", _FIELDS_SQL)])

    def judge_columns(self, batch: pa.RecordBatch, first_line: int) -> str:
        """:meth:`judge` for a batch of typed columns (``columns_judgeable``), rows numbered from ``first_line``."""
        numbers = pa.array(range(first_line, first_line + batch.num_rows), pa.int64())
        whole = pa.Table.from_batches([batch]).append_column("line", numbers)
        chunk = pa.Table.from_batches(whole.to_batches(max_chunksize=_BATCH), schema=whole.schema)
        fields = column_fields_sql(set(batch.schema.names))
        return self._stages("sm_cols", chunk, [("sm_fields", fields)])

    def _stages(self, name: str, chunk: pa.Table, stages: list[tuple[str, str]]) -> str:
        """Register ``chunk`` as ``name``, materialise each stage in turn (dropping the one before), then sm_plain."""
        con = self.con
        con.register(name, chunk)
        # (materialised one by one: a view would extract the fields again at every use)
        try:
            with limits.memory_guard("reading the events"):
                previous = None
                for table, sql in [*stages, ("sm_plain", _PLAIN)]:
                    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
                    if previous is not None:
                        con.execute(f"DROP TABLE {previous}")
                    previous = table
        finally:
            con.unregister(name)
        return "sm_plain"

    def lines(self, table: str) -> np.ndarray:
        """The line numbers a judged table holds."""
        column = self.con.sql(f"SELECT line FROM {table}").to_arrow_table().column("line")
        return np.asarray(column.to_numpy(), dtype=np.int64)

    def rows(self, table: str) -> pa.Table:
        """A judged table's rows as Arrow, in line order."""
        return self.con.sql(f"SELECT * FROM {table} ORDER BY line").to_arrow_table()

    def drop(self, table: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {table}")

    def plain_rows(self, lines: pa.Array, first_line: int) -> pa.Table:
        """The rows of the certainly-plain lines of a chunk, as Arrow, in line order."""
        table = self.judge(lines, first_line)
        try:
            return self.rows(table)
        finally:
            self.drop(table)


def plain_rows(lines: pa.Array, first_line: int = 1) -> pa.Table:
    """:meth:`SqlChunk.plain_rows` on a connection of its own (tests, one-off use)."""
    judge = SqlChunk()
    try:
        return judge.plain_rows(lines, first_line)
    finally:
        judge.close()
