"""Importers: real CRM exports (Salesforce, HubSpot, Gong, any CSV through a mapping) into canonical events.

Each importer reads one export, with the org's mapping file laid over the
source's shipped default (:mod:`engine.importers.mapping`), and returns the
canonical events it stands for, each with ``source`` provenance, plus an
import report that accounts for every record (:mod:`engine.importers.base`).

* :func:`import_source` runs one importer: ``import_source("salesforce", path)``.
* :func:`load_source` turns ``"salesforce:PATH"`` (what ``check --from`` is
  given) into a :class:`SourceLoad`: the events validated by the ingestion
  path as a ``LoadResult`` ready for :func:`engine.api.evaluate`, and the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.errors import InputError, Problem, UsageError
from engine.importers.base import Imported, ImportReport
from engine.importers.mapping import SOURCES, Mapping, MappingError, default_mapping_text, load_mapping
from engine.ingest import LoadResult, load_records

__all__ = [
    "SOURCES",
    "ImportReport",
    "Imported",
    "Mapping",
    "MappingError",
    "SourceLoad",
    "default_mapping_text",
    "import_notes",
    "import_source",
    "import_spec",
    "load_mapping",
    "load_source",
    "parse_spec",
]


def _importer(system: str) -> Callable[[str, Mapping], Imported]:
    """The importer of a source (imported when first used: each reads only its own files)."""
    if system == "csv":
        from engine.importers.csvmap import import_csv

        return import_csv
    if system == "gong":
        from engine.importers.gong import import_gong

        return import_gong
    if system == "hubspot":
        from engine.importers.hubspot import import_hubspot

        return import_hubspot
    from engine.importers.salesforce import import_salesforce

    return import_salesforce


def import_source(system: str, path: str, mapping: str | None = None) -> Imported:
    """Import one export. MappingError for a bad mapping; a path that cannot be read is in ``report.errors``."""
    if system not in SOURCES:
        raise UsageError([Problem("salesmirror", 0, 0, f"unknown source '{system}' (one of {', '.join(SOURCES)})")])
    return _importer(system)(path, load_mapping(system, mapping))


@dataclass
class SourceLoad:
    """An import, as ingestion sees it: the loaded events (``loaded``) and the import's own account (``report``)."""

    spec: str
    imported: Imported
    loaded: LoadResult

    @property
    def report(self) -> ImportReport:
        return self.imported.report


def parse_spec(spec: str) -> tuple[str, str]:
    """``"salesforce:PATH"`` as (system, path); UsageError when it names no source."""
    system, sep, path = spec.partition(":")
    if not sep or system not in SOURCES or not path:
        raise UsageError([Problem("--from", 0, 0, f"'{spec}' is not SOURCE:PATH (SOURCE one of {', '.join(SOURCES)})")])
    return system, path


def load_source(spec: str, mapping: str | None = None) -> SourceLoad:
    """Import ``SOURCE:PATH`` and load its events through the ingestion path.

    Raises MappingError for a bad mapping and InputError when the export, or
    any of its records, could not be read (every problem listed, each at its
    file and line), so nothing is evaluated from a partial import unnoticed.
    The events are validated again by ``load_records`` exactly as lines of a
    JSONL file would be, named ``spec`` in problems and origins.
    """
    imported = import_spec(spec, mapping)
    loaded = load_records(imported.events, name=spec)
    loaded.warnings.extend(import_notes(spec, imported))
    return SourceLoad(spec, imported, loaded)


def import_spec(spec: str, mapping: str | None = None) -> Imported:
    """Import ``SOURCE:PATH`` whole: InputError listing every record that could not be read.

    What ``check --from`` and :func:`load_source` share: nothing is evaluated
    from a partial import unnoticed.
    """
    system, path = parse_spec(spec)
    imported = import_source(system, path, mapping)
    report = imported.report
    problems = list(report.errors) + [Problem(p.path, p.line, 0, p.message) for p in report.problems]
    if problems:
        raise InputError(problems)
    return imported


def import_notes(spec: str, imported: Imported) -> list[str]:
    """The import report's notes, as warnings of the run that read it."""
    return [f"{spec}: {line.strip()}" for line in imported.report.lines()[1:] if "note:" in line]
