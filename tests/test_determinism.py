"""Same events, same report, byte for byte: whatever the order, file split or compression."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

import engine
from simulator import simulate, write_simulation

PROFILES = ["knee-jerk-reactionary", "detached-dictator", "regurgitator", "new-manager", "glory-grabber", "healthy"]


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("org")
    path = folder / "events.jsonl"
    write_simulation(simulate(managers=len(PROFILES), days=75, seed=11, profiles=PROFILES), str(path))
    return path, engine.check([str(path)]).to_json()


def test_report_has_findings_to_compare(org: tuple[Path, str]) -> None:
    report = json.loads(org[1])
    assert report["summary"]["findings"] >= 5
    assert {f["trait"] for f in report["findings"]} >= {"knee-jerk-reactionary", "detached-dictator", "regurgitator"}


@pytest.mark.parametrize("seed", [1, 2])
def test_shuffled_and_split_input_gives_identical_json(org: tuple[Path, str], tmp_path: Path, seed: int) -> None:
    path, expected = org
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(seed).shuffle(lines)
    third = len(lines) // 3
    parts = [lines[:third], lines[third : 2 * third], lines[2 * third :]]
    first = tmp_path / "a.jsonl"
    first.write_text("".join(parts[0]), encoding="utf-8")
    second = tmp_path / "b.jsonl.gz"
    second.write_bytes(gzip.compress("".join(parts[1]).encode("utf-8")))
    last = tmp_path / "c.jsonl"
    last.write_text("".join(parts[2]), encoding="utf-8")
    shuffled = engine.check([str(last), str(first), str(second)]).to_json()
    assert shuffled == expected


def test_text_report_is_stable_too(org: tuple[Path, str]) -> None:
    from engine.report import render_text

    path, _ = org
    assert render_text(engine.check([str(path)])) == render_text(engine.check([str(path)]))
