"""Matching the two halves of a timed thing (a step's start and finish, an approval's
request and resolution) when they may arrive in either order, or one never.

The halves are kept apart from the workflow's own lifecycle, so a step that finishes after
its workflow's finish event (a late batch, a retry) is still timed exactly.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

from exporter.workflows.dedup import IdWindow

Key = tuple[str, str]
"""(workflow_id, step_id or approval_id)."""

StartT = TypeVar("StartT")
EndT = TypeVar("EndT")


class Half(Generic[StartT]):
    """One half of a pair, waiting for its partner; never changed once made."""

    __slots__ = ("first_seen", "payload", "ts")

    def __init__(self, ts: float, first_seen: float, payload: StartT) -> None:
        self.ts = ts
        """Event time, for the duration."""
        self.first_seen = first_seen
        """Server clock at arrival, for expiry."""
        self.payload = payload


class PairTable(Generic[StartT, EndT]):
    """Open starts, waiting ends and recently closed keys, each bounded by ``capacity``.
    The tracker closes here only the pairs its workflows did not keep: a kept step or
    approval is itself the mark that its pair is complete (no 100,000-key set to probe,
    grow and evict for every step).

    The halves are OrderedDicts: most leave from the middle (matched), the rest from the
    front (drained), and an OrderedDict finds its oldest entry in O(1) whatever left before.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._starts: OrderedDict[Key, Half[StartT]] = OrderedDict()
        self._ends: OrderedDict[Key, Half[EndT]] = OrderedDict()
        self._closed = IdWindow(capacity)

    def is_closed(self, key: Key) -> bool:
        """Whether the pair is complete, so that a late partner or a repeat changes nothing."""
        return key in self._closed

    def close(self, key: Key) -> None:
        """Remember a completed pair that its workflow did not keep, so that a late repeat
        of either half is recognised."""
        self._closed.add(key)

    def is_waiting(self, key: Key, end: bool) -> bool:
        """Whether this half already waits for its partner (so this one is a repeat)."""
        return key in (self._ends if end else self._starts)

    def take_start(self, key: Key) -> Half[StartT] | None:
        return self._starts.pop(key, None)

    def take_end(self, key: Key) -> Half[EndT] | None:
        return self._ends.pop(key, None)

    def put_start(self, key: Key, half: Half[StartT]) -> None:
        self._starts[key] = half

    def put_end(self, key: Key, half: Half[EndT]) -> None:
        self._ends[key] = half

    def drain(
        self, deadline: float
    ) -> tuple[list[tuple[Key, Half[StartT]]], list[tuple[Key, Half[EndT]]]]:
        """Remove and return the halves first seen at or before ``deadline``, and the oldest
        ones beyond ``capacity``: their partners are not coming."""
        return _drain(self._starts, deadline, self._capacity), _drain(
            self._ends, deadline, self._capacity
        )

    @property
    def waiting_starts(self) -> int:
        """Starts (requests, for approvals) whose end has not come."""
        return len(self._starts)

    @property
    def open_count(self) -> int:
        return len(self._starts) + len(self._ends)


def _drain(
    halves: OrderedDict[Key, Half], deadline: float, capacity: int
) -> list[tuple[Key, Half]]:
    drained = []
    while halves:
        oldest = next(iter(halves.values()))
        if oldest.first_seen > deadline and len(halves) <= capacity:
            break
        drained.append(halves.popitem(last=False))
    return drained
