"""Lay an audit view out as one self-contained HTML file or as Markdown.

Both go through Jinja2 templates (``engine/audit/templates``) and neither
trusts a single string of the view: event text, ids and file names all come
from the input, which anyone who can write to a CRM can fill.

* In HTML, autoescaping escapes every value, attributes included, and the
  environment's ``finalize`` first makes invisible characters visible:
  bidirectional controls (which can make ``txt.exe`` read as ``exe.txt``)
  and other control characters are shown as ``<U+202E>``. No value is ever
  put into a ``href`` or ``src``: a record's web address is shown as text, and
  one that is not http(s) (``javascript:``) is not shown at all
  (:mod:`engine.audit.view`). The page's only links are to its own sections,
  and a Content-Security-Policy forbids any request.
* In Markdown every value is escaped for Markdown and for the HTML a
  Markdown viewer would render, and cannot start a new line; ids go into
  code spans whose fences are longer than any run of backticks in them.

The charts (:mod:`engine.audit.charts`) are the only markup not written by a
template; they are drawn from the view, with their comments stripped.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from engine.audit.view import FAMILY_ORDER, AuditView, CoverageRow

__all__ = ["render_html", "render_markdown", "visible"]

# bidirectional embedding, override and isolate controls, and the marks
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff{_BIDI}]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|~#!])")
_BACKTICKS = re.compile(r"`+")


def visible(text: str) -> str:
    """``text`` with control and bidirectional characters shown as ``<U+XXXX>`` (tabs and newlines kept)."""
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def _finalize_html(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return visible(str(value))


def _md_text(value: str) -> str:
    """Plain text that Markdown and the HTML inside Markdown both show as written, on one line."""
    # ">" is left as it is: no value starts a line, so it cannot open a quote, and with "<" escaped no tag can form
    text = visible(value).replace("&", "&amp;").replace("<", "&lt;")
    text = " ".join(text.split())  # no value may start a heading, a list or a table row
    return _MD_SPECIAL.sub(r"\\\1", text)


def _finalize_md(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return _md_text(str(value))


def _md_code(value: Any) -> Markup:
    """A code span that shows ``value`` literally, whatever backticks it holds."""
    text = " ".join(visible(str(value)).split())
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def _environment(kind: str) -> Environment:
    if kind == "html":
        env = Environment(
            loader=PackageLoader("engine.audit", "templates"),
            autoescape=True,
            finalize=_finalize_html,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
    else:
        env = Environment(
            loader=PackageLoader("engine.audit", "templates"),
            autoescape=False,
            finalize=_finalize_md,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["code"] = _md_code
    env.globals["family_row"] = _family_row
    return env


def _family_row(rows: list[CoverageRow], family: str) -> CoverageRow | None:
    """A team's coverage row for one family of events, if the team logged any."""
    return next((row for row in rows if row.family == family), None)


def anchors(view: AuditView) -> dict[str, str]:
    """An id for each manager's page: by position, so no name ever has to be made into an id."""
    return {page.manager: f"manager-{index}" for index, page in enumerate(view.pages, start=1)}


_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _charts(view: AuditView) -> dict[str, Markup]:
    from engine.audit import charts  # matplotlib is loaded only when a chart is drawn

    out = {"severity": charts.severity_chart(view.by_trait)}
    if view.trends:
        previous, current = _short(view.compare_to), _short(view.period)
        for index, trend in enumerate(view.trends, start=1):
            out[f"trend-{index}"] = charts.trend_chart(trend, previous, current, f"trend{index}")
    return {name: Markup(_COMMENT.sub("", svg)) for name, svg in out.items()}


def _short(words: str) -> str:
    """A period's label without its days, for a chart's axis."""
    return words.split(" (", 1)[0]


def render_html(view: AuditView) -> str:
    """The whole audit as one HTML document that needs nothing else to be read or printed."""
    template = _environment("html").get_template("audit.html.j2")
    return template.render(view=view, anchors=anchors(view), charts=_charts(view), families=FAMILY_ORDER)


def render_markdown(view: AuditView) -> str:
    """The audit as Markdown: the same sections and facts, charts given as their tables."""
    template = _environment("md").get_template("audit.md.j2")
    return template.render(view=view, anchors=anchors(view), families=FAMILY_ORDER)
