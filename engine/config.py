"""``salesmirror.yaml`` and ``--set``: rule parameters, severities and switches."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import ConfigError, Problem
from engine.lang.loader import RuleSet
from engine.lang.params import coerce, parse_duration
from engine.lang.setup import INFER_ABSENCE_DAYS
from engine.lang.yamlpos import Located, YamlProblems, read_located

CONFIG_NAME = "salesmirror.yaml"


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[str] = Field(default_factory=list, description="Extra rule directories.")
    disable: list[str] = Field(default_factory=list)
    severity: dict[str, Literal["low", "medium", "high"]] = Field(default_factory=dict)
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    fail_on: Literal["low", "medium", "high", "never"] | None = None
    infer_absence: str | bool | None = Field(
        None,
        description="A rep with no events at all for this long is taken to be away (a duration such as 14d, "
        "or 'off'); the default is 14d.",
    )
    suppressions: str | list[str] | None = Field(
        None,
        description="Suppression file(s), relative to this file: reviewed, dated acceptances of known findings "
        "(engine.report.suppress).",
    )

    @field_validator("infer_absence")
    @classmethod
    def _duration_or_off(cls, value: str | bool | None) -> str | None:
        if value is None or value == "off" or value is False:  # YAML reads a bare off as false
            return None if value is None else "off"
        if value is True:
            raise ValueError("give a duration such as 14d, or off")
        parse_duration(value)  # raises ValueError with the reason
        return value


@dataclass
class Settings:
    """Everything config and --set decided, with where each value came from."""

    path: str | None = None
    doc: Located | None = None
    extra_rules: list[str] = field(default_factory=list)
    # extra rules directory -> the problem to report, at its line in the config, if it is missing
    rules_if_missing: dict[str, Problem] = field(default_factory=dict)
    disable: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_on: str | None = None
    sets: list[str] = field(default_factory=list)
    infer_absence_days: float = INFER_ABSENCE_DAYS  # 0: off
    suppressions: list[str] = field(default_factory=list)  # suppression files, resolved against the config's folder


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
    """Read ``salesmirror.yaml``; raise ConfigError listing every problem in it, each located."""
    if path is None:
        return Settings()
    problems: list[Problem] = []
    try:
        doc = read_located(path)
    except OSError as err:
        raise ConfigError([Problem(path, 0, 0, f"cannot read config: {err.strerror or err}")]) from None
    except YamlProblems as exc:
        if exc.doc is None:  # not YAML at all: nothing more can be said
            raise ConfigError(exc.problems) from None
        doc, problems = exc.doc, list(exc.problems)  # duplicate keys, bad values: check the rest too
    data = doc.data if doc.data is not None else {}
    parsed: ConfigFile | None = None
    if not isinstance(data, dict):
        options = ", ".join(ConfigFile.model_fields)
        problems.append(doc.problem((), f"invalid config: the file must be a mapping of options ({options})"))
    else:
        try:
            parsed = ConfigFile.model_validate(data)
        except ValidationError as exc:
            problems += [_config_problem(doc, error) for error in exc.errors()]
    base = os.path.dirname(os.path.abspath(path))
    if_missing: dict[str, Problem] = {}
    entries = data.get("rules") if isinstance(data, dict) else None
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, str):
            where = doc.problem(("rules", index), f"invalid config: no such rules directory '{entry}'")
            if_missing[os.path.join(base, entry)] = where
            if not _exists(os.path.join(base, entry)):
                problems.append(where)
    suppressions = _suppression_files(doc, data, base, problems)
    if problems or parsed is None:
        raise ConfigError(problems)
    return Settings(
        path=path,
        doc=doc,
        extra_rules=[os.path.join(base, d) for d in parsed.rules],
        rules_if_missing=if_missing,
        disable=parsed.disable,
        severity=dict(parsed.severity),
        params={k: dict(v) for k, v in parsed.params.items()},
        fail_on=parsed.fail_on,
        infer_absence_days=_absence_days(parsed.infer_absence),
        suppressions=suppressions,
    )


def _suppression_files(doc: Located, data: Any, base: str, problems: list[Problem]) -> list[str]:
    """The ``suppressions:`` files, relative to the config's folder; a missing one is a problem at its line."""
    value = data.get("suppressions") if isinstance(data, dict) else None
    named: list[tuple[tuple[str | int, ...], str]] = [(("suppressions",), value)] if isinstance(value, str) else []
    if isinstance(value, list):
        named = [(("suppressions", index), entry) for index, entry in enumerate(value) if isinstance(entry, str)]
    files = []
    for loc, entry in named:
        path = os.path.join(base, entry)
        if not os.path.isfile(path):
            problems.append(doc.problem(loc, f"invalid config: no such suppressions file '{entry}'"))
        files.append(path)
    return files


def _absence_days(value: str | bool | None) -> float:
    if value is None:
        return INFER_ABSENCE_DAYS
    if value == "off" or isinstance(value, bool):
        return 0.0
    return parse_duration(value).total_seconds() / 86400


def _exists(path: str) -> bool:
    return os.path.isdir(path) or os.path.isfile(path)


def _config_problem(doc: Located, error: Any) -> Problem:
    loc = tuple(error["loc"])
    if error["type"] in ("extra_forbidden", "invalid_key") and len(loc) == 1:
        hint = difflib.get_close_matches(str(loc[0]), list(ConfigFile.model_fields), n=1)
        tip = f" (did you mean '{hint[0]}'?)" if hint else ""
        return doc.problem(loc, f"invalid config: unknown option '{loc[0]}'{tip}", key=True)
    if loc and loc[-1] == "[key]":  # a key of the wrong type inside severity or params
        loc = loc[:-1]
        where = ".".join(map(str, loc[:-1]))
        return doc.problem(loc, f"invalid config: {where}: the key '{loc[-1]}' must be text", key=True)
    return doc.problem(loc, f"invalid config: {'.'.join(map(str, loc))}: {error['msg']}")


def resolve_overrides(settings: Settings, ruleset: RuleSet) -> dict[str, dict[str, Any]]:
    """Typed parameter overrides per rule id, config first, then --set; all problems at once.

    Each value is checked where it is given (its type, a finite number, a duration
    from 1s to 100 years, the parameter's min and max), so a bad one is reported at
    its line in the config, or as ``--set: RULE.PARAM=VALUE: reason``, never at the
    rule that uses it.
    """
    problems: list[Problem] = []
    ids = [r.rule.id for r in ruleset.rules]
    result: dict[str, dict[str, Any]] = {}

    def check(rule_id: str, name: str, value: Any, *, from_text: bool, where: _Where) -> None:
        loaded = ruleset.get(rule_id)
        if loaded is None:
            hint = difflib.get_close_matches(rule_id, ids, n=1, cutoff=0.5)
            tip = f" (did you mean '{hint[0]}'?)" if hint else ""
            problems.append(where(f"unknown rule '{rule_id}'{tip}", "rule"))
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
            problems.append(where(f"rule '{rule_id}' has no parameter '{name}'{tip}", "param"))
            return
        try:
            typed = coerce(spec.type, value, from_text=from_text)
        except ValueError as err:
            problems.append(where(str(err), "value"))
            return
        if spec.type in ("int", "float"):
            if spec.min is not None and typed < spec.min:
                problems.append(where(f"{typed} is below the minimum of '{name}', {spec.min:g}", "value"))
                return
            if spec.max is not None and typed > spec.max:
                problems.append(where(f"{typed} is above the maximum of '{name}', {spec.max:g}", "value"))
                return
        result.setdefault(rule_id, {})[name] = typed

    doc = settings.doc
    for rule_id, values in settings.params.items():
        for name, value in values.items():

            def at(text: str, part: str, rule_id: str = rule_id, name: str = name) -> Problem:
                if doc is None:  # settings made in code, not read from a file
                    return Problem("config", 0, 0, f"{rule_id}.{name}: {text}")
                loc = ("params", rule_id) if part == "rule" else ("params", rule_id, name)
                where = "" if part == "rule" else f"{rule_id}.{name}: "
                return doc.problem(loc, f"invalid config: {where}{text}", key=part != "value")

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

        def at_set(text: str, part: str, item: str = item) -> Problem:
            return Problem("--set", 0, 0, f"{item}: {text}")

        check(rule_id.strip(), name.strip(), value, from_text=True, where=at_set)
    if problems:
        raise ConfigError(problems)
    return result


_Where = Callable[[str, str], Problem]
"""Where a problem with one override is reported: (message, what it is about: rule, param or value)."""
