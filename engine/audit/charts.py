"""Charts for the audit, drawn with matplotlib and embedded as inline SVG.

A report that is opened offline and printed cannot fetch a charting script,
so charts are drawn here and the SVG is written into the page. Three choices
keep the SVG self-contained and byte-identical for the same data:

* text is drawn as paths (``svg.fonttype: path``), so no font is looked up
  when the page is opened, and the glyphs look the same everywhere;
* ``svg.hashsalt`` is fixed and the metadata carries no date or version, so
  the ids matplotlib invents are the same on every run;
* each chart's ids get a prefix of its own, so two charts in one page never
  share an id.

Charts are made from the (possibly redacted) view, never from the raw report,
so a pseudonymised report has pseudonyms in its charts too.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: only files are drawn

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from engine.audit.view import TraitCount, TraitTrend

__all__ = ["severity_chart", "trend_chart"]

COLOURS = {
    "high": "#b2182b",
    "medium": "#ef8a62",
    "low": "#fddbc7",
    "watch": "#d1d1d1",
    "previous": "#9e9e9e",
    "new": "#b2182b",
    "persisting": "#ef8a62",
    "resolved": "#4d9221",
}
_STYLE: dict[Any, Any] = {  # matplotlib's stubs name every key; this is a plain mapping
    "svg.fonttype": "path",
    "svg.hashsalt": "salesmirror",
    "svg.image_inline": True,
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_ID = re.compile(r'id="([^"]+)"')


def _svg(figure: Figure, prefix: str, title: str) -> str:
    """The figure as an SVG element (no XML prolog), its ids prefixed, titled for screen readers."""
    buffer = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    ids = set(_ID.findall(text))
    for ident in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{ident}"
        text = text.replace(f'id="{ident}"', f'id="{new}"')
        text = text.replace(f'"#{ident}"', f'"#{new}"').replace(f"url(#{ident})", f"url(#{new})")
    head, _, rest = text.partition(">")
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'{head} role="img" aria-label="{safe_title.replace(chr(34), "&quot;")}"><title>{safe_title}</title>{rest}'


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(width, height), dpi=72, layout="constrained")


def severity_chart(counts: Sequence[TraitCount], prefix: str = "sev") -> str:
    """Findings per trait, stacked by severity (watch items apart)."""
    with matplotlib.rc_context(_STYLE):
        rows = list(reversed(counts))
        figure = _figure(7.0, 0.32 * max(len(rows), 3) + 0.9)
        axes = figure.subplots()
        labels = [row.trait for row in rows]
        left = [0.0] * len(rows)
        for level in ("high", "medium", "low", "watch"):
            values = [float(getattr(row, level)) for row in rows]
            axes.barh(labels, values, left=left, color=COLOURS[level], label=level, edgecolor="#555555", linewidth=0.4)
            left = [a + b for a, b in zip(left, values)]
        axes.set_xlabel("findings")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, ncols=4)
        total = sum(row.total + row.watch for row in counts)
        return _svg(figure, prefix, f"Findings by trait and severity, {total} in all")


def trend_chart(trend: TraitTrend, previous: str, current: str, prefix: str) -> str:
    """One trait across two periods: the previous count, then now (new and persisting) and what was resolved."""
    with matplotlib.rc_context(_STYLE):
        figure = _figure(3.4, 1.9)
        axes = figure.subplots()
        axes.bar([previous], [trend.previous], color=COLOURS["previous"], label="previous")
        axes.bar([current], [trend.persisting], color=COLOURS["persisting"], label="persisting")
        axes.bar([current], [trend.new], bottom=[trend.persisting], color=COLOURS["new"], label="new")
        axes.bar(["resolved"], [trend.resolved], color=COLOURS["resolved"], label="resolved")
        axes.set_title(trend.trait, fontsize=9)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(0, max(trend.previous, trend.current, trend.resolved, 1) * 1.15)
        axes.legend(loc="upper right", frameon=False, fontsize=7)
        words = (
            f"{trend.trait}: {trend.previous} in {previous}, {trend.current} in {current} "
            f"({trend.new} new, {trend.persisting} persisting), {trend.resolved} resolved"
        )
        return _svg(figure, prefix, words)
