"""A bounded map by id, oldest first: the history of finished workflows by workflow id.

Two implementations of one interface, ``IdMap``; ``id_map`` picks:
- ``FifoMap`` (``_fifo_ids.c``, built with ``FifoIds``, see ``dedup``) holds each id as two
  64-bit hashes in C memory beside its value, and no key object: held for as long as its
  entry, each id's string would pin a small block of the heap among the short-lived
  objects of the events that came with it, and freeing them, thousands of workflows later,
  scattered the next events' objects over old memory (docs/performance.md);
- ``DictIdMap`` below, an OrderedDict, where that module was not built.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from exporter.workflows._fifo_ids import FifoMap

ValueT = TypeVar("ValueT")


class IdMap(Protocol[ValueT]):
    """A value for each of the last ``capacity`` ids (str), in the order they came."""

    def get(self, key: str) -> ValueT | None: ...

    def push(self, key: str, value: ValueT) -> ValueT | None:
        """Hold a new id (KeyError if held) as the newest; when the map was full, the oldest
        leaves first, in O(1), and its value is returned."""

    def replace(self, key: str, value: ValueT) -> None:
        """A held id's new value, in its place (KeyError if not held)."""

    def values(self) -> list[ValueT]:
        """Oldest first."""

    def __contains__(self, key: str) -> bool: ...

    def __len__(self) -> int: ...


def _built_map() -> type[FifoMap] | None:
    try:
        from exporter.workflows._fifo_ids import FifoMap  # noqa: PLC0415 (built or not)
    except ImportError:
        return None
    return FifoMap


BUILT_MAP = _built_map()
"""``FifoMap`` where setup.py built it, else None."""


def id_map(capacity: int) -> IdMap:
    """The C map where it was built, else ``DictIdMap``; its second hash seeded per map."""
    if BUILT_MAP is None:
        return DictIdMap(capacity)
    return BUILT_MAP(capacity, secrets.randbits(64))


class DictIdMap(Generic[ValueT]):
    """An OrderedDict: it finds its oldest entry in O(1) however many left before (a plain
    dict's ``next(iter())`` walks the slots its deletions left at the front)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, ValueT] = OrderedDict()
        self.get: Callable[[str], ValueT | None] = self._entries.get

    def push(self, key: str, value: ValueT) -> ValueT | None:
        if key in self._entries:
            raise KeyError(key)
        self._entries[key] = value
        if len(self._entries) <= self._capacity:
            return None
        return self._entries.popitem(last=False)[1]

    def replace(self, key: str, value: ValueT) -> None:
        if key not in self._entries:
            raise KeyError(key)
        self._entries[key] = value

    def values(self) -> list[ValueT]:
        return list(self._entries.values())

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
