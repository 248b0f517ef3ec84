"""Precision and recall of the default rules on simulated organisations.

For each seed, a simulated org (every profile at least once) is checked with
the shipped rules; a manager counts as flagged for a trait or practice when
any rule of that trait fires for them. Labels say what each manager really
does. Healthy managers and look-alikes must be flagged for nothing.

``--realism`` simulates the same orgs with the mess of real CRM logs
(``simulator.realism``: leave, a coaching tool rolled out mid-period, joiners
and leavers, handovers, small teams, player-coaches, reorganisations, a VP's
and reps' events under the manager's name, field noise) and traces each false
positive to the conditions it most likely came from. ``--modes plain
realism`` scores both. Every mode also lists the HIGH findings that rest on a
single rep or a single window.

    python bench/accuracy.py --seeds 1 2 3 --managers 25 --days 90
    python bench/accuracy.py --realism --seeds 1 2 3 4 5
    python bench/accuracy.py --modes plain realism --seeds 1 2 3 4 5 --markdown docs/ACCURACY.md
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine.api import DEFAULT_BACKEND, prepare_rules
from engine.backends import get_backend
from engine.ingest import load_events
from engine.lang.plan import CompiledRule
from engine.report.build import build_findings
from engine.report.model import Finding
from simulator import LOOKALIKE_PROFILES, simulate, write_simulation
from simulator.realism import BEHAVIOUR, FIELD_NOISE, VP_ACTOR, condition_kind

MODES = ("plain", "realism")


@dataclass
class Hit:
    """One finding with what scoring needs beyond the report: the engine's window count and the full evidence."""

    finding: Finding
    windowed: bool  # the rule judges calendar or sliding windows
    windows: int
    evidence: list[str]


@dataclass
class Wrong:
    """A false positive or a false negative: one manager and one trait or practice."""

    seed: int
    manager: str
    profile: str
    trait: str
    rules: list[str]
    conditions: list[str]
    suspects: list[str] = field(default_factory=list)


@dataclass
class Thin:
    """A HIGH finding resting on one rep or one window."""

    seed: int
    manager: str
    profile: str
    rule: str
    correct: bool  # the manager really has the trait
    why: str
    conditions: list[str]


@dataclass
class ModeResult:
    """One mode scored with one rule set over all seeds."""

    mode: str
    rules: str  # the rule set's name
    counts: dict[str, dict[str, int]]
    false_positives: list[Wrong] = field(default_factory=list)
    false_negatives: list[Wrong] = field(default_factory=list)
    thin: list[Thin] = field(default_factory=list)
    high: int = 0  # HIGH findings in all
    carriers: Counter[str] = field(default_factory=Counter)  # condition -> managers whose team carries it
    unlabelled: list[str] = field(default_factory=list)  # findings for managers the labels do not know

    def rows(self) -> list[tuple[str, int, int, int, float, float]]:
        out = []
        for trait in sorted(self.counts):
            c = self.counts[trait]
            precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
            recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
            out.append((trait, c["tp"], c["fp"], c["fn"], precision, recall))
        return out

    def spared(self) -> list[Wrong]:
        """False positives on healthy managers and look-alikes (who must be flagged for nothing)."""
        return [w for w in self.false_positives if w.profile == "healthy" or w.profile in LOOKALIKES]


LOOKALIKES = frozenset(LOOKALIKE_PROFILES)


def run_rules(path: str, compiled: Sequence[CompiledRule]) -> list[Hit]:
    """Every finding of ``compiled`` on the log at ``path``, with its ``windows`` and full evidence."""
    loaded = load_events([path])
    if loaded.problems:
        raise SystemExit(f"{path}: {len(loaded.problems)} events refused; first: {loaded.problems[0]}")
    runner = get_backend(DEFAULT_BACKEND)(loaded.table)
    hits: list[Hit] = []
    try:
        for rule in compiled:
            rows = runner.run(rule).findings
            windowed = rule.window.mode in ("calendar", "sliding")
            for row, finding in zip(rows, build_findings(rule, rows, max_evidence=50, origins=runner.origins)):
                evidence = list(dict.fromkeys(row.get("evidence") or []))
                hits.append(Hit(finding, windowed, int(row.get("windows") or 1), evidence))
    finally:
        runner.close()
    return hits


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _meets(finding: Finding, first: date, last: date) -> bool:
    """Whether the finding's window meets the days ``first`` to ``last`` (both included)."""
    return first <= finding.window_end.date() and finding.window_start.date() <= last


def _utc_day(ts: str) -> date:
    """The UTC day of an RFC 3339 timestamp (with Z or an offset)."""
    when = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return when.astimezone(timezone.utc).date()


def suspects(manager: str, label: dict[str, Any], hits: list[Hit], events: dict[str, dict[str, Any]]) -> list[str]:
    """The realism conditions that most likely produced these findings for one manager.

    Per finding, a condition that adds events is suspected when the finding's
    evidence holds them (the VP's changes, reps' miss explanations, the
    reorganisation's or the one morning's entries, the player-coach's own
    deals). Only when none is, a condition that leaves a gap is suspected when
    the finding's rep or window meets it (a leave, a joiner or leaver, the
    weeks before a tool rollout, five weeks either side of a handover); then
    a small team; then the team's field noise.
    """
    details = label.get("realism") or {}
    kinds = [condition_kind(c) for c in label.get("conditions") or []]
    found: set[str] = set()
    for hit in hits:
        f = hit.finding
        evs = [events[i] for i in hit.evidence if i in events]
        added: set[str] = set()
        if "player_coach" in kinds and any(e.get("rep") == manager for e in evs):
            added.add("player_coach")
        if "reorg" in details:
            reorg = _day(details["reorg"]["date"])
            if any(e["type"] == "strategy_changed" and _utc_day(e["ts"]) == reorg for e in evs):
                added.add("reorg_one_day")
        if "rep_minimums" in details:
            morning, reps_set = _day(details["rep_minimums"]["date"]), details["rep_minimums"]["reps"]
            if any(
                e["type"] == "activity_mandate_set" and e.get("rep") in reps_set and _utc_day(e["ts"]) == morning
                for e in evs
            ):
                added.add("rep_minimums_one_morning")
        if any(e["actor"] == VP_ACTOR for e in evs):
            added.add("vp_strategy_changes")
        if any(e["type"] == "forecast_miss_explained" and e["actor"] != manager for e in evs):
            added.add("rep_miss_explanations")
        if added:
            found |= added
            continue
        gaps: set[str] = set()
        reps = {f.rep} if f.rep else {e["rep"] for e in evs if e.get("rep")}
        for leave in details.get("leaves", []):
            if leave["rep"] in reps and _meets(f, _day(leave["from"]), _day(leave["to"])):
                gaps.add("recorded_leave" if leave["recorded"] else "unrecorded_leave")
        if "tool_rollout" in details and f.window_start.date() < _day(details["tool_rollout"]):
            gaps.add("tool_rollout")
        for key, name in (("joined", "rep_joined_mid_period"), ("left", "rep_left_mid_period")):
            if key in details:
                who, when = details[key]["rep"], _day(details[key]["date"])
                if who in reps or (f.rep is None and _meets(f, when, when)):
                    gaps.add(name)
        if "handover" in details:
            when = _day(details["handover"])
            if _meets(f, when - timedelta(days=35), when + timedelta(days=35)):
                gaps.add("handover")
        if not gaps and "small_team" in kinds:
            gaps.add("small_team")
        if not gaps:
            gaps.update(k for k in kinds if k in FIELD_NOISE)
        found |= gaps
    return [c for c in BEHAVIOUR + FIELD_NOISE if c in found] or ["none"]


def _thin_reason(hit: Hit, events: dict[str, dict[str, Any]]) -> str | None:
    """Why a HIGH finding rests on too little, or None."""
    f = hit.finding
    reps = {f.rep} if f.rep else {events[i]["rep"] for i in hit.evidence if i in events and events[i].get("rep")}
    if len(reps) == 1:
        return f"one rep ({next(iter(reps))})"
    if hit.windowed and hit.windows == 1:
        return "one window"
    return None


def score(
    modes: Sequence[str],
    rule_sets: Sequence[tuple[str, Sequence[str]]],
    seeds: list[int],
    managers: int,
    days: int,
    verbose: bool = False,
) -> list[ModeResult]:
    """Score every rule set in every mode; each mode's orgs are simulated once and checked by each rule set.

    ``rule_sets`` holds (name, rule directories); no directories means the shipped rules.
    """
    compiled = [(name, prepare_rules(list(dirs) or None)[1]) for name, dirs in rule_sets]
    results: list[ModeResult] = []
    for mode in modes:
        batch = [ModeResult(mode, name, defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})) for name, _ in compiled]
        for seed in seeds:
            sim = simulate(managers=managers, days=days, seed=seed, realism=mode == "realism")
            events = {ev["id"]: ev for ev in sim.events}
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "events.jsonl")
                write_simulation(sim, path)
                for result, (name, rules) in zip(batch, compiled):
                    hits = run_rules(path, rules)
                    tally(result, seed, sim.labels["managers"], hits, events)
                    if verbose:
                        print(f"  {mode} seed {seed} rules {name}: {len(hits)} findings", file=sys.stderr)
        results += batch
    return results


def tally(
    result: ModeResult, seed: int, labels: dict[str, Any], hits: list[Hit], events: dict[str, dict[str, Any]]
) -> None:
    """Add one org's findings to ``result``."""
    counts = result.counts
    by_manager: dict[str, dict[str, list[Hit]]] = defaultdict(lambda: defaultdict(list))
    for hit in hits:
        f = hit.finding
        if f.manager not in labels:
            result.unlabelled.append(f"seed {seed} {f.manager}: {f.rule}")
            continue
        by_manager[f.manager][f.trait].append(hit)
        if f.severity == "high":
            result.high += 1
            why = _thin_reason(hit, events)
            if why:
                lab = labels[f.manager]
                correct = f.trait in set(lab["traits"]) | set(lab["practices"])
                conditions = lab.get("conditions", [])
                result.thin.append(Thin(seed, f.manager, lab["profile"], f.rule, correct, why, conditions))
    for manager, label in sorted(labels.items()):
        conditions = label.get("conditions", [])
        result.carriers.update({condition_kind(c) for c in conditions})
        truth = set(label["traits"]) | set(label["practices"])
        got = by_manager.get(manager, {})
        for trait in sorted(truth | set(got)):
            rules = sorted({h.finding.rule for h in got.get(trait, [])})
            wrong = Wrong(seed, manager, label["profile"], trait, rules, conditions)
            if trait in truth and trait in got:
                counts[trait]["tp"] += 1
            elif trait in got:
                counts[trait]["fp"] += 1
                if result.mode == "realism":
                    wrong.suspects = suspects(manager, label, got[trait], events)
                result.false_positives.append(wrong)
            else:
                counts[trait]["fn"] += 1
                result.false_negatives.append(wrong)


# --------------------------------------------------------------------------- text


def _wrong_line(w: Wrong) -> str:
    line = f"seed {w.seed} {w.manager} ({w.profile}): {w.trait} [{', '.join(w.rules) or '-'}]"
    if w.suspects:
        line += f" <- {', '.join(w.suspects)}"
    if w.conditions:
        line += f"  (team: {', '.join(w.conditions)})"
    return line


def print_result(result: ModeResult) -> None:
    print(f"== {result.mode} mode, rules: {result.rules}")
    print(f"{'trait / practice':<24}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}")
    for trait, tp, fp, fn, precision, recall in result.rows():
        print(f"{trait:<24}{tp:>5}{fp:>5}{fn:>5}{precision:>11.2f}{recall:>8.2f}")
    spared = result.spared()
    print(
        f"healthy managers and look-alikes flagged: {len({(w.seed, w.manager) for w in spared})} ({len(spared)} flags)"
    )
    for w in result.false_positives:
        print(f"  FP {_wrong_line(w)}")
    for w in result.false_negatives:
        print(f"  FN {_wrong_line(w)}")
    if result.mode == "realism":
        print("false positives by suspected condition:")
        for condition, n, traits in _by_condition(result):
            print(f"  {condition:<26}{n:>3}  {traits}")
    print(f"HIGH findings resting on one rep or one window: {len(result.thin)} of {result.high}")
    for rule, n in Counter(t.rule for t in result.thin).most_common():
        print(f"  {rule}: {n}")
    if result.unlabelled:
        print(f"findings for managers the labels do not know: {len(result.unlabelled)}")
        for line in result.unlabelled:
            print(f"  {line}")


def _by_condition(result: ModeResult) -> list[tuple[str, int, str]]:
    """(condition, false positives suspected on it, which traits) for every condition, catalogue order."""
    traits: dict[str, Counter[str]] = defaultdict(Counter)
    for w in result.false_positives:
        for s in w.suspects:
            traits[s][w.trait] += 1
    out = []
    for condition in (*BEHAVIOUR, *FIELD_NOISE, "none"):
        found = traits.get(condition, Counter())
        listed = ", ".join(f"`{t}` {n}" for t, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))
        out.append((condition, sum(found.values()), listed or "-"))
    return out


# --------------------------------------------------------------------------- Markdown


def _command(args: argparse.Namespace) -> str:
    parts = ["python bench/accuracy.py", "--modes", *args.modes]
    parts += ["--seeds", *map(str, args.seeds), "--managers", str(args.managers), "--days", str(args.days)]
    for directory in args.rules:
        parts += ["--rules", directory]
    for spec in args.compare:
        parts += ["--compare", spec]
    parts += ["--markdown", args.markdown]
    return " ".join(parts)


def markdown(results: list[ModeResult], args: argparse.Namespace) -> str:
    """The report: the main rule set in full, then each compared rule set in brief."""
    seeds, managers, days = args.seeds, args.managers, args.days
    names = list(dict.fromkeys(r.rules for r in results))
    main_name = names[0]
    main = {r.mode: r for r in results if r.rules == main_name}
    lines = [
        "# Accuracy on simulated organisations",
        "",
        f"Made by `{_command(args)}`: {len(seeds)} simulated orgs of {managers} teams over {days} days in each "
        "mode, every profile at least once per org, scored per manager against the simulator's labels (a manager "
        "counts as flagged for a trait or practice when any of its rules fires for them; a true or false positive "
        f"is one manager and one trait). The rules scored first are {_describe_rules(main_name)}.",
        "",
        "**Read this as a regression check, not as field accuracy.** The simulator and the rules are written by "
        "the same team: the rules were tuned on the very behaviour the simulator generates, and even the realism "
        "mode carries only the messiness we thought of. A 1.00 here says that each rule finds the pattern it was "
        "built for and spares the look-alikes and conditions it was built to spare; it says nothing about a real "
        "organisation.",
        "",
        "- **plain**: `salesmirror simulate` as it has always been: clean teams of six to ten reps, one manager "
        "each (one handover, the `new-manager` look-alike).",
        "- **realism**: `salesmirror simulate --realism`: the same orgs with the conditions listed below injected "
        "deterministically from the seed, into healthy managers' and look-alikes' teams alike, and into trait and "
        "practice teams wherever the condition does not itself add or remove the labelled signal. Each manager's "
        "labels name the conditions their team carries (`conditions`, with details under `realism`).",
        "",
        "Targets: precision and recall of at least 0.95 for every trait and practice in both modes, no healthy "
        "manager or look-alike flagged, no HIGH finding resting on a single rep or a single window.",
        "",
    ]
    lines += _table(main)
    lines.append("")
    lines += _spared_lines(main)
    if "realism" in main:
        lines += ["", _summary(main["realism"])]
    lines.append("")
    lines += _thin_section(results)
    realism = main.get("realism")
    if realism is not None:
        lines += _conditions_section(realism, managers)
        lines += _false_positive_section(realism, full=True)
        lines += ["", "## False negatives in realism mode", ""]
        if realism.false_negatives:
            lines += [f"- {_wrong_line(w)}" for w in realism.false_negatives]
        else:
            lines.append("None: every labelled trait and practice was still found under its team's conditions.")
    plain = main.get("plain")
    if plain is not None and (plain.false_positives or plain.false_negatives):
        lines += ["", "## Errors in plain mode", ""]
        lines += [f"- FP {_wrong_line(w)}" for w in plain.false_positives]
        lines += [f"- FN {_wrong_line(w)}" for w in plain.false_negatives]
    unlabelled = [line for r in main.values() for line in r.unlabelled]
    if unlabelled:
        lines += ["", f"Findings for managers the labels do not know: {len(unlabelled)}.", ""]
        lines += [f"- {line}" for line in unlabelled]
    for name in names[1:]:
        other = {r.mode: r for r in results if r.rules == name}
        lines += ["", f"## The same orgs with {_describe_rules(name)}", ""]
        lines += _table(other)
        lines.append("")
        lines += _spared_lines(other)
        if "realism" in other:
            lines += _false_positive_section(other["realism"], full=False, level="###")
    return "\n".join(lines) + "\n"


def _summary(r: ModeResult) -> str:
    """One sentence: which conditions the realism mode's false positives come from."""
    rows = [(c, n, traits) for c, n, traits in _by_condition(r) if n]
    if not rows:
        return "No false positives in realism mode."
    named = "; ".join(f"`{c}` {n} ({traits})" for c, n, traits in sorted(rows, key=lambda row: -row[1]))
    quiet = [f"`{c}`" for c in (*BEHAVIOUR, *FIELD_NOISE) if c not in {row[0] for row in rows}]
    text = f"The {len(r.false_positives)} false positives of realism mode, by suspected condition: {named}."
    if quiet:
        text += f" None came from {', '.join(quiet)}."
    return text


def _describe_rules(name: str) -> str:
    if name == "shipped":
        return f"the shipped rules (`rules/` {_checkout()})"
    if name.startswith("committed at "):
        return f"the rules as {name} (`--compare {name.rsplit(' ', 1)[1]}`)"
    return f"the rules in `{name}`"


def _checkout() -> str:
    """Which commit the checked-out rules are, and whether they carry uncommitted edits."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        sha = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "rules"], check=True, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "as checked out"
    return f"at {sha}" + (" with uncommitted edits" if dirty else "")


def _spared_lines(by_mode: dict[str, ModeResult]) -> list[str]:
    out = []
    for mode in MODES:
        if mode in by_mode:
            spared = by_mode[mode].spared()
            who = len({(w.seed, w.manager) for w in spared})
            out.append(
                f"Healthy managers and healthy look-alikes flagged for anything, {mode}: {who} "
                f"({len(spared)} manager-trait flags)."
            )
    return out


def _table(by_mode: dict[str, ModeResult]) -> list[str]:
    modes = [m for m in MODES if m in by_mode]
    rows = {m: {row[0]: row for row in by_mode[m].rows()} for m in modes}
    traits = sorted({t for m in modes for t in rows[m]})
    head = "| trait / practice |" + "".join(f" {m} TP | FP | FN | precision | recall |" for m in modes)
    rule = "|---|" + "---:|---:|---:|---:|---:|" * len(modes)
    out = [head, rule]
    for trait in traits:
        cells = f"| `{trait}` |"
        for m in modes:
            _, tp, fp, fn, p, r = rows[m].get(trait, (trait, 0, 0, 0, 1.0, 1.0))
            mark = "" if p >= 0.95 and r >= 0.95 else " ✗"
            cells += f" {tp} | {fp} | {fn} | {p:.2f} | {r:.2f}{mark} |"
        out.append(cells)
    out += ["", "✗: under the target of 0.95 precision and 0.95 recall."]
    return out


def _thin_section(results: list[ModeResult]) -> list[str]:
    out = [
        "## HIGH findings resting on one rep or one window",
        "",
        "A HIGH finding *rests on one rep* when it is about one rep (the rule groups by rep, so the finding names "
        "a `rep`) or when every evidence event that names a rep names the same one. It *rests on one window* when "
        "its rule judges calendar windows (month, quarter) or a sliding window and the engine's `windows` for it "
        "is 1: a single calendar month or quarter, or, for a sliding window, the count reached the threshold at "
        "one event and at no later one. Rules over the whole period led or over gaps (`absence`) have no windows "
        "to count and are judged by the one-rep test alone. A finding that fails both tests is counted once, as "
        "one rep. The target is none.",
        "",
        "| rules | mode | HIGH findings | on one rep | on one window | on managers without the trait | by rule |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        by_rule = ", ".join(f"`{rule}` {n}" for rule, n in Counter(t.rule for t in r.thin).most_common()) or "-"
        one_rep = sum(1 for t in r.thin if t.why.startswith("one rep"))
        wrong = sum(1 for t in r.thin if not t.correct)
        out.append(f"| {r.rules} | {r.mode} | {r.high} | {one_rep} | {len(r.thin) - one_rep} | {wrong} | {by_rule} |")
    return out


def _conditions_section(r: ModeResult, managers: int) -> list[str]:
    out = [
        "",
        "## What the realism mode injects",
        "",
        f"Each behaviour condition goes to about one team in twelve ({max(1, round(managers * 2 / 25))} of "
        f"{managers} here), the first of them to a healthy manager or look-alike, and a team carries at most two; "
        "each field-noise condition goes to two teams in five. Days are counted from the log's first day (day 0). "
        "Managers carrying each condition over all seeds (a handed-over team counts for both its managers):",
        "",
        "| condition | what it is | managers |",
        "|---|---|---:|",
    ]
    for condition in (*BEHAVIOUR, *FIELD_NOISE):
        out.append(f"| `{condition}` | {CONDITION_TEXT[condition]} | {r.carriers.get(condition, 0)} |")
    return out


def _false_positive_section(r: ModeResult, full: bool, level: str = "##") -> list[str]:
    out = [
        "",
        f"{level} False positives in realism mode, by suspected condition",
        "",
        "Each false positive (a manager flagged for a trait or practice they do not have) is traced, finding by "
        "finding, to the conditions that most likely produced it: first a condition that adds events, when the "
        "finding's evidence holds them (the VP's changes, reps' miss explanations, the reorganisation's or the "
        "one morning's entries, the player-coach's own deals); failing that, one that leaves a gap, when the "
        "finding's rep or window meets it (a leave, a joiner or leaver, the weeks before a tool rollout, five "
        "weeks either side of a handover); then a small team; then the team's field noise. `none` means the "
        "team carries no condition at all. One false positive may have several suspects.",
        "",
        "| condition | false positives | flagged as |",
        "|---|---:|---|",
    ]
    for condition, n, traits in _by_condition(r):
        if condition == "none" and not n:
            continue
        out.append(f"| `{condition}` | {n} | {traits} |")
    if full and r.false_positives:
        out += [
            "",
            "Every false positive: seed, manager (profile): trait [rules] <- suspected conditions (the team's "
            "conditions).",
            "",
        ]
        out += [f"- {_wrong_line(w)}" for w in r.false_positives]
    return out


CONDITION_TEXT = {
    "recorded_leave": "a rep away for 2-10 weeks, with a `person_absent` record",
    "unrecorded_leave": "a rep away for 2-10 weeks with nothing recorded: no events at all",
    "tool_rollout": "one-on-ones and listened calls logged only from day N (the manager coached before)",
    "rep_joined_mid_period": "a rep added part-way: onboarding one-on-one, pro-rated target, ramp-up activity target",
    "rep_left_mid_period": "a rep removed part-way; their open deals handed to colleagues",
    "handover": "the whole team handed to a new manager on day N (both are healthy, or the successor has the profile)",
    "small_team": "two or three reps",
    "player_coach": "the manager also sells a book of named accounts (creates, pushes and closes own deals)",
    "reorg_one_day": "a reorganisation logged as 3-4 strategy changes (different areas) in one morning",
    "rep_minimums_one_morning": "3-5 per-rep activity minimums set in one morning",
    "vp_strategy_changes": "the VP's strategy changes (actor role `executive`) logged with the team's manager",
    "rep_miss_explanations": "reps' own forecast-miss explanations logged with the team's manager",
    "no_actor_role": "`actor_role` left out of 30 % of reps' and the manager's events",
    "no_manager_field": "`manager` left out of 30 % of the events the roster can place",
    "foreign_ids": "UUID and 18-character Salesforce ids for events, Salesforce opportunity ids for deals",
    "mixed_timestamps": "timestamps in the team's UTC offset, most with milliseconds or microseconds",
    "custom_types": "event types outside the vocabulary (`task_completed`, `dashboard_viewed`, ...)",
}


def rules_at(rev: str, into: str) -> tuple[str, list[str]]:
    """The rule directory as committed at git revision ``rev``, unpacked under ``into``: (name, [directory])."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*argv: str) -> bytes:
        return subprocess.run(["git", "-C", root, *argv], check=True, capture_output=True).stdout

    sha = git("rev-parse", "--short", rev).decode().strip()
    target = os.path.join(into, sha)
    with tarfile.open(fileobj=io.BytesIO(git("archive", sha, "rules"))) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, filter="data")
        else:  # Python before 3.10.12: our own repository's archive
            tar.extractall(target)
    return f"committed at {sha}", [os.path.join(target, "rules")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--managers", type=int, default=25)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--realism", action="store_true", help="Score the realism mode (same as --modes realism).")
    parser.add_argument("--modes", nargs="+", choices=MODES, help="Modes to score, in turn (default: plain).")
    parser.add_argument("--rules", action="append", default=[], help="Rule directory instead of the shipped rules.")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="REV",
        help="Also score, on the same orgs, the rules as committed at git revision REV (repeatable).",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--markdown", help="Also write the report as Markdown to this file.")
    args = parser.parse_args()
    if args.modes is None:
        args.modes = ["realism"] if args.realism else ["plain"]
    elif args.realism and "realism" not in args.modes:
        args.modes.append("realism")
    rule_sets: list[tuple[str, Sequence[str]]] = [(" ".join(args.rules) or "shipped", args.rules)]
    with tempfile.TemporaryDirectory() as tmp:
        for rev in args.compare:
            rule_sets.append(rules_at(rev, tmp))
        results = score(args.modes, rule_sets, args.seeds, args.managers, args.days, args.verbose)
    for result in results:
        print_result(result)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as handle:
            handle.write(markdown(results, args))


if __name__ == "__main__":
    main()
