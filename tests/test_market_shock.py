"""The simulator's market-shock scenario (simulator.shock): one quarter in which the market turns for
every team, so that most managers, honest ones included, explain their misses by it. The shipped
excuse-maker rule judges managers against their peers and must not flag the honest ones for it;
the same rule without its peer comparison would."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from engine.lang.loader import default_rules_dir
from simulator import simulate, write_simulation

RULE = "excuse-maker/external-blame"
EXTERNAL = {"market", "competition", "product", "pricing", "timing"}
# an org of sixteen teams: the excuse maker, the honest forecaster and fourteen others
PROFILES = [
    "excuse-maker",
    "honest-forecaster",
    "healthy",
    "cheerleader",
    "healthy",
    "drum-banger",
    "healthy",
    "glory-grabber",
    "few-listens",
    "healthy",
    "kpi-overload",
    "regurgitator",
    "healthy",
    "tells-not-shows",
    "meeting-bound",
    "healthy",
]


def explanations(sim: Any, first: str, end: str) -> dict[str, list[str]]:
    """Each manager's own miss explanations (cause categories) between two dates."""
    out: dict[str, list[str]] = defaultdict(list)
    for e in sim.events:
        if e["type"] == "forecast_miss_explained" and e["actor"] == e["manager"] and first <= e["ts"][:10] < end:
            out[e["manager"]].append(e["attrs"]["cause_category"])
    return out


def test_before_the_shock_the_log_is_the_same() -> None:
    """The shock draws from a generator of its own: up to its first day, nothing differs."""
    plain = simulate(managers=6, days=120, seed=4)
    shocked = simulate(managers=6, days=120, seed=4, market_shock="2026-Q2")
    assert shocked.labels["market_shock"] == "2026-Q2" and "market_shock" not in plain.labels
    before = [e for e in plain.events if e["ts"] < "2026-04-01"]
    assert before and [e for e in shocked.events if e["ts"] < "2026-04-01"] == before
    assert [e for e in shocked.events if e["ts"] >= "2026-04-01"] != [
        e for e in plain.events if e["ts"] >= "2026-04-01"
    ]


def test_in_the_shock_quarter_most_managers_blame_the_market() -> None:
    sim = simulate(managers=16, days=180, seed=2, profiles=PROFILES, market_shock="2026-Q2")
    labels = sim.labels["managers"]
    shock = explanations(sim, "2026-04-01", "2026-07-01")
    calm = explanations(sim, "2026-01-05", "2026-04-01")
    honest = [m for m in labels if labels[m]["profile"] != "excuse-maker"]
    market = [m for m in honest if sum(c == "market" for c in shock[m]) * 2 > len(shock[m]) >= 4]
    assert len(market) >= 0.8 * len(honest)  # most managers, honest ones included
    calm_market = sum(c in EXTERNAL for m in honest for c in calm[m]) / sum(len(calm[m]) for m in honest)
    assert calm_market < 0.4  # before the shock, the same managers blame outside causes far less
    excuses = [m for m in labels if labels[m]["profile"] == "excuse-maker"]
    assert all(set(shock[m]) <= EXTERNAL and set(calm[m]) <= EXTERNAL for m in excuses)


def test_results_fall_in_the_shock_quarter() -> None:
    plain = simulate(managers=6, days=120, seed=4)
    shocked = simulate(managers=6, days=120, seed=4, market_shock="2026-Q1")

    def mean(sim: Any) -> float:
        values = [e["attrs"]["attainment"] for e in sim.events if e["type"] == "quota_result"]
        return sum(values) / len(values)

    assert mean(shocked) < 0.92 * mean(plain)


def test_a_quarter_that_is_not_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="such as 2026-Q2"):
        simulate(managers=2, days=10, market_shock="2026-Q5")
    from click.testing import CliRunner

    from cli import main

    target = tmp_path / "org.jsonl"
    args = ["simulate", "--managers", "3", "--days", "30", "-o", str(target)]
    bad = CliRunner().invoke(main, [*args, "--market-shock", "spring"])
    assert bad.exit_code == 2 and "--market-shock" in bad.output and not target.exists()
    good = CliRunner().invoke(main, [*args, "--market-shock", "2026-Q1"])
    assert good.exit_code == 0, good.output
    assert json.loads((tmp_path / "org.labels.json").read_text(encoding="utf-8"))["market_shock"] == "2026-Q1"


def _flagged(tmp_path: Path, sim: Any, peer: bool) -> set[str]:
    """Managers the excuse-maker rule flags in ``sim``: as shipped, or with its peer comparison taken out."""
    rules = tmp_path / ("peer" if peer else "absolute")
    (rules / "excuse-maker").mkdir(parents=True)
    shutil.copy(Path(default_rules_dir()) / "_library.yaml", rules)
    doc = yaml.safe_load((Path(default_rules_dir()) / f"{RULE}.yaml").read_text(encoding="utf-8"))
    if not peer:
        doc["logic"].pop("peer", None)
        doc["params"] = {k: v for k, v in doc["params"].items() if k not in ("peer_multiple", "min_peers")}
        doc["message"] = "blamed outside causes for {external} of {explained} forecast misses"
    (rules / f"{RULE}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    log = tmp_path / "org.jsonl"
    if not log.exists():
        write_simulation(sim, str(log))
    return {f.manager for f in engine.check([str(log)], rules=[str(rules)]).findings if f.rule == RULE}


def test_the_peer_relative_rule_spares_honest_managers_in_a_shock_quarter(tmp_path: Path) -> None:
    sim = simulate(managers=16, days=90, seed=1, profiles=PROFILES, market_shock="2026-Q1")
    labels = sim.labels["managers"]
    honest = {m for m in labels if labels[m]["profile"] != "excuse-maker"}
    absolute = _flagged(tmp_path, sim, peer=False)
    assert len(absolute & honest) >= 4  # a fixed 80 % reads the shock as half the org's excuses
    assert not _flagged(tmp_path, sim, peer=True) & honest
