"""The registry of rule kinds, keyed by ``logic.kind``.

Adding a kind is one module (a pydantic model deriving from
``engine.lang.parts.Base`` with ``kind: Literal["name"]``, and a compile
function) plus one entry in ``_MODULE_KINDS`` below. The rule model's union
of logics and the loader's list of kind names both come from here.
"""

from __future__ import annotations

from engine.lang.kinds import absence, aggregate, concurrency, sequence
from engine.lang.kinds.base import Kind

_MODULE_KINDS: tuple[Kind, ...] = (*aggregate.KINDS, sequence.KIND, absence.KIND, concurrency.KIND)

KINDS: dict[str, Kind] = {kind.name: kind for kind in _MODULE_KINDS}
LOGIC_KINDS: tuple[str, ...] = tuple(KINDS)

__all__ = ["KINDS", "LOGIC_KINDS", "Kind"]
