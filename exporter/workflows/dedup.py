"""A bounded memory of ids (event ids, closed step keys), so that a repeat is recognised."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable


class SeenIds:
    """Remembers the last ``capacity`` ids; the oldest are forgotten first.

    A set answers membership; a deque remembers the order, so forgetting the oldest is
    O(1) however many were forgotten before. (A dict used as an ordered set is not: each
    ``next(iter(d))`` walks the slots its earlier deletions left at the front, which made
    an add cost 90 µs once the window had turned over ten times.)
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: set[Hashable] = set()
        self._order: deque[Hashable] = deque()

    def add(self, key: Hashable) -> bool:
        """Record the id; False when it was already seen (a repeat)."""
        if key in self._ids:
            return False
        self._ids.add(key)
        self._order.append(key)
        if len(self._order) > self._capacity:
            self._ids.discard(self._order.popleft())
        return True

    def __contains__(self, key: Hashable) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)
