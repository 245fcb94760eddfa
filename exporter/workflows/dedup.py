"""A bounded memory of ids (event ids, closed step keys), so that a repeat is recognised."""

from __future__ import annotations

from collections.abc import Hashable


class SeenIds:
    """Remembers the last ``capacity`` ids; the oldest are forgotten first.

    A dict keeps insertion order, so eviction is O(1) without a separate queue.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: dict[Hashable, None] = {}

    def add(self, key: Hashable) -> bool:
        """Record the id; False when it was already seen (a repeat)."""
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self._capacity:
            del self._ids[next(iter(self._ids))]
        return True

    def __contains__(self, key: Hashable) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)
