"""The report: its model, how it is built from backend rows, and the output formats.

Nothing here evaluates rules: ``engine.api`` runs them and builds a
:class:`Report` with :mod:`engine.report.build`; formats only render it.
"""

from engine.report.formats import (
    Renderer,
    RenderOptions,
    format_names,
    get_format,
    plain_style,
    register_format,
    render_json,
    render_text,
    unregister_format,
)
from engine.report.model import SEVERITY_ORDER, Finding, NotAssessed, ParamMeta, Report, RuleDocs, RuleMeta, iso
from engine.report.redact import redact

__all__ = [
    "SEVERITY_ORDER",
    "Finding",
    "NotAssessed",
    "ParamMeta",
    "RenderOptions",
    "Renderer",
    "Report",
    "RuleDocs",
    "RuleMeta",
    "format_names",
    "get_format",
    "iso",
    "plain_style",
    "redact",
    "register_format",
    "render_json",
    "render_text",
    "unregister_format",
]
