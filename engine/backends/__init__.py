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
from engine.backends.spark import SparkBackend  # imports pyspark only when a Spark backend is made

register_backend("duckdb", DuckDBBackend)
register_backend("spark", SparkBackend)
register_regex_check("duckdb", check_regex)

__all__ = [
    "Backend",
    "DuckDBBackend",
    "Origin",
    "RuleResult",
    "SparkBackend",
    "backend_names",
    "get_backend",
    "regex_problem",
    "register_backend",
    "register_regex_check",
]
