"""Event ingestion: JSONL/CSV (plain or gzip), stdin and rosters into one arrow table.

Invalid records never stop a load: each becomes an InputProblem with the
reason and the verbatim line, so ``read == evaluated + len(problems)`` holds
and the rejects can be written out, fixed and fed back in.
"""

from engine.ingest.loader import load_events, write_rejects
from engine.ingest.results import EVENT_SCHEMA, InputError, InputProblem, LoadResult

__all__ = [
    "EVENT_SCHEMA",
    "InputError",
    "InputProblem",
    "LoadResult",
    "load_events",
    "write_rejects",
]
