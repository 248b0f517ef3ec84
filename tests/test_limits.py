"""Memory limits and spilling (issue 13), and the progress display that stays off the record."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from cli import main
from engine import limits
from engine.errors import UsageError
from engine.progress import Steps, steps
from simulator import simulate, write_simulation


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    saved = limits.Limits(limits.LIMITS.memory, limits.LIMITS.temp_directory)
    yield
    limits.LIMITS.memory, limits.LIMITS.temp_directory = saved.memory, saved.temp_directory


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "events.jsonl"
    write_simulation(simulate(managers=4, days=60, seed=3), str(path))
    return path


@pytest.mark.parametrize(("given", "read"), [("1GB", "1GB"), ("512 mb", "512MB"), ("1.5GiB", "1.5GiB")])
def test_sizes_are_read_as_duckdb_spells_them(given: str, read: str) -> None:
    assert limits.parse_memory(given) == read


@pytest.mark.parametrize("given", ["lots", "1 GBs", "-1GB", "1e9", "1GB; DROP TABLE x"])
def test_anything_else_is_a_usage_error(given: str) -> None:
    with pytest.raises(UsageError):
        limits.parse_memory(given)


def test_a_connection_gets_the_limit_and_the_spill_directory(tmp_path: Path) -> None:
    limits.LIMITS.memory, limits.LIMITS.temp_directory = "256MB", str(tmp_path)
    con = duckdb.connect()
    limits.apply(con)
    memory, spill = con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    assert memory.replace(" ", "") in ("256.0MB", "244.1MiB") and spill == str(tmp_path)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_limit_changes_no_finding(log: Path, tmp_path: Path) -> None:
    free = run("check", "--no-config", "--format", "json", str(log))
    bounded = run(
        "check", "--no-config", "--format", "json", "--memory-limit", "200MB", "--temp-dir", str(tmp_path), str(log)
    )
    assert free[0] == bounded[0] and json.loads(free[1])["findings"] == json.loads(bounded[1])["findings"]


def test_too_little_memory_is_an_error_to_act_on_not_a_crash(log: Path) -> None:
    code, _, err = run("check", "--no-config", "--memory-limit", "8MB", str(log))
    assert code == 2
    assert "needs more memory than --memory-limit 8MB allows" in err and "internal error" not in err


def test_a_bad_size_is_refused_before_anything_runs(log: Path) -> None:
    code, _, err = run("check", "--no-config", "--memory-limit", "lots", str(log))
    assert code == 2 and "give a size such as 512MB" in err


class _Recorder:
    """Stands in for rich's Progress: records what would be drawn."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def add_task(self, words: str, total: int) -> int:
        self.calls.append(("add", (words, total)))
        return len(self.calls)

    def update(self, task: int, **changes: Any) -> None:
        self.calls.append(("update", changes))


def test_the_rules_bar_counts_each_rule_once() -> None:
    recorder = _Recorder()
    with Steps(recorder).bar("evaluating the rules", 2) as advance:
        advance("a/one")
        advance("b/two")
    assert recorder.calls[0] == ("add", ("evaluating the rules", 2))
    assert [c[1].get("advance") for c in recorder.calls[1:3]] == [1, 1]
    assert recorder.calls[-1] == ("update", {"completed": 2, "description": "evaluating the rules"})


def test_nothing_is_drawn_when_nobody_watches() -> None:
    stream = io.StringIO()  # not a terminal
    with steps(stream) as watching:
        with watching.step("reading"):
            pass
        with watching.bar("evaluating", 3) as advance:
            advance("x")
    assert stream.getvalue() == ""


_SETTINGS = """
import json, sys, duckdb
from engine.backends.duckdb import DuckDBBackend, _regex_con, check_regex
from engine.ingest.load import load_events
from engine.live.store import Store
import engine.ingest.store
engine.ingest.store.STORE_MIN_ROWS = 0  # the load's rows in DuckDB, however few

def drawn(con):
    return con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]

loaded = load_events([sys.argv[1]])
seen = {"bare": drawn(duckdb.connect()), "load": drawn(loaded.store.cursor())}
for name, events in (("backend over the load", loaded.store), ("backend over a table", loaded.table)):
    backend = DuckDBBackend(events)
    seen[name] = drawn(backend.con)
    backend.close()
check_regex("a+")
seen["regex"] = drawn(_regex_con[0])
store = Store(sys.argv[2])
seen["live store"] = drawn(store.con)
store.close()
print(json.dumps(seen))
"""


def test_no_connection_the_engine_opens_draws_duckdbs_progress_bar(log: Path, tmp_path: Path) -> None:
    """DuckDB draws a progress bar on stdout for a query over two seconds; it would corrupt JSON output and watch's lines.

    Its default is on when Python runs a command (``python -c``), as the
    benchmark runs ``watch``, and off under pytest, so the connections are
    looked at from such a process: the load's, the backend's (over the load's
    store and over an Arrow table), the regex judge's and the live store's.
    """
    done = subprocess.run(
        [sys.executable, "-c", _SETTINGS, str(log), str(tmp_path / "state")],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(done.stdout)
    assert seen.pop("bare") is True, "DuckDB's own default should draw it here, or this test proves nothing"
    assert seen == dict.fromkeys(seen, False) and len(seen) == 5, seen
