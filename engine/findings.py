"""Moved to :mod:`engine.report`; kept so ``from engine.findings import ...`` still works.

New code imports the model from ``engine.report.model`` and the builders from
``engine.report.build``.
"""

from engine.report.build import build_findings, build_not_assessed, clean_number, render_template
from engine.report.model import SEVERITY_ORDER, Finding, NotAssessed, iso

__all__ = [
    "SEVERITY_ORDER",
    "Finding",
    "NotAssessed",
    "build_findings",
    "build_not_assessed",
    "clean_number",
    "iso",
    "render_template",
]
