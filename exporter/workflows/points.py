"""The original collector's raw metric points, counted as it counted them, for the JSON
API's ``total_metrics`` and ``metrics_collected``.

AutoBot's ``WorkflowMetricsCollector`` appended a point for each workflow start, each
ended step, each approval wait, each numeric top-level field of a resource-usage record,
and two for each workflow end, to a buffer of at most ``max_history`` points. Only the
time of each point is kept here (a float each: 80 KiB at 10,000), so that the count inside
a window can be answered too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import repeat


class MetricPoints:
    """The times of the latest ``capacity`` points, in the order they were recorded."""

    def __init__(self, capacity: int) -> None:
        self._times: deque[float] = deque(maxlen=capacity)

    def add(self, now: float) -> None:
        """One point (the ingest path: a start, a step's end, an approval wait)."""
        self._times.append(now)

    def add_many(self, now: float, count: int) -> None:
        self._times.extend(repeat(now, count))

    def add_resource_fields(self, now: float, keys: Iterable[str]) -> None:
        """A resource-usage record: one point per top-level field. The client flattens
        nested fields as ``outer.inner``, which the original did not count."""
        self.add_many(now, sum(1 for key in keys if "." not in key))

    def since(self, start: float) -> int:
        """Points recorded at or after ``start`` (newest first, so a recent window reads
        few)."""
        count = 0
        for recorded in reversed(self._times):
            if recorded < start:
                break
            count += 1
        return count

    def __len__(self) -> int:
        return len(self._times)
