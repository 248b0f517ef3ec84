"""Evaluation backends behind one protocol; DuckDB is the embedded default."""

from engine.backends.base import (
    Backend,
    Origin,
    RuleResult,
    backend_names,
    get_backend,
    regex_problem,
    register_backend,
    register_regex_check,
)
from engine.backends.duckdb import DuckDBBackend, check_regex

register_backend("duckdb", DuckDBBackend)
register_regex_check("duckdb", check_regex)

__all__ = [
    "Backend",
    "DuckDBBackend",
    "Origin",
    "RuleResult",
    "backend_names",
    "get_backend",
    "regex_problem",
    "register_backend",
    "register_regex_check",
]
