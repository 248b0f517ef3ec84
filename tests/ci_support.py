"""What the CI-check tests share: small logs, rules of their own, running the CLI in a folder, golden files.

Golden files live in ``tests/golden/``. A test compares its output with one
after replacing what depends on the machine (the repository's path, the
package version); ``SALESMIRROR_UPDATE_GOLDEN=1 pytest tests/test_sarif.py``
rewrites them instead, to be reviewed in the diff like any other change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from cli import main
from tests.helpers import ev, write_events, write_rule
from tests.test_cli import CHURN_RULES, GOLDEN, RULES, small_log, write_jsonl

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = ROOT.parent / "shared" / "spec" / "sarif" / "sarif-schema-2.1.0.json"
CHURN = ["--no-config", "--rules", str(CHURN_RULES), "--rules", str(RULES / "_library.yaml")]

__all__ = [
    "CHURN",
    "ROOT",
    "cli",
    "golden",
    "normalise",
    "own_log",
    "own_rules",
    "sarif_schema",
    "small_log",
    "write_jsonl",
]


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    here = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)


def cli(folder: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    """Run ``salesmirror ARGS`` with ``folder`` as the working directory: exit code, stdout, stderr."""
    with _inside(folder):
        result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def normalise(text: str) -> str:
    """Output with the machine's parts replaced: the repository's path and the version."""
    return text.replace(str(ROOT), "<repo>").replace(f'"{engine.__version__}"', '"<version>"')


def golden(name: str, text: str) -> None:
    """Assert ``text`` equals ``tests/golden/NAME``, or rewrite it with SALESMIRROR_UPDATE_GOLDEN=1."""
    target = GOLDEN / name
    if os.environ.get("SALESMIRROR_UPDATE_GOLDEN") == "1":
        target.write_text(text, encoding="utf-8")
        return
    assert text == target.read_text(encoding="utf-8"), f"{name} differs; SALESMIRROR_UPDATE_GOLDEN=1 rewrites it"


def sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 schema, read in place from the shared contracts."""
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"{SARIF_SCHEMA} is not there: the SARIF schema lives outside the repository, in ../shared")
    schema: dict[str, Any] = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return schema


# Rules of the tests' own, one per kind of finding a CI check shows: about a rep,
# about a deal, over calendar months, and one whose message carries characters
# every output must escape.
def own_rules(folder: Path) -> Path:
    rules = folder / "rules"
    write_rule(
        rules,
        "ci/rep-sessions",
        {
            "kind": "threshold",
            "where": {"type": "coaching_session"},
            "group_by": ["manager", "rep"],
            "op": "gte",
            "value": 2,
        },
        message='coached {rep} {count} times <b>&amp; "more"</b> 100% of it',
        severity="high",
        trait="ci-trait",
    )
    write_rule(
        rules,
        "ci/deal-pushes",
        {
            "kind": "threshold",
            "where": {"type": "close_date_pushed"},
            "group_by": ["manager", "deal"],
            "window": {"sliding": "14d"},
            "op": "gte",
            "value": 2,
        },
        message="pushed {deal} {count} times\nwithin 14 days: a, b: c",
        severity="medium",
        trait="ci-trait",
    )
    write_rule(
        rules,
        "ci/monthly-calls",
        {
            "kind": "threshold",
            "where": {"type": "call_listened"},
            "window": {"calendar": "month"},
            "op": "gte",
            "value": 3,
        },
        message="listened to {count} calls in the month",
        severity="low",
        trait="other-trait",
    )
    return rules


def own_events() -> list[dict[str, Any]]:
    """m1 and m2 over January to March 2026; each rule of :func:`own_rules` fires once for m1."""
    return [
        ev("span-a", "2026-01-01", "forecast_updated", "ops"),
        ev("span-b", "2026-03-31 23:00", "forecast_updated", "ops"),
        ev("s1", "2026-01-06", "coaching_session", "m1", manager="m1", rep="r1"),
        ev("s2", "2026-01-20", "coaching_session", "m1", manager="m1", rep="r1"),
        ev("s3", "2026-01-21", "coaching_session", "m1", manager="m1", rep="r2"),
        ev("p1", "2026-02-02", "close_date_pushed", "r1", manager="m1", rep="r1", deal="D-1"),
        ev("p2", "2026-02-09", "close_date_pushed", "r1", manager="m1", rep="r1", deal="D-1"),
        ev(
            "c1",
            "2026-03-02",
            "call_listened",
            "m1",
            manager="m1",
            rep="r2",
            source={"system": "hubspot", "object": "call", "record_id": "C-77"},
        ),
        ev("c2", "2026-03-03", "call_listened", "m1", manager="m1", rep="r2"),
        ev("c3", "2026-03-04", "call_listened", "m1", manager="m1", rep="r1"),
        ev("q1", "2026-01-08", "coaching_session", "m2", manager="m2", rep="r9"),
        ev("q2", "2026-02-08", "call_listened", "m2", manager="m2", rep="r9"),
    ]


def own_log(folder: Path, events: list[dict[str, Any]] | None = None, name: str = "events.jsonl") -> Path:
    return write_events(folder / name, own_events() if events is None else events)


def churn_log(folder: Path) -> Path:
    return write_jsonl(folder / "events.jsonl", small_log())
