"""Count, sum and maximum of a series over any range of its latest values, each in O(1)."""

from __future__ import annotations

import math


class WindowStats:
    """The latest ``capacity`` values of a series, numbered on from ``first``; ``None`` is a
    missing value.

    Prefix sums give a range's count and sum from two entries each. A sparse table gives its
    maximum from two entries: level ``j`` holds the maximum of the ``2**j`` values from each
    position, and an append adds one entry to each level. Every ``capacity`` appends the
    oldest values are cut off and the prefix sums rebased, so neither the memory nor the
    rounding error of the sums grows with time.
    """

    def __init__(self, capacity: int, first: int = 0) -> None:
        self._capacity = capacity
        self._base = first
        """Number of the value at position 0."""
        self._counts = [0]
        """``_counts[p]``: values present among positions ``[0, p)``."""
        self._sums = [0.0]
        self._maxima: list[list[float]] = [[] for _ in range(capacity.bit_length())]

    @property
    def next_number(self) -> int:
        """The number the next appended value gets."""
        return self._base + len(self._counts) - 1

    def append(self, value: float | None) -> None:
        present = value is not None
        self._counts.append(self._counts[-1] + present)
        self._sums.append(self._sums[-1] + (value if value is not None else 0.0))
        levels = self._maxima
        levels[0].append(value if value is not None else -math.inf)
        position = len(levels[0]) - 1
        for level in range(1, len(levels)):
            start = position - (1 << level) + 1
            if start < 0:
                break
            below = levels[level - 1]
            levels[level].append(max(below[start], below[start + (1 << (level - 1))]))
        if len(levels[0]) >= 2 * self._capacity:
            self._cut(len(levels[0]) - self._capacity)

    def _cut(self, count: int) -> None:
        """Forget the ``count`` oldest values."""
        counts, sums = self._counts[count:], self._sums[count:]
        self._counts = [held - counts[0] for held in counts]
        self._sums = [total - sums[0] for total in sums]
        for level in self._maxima:
            del level[:count]
        self._base += count

    def stats(self, numbers: range) -> tuple[int, float, float] | None:
        """(count, sum, maximum) of the values present among ``numbers`` (a range of the
        latest ``capacity``, not empty); None when none of them is present."""
        start, stop = numbers.start - self._base, numbers.stop - self._base
        if not 0 <= start < stop < len(self._counts) or stop - start > self._capacity:
            raise IndexError(f"{numbers} is not within {self._base}..{self.next_number - 1}")
        count = self._counts[stop] - self._counts[start]
        if not count:
            return None
        level = (stop - start).bit_length() - 1
        maxima = self._maxima[level]
        maximum = max(maxima[start], maxima[stop - (1 << level)])
        return count, self._sums[stop] - self._sums[start], maximum
