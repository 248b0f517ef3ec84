"""``match`` and ``sequence`` rules as durable-rules rulesets: which rules have something new to look at.

Each YAML rule of those kinds becomes one ruleset in durable-rules' JSON
form (one per rule, because a message is consumed by the first rule it
matches). Every accepted event goes to every ruleset, one message at a time;
when a ruleset's pattern completes (a qualifying event; a first step and a
second step on the same keys within ``within``), its action records a
*candidate* for the rule at the time of the event that completed it.

What completes a pattern is posted as an *event*, which durable-rules
consumes when its pattern fires, so each completing event fires once
however many first steps it could pair with (asserted as facts, every one
of them paired with every later second step: on a dense stream that was
dozens of actions per event, growing with the stream's density). A
sequence therefore sees each event twice, as a fact that can be a first
step (``sm_role`` "f") and as an event that can be a second one ("e"),
never paired with itself (the plans pair distinct events only).

The evaluator runs a counting rule ("at least N") at a tick only when it
has a candidate recent enough to change what the tick can settle; a rule
without one cannot fire there. The findings themselves always come from
the compiled SQL plans, which alone know the roster, the windows and
fairness.

For that gate to be safe the rulesets must match *at least* what the plans
match, never less. So a condition is put in disjunctive normal form
(negations pushed to the leaves), each alternative a flat rule of its own
(see :func:`translate`), and only what durable-rules expresses exactly as
SQL does is kept: the event type
(equality, lists, ``in``, ``not_in``, ``ne``: every event has a type). Any
other leaf becomes "always true", which can only widen the match. Likewise a
sequence correlates its steps only on ``same`` fields an event carries as
written (``deal``, ``rep``, ``actor``), never on ``manager``, which the
roster may fill in later.

durable-rules 2.0.28, as measured, needs these precautions, each kept here:

- messages are de-duplicated by ``id`` through a 32-bit hash: every message
  gets a key of its own (``m<n>``) under ``id``; the event's id travels as
  ``ev``, never under ``id``;
- a correlated ``$and`` whose last test is false can read past an array and
  crash: every correlated join ends with ``{"sm_ok": 1}``, which every
  message carries;
- ``post_batch`` reorders actions: messages go one at a time;
- timers run on the wall clock: times are the events' own, as epoch seconds
  in ``t``, compared in the join;
- an action's exception is swallowed by the engine: actions catch
  everything, keep it, and it is raised after the assertion returns;
- state is capped at 1024 session ids: all messages of a ruleset use one
  session (``sid`` "0");
- a nested ``$and`` or ``$or`` inside a correlated step drops that step's
  joins, and a nested first step beside a flat second one crashes: every
  test list is flat;
- facts never consumed stay in memory: each fact is retracted once the
  watermark has passed its reach (its time plus ``within``), and a second
  step still waiting for a first once the watermark has passed its time (a
  first step before it could no longer be accepted).
"""

from __future__ import annotations

import bisect
import importlib
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from engine.lang.kinds.sequence import SequenceLogic
from engine.lang.loader import RuleSet
from engine.lang.plan import CompiledRule

__all__ = [
    "DURABLE_MISSING",
    "Gate",
    "durable_available",
    "ruleset_for",
]

DURABLE_MISSING = (
    "salesmirror watch needs durable-rules 2.0.28, which builds on Python 3.11 and 3.12 "
    "(not 3.13 or later); this is Python {version}. Install it with: pip install 'salesmirror[live]'"
)
_CORRELATABLE = ("deal", "rep", "actor")  # fields an event carries as written, never filled in from the roster
_SID = "0"


def durable_available() -> str | None:
    """None when durable-rules can be imported; otherwise why not, in words for the user."""
    try:
        importlib.import_module("durable.engine")
    except Exception:  # ImportError, or a build that fails on load: either way it cannot run
        return DURABLE_MISSING.format(version=".".join(map(str, sys.version_info[:3])))
    return None


# ---------------------------------------------------------------- conditions


def _types(value: Any, lists: dict[str, list[Any]]) -> list[str] | None:
    """The type names a condition value stands for (``@list`` followed), or None when it is not plain text."""
    if isinstance(value, str) and value.startswith("@"):
        value = lists.get(value[1:])
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    return None


_TRUE: dict[str, Any] = {"sm_ok": 1}  # every message carries it
_MAX_TERMS = 64  # beyond this many alternatives a step is widened to "any event" rather than multiplied out

Conjunction = tuple[tuple[str, str, str], ...]  # leaf tests (op, field, value), sorted: "eq" or "neq"


def translate(condition: Any, ruleset: RuleSet, negate: bool = False) -> list[Conjunction]:
    """Alternatives of leaf tests that hold for every event the SQL condition holds for (and maybe more).

    The result is a disjunctive normal form: a list of alternatives, each a
    conjunction of type tests, ``[()]`` for "any event". durable-rules needs
    it flat: measured on 2.0.28, a nested ``$and`` or ``$or`` inside a
    correlated step silently drops the step's joins (a second step paired
    with first steps of any deal), and a nested first step beside a flat
    second one crashes the process. ``negate`` translates ``not condition``
    (negation pushed down to the leaves).
    """
    if not isinstance(condition, dict) or not condition:
        return [()]
    parts: list[list[Conjunction]] = []
    for key, value in condition.items():
        if key in ("all", "any") and isinstance(value, list) and value:
            subs = [translate(item, ruleset, negate) for item in value]
            parts.append(_and(subs) if (key == "all") != negate else _or(subs))
        elif key == "not":
            parts.append(translate(value, ruleset, not negate))
        elif key == "use":
            names = value if isinstance(value, list) else [value]
            bodies = [ruleset.macros[n][0] for n in names if n in ruleset.macros]
            subs = [translate(body, ruleset, negate) for body in bodies] or [[()]]
            parts.append(_or(subs) if negate else _and(subs))
        elif key == "type":
            parts.append(_type_test(value, ruleset.lists, negate))
        else:
            parts.append([()])  # not expressible exactly: widen
    return _or(parts) if negate else _and(parts)


def _and(forms: list[list[Conjunction]]) -> list[Conjunction]:
    """Every combination of one alternative from each form, joined."""
    out: list[Conjunction] = [()]
    for form in forms:
        out = _simplify([tuple(sorted(set(a) | set(b))) for a in out for b in form])
        if len(out) > _MAX_TERMS:
            return [()]
    return out


def _or(forms: list[list[Conjunction]]) -> list[Conjunction]:
    out = _simplify([term for form in forms for term in form])
    return [()] if len(out) > _MAX_TERMS else out


def _simplify(terms: list[Conjunction]) -> list[Conjunction]:
    """Drop contradictions (type a and type b) and duplicates; "any event" absorbs the rest."""
    kept: set[Conjunction] = set()
    for term in terms:
        equal = {value for op, _, value in term if op == "eq"}
        unequal = {value for op, _, value in term if op == "neq"}
        if len(equal) > 1 or equal & unequal:
            continue  # no event has two types
        if equal:  # type a and not type b is type a
            term = tuple(test for test in term if test[0] == "eq")
        if not term:
            return [()]
        kept.add(term)
    return sorted(kept)


def _tests(term: Conjunction) -> list[dict[str, Any]]:
    """A conjunction as durable-rules tests."""
    return [{name: value} if op == "eq" else {"$neq": {name: value}} for op, name, value in term]


def _type_test(value: Any, lists: dict[str, list[Any]], negate: bool) -> list[Conjunction]:
    """``type: x``, ``type: [x, y]``, ``type: {in|not_in|eq|ne: ...}`` (or their negation)."""
    names = _types(value, lists)
    positive = not negate
    if names is None and isinstance(value, dict) and len(value) == 1:
        ((op, operand),) = value.items()
        names = _types(operand, lists) if op in ("eq", "in", "ne", "not_in") else None
        positive = (op in ("eq", "in")) != negate
    if names is None:
        return [()]
    if positive:
        return _simplify([(("eq", "type", name),) for name in names])
    return _simplify([tuple(sorted(("neq", "type", name) for name in names))])


# ---------------------------------------------------------------- rulesets


@dataclass
class Plan:
    """A compiled rule's ruleset and how its messages are made."""

    rule: str
    name: str  # the ruleset's name
    definition: dict[str, Any]
    reach: float  # seconds a first step's fact is kept after its time
    sequence: bool


def _duration(value: Any, params: dict[str, Any]) -> float:
    from engine.live.evaluator import _seconds

    return _seconds(value, params)


def ruleset_for(rule: CompiledRule, ruleset: RuleSet, action: Callable[[Any], None]) -> Plan | None:
    """The durable-rules ruleset of a match or sequence rule (None for other kinds).

    Each alternative of the translated conditions is a rule of its own in
    the ruleset (for a sequence, each pair of a first and a second step's
    alternatives), every test list flat and ended by the always-true test.
    """
    logic = rule.loaded.rule.logic
    name = "sm_" + "".join(ch if ch.isalnum() else "_" for ch in rule.id)
    shared = translate(logic.where, ruleset)

    def step(
        extra: list[dict[str, Any]], *conditions: Any, joins: Sequence[dict[str, Any]] = ()
    ) -> list[dict[str, Any]]:
        form = _and([shared, *(translate(c, ruleset) for c in conditions)])
        return [{"$and": [*extra, *_tests(term), *joins, dict(_TRUE)]} for term in form]

    def rules(patterns: list[list[dict[str, Any]]]) -> dict[str, Any]:
        return {f"r{n}": {"all": pattern, "run": action} for n, pattern in enumerate(patterns)}

    if logic.kind == "match":
        tests = step([])
        return Plan(rule.id, name, {name: rules([[{"m": test}] for test in tests])}, 0.0, False) if tests else None
    if not isinstance(logic, SequenceLogic):
        return None
    within = _duration(logic.within, rule.params)
    if logic.absent:  # an unanswered first step needs a first step: that alone is the candidate
        alone = step([], logic.first.where)
        plan = {name: rules([[{"first": test}] for test in alone])}
        return Plan(rule.id, name, plan, 0.0, False) if alone else None
    joins: list[dict[str, Any]] = [{key: {"first": key}} for key in logic.same if key in _CORRELATABLE]
    joins.append({"$neq": {"ev": {"first": "ev"}}})  # two distinct events, as the plans pair them
    joins.append({"$gte": {"t": {"first": "t"}}})
    joins.append({"$lte": {"t": {"$add": {"$l": {"first": "t"}, "$r": within}}}})
    firsts = step([{"sm_role": "f"}], logic.first.where)
    thens = step([{"sm_role": "e"}], logic.then.where, joins=joins)
    patterns = [[{"first": first}, {"then": then}] for first in firsts for then in thens]
    if not patterns:  # a step no event can take: the plan never fires either; no gate to keep
        return None
    return Plan(rule.id, name, {name: rules(patterns)}, within, True)


# ---------------------------------------------------------------- the gate


@dataclass
class _Rule:
    plan: Plan
    candidates: list[float] = field(default_factory=list)  # event times (epoch s) of completed patterns, sorted
    facts: deque[tuple[float, dict[str, Any]]] = field(default_factory=deque)  # first steps asserted, by time
    waiting: deque[tuple[float, dict[str, Any]]] = field(default_factory=deque)  # second steps posted, by time
    fired: set[str] = field(default_factory=set)  # keys of posted second steps consumed by a match


class Gate:
    """Every match and sequence rule's ruleset in one durable-rules host, fed one event at a time."""

    def __init__(self, rules: Sequence[CompiledRule], ruleset: RuleSet) -> None:
        from durable.engine import Host  # type: ignore[import-untyped]

        self._host = Host()
        self._rules: dict[str, _Rule] = {}
        self._errors: list[BaseException] = []
        self._serial = 0
        for rule in rules:
            plan = ruleset_for(rule, ruleset, self._action(rule.id))
            if plan is None:
                continue
            self._host.register_rulesets(plan.definition)
            self._rules[rule.id] = _Rule(plan)

    @property
    def rules(self) -> list[str]:
        return sorted(self._rules)

    def definition(self, rule_id: str) -> dict[str, Any]:
        """The ruleset's JSON form (without the action), for reading and tests."""
        plan = self._rules[rule_id].plan
        return {
            name: {key: {k: v for k, v in body.items() if k != "run"} for key, body in rules.items()}
            for name, rules in plan.definition.items()
        }

    def _action(self, rule_id: str) -> Callable[[Any], None]:
        def run(c: Any) -> None:
            try:
                state = self._rules[rule_id]
                message = _step(c, "then") or _step(c, "m") or _step(c, "first")
                bisect.insort(state.candidates, float(message["t"]))
                if state.plan.sequence:
                    state.fired.add(str(message["id"]))
            except BaseException as exc:  # durable-rules would swallow it: keep it for post() to raise
                self._errors.append(exc)

        return run

    def post(self, event: dict[str, Any], t: float) -> None:
        """Give one accepted event (its envelope fields and time) to every ruleset, one message at a time."""
        base: dict[str, Any] = {"sid": _SID, "ev": event.get("id"), "type": event.get("type"), "t": t, "sm_ok": 1}
        for key in _CORRELATABLE:
            if event.get(key) is not None:
                base[key] = event[key]
        for state in self._rules.values():
            if state.plan.sequence:
                fact = self._message(base, "f")
                if self._send(self._host.assert_fact, state, fact):
                    state.facts.append((t, fact))
                then = self._message(base, "e")
                if self._send(self._host.post, state, then):
                    if then["id"] in state.fired:  # consumed at once: durable-rules holds nothing of it
                        state.fired.discard(then["id"])
                    else:  # waits for a first step that may still arrive (within the lateness)
                        state.waiting.append((t, then))
            else:  # a lone pattern fires at once (the event is consumed) or not at all
                self._send(self._host.post, state, self._message(base, "e"))

    def _message(self, base: dict[str, Any], role: str) -> dict[str, Any]:
        self._serial += 1
        return dict(base, id=f"m{self._serial}", sm_role=role)

    def _send(self, how: Callable[[str, dict[str, Any]], Any], state: _Rule, message: dict[str, Any]) -> bool:
        """Assert or post one message; whether the ruleset took it (False: no pattern can use it)."""
        from durable.engine import MessageNotHandledException

        try:
            how(state.plan.name, message)
        except MessageNotHandledException:
            return False
        finally:
            self._raise_errors()
        return True

    def expire(self, watermark: float, lateness: float) -> None:
        """Retract what no later event can pair with.

        A first step older than the watermark by its reach and the lateness;
        a second step still waiting, once older than the watermark by the
        lateness: a first step at or before it would be refused as late.
        """
        for state in self._rules.values():
            horizon = watermark - state.plan.reach - lateness
            while state.facts and state.facts[0][0] < horizon:
                _, message = state.facts.popleft()
                self._host.retract_fact(state.plan.name, message)
                self._raise_errors()
            while state.waiting and state.waiting[0][0] < watermark - lateness:
                _, message = state.waiting.popleft()
                if message["id"] in state.fired:  # a late first step consumed it meanwhile
                    state.fired.discard(message["id"])
                    continue
                self._host.retract_fact(state.plan.name, message)
                self._raise_errors()

    def reach(self) -> timedelta:
        """The longest a fact is kept after its time (the longest ``within``)."""
        return timedelta(seconds=max((state.plan.reach for state in self._rules.values()), default=0.0))

    def held(self) -> int:
        """Messages still held in durable-rules (first steps and waiting second steps): the gate's memory."""
        return sum(len(state.facts) + len(state.waiting) for state in self._rules.values())

    def has_candidate(self, rule_id: str, since: float) -> bool:
        """Whether a pattern of the rule completed at or after ``since`` (epoch seconds); True for other rules.

        ``since`` never goes back for a rule (the ticks' end of log only
        grows), so older candidates are dropped here.
        """
        state = self._rules.get(rule_id)
        if state is None:
            return True
        at = bisect.bisect_left(state.candidates, since)
        del state.candidates[:at]
        return bool(state.candidates)

    def _raise_errors(self) -> None:
        if self._errors:
            error = self._errors[0]
            self._errors.clear()
            raise RuntimeError(f"a durable-rules action failed: {error!r}") from error


def _step(context: Any, name: str) -> Any:
    """The message durable-rules' action context holds under a pattern's name, or None (it has no such name)."""
    return getattr(context, name, None)
