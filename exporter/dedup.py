"""A bounded memory of event ids, so that a resent event is counted once."""

from __future__ import annotations


class SeenIds:
    """Remembers the last ``capacity`` ids; the oldest are forgotten first.

    A dict keeps insertion order, so eviction is O(1) without a separate queue.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: dict[str, None] = {}

    def add(self, event_id: str) -> bool:
        """Record the id; False when it was already seen (a duplicate)."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._capacity:
            del self._ids[next(iter(self._ids))]
        return True

    def __len__(self) -> int:
        return len(self._ids)
