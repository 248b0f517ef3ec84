"""The report: its model, how it is built from backend rows, and the renderers.

Nothing here evaluates rules: ``engine.api`` runs them and builds a
:class:`Report` with :mod:`engine.report.build`; renderers only read it.
"""

from engine.report.formats.text import render_text
from engine.report.model import SEVERITY_ORDER, Finding, NotAssessed, ParamMeta, Report, RuleDocs, RuleMeta, iso
from engine.report.redact import redact

__all__ = [
    "SEVERITY_ORDER",
    "Finding",
    "NotAssessed",
    "ParamMeta",
    "Report",
    "RuleDocs",
    "RuleMeta",
    "iso",
    "redact",
    "render_text",
]
