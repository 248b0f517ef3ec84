"""The shipped rule catalogue: complete, documented, tested, and covering every trait."""

from __future__ import annotations

import re
import string
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.lang.compiler import compile_rules
from engine.lang.loader import default_rules_dir, load_rules
from engine.rulecases import find_case_files, load_cases
from engine.vocab import EVENT_TYPES, TRAITS

ROOT = Path(__file__).resolve().parent.parent
RULESET = load_rules([default_rules_dir()])
RULES = RULESET.rules
CASES = [case for path in find_case_files([str(ROOT / "fixtures" / "rules")]) for case in load_cases(path)]
PRACTICES = {
    "call-listening",
    "deal-capacity",
    "kpi-overload",
    "performance-avoidance",
    "even-target-split",
    "meeting-focus",
}
# Practices whose checks are all still experimental (in the default run, not yet stable).
EXPERIMENTAL_PRACTICES = {
    "onboarding",
    "show-me-not-tell-me",
    "leaning-on-the-strong",
}


def test_ids_are_unique_and_match_paths() -> None:
    ids = [r.rule.id for r in RULES]
    assert len(ids) == len(set(ids))
    for loaded in RULES:
        relative = Path(loaded.path).resolve().relative_to(Path(default_rules_dir()).resolve())
        assert str(relative.with_suffix("")) == loaded.rule.id


def test_every_trait_and_practice_has_a_stable_rule() -> None:
    covered = {r.rule.trait for r in RULES if r.rule.status == "stable"}
    assert set(TRAITS) <= covered
    assert covered >= PRACTICES
    assert covered <= set(TRAITS) | PRACTICES


def test_every_rule_names_a_known_trait_or_practice() -> None:
    """Experimental rules too: a new practice id is declared here, and each one has a check."""
    traits = {r.rule.trait for r in RULES}
    assert traits <= set(TRAITS) | PRACTICES | EXPERIMENTAL_PRACTICES
    assert traits >= EXPERIMENTAL_PRACTICES
    stable = {r.rule.trait for r in RULES if r.rule.status == "stable"}
    assert not EXPERIMENTAL_PRACTICES & stable, "a practice with a stable rule belongs in PRACTICES"


def test_all_rules_compile_with_every_param_used() -> None:
    compiled = compile_rules(RULESET)  # an unused parameter is a compile error
    assert len(compiled) == len(RULES)


@pytest.mark.parametrize("loaded", RULES, ids=[r.rule.id for r in RULES])
def test_rule_docs_are_complete(loaded) -> None:  # type: ignore[no-untyped-def]
    rule = loaded.rule
    for part in (rule.docs.why, rule.docs.instead):
        assert len(part.split()) >= 15, f"{rule.id}: docs too thin"
    assert rule.docs.false_positives
    assert rule.docs.references, f"{rule.id}: tie it to the source material"
    for name, spec in rule.params.items():
        assert len(spec.doc.split()) >= 5, f"{rule.id}: param {name} needs a real doc line"
    assert rule.advice.strip() and rule.message.strip()
    fields = {f for _, f, _, _ in string.Formatter().parse(rule.message) if f}
    assert fields, f"{rule.id}: the message should state the metric"


@pytest.mark.parametrize("loaded", RULES, ids=[r.rule.id for r in RULES])
def test_rule_has_firing_and_quiet_cases(loaded) -> None:  # type: ignore[no-untyped-def]
    cases = [c for c in CASES if c.rule == loaded.rule.id]
    assert any(c.expect for c in cases), f"{loaded.rule.id}: no case that must fire"
    assert any(not c.expect for c in cases), f"{loaded.rule.id}: no look-alike that must stay quiet"


def test_every_case_names_a_shipped_rule() -> None:
    ids = {r.rule.id for r in RULES}
    assert {c.rule for c in CASES} <= ids


# ---- only the manager's own actions judge the manager --------------------------------------

# Rules whose counted events are not the manager's own actions, each with the reason.
# Every other rule must filter the events it counts on the manager as actor (directly,
# through a macro such as by_manager, or, for sequences, by pairing then.actor with
# then.manager). The list is checked both ways: a rule listed here that does filter
# on the manager must be taken off it.
NOT_BY_MANAGER = {
    "drum-banger/activity-without-progress": (
        "it measures the reps' activity and the deals' progress, the outcome of a mandate; the manager's "
        "own act is required as trend.after (an activity_mandate_set by the manager), which is the evidence"
    ),
    "deal-capacity/underloaded-reps": (
        "like overloaded-reps it measures each rep's open pipeline, an outcome of how the manager "
        "allocates deals rather than an action of theirs, so every actor's deal events count"
    ),
    "deal-capacity/overloaded-reps": (
        "it measures each rep's open pipeline, an outcome of how the manager allocates and prunes "
        "deals rather than an action of theirs, so every actor's deal events count"
    ),
    "leaning-on-the-strong/deals-moved-to-strong": (
        "the moves it counts are the manager's own (its first step filters on the manager as actor); "
        "the plan or coaching that answers a move may come from anyone (HR, an enablement coach), as in "
        "performance-avoidance, because a finding saying 'no coaching' about a coached seller would not hold up"
    ),
    "performance-avoidance/no-plan": (
        "it counts poor results (quota_result, logged by ops) left unanswered; a plan or performance "
        "coaching started by HR or an enablement coach also answers them, because a finding saying "
        "'no plan' about a rep who has one would not hold up"
    ),
}


def _needs_manager_actor(condition: object, seen: tuple[str, ...] = ()) -> bool:
    """Whether every event matching ``condition`` has the event's manager as its actor."""
    if not isinstance(condition, dict):
        return False
    for key, value in condition.items():
        if key == "actor" and isinstance(value, dict) and value.get("same_as") == "manager":
            return True
        if key == "use":
            names = value if isinstance(value, list) else [value]
            for name in names:
                known = name in RULESET.macros and name not in seen
                if known and _needs_manager_actor(RULESET.macros[name][0], seen + (name,)):
                    return True
        if key == "all" and isinstance(value, list) and any(_needs_manager_actor(c, seen) for c in value):
            return True
        if key == "any" and isinstance(value, list) and value and all(_needs_manager_actor(c, seen) for c in value):
            return True
    return False


def _pairs_winner_with_manager(logic) -> bool:  # type: ignore[no-untyped-def]
    """A sequence pair that makes the counted (then) event's actor its manager."""
    sides = {"then.actor", "then.manager"}
    return any(p.op == "eq" and {p.left, p.right} == sides for p in getattr(logic, "pairs", []))


def counted_by_manager(logic) -> bool:  # type: ignore[no-untyped-def]
    """Whether the events a rule counts against the manager are the manager's own actions."""
    base = _needs_manager_actor(logic.where)
    if logic.kind in ("match", "threshold", "absence"):
        return base
    if logic.kind == "ratio":  # the numerator is what there is too much (or too little) of
        return base or _needs_manager_actor(logic.numerator.where)
    if logic.kind == "sequence":  # the second step is counted (with absent: the missing answer)
        return base or _needs_manager_actor(logic.then.where) or _pairs_winner_with_manager(logic)
    if logic.kind == "concurrency":
        return base or _needs_manager_actor(logic.open.where)
    raise AssertionError(f"say which events of a '{logic.kind}' rule judge the manager")


@pytest.mark.parametrize("loaded", RULES, ids=[r.rule.id for r in RULES])
def test_rule_counts_only_the_managers_own_actions(loaded) -> None:  # type: ignore[no-untyped-def]
    rule = loaded.rule
    filtered = counted_by_manager(rule.logic)
    if rule.id in NOT_BY_MANAGER:
        assert not filtered, f"{rule.id} now filters on the manager as actor: take it off NOT_BY_MANAGER"
        assert len(NOT_BY_MANAGER[rule.id].split()) >= 15, f"{rule.id}: give the real reason"
    else:
        assert filtered, (
            f"{rule.id}: the events it counts must be the manager's own (use: by_manager), "
            "or list it in NOT_BY_MANAGER with the reason"
        )


def test_actor_exceptions_name_shipped_rules() -> None:
    assert set(NOT_BY_MANAGER) <= {r.rule.id for r in RULES}


def test_the_actor_check_sees_through_macros_and_combinators() -> None:
    assert _needs_manager_actor({"use": "by_manager"})
    assert _needs_manager_actor({"use": "rep_contact"})  # a macro that uses by_manager
    assert _needs_manager_actor({"all": [{"type": "x"}, {"actor": {"same_as": "manager"}}]})
    assert not _needs_manager_actor({"any": [{"use": "by_manager"}, {"type": "x"}]})
    assert not _needs_manager_actor({"not": {"use": "by_manager"}})
    assert not _needs_manager_actor({"actor": {"differs_from": "manager"}})


# ---- handovers: each manager judged only on the time they led ----------------------------------


def _moment(value: object) -> datetime:
    text = str(value)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def handovers(case) -> list[tuple[str, str, datetime]]:  # type: ignore[no-untyped-def]
    """(outgoing manager, incoming manager, when) for each rep removed from one manager and
    added to another at the same moment in the case's roster."""
    removed = [(e["rep"], e["manager"], _moment(e["ts"])) for e in case.events if e["type"] == "team_member_removed"]
    added = [(e["rep"], e["manager"], _moment(e["ts"])) for e in case.events if e["type"] == "team_member_added"]
    return sorted(
        {
            (old, new, when)
            for rep, old, when in removed
            for rep2, new, when2 in added
            if rep2 == rep and when2 == when and new != old
        }
    )


@pytest.mark.parametrize("loaded", RULES, ids=[r.rule.id for r in RULES])
def test_rule_has_a_handover_case_that_clips_both_managers(loaded) -> None:  # type: ignore[no-untyped-def]
    cases = [c for c in CASES if c.rule == loaded.rule.id and handovers(c) and c.expect]
    assert cases, f"{loaded.rule.id}: add a handover case (roster rows: old manager removed, new one added) that fires"
    both_sides = False
    for case in cases:
        outgoing = {old: when for old, _, when in handovers(case)}
        incoming = {new: when for _, new, when in handovers(case)}
        judged = set()
        for want in case.expect:
            assert "manager" in want and "window" in want, f"{case.id}: a handover finding must give manager and window"
            manager, window = want["manager"], want["window"]
            if manager in outgoing and manager not in incoming:
                assert _moment(window["end"]) <= outgoing[manager], f"{case.id}: {manager} judged after handing over"
                judged.add("old")
            if manager in incoming and manager not in outgoing:
                assert _moment(window["start"]) >= incoming[manager], f"{case.id}: {manager} judged before taking over"
                judged.add("new")
        both_sides = both_sides or judged == {"old", "new"}
    assert both_sides, f"{loaded.rule.id}: no handover case where the outgoing and the incoming manager are both judged"


# ---- noisy exports: the same result as the clean case --------------------------------------------

NOISY = "-noisy-export"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SALESFORCE_ID = re.compile(r"^[0-9A-Za-z]{18}$")
FRACTION_AND_OFFSET = re.compile(r"T\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d$")
ROSTER_TYPES = ("team_member_added", "team_member_removed")


@pytest.mark.parametrize("loaded", RULES, ids=[r.rule.id for r in RULES])
def test_rule_has_a_noisy_export_twin(loaded) -> None:  # type: ignore[no-untyped-def]
    """Each rule has a case NAME-noisy-export: the log of case NAME with other id formats,
    fractional seconds and offsets, no actor_role or manager, and custom event types, which
    must give the same findings (metrics, windows to the second, evidence counts)."""
    cases = {c.name: c for c in CASES if c.rule == loaded.rule.id}
    noisy = [c for name, c in cases.items() if name.endswith(NOISY)]
    assert noisy, f"{loaded.rule.id}: add a noisy export of one of its cases (named <case>{NOISY})"
    for case in noisy:
        twin = cases.get(case.name[: -len(NOISY)])
        assert twin is not None, f"{case.id}: no clean case named {case.name[: -len(NOISY)]}"
        events = [e for e in case.events if e["type"] not in ROSTER_TYPES]
        assert not any("actor_role" in e or "manager" in e for e in events), (
            f"{case.id}: leave actor_role and manager out"
        )
        assert any(UUID.match(e["id"]) for e in events) and any(SALESFORCE_ID.match(e["id"]) for e in events)
        assert any(FRACTION_AND_OFFSET.search(str(e["ts"])) for e in events), f"{case.id}: needs offsets and fractions"
        assert any(e["type"] not in EVENT_TYPES for e in events), f"{case.id}: mix in custom event types"
        assert len(case.expect) == len(twin.expect)
        for want, clean in zip(case.expect, twin.expect):
            assert want.get("metrics") == clean.get("metrics"), case.id
            assert (want.get("rep") is None) == (clean.get("rep") is None), case.id
            for key in ("evidence", "evidence_includes"):
                assert len(want.get(key, [])) == len(clean.get(key, [])), f"{case.id}: {key}"
            assert ("window" in want) == ("window" in clean), case.id
            for end in clean.get("window", {}):
                gap = abs((_moment(want["window"][end]) - _moment(clean["window"][end])).total_seconds())
                assert gap < 1, f"{case.id}: window.{end} differs from {twin.name}'s"
