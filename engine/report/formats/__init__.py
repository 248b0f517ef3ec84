"""Output formats by name: ``check --format NAME`` and :func:`get_format`.

A format is one module with a :data:`~engine.report.formats.base.Renderer`:
``render(report, options) -> str``. The report carries the findings, each
rule's metadata (``report.rules``), the counts (``report.summary()``), the
warnings and the input files; the options carry the command line, whether to
cite origins, verbosity and the colour style. To add a format, write
``engine/report/formats/<name>.py`` and register it below; the CLI offers
every registered name.
"""

from __future__ import annotations

from engine.registry import Registry
from engine.report.formats.base import Renderer, RenderOptions, Style, plain_style
from engine.report.formats.github import render_github
from engine.report.formats.json import render_json
from engine.report.formats.junit import render_junit
from engine.report.formats.sarif import render_sarif
from engine.report.formats.text import render_text

__all__ = [
    "RenderOptions",
    "Renderer",
    "Style",
    "format_names",
    "get_format",
    "plain_style",
    "register_format",
    "render_github",
    "render_json",
    "render_junit",
    "render_sarif",
    "render_text",
    "unregister_format",
]

FORMATS: Registry[Renderer] = Registry("output format")


def register_format(name: str, renderer: Renderer) -> None:
    """Offer ``renderer`` as format ``name`` (a name registered again is replaced)."""
    FORMATS.register(name, renderer)


def unregister_format(name: str) -> None:
    """Withdraw a format (plugins and tests that registered their own)."""
    FORMATS.unregister(name)


def format_names() -> list[str]:
    """The registered formats, in the order they were registered."""
    return FORMATS.names()


def get_format(name: str) -> Renderer:
    return FORMATS.get(name)


register_format("text", render_text)
register_format("json", render_json)
register_format("sarif", render_sarif)  # SARIF 2.1.0, for code-scanning tools
register_format("junit", render_junit)  # JUnit XML, for CI servers' test views
register_format("github", render_github)  # GitHub Actions annotations
