"""Named plug-in points: backends, input readers, output formats.

Each extension point keeps one :class:`Registry`; adding an implementation
is one module plus one ``register`` call. Lookups of an unknown name are a
user error (exit 2) with the known names and a did-you-mean hint.
"""

from __future__ import annotations

import difflib
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Implementations of one extension point, by name, in the order they were registered."""

    def __init__(self, what: str) -> None:
        self.what = what  # "engine", "format", "reader": used in error messages
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Add (or replace) ``name``; returns the item, so it can decorate a definition."""
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def names(self) -> list[str]:
        return list(self._items)

    def items(self) -> list[tuple[str, T]]:
        return list(self._items.items())

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def get(self, name: str) -> T:
        """The item called ``name``; ConfigError naming the known ones when there is none."""
        try:
            return self._items[name]
        except KeyError:
            from engine.errors import ConfigError

            known = self.names()
            hint = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            tip = f"did you mean '{hint[0]}'? " if hint else ""
            raise ConfigError(f"unknown {self.what} '{name}' ({tip}known: {', '.join(known) or 'none'})") from None
