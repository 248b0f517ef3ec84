"""Without PySpark or Java, ``backend="spark"`` stops with one plain problem, not a traceback from deep inside.

These need neither: they take PySpark or Java away and check what the user is told.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import engine
import engine.backends.spark as spark_backend
from engine.backends import backend_names
from engine.errors import EngineError

EVENT = '{"id": "e1", "ts": "2026-01-05T10:00:00Z", "type": "call_listened", "actor": "mgr-1", "rep": "rep-1"}\n'


def _log(tmp_path: Path) -> str:
    path = tmp_path / "events.jsonl"
    path.write_text(EVENT)
    return str(path)


def test_spark_is_a_registered_engine_and_import_engine_needs_no_pyspark() -> None:
    assert "spark" in backend_names()
    # engine.backends.spark imports pyspark only when a backend is made, so the default engine never loads it
    probe = "import sys, engine, engine.api; sys.exit('pyspark' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parent.parent).returncode == 0


def test_without_pyspark_the_error_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.setattr(spark_backend, "_ROOT", [])
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # what a missing package looks like to import
    with pytest.raises(EngineError) as caught:
        engine.check([_log(tmp_path)], backend="spark")
    (problem,) = caught.value.problems
    assert str(problem).startswith("--engine spark: the Spark engine needs PySpark")
    assert "pip install 'salesmirror[spark]'" in str(problem)


def test_without_java_the_error_says_so_before_starting_spark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark", reason="pyspark is not installed: the Java check comes after the import")
    for name in ("SPARK_REMOTE", "JAVA_HOME", "PYSPARK_GATEWAY_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    monkeypatch.setattr(spark_backend, "_ROOT", [])  # as in a process that has not started Spark yet
    with pytest.raises(EngineError) as caught:
        engine.check([_log(tmp_path)], backend="spark")
    (problem,) = caught.value.problems
    assert "needs Java" in problem.message and "SPARK_REMOTE" in problem.message


def test_master_follows_the_usual_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SPARK_MASTER", "PYSPARK_GATEWAY_PORT", "PYSPARK_SUBMIT_ARGS"):
        monkeypatch.delenv(name, raising=False)
    assert spark_backend._master() == "local[*]"
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--master yarn pyspark-shell")
    assert spark_backend._master() is None  # PySpark passes it on when it starts the driver
    monkeypatch.setenv("SPARK_MASTER", "spark://head:7077")
    assert spark_backend._master() == "spark://head:7077"
