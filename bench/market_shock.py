"""The market-shock scenario: how the default rules judge an org in which the market turns.

``simulate(..., market_shock=QUARTER)`` (``simulator.shock``) makes one quarter
hard for every team: results fall and most managers, honest ones included, put
most of their misses down to the market. The excuse maker is the trait at risk:
a fixed share of outside causes reads the shift as half the org's excuses, so
``excuse-maker/external-blame`` also compares each manager with the run's
median. This script scores two scenarios on the same seeds, per manager
against the simulator's labels (``bench/accuracy.py``'s scoring):

- **shock only**: 90 days, all of them in the shock quarter;
- **calm, then shock**: 180 days, a normal quarter followed by the shock.

Each scenario is scored with the shipped rules, and the excuse-maker rule also
as shipped but without its peer comparison (``absolute``) and judged per
calendar quarter (``per quarter``), so the effect of each is visible.

    python bench/market_shock.py --seeds 1 2 3 4 5 --managers 30
    python bench/market_shock.py --seeds 1 2 3 4 5 --managers 30 --markdown docs/ACCURACY.md

``--markdown`` writes the section "Market shock over five seeds, and a calm quarter before it" into the
file, replacing that section if the file has one (``bench/accuracy.py``
rewrites the rest of the page; run this after it).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from engine.api import prepare_rules  # noqa: E402
from engine.lang.loader import default_rules_dir  # noqa: E402
from simulator import simulate, write_simulation  # noqa: E402

_spec = importlib.util.spec_from_file_location("accuracy", os.path.join(ROOT, "bench", "accuracy.py"))
assert _spec is not None and _spec.loader is not None
accuracy = importlib.util.module_from_spec(_spec)
sys.modules["accuracy"] = accuracy
_spec.loader.exec_module(accuracy)

EXCUSE = "excuse-maker/external-blame"
HEADING = "## Market shock over five seeds, and a calm quarter before it"


@dataclass(frozen=True)
class Scenario:
    name: str
    days: int
    quarter: str
    what: str


SCENARIOS = (
    Scenario("shock only", 90, "2026-Q1", "90 days from 5 January 2026, all in the shock quarter (2026-Q1)"),
    Scenario(
        "calm, then shock", 180, "2026-Q2", "180 days from 5 January 2026: a normal quarter, then the shock (2026-Q2)"
    ),
)


def excuse_variants(into: str) -> dict[str, list[str]]:
    """Rule directories holding only the excuse-maker rule: without its peer comparison, and per quarter."""
    source = os.path.join(default_rules_dir(), f"{EXCUSE}.yaml")
    with open(source, encoding="utf-8") as handle:
        shipped = yaml.safe_load(handle)
    absolute = dict(shipped, logic=dict(shipped["logic"]))
    absolute["logic"].pop("peer", None)
    absolute["params"] = {k: v for k, v in shipped["params"].items() if k not in ("peer_multiple", "min_peers")}
    absolute["message"] = "blamed outside causes for {external} of {explained} forecast misses ({ratio:.0%})"
    quarterly = dict(shipped, logic=dict(shipped["logic"], window={"calendar": "quarter", "min_coverage": 0.5}))
    out = {}
    for name, doc in (("absolute", absolute), ("per quarter", quarterly)):
        directory = os.path.join(into, name.replace(" ", "-"))
        os.makedirs(os.path.join(directory, "excuse-maker"))
        shutil.copy(os.path.join(default_rules_dir(), "_library.yaml"), directory)
        with open(os.path.join(directory, f"{EXCUSE}.yaml"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(doc, handle, sort_keys=False)
        out[name] = [directory]
    return out


def run(seeds: list[int], managers: int) -> dict[tuple[str, str], Any]:
    """{(scenario, rule set): ModeResult} over all seeds."""
    results: dict[tuple[str, str], Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sets = {"shipped": prepare_rules(None)[1]}
        sets.update({name: prepare_rules(dirs)[1] for name, dirs in excuse_variants(tmp).items()})
        for scenario in SCENARIOS:
            for name in sets:
                counts: Any = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
                results[(scenario.name, name)] = accuracy.ModeResult("plain", name, counts)
            for seed in seeds:
                sim = simulate(managers=managers, days=scenario.days, seed=seed, market_shock=scenario.quarter)
                events = {ev["id"]: ev for ev in sim.events}
                path = os.path.join(tmp, f"{scenario.days}-{seed}.jsonl")
                write_simulation(sim, path)
                for name, rules in sets.items():
                    labels = sim.labels["managers"]
                    if name != "shipped":  # score the excuse maker alone: the other rules are not run
                        labels = {
                            m: dict(lab, traits=[t for t in lab["traits"] if t == "excuse-maker"], practices=[])
                            for m, lab in labels.items()
                        }
                    accuracy.tally(
                        results[(scenario.name, name)], seed, labels, accuracy.run_rules(path, rules), events
                    )
                os.remove(path)
    return results


def _excuse_row(result: Any) -> tuple[int, int, int, str]:
    c = result.counts.get("excuse-maker", {"tp": 0, "fp": 0, "fn": 0})
    who = sorted(
        f"seed {w.seed} {w.manager} ({w.profile})" for w in result.false_positives if w.trait == "excuse-maker"
    )
    return c["tp"], c["fp"], c["fn"], ", ".join(who) or "-"


def _reading(results: dict[tuple[str, str], Any], seeds: int) -> list[str]:
    """What the excuse-maker table says, in words, from its numbers."""
    only, calm = SCENARIOS[0].name, SCENARIOS[1].name
    a_tp, a_fp, _, _ = _excuse_row(results[(only, "absolute")])
    s_tp, s_fp, _, _ = _excuse_row(results[(only, "shipped")])
    c_tp, c_fp, _, c_who = _excuse_row(results[(calm, "shipped")])
    q_tp, q_fp, _, _ = _excuse_row(results[(calm, "per quarter")])
    lean = results[(only, "shipped")].counts.get("leaning-on-the-strong", {"tp": 0, "fn": 0})
    return [
        f"In a log that is all shock quarter, the fixed 80 % names {a_fp} managers who are not excuse makers; "
        f"the shipped peer-relative rule names {s_fp}, and finds {s_tp} of the {seeds} excuse makers: when "
        "everyone blames the market, the habit cannot be told from the quarter. With a calm quarter first, the "
        f"shipped rule, which judges the whole period led, finds {c_tp} of {seeds} and names {c_fp} others "
        f"({c_who}): mixing a calm and a shock quarter in one share, a manager who led only the shock quarter "
        "(the new manager), or explained more misses in it, stands out against a median that is half calm. "
        f"Judged per calendar quarter against the same peers, the calm quarter shows the habit: {q_tp} of {seeds} "
        f"found, {q_fp} others named, and the shock quarter names no one.",
        "",
        "`leaning-on-the-strong` reads a strong seller as one at or over quota, and the simulated leaning "
        "manager moves deals only to such sellers; when the shock takes every seller under quota there is no one "
        f"to lean on and the check finds {lean['tp']} of {lean['tp'] + lean['fn']} (it finds all of them with a "
        "calm quarter first).",
    ]


def section(results: dict[tuple[str, str], Any], seeds: list[int], managers: int) -> str:
    command = f"python bench/market_shock.py --seeds {' '.join(map(str, seeds))} --managers {managers} --markdown docs/ACCURACY.md"
    lines = [
        HEADING,
        "",
        f"Made by `{command}`: the orgs of seeds {', '.join(map(str, seeds))} with {managers} teams (every profile "
        "once, plain mode), with one quarter made an org-wide market shock (`salesmirror simulate --market-shock "
        "QUARTER`, `simulator/shock.py`): results fall by 15 % for every team, misses come every two or three weeks, "
        "and each manager, honest ones included, puts 70-90 % of them down to the market; the excuse maker blames "
        "outside causes for everything, as in any quarter. Two scenarios:",
        "",
    ]
    lines += [f"- **{s.name}**: {s.what}." for s in SCENARIOS]
    lines += [
        "",
        "`excuse-maker/external-blame` is scored as shipped (80 % of at least four explanations, and 1.5 times the "
        "median share of the run's managers, at least 5 of them), without the peer comparison (`absolute`, the rule "
        "as it was before it became peer-relative) and, as a variant not shipped, judged per calendar quarter "
        f"(`per quarter`). Of {len(seeds)} excuse makers in each scenario:",
        "",
        "| scenario | excuse-maker rule | found | missed | honest managers flagged | which |",
        "|---|---|---:|---:|---:|---|",
    ]
    for scenario in SCENARIOS:
        for name in ("absolute", "shipped", "per quarter"):
            tp, fp, fn, who = _excuse_row(results[(scenario.name, name)])
            shown = "shipped (peer-relative)" if name == "shipped" else name
            if len(who) > 160:
                who = f"{fp} managers of {len({w.profile for w in results[(scenario.name, name)].false_positives})} profiles"
            lines.append(f"| {scenario.name} | {shown} | {tp} | {fn} | {fp} | {who} |")
    lines += ["", *_reading(results, len(seeds))]
    lines += [
        "",
        "Every other trait and practice, with the shipped rules, in the same orgs:",
        "",
        "| scenario | trait / practice | TP | FP | FN | precision | recall |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        result = results[(scenario.name, "shipped")]
        for trait, tp, fp, fn, precision, recall in result.rows():
            if trait == "excuse-maker":
                continue
            lines.append(f"| {scenario.name} | `{trait}` | {tp} | {fp} | {fn} | {precision:.2f} | {recall:.2f} |")
        wrong = [w for w in result.false_positives + result.false_negatives if w.trait != "excuse-maker"]
        if wrong:
            lines.append("")
            kind = {id(w): "FP" for w in result.false_positives}
            lines += [f"- {scenario.name}: {kind.get(id(w), 'FN')} {accuracy._wrong_line(w)}" for w in wrong]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_section(path: str, text: str) -> None:
    """Put ``text`` in place of the file's market-shock section (up to the next '## '), or at its end."""
    with open(path, encoding="utf-8") as handle:
        page = handle.read()
    start = page.find(HEADING)
    if start < 0:
        page = page.rstrip("\n") + "\n\n" + text
    else:
        end = page.find("\n## ", start + len(HEADING))
        page = page[:start] + text + (page[end:] if end >= 0 else "")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--managers", type=int, default=30)
    parser.add_argument("--markdown", help="Write the scenario's section into this Markdown file.")
    args = parser.parse_args()
    results = run(args.seeds, args.managers)
    for (scenario, name), result in results.items():
        print(f"-- {scenario}, rules: {name}")
        accuracy.print_result(result)
    text = section(results, args.seeds, args.managers)
    print(text)
    if args.markdown:
        write_section(args.markdown, text)


if __name__ == "__main__":
    main()
