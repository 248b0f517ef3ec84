"""``match`` and ``sequence`` rules as durable-rules rulesets: which rules have something new to look at.

Each YAML rule of those kinds becomes one ruleset in durable-rules' JSON
form (one per rule, because a message is consumed by the first rule it
matches). Every accepted event is asserted into every ruleset, one message at
a time; when a ruleset's pattern completes (a qualifying event; a first step
and a second step on the same keys within ``within``), its action records a
*candidate* for the rule at that event's time. The evaluator runs a
counting rule ("at least N") at a tick only when it has a candidate recent
enough to change what the tick can settle; a rule without one cannot fire
there. The findings themselves always come from the compiled SQL plans,
which alone know the roster, the windows and fairness.

For that gate to be safe the rulesets must match *at least* what the plans
match, never less. So a condition is put in negation normal form and only
what durable-rules expresses exactly as SQL does is kept: the event type
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
- facts never consumed stay in memory: each fact is retracted once the
  watermark has passed its reach (its time plus ``within``).
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


def _any_of(names: list[str]) -> dict[str, Any]:
    tests: list[dict[str, Any]] = [{"type": name} for name in names]
    return tests[0] if len(tests) == 1 else {"$or": tests}


def _none_of(names: list[str]) -> dict[str, Any]:
    tests: list[dict[str, Any]] = [{"$neq": {"type": name}} for name in names]
    return tests[0] if len(tests) == 1 else {"$and": tests}


_TRUE: dict[str, Any] = {"sm_ok": 1}  # every message carries it


def translate(condition: Any, ruleset: RuleSet, negate: bool = False) -> dict[str, Any]:
    """A durable-rules test that holds for every event the SQL condition holds for (and maybe more).

    ``negate`` translates ``not condition`` (negation pushed down to the leaves).
    """
    if not isinstance(condition, dict) or not condition:
        return dict(_TRUE)
    parts: list[dict[str, Any]] = []
    for key, value in condition.items():
        if key in ("all", "any") and isinstance(value, list) and value:
            subs = [translate(item, ruleset, negate) for item in value]
            conjunction = (key == "all") != negate
            parts.append({"$and" if conjunction else "$or": subs} if len(subs) > 1 else subs[0])
        elif key == "not":
            parts.append(translate(value, ruleset, not negate))
        elif key == "use":
            names = value if isinstance(value, list) else [value]
            bodies = [ruleset.macros[n][0] for n in names if n in ruleset.macros]
            subs = [translate(body, ruleset, negate) for body in bodies] or [dict(_TRUE)]
            parts.append({"$or" if negate else "$and": subs} if len(subs) > 1 else subs[0])
        elif key == "type":
            parts.append(_type_test(value, ruleset.lists, negate))
        else:
            parts.append(dict(_TRUE))  # not expressible exactly: widen
    if len(parts) == 1:
        return parts[0]
    return {"$or" if negate else "$and": parts}


def _type_test(value: Any, lists: dict[str, list[Any]], negate: bool) -> dict[str, Any]:
    """``type: x``, ``type: [x, y]``, ``type: {in|not_in|eq|ne: ...}`` (or their negation)."""
    names = _types(value, lists)
    if names is not None:
        return _none_of(names) if negate else _any_of(names)
    if isinstance(value, dict) and len(value) == 1:
        ((op, operand),) = value.items()
        names = _types(operand, lists)
        if names is not None and op in ("eq", "in", "ne", "not_in"):
            positive = op in ("eq", "in")
            return _any_of(names) if positive != negate else _none_of(names)
    return dict(_TRUE)


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
    """The durable-rules ruleset of a match or sequence rule (None for other kinds)."""
    logic = rule.loaded.rule.logic
    name = "sm_" + "".join(ch if ch.isalnum() else "_" for ch in rule.id)
    shared = translate(logic.where, ruleset)
    if logic.kind == "match":
        test = {"$and": [shared, dict(_TRUE)]}
        return Plan(rule.id, name, {name: {"r0": {"all": [{"m": test}], "run": action}}}, 0.0, False)
    if not isinstance(logic, SequenceLogic):
        return None
    first = {"$and": [shared, translate(logic.first.where, ruleset), dict(_TRUE)]}
    within = _duration(logic.within, rule.params)
    if logic.absent:  # an unanswered first step needs a first step: that alone is the candidate
        return Plan(rule.id, name, {name: {"r0": {"all": [{"first": first}], "run": action}}}, 0.0, False)
    joins: list[dict[str, Any]] = [shared, translate(logic.then.where, ruleset)]
    joins += [{key: {"first": key}} for key in logic.same if key in _CORRELATABLE]
    joins.append({"$gte": {"t": {"first": "t"}}})
    joins.append({"$lte": {"t": {"$add": {"$l": {"first": "t"}, "$r": within}}}})
    joins.append(dict(_TRUE))  # the always-true last test of every correlated join
    definition = {name: {"r0": {"all": [{"first": first}, {"then": {"$and": joins}}], "run": action}}}
    return Plan(rule.id, name, definition, within, True)


# ---------------------------------------------------------------- the gate


@dataclass
class _Rule:
    plan: Plan
    candidates: list[float] = field(default_factory=list)  # event times (epoch s) of completed patterns, sorted
    facts: deque[tuple[float, dict[str, Any]]] = field(default_factory=deque)  # asserted, by time


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
                message = _step(c, "then") or _step(c, "m") or _step(c, "first")
                bisect.insort(self._rules[rule_id].candidates, float(message["t"]))
            except BaseException as exc:  # durable-rules would swallow it: keep it for post() to raise
                self._errors.append(exc)

        return run

    def post(self, event: dict[str, Any], t: float) -> None:
        """Assert one accepted event (its envelope fields and time) into every ruleset, one message at a time."""
        from durable.engine import MessageNotHandledException

        for state in self._rules.values():
            self._serial += 1
            message = {
                "sid": _SID,
                "id": f"m{self._serial}",
                "ev": event.get("id"),
                "type": event.get("type"),
                "t": t,
                "sm_ok": 1,
            }
            for key in _CORRELATABLE:
                if event.get(key) is not None:
                    message[key] = event[key]
            try:
                self._host.assert_fact(state.plan.name, message)
            except MessageNotHandledException:
                continue
            finally:
                self._raise_errors()
            if state.plan.sequence:
                state.facts.append((t, message))
            else:  # a lone pattern has fired (or not) by now: nothing to keep
                self._host.retract_fact(state.plan.name, message)
                self._raise_errors()

    def expire(self, watermark: float, lateness: float) -> None:
        """Retract facts no later event can pair with: older than the watermark by their reach and the lateness."""
        for state in self._rules.values():
            horizon = watermark - state.plan.reach - lateness
            while state.facts and state.facts[0][0] < horizon:
                _, message = state.facts.popleft()
                self._host.retract_fact(state.plan.name, message)
                self._raise_errors()

    def reach(self) -> timedelta:
        """The longest a fact is kept after its time (the longest ``within``)."""
        return timedelta(seconds=max((state.plan.reach for state in self._rules.values()), default=0.0))

    def held(self) -> int:
        """Facts still asserted (the memory the gate holds)."""
        return sum(len(state.facts) for state in self._rules.values())

    def has_candidate(self, rule_id: str, since: float) -> bool:
        """Whether a pattern of the rule completed at or after ``since`` (epoch seconds); True for other rules."""
        state = self._rules.get(rule_id)
        if state is None:
            return True
        at = bisect.bisect_left(state.candidates, since)
        return at < len(state.candidates)

    def forget(self, before: float) -> None:
        """Drop candidates older than anything a tick can still settle."""
        for state in self._rules.values():
            del state.candidates[: bisect.bisect_left(state.candidates, before)]

    def _raise_errors(self) -> None:
        if self._errors:
            error = self._errors[0]
            self._errors.clear()
            raise RuntimeError(f"a durable-rules action failed: {error!r}") from error


def _step(context: Any, name: str) -> Any:
    """The message durable-rules' action context holds under a pattern's name, or None (it has no such name)."""
    return getattr(context, name, None)
