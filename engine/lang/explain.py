"""``salesmirror rules explain``: a rule's documentation and its whole logic as readable text.

The logic part walks the validated rule: its kind, grouping, the qualifying
events (``where`` conditions in words, macros named and expanded, named lists
shown), whose actions count, the window and how partial periods are treated,
the threshold with the parameter it comes from, every minimum, ``unless``, the
steps of a sequence, the items of a concurrency rule, and any other logic key
there is (printed generically as ``key: value``, so new keys show up at once).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from engine.lang.model import Rule
from engine.lang.parts import OP_SYMBOL, Window

Macros = Mapping[str, Any]  # name -> body, or (body, where, loc) as a RuleSet keeps them
Lists = Mapping[str, list[Any]]

_WIDTH = 88
_CONDITION_OPS = {
    "eq": "is",
    "ne": "is not",
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "contains_field": "contains the event's",
    "same_as": "is the same as",
    "differs_from": "differs from",
}
_KINDS = {
    "match": "enough qualifying events in a window",
    "threshold": "an aggregate of the qualifying events per window, against a value",
    "ratio": "one share of the qualifying events per window, against a value",
    "sequence": "a second step after a first one, or with absent a first step left unanswered",
    "absence": "the longest gap without a qualifying event in each led period",
    "concurrency": "items open at once per group, counted daily",
}
_AT_LEAST = ("lt", "lte")
# The logic keys the sections below describe; any other key is printed as it is.
_DESCRIBED = {
    "team",
    "trend",
    "merge",
    "coverage",
    "away_within",
    "kind",
    "where",
    "unless",
    "derive",
    "group_by",
    "window",
    "op",
    "value",
    "metric",
    "also",
    "numerator",
    "denominator",
    "first",
    "then",
    "within",
    "same",
    "pairs",
    "absent",
    "without",
    "before",
    "key",
    "open",
    "close",
    "measure",
    "name",
    "max_gap",
}


class _Words:
    """Turns values and conditions of one rule into words, with its parameters, macros and lists."""

    def __init__(self, rule: Rule, macros: Macros | None, lists: Lists | None) -> None:
        self.rule = rule
        self.macros = macros or {}
        self.lists = lists or {}

    # -- values ------------------------------------------------------------------------------
    def value(self, value: Any) -> str:
        """A value as written, a ``$param`` with its default, an ``@list`` with what it holds."""
        if isinstance(value, str) and value.startswith("$"):
            spec = self.rule.params.get(value[1:])
            return f"{value} (default {_plain(spec.default)})" if spec is not None else value
        if isinstance(value, str) and value.startswith("@"):
            items = self.lists.get(value[1:])
            if items is None:
                return value
            shown = ", ".join(_plain(v) for v in items[:8]) + (f", ... ({len(items)} in all)" if len(items) > 8 else "")
            return f"{value} ({shown})"
        if isinstance(value, list):
            return ", ".join(self.value(v) for v in value)
        return _plain(value)

    # -- conditions --------------------------------------------------------------------------
    def condition(self, condition: Any, seen: tuple[str, ...] = ()) -> str:
        """A ``where`` condition in words: every entry must hold."""
        if not condition:
            return "any event"
        if not isinstance(condition, dict):
            return _plain(condition)
        parts = [self._entry(key, value, seen) for key, value in condition.items()]
        return "; ".join(parts)

    def _entry(self, key: str, value: Any, seen: tuple[str, ...]) -> str:
        if key in ("all", "any") and isinstance(value, list):
            joined = " | ".join(f"({self.condition(item, seen)})" for item in value)
            return f"{'all' if key == 'all' else 'any'} of {joined}"
        if key == "not":
            return f"not ({self.condition(value, seen)})"
        if key == "use":
            names = value if isinstance(value, list) else [value]
            return "; ".join(self._macro(str(name), seen) for name in names)
        if isinstance(value, dict):
            return "; ".join(self._test(key, op, arg) for op, arg in value.items())
        if isinstance(value, list) or (isinstance(value, str) and value.startswith("@")):
            return f"{key} is one of {self.value(value)}"
        return f"{key} is {self.value(value)}"

    def _test(self, key: str, op: str, arg: Any) -> str:
        if op == "regex":
            return f"{key} matches /{arg}/"
        if op == "exists":
            return f"{key} is {'set' if arg else 'not set'}"
        return f"{key} {_CONDITION_OPS.get(op, op)} {self.value(arg)}"

    def _macro(self, name: str, seen: tuple[str, ...]) -> str:
        found = self.macros.get(name)
        if found is None:
            return f"macro {name} (not in this rule set)"
        if name in seen:
            return f"macro {name} (uses itself)"
        body = found[0] if isinstance(found, tuple) else found
        return f"[{name}: {self.condition(body, seen + (name,))}]"

    def actors(self, condition: Any, seen: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """The actor tests of a condition, macros expanded: (how they are reached, the test)."""
        found: list[tuple[str, str]] = []
        if not isinstance(condition, dict):
            return found
        for key, value in condition.items():
            if key == "actor":
                tests = value.items() if isinstance(value, dict) else [("eq", value)]
                found += [("", self._test("actor", op, arg)) for op, arg in tests]
            elif key in ("all", "any") and isinstance(value, list):
                for item in value:
                    mark = "" if key == "all" else "in one alternative: "
                    found += [(mark + how, test) for how, test in self.actors(item, seen)]
            elif key == "not":
                found += [("not: " + how, test) for how, test in self.actors(value, seen)]
            elif key == "use":
                for name in value if isinstance(value, list) else [value]:
                    body = self.macros.get(str(name))
                    if body is not None and name not in seen:
                        inner = body[0] if isinstance(body, tuple) else body
                        found += self.actors(inner, seen + (str(name),))
        return found

    def whose(self, condition: Any) -> str:
        """Whose actions a condition counts."""
        tests = self.actors(condition)
        if not tests:
            return "anyone's (no actor filter)"
        if any(how == "" and test == "actor is the same as manager" for how, test in tests):
            return "the manager's own (actor is the manager)"
        return "; ".join(f"{how}{test}" for how, test in tests)


def _looking_back(words: Any, spec: Any) -> str:
    """A ``prior`` or ``on_team`` derived value in words (engine.lang.derive)."""
    if spec.on_team is not None:
        return (
            f"how many of the people in {spec.on_team} were on the manager's team at the event's time "
            "(the manager not counted)"
        )
    prior = spec.prior
    keys = ", ".join(
        f"its {next(iter(entry))} being this event's {next(iter(entry.values()))}"
        if isinstance(entry, dict)
        else f"the same {entry}"
        for entry in prior.same
    )
    older = f" and at least {words.value(prior.older_than)}" if prior.older_than is not None else ""
    earlier = (
        f"event where {words.condition(prior.where)}, up to {words.value(prior.within)}{older} before it, with {keys}"
    )
    if prior.value is not None:
        return f"{prior.value} of the latest {earlier} (empty when there is none)"
    return f"1 when there is an {earlier}; else 0"


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return str(value)


def _para(title: str, body: str) -> list[str]:
    wrapped = textwrap.fill(
        " ".join(body.split()),
        width=_WIDTH,
        initial_indent="  ",
        subsequent_indent="  ",
    )
    return [title, wrapped, ""]


def _item(label: str, text: str) -> list[str]:
    """One ``label: text`` line of the logic, wrapped under its label."""
    return textwrap.wrap(
        f"{label}: {text}",
        width=_WIDTH,
        initial_indent="  ",
        subsequent_indent="      ",
        break_on_hyphens=False,
    ) or [f"  {label}:"]


def _metric(logic: Any) -> str:
    metric = getattr(logic, "metric", None)
    if metric is None:
        return "count"
    how = metric.aggregate
    target = "" if how == "count" else f" of {getattr(metric, how)}"
    named = f" (named {metric.name})" if metric.name else ""
    return f"{how}{target}{named}"


def _metric_name(logic: Any) -> str:
    """The name the threshold compares, as the findings call it."""
    kind = logic.kind
    if kind == "ratio":
        return "ratio"
    if kind == "concurrency":
        return str(logic.name)
    if kind == "absence":
        return "longest gap"
    metric = getattr(logic, "metric", None)
    if metric is None or metric.aggregate == "count":
        return metric.name if metric is not None and metric.name else "count"
    return str(metric.name or f"{metric.aggregate}_{str(getattr(metric, metric.aggregate)).rsplit('.', 1)[-1]}")


def _prorating(logic: Any, window: Window) -> str:
    """How a calendar rule's threshold treats a partial period."""
    op = getattr(logic, "op", None)
    if logic.kind == "match":
        op = "gte"
    counted = logic.kind in ("match", "sequence") or (
        logic.kind == "threshold" and logic.metric.aggregate in ("count", "sum")
    )
    if not counted:
        return "none: the metric is not a count or a sum, so a partial period is judged like a full one"
    if op not in _AT_LEAST:
        return "none: a 'too many' threshold is never lowered for a partial period"
    if not window.prorate:
        return "off (prorate: false): a partial period is judged against the full value"
    rounding = "rounded up to a whole number" if logic.kind != "threshold" or logic.metric.aggregate == "count" else ""
    return (
        f"the value scales with the share of the {window.calendar} covered (e.g. 27 of 31 days: value x 27/31"
        + (f", {rounding}" if rounding else "")
        + ")"
    )


def _window(words: _Words, logic: Any) -> list[str]:
    window = logic.window
    if not isinstance(window, Window) or window.mode == "whole":
        lines = _item("window", "whole: each period the manager led the group, within the log")
        min_days = window.min_days if isinstance(window, Window) else 0
        if min_days:
            lines += _item(
                "min_days",
                f"{words.value(min_days)}; a led period shorter than this is not assessed",
            )
        return lines
    if window.mode == "sliding":
        return _item(
            "window",
            f"sliding {words.value(window.sliding)}: the time up to each qualifying event; a led period "
            "shorter than the window that produced no finding is not assessed",
        )
    lines = _item(
        "window",
        f"calendar {window.calendar}s, cut to the periods the manager led the group and to the log",
    )
    lines += _item(
        "min_coverage",
        f"{words.value(window.min_coverage)}; a {window.calendar} covered (led and logged) for a smaller "
        "share is not assessed",
    )
    lines += _item("prorating", _prorating(logic, window))
    return lines


def _threshold(words: _Words, logic: Any) -> list[str]:
    kind = logic.kind
    if kind == "absence":
        return _item(
            "fires when",
            f"a gap without a qualifying event lasts at least {words.value(logic.max_gap)}",
        )
    if kind == "match":
        return _item("fires when", f"count >= {words.value(logic.min_events)} (min_events)")
    op, value = getattr(logic, "op", None), getattr(logic, "value", None)
    if op not in OP_SYMBOL or value is None:
        return []  # a kind without op and value: its keys are printed as they are
    trend = getattr(logic, "trend", None)
    if trend is not None:  # the rule's op and value judge the change (engine.lang.trends)
        return _item("fires when", _trend_words(words, logic, trend))
    return _item("fires when", f"{_metric_name(logic)} {OP_SYMBOL[op]} {words.value(value)}")


def _change_words(name: str, how: str) -> str:
    return f"{name} in a window {'/' if how == 'ratio' else '-'} {name} in the window before"


def _trend_words(words: _Words, logic: Any, trend: Any) -> str:
    """A trend rule's test in words: the change, the further changes, the event it must follow."""
    of = trend.of or _metric_name(logic)
    text = f"({_change_words(of, trend.change)}) {OP_SYMBOL[logic.op]} {words.value(logic.value)}"
    for also in trend.also:
        text += f", and ({_change_words(also.of, also.change)}) {OP_SYMBOL[also.op]} {words.value(also.value)}"
    if trend.after is not None:
        text += (
            f", and an event where {words.condition(trend.after.where)} up to "
            f"{words.value(trend.after.within)} before the later window (these events are the evidence)"
        )
    return (
        text + "; both windows covered and with the minimum data, the earlier one directly before the later; "
        "a finding spans both windows"
    )


def _minimums(words: _Words, logic: Any) -> list[str]:
    """Every ``min_*`` key of the logic (the window's are with the window), and ``also``."""
    lines: list[str] = []
    why = {
        "min_events": "fewer qualifying events in a window: not assessed",
        "min_numerator": "fewer numerator events: assessed, and the pattern is not there",
        "min_denominator": "fewer denominator events: not assessed, the ratio would mean nothing",
        "first_min": "first steps a second step needs before it",
    }
    for name in type(logic).model_fields:
        if (name.startswith("min_") or name == "first_min") and not (logic.kind == "match" and name == "min_events"):
            value = getattr(logic, name)
            if value is None:  # an optional minimum that is not set
                continue
            note = "no minimum" if value == 0 else why.get(name)
            lines += _item(name, words.value(value) + (f" ({note})" if note else ""))
    for index, also in enumerate(getattr(logic, "also", None) or []):
        metric = _metric(also)
        lines += _item(
            f"also[{index}]",
            f"{metric} {OP_SYMBOL[also.op]} {words.value(also.value)} must hold too",
        )
    return lines


def _steps(words: _Words, logic: Any) -> list[str]:
    """The parts particular to a kind: ratio parts, sequence steps, concurrency items."""
    kind, lines = logic.kind, []
    if kind == "threshold":
        lines += _item("metric", _metric(logic))
    if kind == "ratio":
        for part in ("numerator", "denominator"):
            spec = getattr(logic, part)
            which = f"those where {words.condition(spec.where)}" if spec.where else "every qualifying event"
            lines += _item(part, f"{spec.name}: {which}")
        lines += _item("ratio", f"{logic.numerator.name} / {logic.denominator.name}")
    if kind == "sequence":
        lines += _item("first step", words.condition(logic.first.where))
        lines += _item("then", words.condition(logic.then.where))
        lines += _item("whose first steps", words.whose(logic.first.where))
        lines += _item("whose second steps", words.whose(logic.then.where))
        lines += _item("within", f"{words.value(logic.within)} from the first step to the second")
        if logic.same:
            lines += _item("same", f"both steps share {', '.join(logic.same)}")
        for pair in logic.pairs:
            lines += _item("pair", f"{pair.left} {OP_SYMBOL[pair.op]} {pair.right}")
        if logic.absent:
            lines += _item("absent", "fires on first steps NOT followed by a second step in time")
        if logic.before is not None:
            lines += _item(
                "before",
                f"a second step up to {words.value(logic.before)} before the first answers it too",
            )
        if logic.without is not None:
            lines += _item(
                "without",
                f"a second step counts only after {words.value(logic.without.within)} with no event where "
                f"{words.condition(logic.without.where)}",
            )
    if kind == "concurrency":
        lines += _item("items", f"one per distinct {logic.key}")
        lines += _item("opened by", words.condition(logic.open.where))
        lines += _item("closed by", words.condition(logic.close.where))
        lines += _item(
            "measure",
            f"{logic.measure} of the daily open counts (sampled at noon UTC), named {logic.name}",
        )
    return lines


def _other_keys(words: _Words, logic: Any) -> list[str]:
    """Logic keys no section above describes, as ``key: value`` (set or not None)."""
    lines: list[str] = []
    dumped = logic.model_dump(mode="json")
    for name in type(logic).model_fields:
        if name in _DESCRIBED or name.startswith("min_") or name == "first_min":
            continue
        value = dumped.get(name)
        if value is None or value == [] or value == {}:
            continue
        lines += _item(name, _generic(words, value))
    return lines


def _generic(words: _Words, value: Any) -> str:
    if isinstance(value, dict):
        shown = {k: v for k, v in value.items() if v is not None}
        return ", ".join(f"{k} {_generic(words, v)}" for k, v in shown.items()) or "(empty)"
    if isinstance(value, list):
        return "[" + ", ".join(_generic(words, v) for v in value) + "]"
    return words.value(value)


def logic_lines(rule: Rule, macros: Macros | None = None, lists: Lists | None = None) -> list[str]:
    """The rule's logic in readable lines (without a title)."""
    words = _Words(rule, macros, lists)
    logic: Any = rule.logic
    lines = _item("kind", f"{logic.kind} ({_KINDS.get(logic.kind, 'a rule kind')})")
    group = list(logic.group_by)
    if "manager" not in group:
        group.insert(0, "manager")
    lines += _item("group by", ", ".join(group))
    steps = " (the steps below say more)" if logic.kind in ("sequence", "concurrency") else ""
    lines += _item("qualifying events", words.condition(logic.where) + steps)
    if logic.kind == "ratio":
        parts = (logic.numerator, logic.denominator)
        whose = "; ".join(f"{p.name}: {words.whose({'all': [logic.where, p.where]})}" for p in parts)
        lines += _item("whose actions count", whose)
    elif logic.kind == "concurrency":
        lines += _item("whose actions count", words.whose({"all": [logic.where, logic.open.where]}))
    elif logic.kind != "sequence":  # a sequence says it per step
        lines += _item("whose actions count", words.whose(logic.where))
    for name, spec in logic.derive.items():
        how = spec.measure
        if how in ("prior", "on_team"):  # earlier events and team members, in words
            lines += _item(f"derived {name}", _looking_back(words, spec))
            continue
        against = f" against {words.value(spec.words)}" if spec.words is not None else ""
        lines += _item(f"derived {name}", f"{how} of {words.value(getattr(spec, how))}{against}")
    if logic.unless is not None:
        spec = logic.unless
        lines += _item(
            "unless",
            f"a qualifying event does not count when an event where {words.condition(spec.where)} came "
            f"up to {words.value(spec.within)} before it on the same {', '.join(spec.same)}",
        )
    lines += _steps(words, logic)
    lines += _window(words, logic)
    lines += _threshold(words, logic)
    lines += _minimums(words, logic)
    lines += _fairness(words, logic)
    lines += _other_keys(words, logic)
    return lines


def _fairness(words: _Words, logic: Any) -> list[str]:
    """The keys that decide whom a finding may name and when (docs/FAIRNESS.md)."""
    lines: list[str] = []
    team = logic.team
    if team is not None:
        alone = f", or one rep alone at {words.value(team.alone)}" if team.alone is not None else ""
        lines += _item(
            "team",
            f"one finding per manager listing the reps: fires when at least {words.value(team.min_reps)} reps "
            f"and {words.value(team.min_share)} of the reps assessed are past the line{alone} "
            f"(teams under {words.value(team.min_team)} assessed reps: only the lone case); the rule's own "
            f"severity needs {words.value(team.full.min_reps)} reps and {words.value(team.full.min_share)} of "
            "the team, anything less is one level lower",
        )
    if logic.merge is not None:
        within = f" or less than {words.value(logic.merge.within)} apart" if logic.merge.within else ""
        day = "on the same UTC day" if logic.merge.same_day else ""
        lines += _item(
            "one decision",
            f"events with the same {', '.join(logic.merge.same)} {day}{within} count once".replace("  ", " "),
        )
    if logic.away_within is not None:
        lines += _item(
            "after a leave",
            f"qualifying events up to {words.value(logic.away_within)} after the rep (or manager) was away are "
            "left out",
        )
    zero = logic.zero_conditions()
    if logic.coverage == "off" or not zero:
        coverage = "off: zero qualifying events cannot make a finding" if zero is None else "off"
    elif logic.clips_to_logging():
        coverage = (
            "not assessed when the log holds none of the events it needs; each team judged from when it "
            "logs them (a late first event followed by a burst), days away left out"
        )
    else:
        coverage = "not assessed when the log holds none of the events it needs"
    lines += _item("data coverage", coverage)
    return lines


def explain(rule: Rule, macros: Macros | None = None, lists: Lists | None = None) -> str:
    """A rule's documentation and logic; ``macros`` and ``lists`` (the rule set's) let it expand them."""
    lines = [
        f"{rule.id}  ({rule.trait}, {rule.severity}, {rule.status})",
        rule.title,
        "",
    ]
    lines += _para("Why it matters", rule.docs.why)
    lines += _para("What to do instead", rule.docs.instead)
    false_positives = rule.docs.false_positives
    if isinstance(false_positives, list):
        lines.append("Known false positives")
        lines += [f"  - {item}" for item in false_positives] + [""]
    else:
        lines += _para("Known false positives", false_positives)
    lines.append("How it decides")
    lines += logic_lines(rule, macros, lists)
    lines += _item("message", f'"{rule.message}"')
    lines.append("")
    if rule.params:
        lines.append("Parameters (override with --set RULE.PARAM=VALUE or salesmirror.yaml)")
        for name, spec in rule.params.items():
            bounds = "".join(
                f", {label} {_plain(bound)}"
                for label, bound in (("min", spec.min), ("max", spec.max))
                if bound is not None
            )
            lines += textwrap.wrap(
                f"{name} ({spec.type}, default {_plain(spec.default)}{bounds}): {' '.join(spec.doc.split())}",
                width=_WIDTH,
                initial_indent="  ",
                subsequent_indent="      ",
            )
        lines.append("")
    if rule.docs.references:
        lines.append("References")
        lines += [f"  - {ref}" for ref in rule.docs.references]
    return "\n".join(lines).rstrip() + "\n"
