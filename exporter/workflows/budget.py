"""One memory budget for the workflow details the JSON API keeps.

The per-workflow limits (``max_steps_per_workflow``, and the schema's 1,000 agent names)
multiply with ``max_active_workflows`` and ``max_history`` into tens of gigabytes in the
worst case. ``max_kept_details`` bounds the sum instead: every step, approval, resource
key and agent name kept anywhere takes one unit (about half a kilobyte), returned when its
workflow leaves memory. What does not fit still counts in the metrics; only its JSON detail
is dropped, counted by kind and logged once.
"""

from __future__ import annotations

import logging

from exporter.log_once import LogOnce
from exporter.workflows.metrics import DetailKind, SelfMetrics

log = logging.getLogger(__name__)


class DetailBudget:
    def __init__(self, limit: int, self_metrics: SelfMetrics) -> None:
        self._limit = limit
        self._used = 0
        self_metrics.details_kept.set_function(lambda: self._used)
        self._dropped = self_metrics.details_dropped
        self._log_once = LogOnce(log)

    def take(self, kind: DetailKind, count: int = 1) -> int:
        """Reserve up to ``count`` units; returns how many were granted."""
        if self._used + count <= self._limit:
            self._used += count
            return count
        granted = max(0, min(count, self._limit - self._used))
        self._used += granted
        if granted < count:
            self.drop(kind, count - granted)
            self._log_once.first(
                "max_kept_details",
                "max_kept_details=%d reached: further %s details are dropped from the JSON "
                "API until workflows leave the history (they still count in the metrics; "
                "autobot_exporter_details_dropped_total)",
                self._limit,
                kind,
            )
        return granted

    def drop(self, kind: DetailKind, count: int = 1) -> None:
        """Count details not kept, for this budget or a per-workflow limit."""
        self._dropped(kind).inc(count)

    def release(self, count: int) -> None:
        self._used -= count
