"""What a rule kind is: its pydantic model and the function that compiles it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.lang.parts import Base

if TYPE_CHECKING:
    from engine.lang.compiler import RuleCompiler
    from engine.lang.plan import CompiledRule

Compile = Callable[["RuleCompiler", Any, "CompiledRule"], None]


@dataclass(frozen=True)
class Kind:
    """A rule kind: ``logic.kind`` names it, ``model`` validates it, ``compile`` fills the plan."""

    name: str
    model: type[Base]
    compile: Compile
