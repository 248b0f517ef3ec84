"""YAML loading that remembers where every key and value came from.

Only ``yaml.SafeLoader`` is used (composition plus its safe scalar
constructor), so no tag can build arbitrary Python objects.  The result is
plain data plus a map from each path (a tuple of keys and indexes) to its
line and column, so later validation can report ``file:line:col``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.errors import Problem, SalesmirrorError

Path = tuple[Any, ...]


@dataclass
class Located:
    """A loaded document and the positions of its nodes (1-based line and column)."""

    path: str
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, loc: Path, *, key: bool = False) -> tuple[int, int]:
        """Position of ``loc``, or of its nearest located ancestor."""
        loc = tuple(loc)
        while True:
            if key and loc in self.keys:
                return self.keys[loc]
            if loc in self.values:
                return self.values[loc]
            if loc in self.keys:
                return self.keys[loc]
            if not loc:
                return (1, 1)
            loc = loc[:-1]

    def problem(self, loc: Path, message: str, *, key: bool = False) -> Problem:
        line, col = self.where(loc, key=key)
        return Problem(self.path, line, col, message)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def load_located(text: str, path: str) -> Located:
    """Parse one YAML document; raises a located problem list on syntax errors."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        raise YamlProblems([Problem(path, line, col, f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(path, 1, 1, f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    doc = Located(path, None)
    problems: list[Problem] = []
    if root is not None:
        doc.data = _build(root, (), doc, loader, problems)
    if problems:
        raise YamlProblems(problems)
    return doc


class YamlProblems(SalesmirrorError):
    """A YAML document cannot be read; callers re-raise its problems as their layer's error."""


def _build(node: yaml.Node, loc: Path, doc: Located, loader: yaml.SafeLoader, problems: list[Problem]) -> Any:
    doc.values[loc] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                line, col = _mark(key_node)
                problems.append(Problem(doc.path, line, col, "mapping keys must be plain scalars"))
                continue
            if key in out:
                line, col = _mark(key_node)
                problems.append(Problem(doc.path, line, col, f"duplicate key '{key}'"))
                continue
            doc.keys[loc + (key,)] = _mark(key_node)
            out[key] = _build(value_node, loc + (key,), doc, loader, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loc + (index,), doc, loader, problems) for index, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
