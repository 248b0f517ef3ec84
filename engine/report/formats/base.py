"""What every output format receives: the report and the options of this rendering."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.report.model import Report

Style = Callable[..., str]
"""``click.style``'s shape: ``style(text, fg=..., bold=..., dim=...)`` returns the text, perhaps coloured."""


def plain_style(text: str, **_: Any) -> str:
    """The style for files, pipes and formats without colour: the text unchanged."""
    return text


@dataclass(frozen=True)
class RenderOptions:
    """How to render, beyond what the report itself holds (findings, rules, counts, warnings, inputs)."""

    origins: bool = False  # cite each evidence event's file:line
    verbose: bool = False  # every evidence id and the reasons rules could not judge
    style: Style = plain_style  # colour for terminals; formats that have none ignore it
    command: tuple[str, ...] = ()  # the command line that produced the report, program name first
    show_suppressed: bool = False  # list the findings a suppression file set aside (they are always counted)


DEFAULT_OPTIONS = RenderOptions()

Renderer = Callable[[Report, RenderOptions], str]
"""An output format: the whole document for one report, as text."""
