"""``salesmirror.yaml`` and ``--set``: rule parameters, severities and switches."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import ConfigError, Problem
from engine.lang.loader import RuleSet
from engine.lang.params import coerce
from engine.lang.yamlpos import Located, YamlProblems, load_located

CONFIG_NAME = "salesmirror.yaml"


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[str] = Field(default_factory=list, description="Extra rule directories.")
    disable: list[str] = Field(default_factory=list)
    severity: dict[str, Literal["low", "medium", "high"]] = Field(default_factory=dict)
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    fail_on: Literal["low", "medium", "high", "never"] | None = None


@dataclass
class Settings:
    """Everything config and --set decided, with where each value came from."""

    path: str | None = None
    doc: Located | None = None
    extra_rules: list[str] = field(default_factory=list)
    disable: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_on: str | None = None
    sets: list[str] = field(default_factory=list)


def find_config(start: str | None = None) -> str | None:
    """Search ``salesmirror.yaml`` from ``start`` (the working directory) upwards."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, CONFIG_NAME)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def read_config(path: str | None) -> Settings:
    if path is None:
        return Settings()
    try:
        with open(path, encoding="utf-8") as handle:
            doc = load_located(handle.read(), path)
    except OSError as err:
        raise ConfigError([Problem(path, 0, 0, f"cannot read config: {err.strerror}")]) from None
    except YamlProblems as exc:
        raise ConfigError(exc.problems) from None
    data = doc.data if doc.data is not None else {}
    try:
        parsed = ConfigFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            if error["type"] == "extra_forbidden":
                hint = difflib.get_close_matches(str(loc[-1]), list(ConfigFile.model_fields), n=1)
                tip = f" (did you mean '{hint[0]}'?)" if hint else ""
                problems.append(doc.problem(loc, f"invalid config: unknown option '{loc[-1]}'{tip}", key=True))
            else:
                problems.append(doc.problem(loc, f"invalid config: {'.'.join(map(str, loc))}: {error['msg']}"))
        raise ConfigError(problems) from None
    base = os.path.dirname(os.path.abspath(path))
    return Settings(
        path=path,
        doc=doc,
        extra_rules=[os.path.join(base, d) for d in parsed.rules],
        disable=parsed.disable,
        severity=dict(parsed.severity),
        params={k: dict(v) for k, v in parsed.params.items()},
        fail_on=parsed.fail_on,
    )


def resolve_overrides(settings: Settings, ruleset: RuleSet) -> dict[str, dict[str, Any]]:
    """Typed parameter overrides per rule id, config first, then --set; all problems at once."""
    problems: list[Problem] = []
    ids = [r.rule.id for r in ruleset.rules]
    result: dict[str, dict[str, Any]] = {}

    def rule_problem(where: Problem | None, text: str) -> None:
        problems.append(where or Problem("--set", 0, 0, text))

    def check(rule_id: str, name: str, value: Any, *, from_text: bool, where: Any) -> None:
        loaded = ruleset.get(rule_id)
        if loaded is None:
            hint = difflib.get_close_matches(rule_id, ids, n=1, cutoff=0.5)
            tip = f" (did you mean '{hint[0]}'?)" if hint else ""
            rule_problem(where(f"unknown rule '{rule_id}'{tip}"), f"unknown rule '{rule_id}'{tip}")
            return
        spec = loaded.rule.params.get(name)
        if spec is None:
            names = sorted(loaded.rule.params)
            hint = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
            tip = (
                f" (did you mean '{hint[0]}'?)"
                if hint
                else (f" (parameters: {', '.join(names)})" if names else " (it has no parameters)")
            )
            text = f"rule '{rule_id}' has no parameter '{name}'{tip}"
            rule_problem(where(text), text)
            return
        try:
            typed = coerce(spec.type, value, from_text=from_text)
        except ValueError as err:
            text = f"{rule_id}.{name}: {err}"
            rule_problem(where(text), text)
            return
        out_of_range = (spec.min is not None and typed < spec.min) or (spec.max is not None and typed > spec.max)
        if spec.type in ("int", "float") and out_of_range:
            text = f"{rule_id}.{name}: {typed} is outside [{spec.min}, {spec.max}]"
            rule_problem(where(text), text)
            return
        result.setdefault(rule_id, {})[name] = typed

    doc = settings.doc
    for rule_id, values in settings.params.items():
        for name, value in values.items():

            def at(text: str, rule_id: str = rule_id, name: str = name) -> Problem | None:
                return doc.problem(("params", rule_id, name), f"invalid config: {text}", key=True) if doc else None

            check(rule_id, name, value, from_text=False, where=at)
    for rule_id in list(settings.disable) + list(settings.severity):
        if ruleset.get(rule_id) is None:
            hint = difflib.get_close_matches(rule_id, ids, n=1, cutoff=0.5)
            tip = f" (did you mean '{hint[0]}'?)" if hint else ""
            loc = ("disable",) if rule_id in settings.disable else ("severity", rule_id)
            problems.append(
                doc.problem(loc, f"invalid config: unknown rule '{rule_id}'{tip}")
                if doc
                else Problem("config", 0, 0, f"unknown rule '{rule_id}'")
            )
    for item in settings.sets:
        key, sep, value = item.partition("=")
        rule_id, dot, name = key.strip().rpartition(".")
        if not sep or not dot or not rule_id or not name:
            problems.append(Problem("--set", 0, 0, f"'{item}' is not RULE.PARAM=VALUE"))
            continue

        def at_set(text: str, item: str = item) -> Problem:
            return Problem("--set", 0, 0, f"{item}: {text}")

        check(rule_id, name, value, from_text=True, where=at_set)
    if problems:
        raise ConfigError(problems)
    return result
