"""Evaluation backends behind one protocol; DuckDB is the embedded default."""

from engine.backends.base import Backend, Origin, RuleResult, backend_names, get_backend, register_backend
from engine.backends.duckdb import DuckDBBackend

register_backend("duckdb", DuckDBBackend)

__all__ = ["Backend", "DuckDBBackend", "Origin", "RuleResult", "backend_names", "get_backend", "register_backend"]
