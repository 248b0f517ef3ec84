"""Renderers: a report in, text out. No evaluation happens here."""

from engine.report.redact import redact
from engine.report.text import render_text

__all__ = ["redact", "render_text"]
