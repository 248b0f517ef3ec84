"""Every case in fixtures/rules, one test each (ids RULE::case, so `pytest -k glory` selects a rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.rulecases import find_case_files, load_cases, run_case

CASES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
CASES = [case for path in find_case_files([str(CASES_DIR)]) for case in load_cases(path)]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_rule_case(case):  # type: ignore[no-untyped-def]
    outcome = run_case(case)
    assert outcome.passed, f"{case.path}:{case.line}: {outcome.detail}"
