"""Load rule directories: YAML with positions -> validated models, all errors at once."""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.errors import Problem, RuleError
from engine.lang.kinds import LOGIC_KINDS
from engine.lang.model import Library, Rule
from engine.lang.parts import split_shape_error
from engine.lang.yamlpos import Located, YamlProblems, read_located


@dataclass
class LoadedRule:
    """A validated rule and the document it came from (for positions)."""

    rule: Rule
    doc: Located
    ruleset: str  # the directory it was loaded from

    @property
    def path(self) -> str:
        return self.doc.path

    def problem(self, loc: tuple[Any, ...], message: str, *, key: bool = False) -> Problem:
        return self.doc.problem(loc, message, key=key)


@dataclass
class RuleSet:
    """All rules of the given directories and the lists and macros they share."""

    rules: list[LoadedRule] = field(default_factory=list)
    lists: dict[str, list[Any]] = field(default_factory=dict)
    macros: dict[str, tuple[dict[str, Any], Located, tuple[Any, ...]]] = field(default_factory=dict)

    def get(self, rule_id: str) -> LoadedRule | None:
        return next((r for r in self.rules if r.rule.id == rule_id), None)


def default_rules_dir() -> str:
    """The rules shipped with the package (``rules/`` in the source tree)."""
    return str(resources.files("salesmirror_rules"))


def _yaml_files(directory: str) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, name) for name in files if name.endswith((".yaml", ".yml")))
    return sorted(found)


def load_rules(directories: list[str]) -> RuleSet:
    """Load every rule and library file below ``directories``; raise RuleError listing all problems."""
    ruleset, problems = collect_rules(directories)
    if problems:
        raise RuleError(problems)
    return ruleset


def collect_rules(
    directories: list[str], *, if_missing: Mapping[str, Problem] | None = None
) -> tuple[RuleSet, list[Problem]]:
    """Load what is valid and return it with the problems of the rest (for one-run reporting).

    ``if_missing`` gives, for a directory named somewhere else (a config file),
    the located problem to report should it not exist.
    """
    ruleset = RuleSet()
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for directory in directories:
        if not os.path.isdir(directory):
            if os.path.isfile(directory):
                files = [directory]
            else:
                missing = (if_missing or {}).get(directory)
                problems.append(missing or Problem(directory, 0, 0, "no such rules directory"))
                continue
        else:
            files = _yaml_files(directory)
        for path in files:
            try:
                doc = read_located(path, _display(path))
            except YamlProblems as exc:
                problems.extend(exc.problems)
                continue
            except OSError as exc:
                problems.append(Problem(_display(path), 0, 0, f"cannot read: {exc.strerror or exc}"))
                continue
            if Path(path).name.startswith("_"):
                _load_library(doc, ruleset, problems)
                continue
            loaded = _load_rule(doc, directory, problems)
            if loaded is None:
                continue
            rule_id = loaded.rule.id
            if rule_id in first_seen:
                problems.append(
                    loaded.problem(("id",), f"duplicate rule id '{rule_id}' (also in {first_seen[rule_id]})")
                )
                continue
            first_seen[rule_id] = loaded.path
            ruleset.rules.append(loaded)
    ruleset.rules.sort(key=lambda r: r.rule.id)
    return ruleset, problems


def _display(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _load_library(doc: Located, ruleset: RuleSet, problems: list[Problem]) -> None:
    if doc.data is None:
        return
    found = _validate(Library, doc, problems)
    if found is None:
        return
    for name, values in found.lists.items():
        if name in ruleset.lists:
            problems.append(doc.problem(("lists", name), f"list '{name}' is defined twice", key=True))
        ruleset.lists[name] = list(values)
    for name, condition in found.macros.items():
        if name in ruleset.macros:
            problems.append(doc.problem(("macros", name), f"macro '{name}' is defined twice", key=True))
        ruleset.macros[name] = (condition, doc, ("macros", name))


def _load_rule(doc: Located, ruleset_dir: str, problems: list[Problem]) -> LoadedRule | None:
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "a rule file must be a mapping with id, trait, logic, ..."))
        return None
    rule = _validate(Rule, doc, problems)
    if rule is None:
        return None
    stem = Path(doc.path).stem
    leaf = rule.id.rsplit("/", 1)[-1]
    if stem != leaf:
        problems.append(
            doc.problem(
                ("id",), f"rule id '{rule.id}' does not match its file name '{stem}' (name the file '{leaf}.yaml')"
            )
        )
        return None
    return LoadedRule(rule, doc, ruleset_dir)


def _validate(model: type[BaseModel], doc: Located, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        seen: set[tuple[Any, ...]] = set()
        errors = exc.errors()
        stripped = [_strip_tags(tuple(e["loc"]), doc.data) for e in errors]
        mismatch = ("literal_error", "string_type", "bool_type")
        for index, (error, loc) in enumerate(zip(errors, stripped)):
            # A union member that does not fit at all (a literal tried against a mapping)
            # is noise when another member explains what is wrong with or inside the value.
            if error["type"] in mismatch and any(
                other_index != index and other[: len(loc)] == loc and errors[other_index]["type"] not in mismatch
                for other_index, other in enumerate(stripped)
            ):
                continue
            problem = _explain(model, doc, error, loc)
            marker = (problem.line, problem.col, problem.message)
            if marker not in seen:
                seen.add(marker)
                problems.append(problem)
        return None


def _strip_tags(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Drop the union-member tags pydantic puts into locations ('threshold', 'Window', ...).

    A location part is kept only when it is a key or index of the data at that
    point, so what remains is a path into the user's file.
    """
    out: list[Any] = []
    node = data
    for index, part in enumerate(loc):
        if (
            isinstance(node, dict)
            and part in node
            or isinstance(node, list)
            and isinstance(part, int)
            and part < len(node)
        ):
            out.append(part)
            node = node[part]
        elif index == len(loc) - 1 and isinstance(node, dict) and not _is_tag(part):
            out.append(part)  # a missing or unknown key of this mapping
        # else: a tag naming a union member
    return tuple(out)


def _is_tag(part: Any) -> bool:
    text = str(part)
    return text in LOGIC_KINDS or text[:1].isupper() or "[" in text or text in ("str", "int", "float", "bool")


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "file"


def _explain(model: type[BaseModel], doc: Located, error: Any, loc: tuple[Any, ...]) -> Problem:
    kind = error["type"]
    where = _dotted(loc)
    if kind == "extra_forbidden":
        name = str(loc[-1])
        allowed = _fields_at(model, doc.data, loc[:-1])
        hint = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        suggestion = (
            f" (did you mean '{hint[0]}'?)"
            if hint
            else (f" (expected one of: {', '.join(sorted(allowed))})" if allowed else "")
        )
        parent = _dotted(loc[:-1])
        return doc.problem(loc, f"unknown field '{name}' in {parent}{suggestion}", key=True)
    if kind == "missing":
        return doc.problem(loc[:-1], f"missing required field '{_dotted(loc)}'")
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        hint = difflib.get_close_matches(str(tag), LOGIC_KINDS, n=1, cutoff=0.6)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        return doc.problem(
            loc + ("kind",),
            f"logic.kind '{tag}' is not one of {', '.join(LOGIC_KINDS)}{suggestion}",
        )
    if kind == "union_tag_not_found":
        return doc.problem(loc, f"{where} needs a 'kind' ({', '.join(LOGIC_KINDS)})")
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    shape = split_shape_error(message)
    if shape is not None:  # a model's structural rule, about one of its keys
        sub, text = shape
        return doc.problem(loc + sub, text)
    return doc.problem(loc, f"{where}: {message[0].lower() + message[1:]}")


def _fields_at(model: type[BaseModel], data: Any, loc: tuple[Any, ...]) -> list[str]:
    """Field names the model accepts at ``loc`` (for did-you-mean suggestions)."""
    current: Any = model
    node = data
    for part in loc:
        current = _unwrap(current, node)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
        else:
            args = typing.get_args(current)
            current = args[-1] if args else None
        node = (
            node.get(part)
            if isinstance(node, dict)
            else (node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None)
        )
    current = _unwrap(current, node)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any, node: Any) -> Any:
    """Resolve Optional/Union/Annotated to the model the data selects (by `kind` for logic)."""
    for _ in range(5):
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin is typing.Union or origin is types.UnionType:
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            if len(models) > 1 and isinstance(node, dict):
                kind = node.get("kind")
                for candidate in models:
                    field_info = candidate.model_fields.get("kind")
                    if field_info and kind in typing.get_args(field_info.annotation):
                        return candidate
                return None
            annotation = models[0] if models else (members[0] if members else None)
            continue
        return annotation
    return annotation
