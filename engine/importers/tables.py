"""The files of an export: a folder, a zip or one file, read as tables of rows or as JSON documents.

An importer never opens files itself. It asks this module for the tables of
an export by object name, and gets rows whose cells are looked up by a
*normalised* column name (lower case, letters and digits only), so
``OwnerId`` (Data Export, Bulk API), ``owner_id`` (a Fivetran sync) and
``Owner ID`` (a report) are one column. File names are matched the same way
and in any case (``opportunity.csv``, ``Opportunity.csv``,
``sf_opportunity_data.csv``).

Rows keep their file and physical line, so every problem and every skipped
record can be named ``file:line``. Bytes are decoded with the mapping's
encoding (UTF-8 by default, a BOM removed); a line that does not decode is a
problem of that line, and the rest of the file is still read.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InputError, Problem
from engine.ingest import InputProblem
from engine.ingest.readers.base import NOT_UTF8
from engine.ingest.readers.csv import csv_rows, read_header

__all__ = ["Export", "JsonDoc", "Row", "Table", "normalise"]

_NOT_NAME = re.compile(r"[^0-9a-z]+")
_BOM = b"\xef\xbb\xbf"
_MAX_MEMBERS = 10_000  # a zip with more files than this is not an export


def normalise(name: str) -> str:
    """A column or object name as it is matched: lower case, letters and digits only."""
    return _NOT_NAME.sub("", name.lower())


@dataclass(frozen=True)
class Row:
    """One data row of a table: where it stands and its cells by normalised column name."""

    file: str
    line: int
    cells: dict[str, str]
    raw: str

    def get(self, *names: str) -> str:
        """The first non-empty cell among the normalised column names given (stripped), else ''."""
        for name in names:
            value = self.cells.get(name)
            if value is not None:
                value = value.strip()
                if value:
                    return value
        return ""

    def has(self, *names: str) -> bool:
        """Whether the table has any of these columns (empty or not)."""
        return any(name in self.cells for name in names)


@dataclass
class Table:
    """The rows of one CSV file of the export."""

    name: str  # the normalised file stem, e.g. 'opportunityhistory' or 'sfopportunityhistorydata'
    shown: str  # the file as problems name it
    columns: list[str]  # normalised names, in header order
    rows: list[Row] = field(default_factory=list)

    def has(self, *names: str) -> bool:
        return any(name in self.columns for name in names)


@dataclass(frozen=True)
class JsonDoc:
    """One JSON file of the export, parsed."""

    name: str  # normalised stem
    shown: str
    data: Any


@dataclass
class Export:
    """Every file of one export, read once; problems of whole files and of single rows, located."""

    path: str
    tables: list[Table] = field(default_factory=list)
    docs: list[JsonDoc] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)  # files that could not be used at all
    problems: list[InputProblem] = field(default_factory=list)  # rows that could not be read
    ignored: list[str] = field(default_factory=list)  # files that are neither CSV nor JSON

    @classmethod
    def read(cls, path: str, encoding: str = "utf-8") -> Export:
        """Read a folder (its files, not its sub-folders), a zip of CSV/JSON files, or one file."""
        export = cls(path)
        try:
            members = list(_members(path))
        except InputError as exc:
            export.errors.extend(exc.problems)
            return export
        for name, shown, data in sorted(members, key=lambda m: m[1]):
            stem, ext = os.path.splitext(name)
            ext = ext.lower()
            if ext == ".csv":
                export._csv(normalise(stem), shown, data, encoding)
            elif ext == ".json":
                export._json(normalise(stem), shown, data)
            else:
                export.ignored.append(shown)
        return export

    def _csv(self, name: str, shown: str, data: bytes, encoding: str) -> None:
        lines = _decoded_lines(data, encoding)
        table: Table | None = None
        width = 0
        try:
            for row in csv_rows(lines):
                if table is None:
                    header = read_header(row, shown)
                    columns = [normalise(n) for n in header.names]
                    table, width = Table(name, shown, columns), len(columns)
                    continue
                if row.problem is not None:
                    message = row.problem
                    if message == NOT_UTF8:
                        message = (
                            f"line is not valid {encoding} text (name the file's encoding in the mapping, "
                            "for example 'encoding: cp1252')"
                        )
                    self.problems.append(InputProblem(shown, row.line, message, row.raw.rstrip("\r\n")))
                elif len(row.cells) != width:
                    message = f"row has {len(row.cells)} cells but the header has {width} columns"
                    self.problems.append(InputProblem(shown, row.line, message, row.raw.rstrip("\r\n")))
                else:
                    cells = dict(zip(table.columns, row.cells))
                    table.rows.append(Row(shown, row.line, cells, row.raw.rstrip("\r\n")))
        except InputError as exc:
            self.errors.extend(exc.problems)
            return
        if table is None:
            self.errors.append(Problem(shown, 0, 0, "cannot read: the file is empty (no CSV header)"))
            return
        self.tables.append(table)

    def _json(self, name: str, shown: str, data: bytes) -> None:
        try:
            text = data.removeprefix(_BOM).decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.errors.append(Problem(shown, line, 0, "cannot read: the JSON is not valid UTF-8"))
            return
        try:
            # Ids are kept exactly: integers parse as Python ints (no 2**53 limit), and
            # importers turn ids into text; NaN and Infinity are not JSON.
            parsed = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            self.errors.append(Problem(shown, exc.lineno, exc.colno, f"malformed JSON: {exc.msg}"))
            return
        except (ValueError, RecursionError) as exc:
            self.errors.append(Problem(shown, 0, 0, f"malformed JSON: {exc}"))
            return
        self.docs.append(JsonDoc(name, shown, parsed))

    def find(self, *names: str) -> list[Table]:
        """The tables whose normalised file stem is one of ``names`` (in file order)."""
        wanted = set(names)
        return [table for table in self.tables if table.name in wanted]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _decoded_lines(data: bytes, encoding: str) -> Iterator[bytes]:
    """The file's physical lines re-encoded as UTF-8 (bytes that do not decode kept as they are)."""
    data = data.removeprefix(_BOM)
    if encoding.replace("-", "").replace("_", "").lower() in ("utf8", "utf8sig"):
        yield from io.BytesIO(data)
        return
    for line in io.BytesIO(data):
        yield line.decode(encoding, "surrogateescape").encode("utf-8", "surrogateescape")


def _members(path: str) -> Iterable[tuple[str, str, bytes]]:
    """(file name, shown name, bytes) of every file of the export."""
    try:
        if os.path.isdir(path):
            found = []
            for entry in sorted(os.listdir(path)):
                full = os.path.join(path, entry)
                if os.path.isfile(full):
                    with open(full, "rb") as handle:
                        found.append((entry, full, handle.read()))
            return found
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                infos = [info for info in archive.infolist() if not info.is_dir()]
                if len(infos) > _MAX_MEMBERS:
                    raise InputError.at(path, f"cannot read: the zip holds more than {_MAX_MEMBERS} files")
                return [
                    (os.path.basename(info.filename), f"{path}/{info.filename}", archive.read(info)) for info in infos
                ]
        with open(path, "rb") as handle:
            return [(os.path.basename(path), path, handle.read())]
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError.at(path, f"cannot read: {reason}") from None
