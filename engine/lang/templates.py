"""Message and advice templates: checked when a rule loads, filled safely for each finding.

A template is a format string whose placeholders may only *name* a value
(``{count}``, ``{rep}``), optionally with a plain format spec
(``{ratio:.0%}``, ``{open_deals:.1f}``, ``{rep:>8}``). Attribute and index
access (``{manager.__class__}``, ``{metrics[0]}``), positions (``{0}``),
conversions (``{rep!r}``) and nested or oversized specs are refused when the
rule loads, and :func:`render` never performs them either, so a template can
only ever show the values it is given.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Collection, Mapping
from typing import Any

# [[fill]align][sign][z][#][0][width][grouping][.precision][type], widths and precisions below 100;
# no 'c' (a count as a character) and nothing nested.
_SPEC = re.compile(r"^(?:[^{}]?[<>=^])?[-+ ]?z?#?0?(?:[0-9]{1,2})?[,_]?(?:\.[0-9]{1,2})?(?P<type>[bdeEfFgGnosxX%])?$")
_NUMBER_TYPES = frozenset("bdeEfFgGnoxX%")
_PLAIN = (str, int, float, bool, type(None))
_PARSER = string.Formatter()


def placeholders(template: str) -> list[str]:
    """The plain names a template mentions ([] when it does not parse)."""
    try:
        return [name for _, name, _, _ in _PARSER.parse(template) if name and name.isidentifier()]
    except ValueError:
        return []


def template_problems(template: str, known: Collection[str], text_names: Collection[str]) -> list[str]:
    """What is wrong with a template, given the names it may use and which of them hold text.

    Each message reads after the template's key: "message uses unknown placeholder '{cont}'".
    """
    try:
        parsed = list(_PARSER.parse(template))
    except ValueError as err:
        return [f"template: {err}"]
    problems: list[str] = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        written = _written(name, spec, conversion)
        if not name.isidentifier():
            problems.append(
                f"placeholder '{written}' must be a plain name such as {{count}} "
                "(no '.', '[' or position: a template shows values, nothing else)"
            )
        elif conversion is not None:
            problems.append(f"placeholder '{written}' may not convert its value ('!{conversion}'); write '{{{name}}}'")
        elif spec and not _SPEC.match(spec):
            problems.append(
                f"placeholder '{written}' has a format spec that is not a plain one (such as :.0%, :.1f or :>8, "
                "widths and precisions below 100)"
            )
        elif name not in known:
            hint = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            tip = f" (did you mean '{{{hint[0]}}}'?)" if hint else f" (known: {', '.join(sorted(known))})"
            problems.append(f"uses unknown placeholder '{{{name}}}'{tip}")
        elif name in text_names and _number_spec(spec):
            problems.append(f"placeholder '{written}' formats '{name}' as a number, but it is text")
    return problems


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill a template's plain placeholders from ``values``; anything else is left as written.

    Field lookup is by name in ``values`` only: no attribute or index access, no
    conversion, no nested spec. A spec that does not suit the value (``.0%`` on
    an empty metric) shows the value unformatted; a template that does not parse
    is returned whole.
    """
    try:
        parsed = list(_PARSER.parse(template))
    except ValueError:
        return template
    out: list[str] = []
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is not None:
            out.append(_field(name, spec or "", conversion, values))
    return "".join(out)


def _field(name: str, spec: str, conversion: str | None, values: Mapping[str, Any]) -> str:
    if not name.isidentifier() or conversion is not None or name not in values:
        return _written(name, spec, conversion)
    value = values[name]
    if not isinstance(value, _PLAIN):
        return _written(name, spec, conversion)
    if spec and _SPEC.match(spec):
        try:
            return format(value, spec)
        except (ValueError, TypeError, OverflowError):
            pass  # the spec does not suit this value
    return str(value)


def _written(name: str, spec: str | None, conversion: str | None) -> str:
    return "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"


def _number_spec(spec: str | None) -> bool:
    match = _SPEC.match(spec or "")
    return bool(match and match.group("type") in _NUMBER_TYPES)
