"""Pydantic models of a rule file: the single source of the rule schema.

The pieces (parameters, docs, windows, metrics, steps) are in
``engine.lang.parts``; each kind's logic model is in its module under
``engine.lang.kinds``, and the union of them comes from that registry.
Conditions (``where``) are kept as plain mappings here and checked by the
compiler, which knows the event vocabulary, named lists and macros; their
shape is still described in the published JSON Schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Field

from engine.lang.kinds import KINDS
from engine.lang.parts import Base, Condition, CounterItem, Docs, ParamSpec, Scalar, Strict

if TYPE_CHECKING:
    Logic = Base
else:
    Logic = Annotated[Union[tuple(kind.model for kind in KINDS.values())], Field(discriminator="kind")]  # noqa: UP007


class Rule(Strict):
    """One rule file."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)+$")
    trait: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    severity: Literal["low", "medium", "high"]
    status: Literal["experimental", "stable", "deprecated"] = "stable"
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    logic: Logic
    message: str = Field(min_length=1)
    advice: str = Field(min_length=1)
    docs: Docs
    counter_evidence: list[CounterItem] = Field(
        default_factory=list,
        description="Facts in the same data that speak for the manager, shown with every finding.",
    )


class Library(Strict):
    """A ``_*.yaml`` file of named lists and macros shared by the rules of a set."""

    lists: dict[str, list[Scalar]] = Field(default_factory=dict)
    macros: dict[str, Condition] = Field(default_factory=dict)


def rule_json_schema() -> dict[str, Any]:
    """The JSON Schema editors use to validate rule files."""
    schema = Rule.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "salesmirror rule"
    return schema
