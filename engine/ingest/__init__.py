"""Event ingestion: JSONL/CSV (plain or gzip), stdin, rosters and in-memory records into one arrow table.

Invalid records never stop a load: each becomes an InputProblem with the
reason and the verbatim line, so ``read == evaluated + len(problems)`` holds
and the rejects can be written out, fixed and fed back in.

Input formats are readers in a registry (``engine.ingest.readers``): a new
format is one module with a ``Reader`` and one ``register_reader`` call.
"""

from engine.ingest.load import load_events, load_records
from engine.ingest.readers import Entry, Reader, Source, register_reader
from engine.ingest.rejects import write_rejects
from engine.ingest.results import EVENT_SCHEMA, InputError, InputProblem, LoadResult

__all__ = [
    "EVENT_SCHEMA",
    "Entry",
    "InputError",
    "InputProblem",
    "LoadResult",
    "Reader",
    "Source",
    "load_events",
    "load_records",
    "register_reader",
    "write_rejects",
]
