"""``--format json``: the contract's document (EVENTS.md, "Finding"), two-space indented."""

from __future__ import annotations

from engine.report.formats.base import DEFAULT_OPTIONS, RenderOptions
from engine.report.model import Report


def render_json(report: Report, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    return report.to_json(with_origins=options.origins, with_suppressed=options.show_suppressed)
