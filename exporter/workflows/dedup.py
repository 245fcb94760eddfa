"""A bounded memory of ids (event ids, closed step keys), so that a repeat is recognised.

``IdWindow`` remembers exactly the last ``capacity`` distinct ids it recorded: a set answers
membership, a deque keeps their order, and each id past the capacity forgets the oldest
one, in O(1). Both are keyed by Python's own hash: for a pair key's strings SipHash with a
per-process random key, for an event id's keyed digest (``event_ids``) the digest itself.
Which ids collide cannot be known from outside, so a batch of crafted ids costs what
random ones cost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence


class IdWindow:
    """Exactly the last ``capacity`` distinct ids recorded, the oldest forgotten first."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: set[Hashable] = set()
        self._order: deque[Hashable] = deque()

    def add(self, key: Hashable) -> bool:
        """Record the id; False when it is remembered already (a repeat)."""
        if key in self._ids:
            return False
        self._ids.add(key)
        self._order.append(key)
        if len(self._order) > self._capacity:
            self._ids.remove(self._order.popleft())
        return True

    def add_all(self, keys: Sequence[Hashable]) -> bool:
        """Record every key when none is remembered and none repeats within ``keys``;
        otherwise record nothing and return False (the caller adds them one by one). The
        common case, a batch of new ids, costs a few C-level set operations, not a Python
        call per id."""
        fresh = set(keys)
        if len(fresh) != len(keys) or not fresh.isdisjoint(self._ids):
            return False
        self._ids |= fresh
        self._order.extend(keys)
        excess = len(self._order) - self._capacity
        if excess > 0:
            popleft = self._order.popleft
            self._ids.difference_update([popleft() for _ in range(excess)])
        return True

    def __contains__(self, key: Hashable) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)
