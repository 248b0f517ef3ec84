"""YAML loading that remembers where every key and value came from, and refuses hostile input.

Only the safe loader's parts are used (scanner, parser, composer, the safe
scalar constructor), and explicit tags are refused outright, so nothing in a
file can name a Python object or a constructor.  The result is plain data plus
a map from each path (a tuple of keys and indexes) to its line and column, so
later validation can report ``file:line:col``.

Before the (recursive) composer sees a document, one pass over the parser's
events (which PyYAML produces without recursion) refuses, each as a located
problem:

* bytes that are not UTF-8 (a UTF-8 byte order mark is fine) and characters
  YAML does not allow (NUL and other control characters);
* explicit tags, standard ones included (``!!str``, ``!foo``, ``!!binary``);
* nesting deeper than ``MAX_DEPTH`` collections, flow or block;
* more than ``max_nodes`` nodes once every alias is counted as the nodes it
  stands for (default ``MAX_NODES``; this is what stops "billion laughs");
* aliases inside the node they refer to (cycles), aliases to no anchor, and
  anchors defined twice.

Scalars the safe constructor cannot turn into values (``2026-13-45``, an
integer too long for Python) are located problems too.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from engine.errors import Problem, SalesmirrorError

Path = tuple[Any, ...]

MAX_DEPTH = 64  # nested lists and mappings; real rule files use fewer than ten
MAX_NODES = 10_000  # per document, aliases expanded; the largest shipped rule has a few hundred

_BREAKS = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # what PyYAML counts as a new line
_NOT_ALLOWED = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_TAG = "tag:yaml.org,2002:"
_TYPE_NAMES = {"int": "integer", "float": "number", "timestamp": "date", "bool": "boolean", "null": "null"}


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


class YamlProblems(SalesmirrorError):
    """A YAML document cannot be read; callers re-raise its problems as their layer's error.

    ``doc`` is the rest of the document when the problems concern single keys or
    values (a duplicate key, a value that is not a valid date): callers that
    report every problem at once may validate it too.  It is ``None`` when the
    file could not be read as YAML at all.
    """

    def __init__(self, problems: list[Problem], doc: Located | None = None) -> None:
        super().__init__(problems)
        self.doc = doc


def read_located(path: str, display: str | None = None, *, max_nodes: int = MAX_NODES) -> Located:
    """Read and load one YAML file, shown as ``display``; OSError is the caller's to report."""
    with open(path, "rb") as handle:
        data = handle.read()
    return load_located(data, display or path, max_nodes=max_nodes)


def load_located(source: str | bytes, path: str, *, max_nodes: int = MAX_NODES) -> Located:
    """Parse one YAML document; raises ``YamlProblems`` with located problems."""
    text = _decode(source, path) if isinstance(source, bytes) else source.removeprefix("\ufeff")
    bad = _NOT_ALLOWED.search(text)
    if bad is not None:
        line, col = position(text, bad.start())
        message = f"character U+{ord(bad.group()):04X} is not allowed in YAML"
        raise YamlProblems([Problem(path, line, col, message)])
    events = _screen(text, path, max_nodes)
    composer = _Composer(events)
    doc = Located(path, None)
    problems: list[Problem] = []
    try:
        root = composer.get_single_node()
        if root is not None:
            doc.data = _build(root, (), doc, composer, problems)
    except yaml.MarkedYAMLError as exc:
        raise YamlProblems([_syntax(exc, path)]) from None
    except RecursionError:  # the limits above keep this from happening; never let it escape
        raise YamlProblems([Problem(path, 1, 1, "invalid YAML: nested too deeply to read")]) from None
    if problems:
        raise YamlProblems(problems, doc)
    return doc


def position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``, counting line breaks as YAML does."""
    line, start = 1, 0
    for match in _BREAKS.finditer(text, 0, index):
        line += 1
        start = match.end()
    return line, index - start + 1


def _decode(data: bytes, path: str) -> str:
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        before = data[: err.start].decode("utf-8")
        line, col = position(before, len(before))
        message = f"not valid UTF-8 (byte 0x{data[err.start]:02x})"
        raise YamlProblems([Problem(path, line, col, message)]) from None


def _syntax(exc: yaml.MarkedYAMLError, path: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = exc.problem or exc.context or "invalid YAML"
    if exc.context and reason.startswith("but "):  # "expected a single document ... but found another"
        reason = f"{exc.context} {reason}"
    return Problem(path, line, col, f"invalid YAML: {reason}")


class _NotingTags(yaml.SafeLoader):
    """The safe scanner and parser, keeping every tag token the parser takes."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.tags: list[yaml.TagToken] = []

    def get_token(self) -> Any:
        scanner: Any = super()  # the stubs leave Scanner.get_token untyped
        token = scanner.get_token()
        if isinstance(token, yaml.TagToken):
            self.tags.append(token)
        return token


def _screen(text: str, path: str, max_nodes: int) -> list[yaml.Event]:
    """The document's events, once they pass the checks above; else every problem found."""
    loader = _NotingTags(text)
    parser: Any = loader  # the stubs leave the parser's methods untyped
    events: list[yaml.Event] = []
    problems: list[Problem] = []
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, nodes counted before it) per open collection
    sizes: dict[str, int] = {}  # anchor -> nodes an alias to it stands for
    first: dict[str, Any] = {}  # anchor -> where it was first defined
    total = 0

    def refuse(mark: Any, message: str) -> None:
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(path, line, col, message))

    try:
        while parser.check_event():
            event = parser.get_event()
            events.append(event)
            if isinstance(event, yaml.DocumentStartEvent):
                sizes.clear()  # anchors belong to one document
                first.clear()
            elif isinstance(event, yaml.NodeEvent) and not isinstance(event, yaml.AliasEvent):
                total += 1
                anchor = event.anchor
                if anchor is not None and anchor in first:
                    refuse(
                        event.start_mark,
                        f"anchor '&{anchor}' is defined twice (first on line {first[anchor].line + 1})",
                    )
                if anchor is not None:
                    first[anchor] = event.start_mark
                if isinstance(event, yaml.ScalarEvent):
                    if anchor is not None:
                        sizes[anchor] = 1
                else:
                    open_nodes.append((anchor, total - 1))
                    if len(open_nodes) > MAX_DEPTH:
                        refuse(event.start_mark, f"nesting deeper than {MAX_DEPTH} levels")
                        break
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, before = open_nodes.pop()
                if anchor is not None:
                    sizes[anchor] = total - before
            elif isinstance(event, yaml.AliasEvent):
                name = event.anchor
                if any(anchor == name for anchor, _ in open_nodes):
                    refuse(event.start_mark, f"alias '*{name}' is inside the node it refers to (a cycle)")
                elif name not in sizes:
                    refuse(event.start_mark, f"alias '*{name}' refers to no anchor before it")
                else:
                    total += sizes[name]
                    if total > max_nodes:
                        refuse(event.start_mark, f"alias '*{name}' makes the document larger than {max_nodes} nodes")
                        break
            if total > max_nodes:
                refuse(event.start_mark, f"the document has more than {max_nodes} nodes")
                break
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax(exc, path))
    except ValueError as err:  # the scanner's chr() on an escape such as "\U00110000"
        reason = "an escape names a character beyond U+10FFFF" if "chr()" in str(err) else str(err)
        refuse(parser.get_mark(), f"invalid YAML: {reason}")
    finally:
        parser.dispose()
    for token in loader.tags:
        written = text[token.start_mark.index : token.end_mark.index]
        shown = written if len(written) <= 60 else written[:57] + "..."
        refuse(token.start_mark, f"YAML tags are not allowed: '{shown}'")
    if problems:
        raise YamlProblems(problems)
    return events


class _Composer(Composer, SafeConstructor, Resolver):
    """PyYAML's composer and safe constructor, fed with events already screened."""

    def __init__(self, events: list[yaml.Event]) -> None:
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._events = events
        self._next = 0

    def check_event(self, *choices: type) -> bool:
        if self._next >= len(self._events):
            return False
        return not choices or isinstance(self._events[self._next], choices)

    def peek_event(self) -> yaml.Event:
        return self._events[self._next]

    def get_event(self) -> yaml.Event:
        event = self._events[self._next]
        self._next += 1
        return event


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: yaml.Node, loc: Path, doc: Located, composer: _Composer, problems: list[Problem]) -> Any:
    doc.values[loc] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        try:
            composer.flatten_mapping(node)  # merge keys ("<<: *base")
        except yaml.MarkedYAMLError as exc:
            problems.append(_syntax(exc, doc.path))
            return {}
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line, col = _mark(key_node)
            key = _scalar(key_node, doc.path, composer, problems) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, (str, int, float, bool)):
                problems.append(Problem(doc.path, line, col, "mapping keys must be plain scalars"))
                continue
            if key in out:
                problems.append(Problem(doc.path, line, col, f"duplicate key '{key}'"))
                continue
            doc.keys[loc + (key,)] = (line, col)
            out[key] = _build(value_node, loc + (key,), doc, composer, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loc + (index,), doc, composer, problems) for index, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node, doc.path, composer, problems)


def _scalar(node: yaml.ScalarNode, path: str, composer: _Composer, problems: list[Problem]) -> Any:
    """The value of a scalar; text when it cannot be one (the problem is recorded)."""
    line, col = _mark(node)
    text = str(node.value)
    if node.tag in (_TAG + "merge", _TAG + "value"):  # a bare "<<" or "=" that merges nothing
        value: Any = text
    else:
        try:
            value = composer.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.YAMLError) as err:
            kind = _TYPE_NAMES.get(str(node.tag).removeprefix(_TAG), "value")
            shown = text if len(text) <= 40 else text[:37] + "..."
            reason = str(err).split(";")[0]
            problems.append(Problem(path, line, col, f"'{shown}' is not a valid {kind} ({reason}); quote it for text"))
            return text
    lone = _SURROGATE.search(value) if isinstance(value, str) else None
    if lone is not None:
        code = ord(lone.group())
        problems.append(Problem(path, line, col, f"text holds a lone surrogate (\\u{code:04x}), which is not Unicode"))
    return value
