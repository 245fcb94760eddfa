"""A bounded memory of ids (event ids, closed step keys), so that a repeat is recognised.

Two implementations of one interface, ``IdWindow``; ``id_window`` picks:
- ``FifoIds`` holds two 64-bit hashes per id in C memory (``_fifo_ids.c``, built by
  setup.py wherever a C compiler and Python's headers are found, editable installs
  included): no Python object per id, and memory fixed at start;
- ``SeenIds`` below, a set of the ids themselves, where that module was not built.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from exporter.workflows._fifo_ids import FifoIds

TAIL_LENGTH = 1000
"""Ids added one at a time are grouped in runs of this many before they join the order."""


class IdWindow(Protocol):
    """At least the last ``capacity`` ids; the oldest are forgotten first, each in O(1)."""

    def has(self, key: Hashable) -> bool:
        """Whether the id is remembered."""

    def add(self, key: Hashable) -> bool:
        """Record the id; False when it was already seen (a repeat)."""

    def add_new(self, key: Hashable) -> None:
        """Record an id the caller knows is not here; ``settle`` at the end of the batch."""

    def add_all(self, keys: Sequence[Hashable]) -> bool:
        """Record every key when none was seen before and none repeats within ``keys``;
        otherwise record nothing and return False."""

    def settle(self) -> None:
        """At the end of a batch."""

    def __contains__(self, key: Hashable) -> bool: ...

    def __len__(self) -> int: ...


def _built_window() -> type[FifoIds] | None:
    try:
        from exporter.workflows._fifo_ids import FifoIds  # noqa: PLC0415 (built or not)
    except ImportError:
        return None
    return FifoIds


BUILT_WINDOW = _built_window()
"""``FifoIds`` where setup.py built it, else None."""


def id_window(capacity: int) -> IdWindow:
    """The C window where it was built, else ``SeenIds``. Its second hash is seeded per
    window, so that which ids collide cannot be known ahead."""
    if BUILT_WINDOW is None:
        return SeenIds(capacity)
    return BUILT_WINDOW(capacity, secrets.randbits(64))


class SeenIds:
    """Remembers at least the last ``capacity`` ids; the oldest are forgotten first.

    A set answers membership; a deque of runs (lists of ids, in the order they came)
    remembers the order, so forgetting is O(1) per id however many were forgotten before.
    (A dict used as an ordered set is not: each ``next(iter(d))`` walks the slots its
    earlier deletions left at the front, which made an add cost 90 µs once the window had
    turned over ten times.) Whole runs are forgotten at once, in one C-level
    ``difference_update``, so the set holds up to one run more than ``capacity``; a batch
    of new ids is recorded the same way (``add_all``), without a Python call per id.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: set[Hashable] = set()
        self._runs: deque[Sequence[Hashable]] = deque()
        self._tail: list[Hashable] = []
        """The newest ids added one at a time, not yet a run in ``_runs``."""
        self._in_runs = 0
        self.has: Callable[[Hashable], bool] = self._ids.__contains__
        """Membership as the set's own bound method: no Python frame per call, on the
        ingest's hottest path (the set is only ever changed in place)."""

    def add(self, key: Hashable) -> bool:
        """Record the id; False when it was already seen (a repeat)."""
        if key in self._ids:
            return False
        self.add_new(key)
        self.settle()
        return True

    def add_new(self, key: Hashable) -> None:
        """Record an id the caller knows is not here; it joins the order at ``settle``."""
        self._ids.add(key)
        self._tail.append(key)

    def settle(self) -> None:
        """Give the ids added with ``add_new`` their place in the order (at the end of a
        batch: one length check per batch, not per id)."""
        if len(self._tail) >= TAIL_LENGTH:
            self._push_tail()

    def add_all(self, keys: Sequence[Hashable]) -> bool:
        """Record every key when none was seen before and none repeats within ``keys``;
        otherwise record nothing and return False (the caller adds them one by one)."""
        fresh = set(keys)
        if len(fresh) != len(keys) or not fresh.isdisjoint(self._ids):
            return False
        self._ids |= fresh
        if self._tail:
            self._push_tail()
        self._push(keys)
        return True

    def _push_tail(self) -> None:
        self._push(self._tail)
        self._tail = []

    def _push(self, run: Sequence[Hashable]) -> None:
        self._runs.append(run)
        self._in_runs += len(run)
        while self._in_runs - len(self._runs[0]) >= self._capacity:
            oldest = self._runs.popleft()
            self._in_runs -= len(oldest)
            self._ids.difference_update(oldest)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)
