"""The statistics ``end_workflow_tracking`` returns, as AutoBot's original collector did,
computed from the calls this client saw: no round trip, nothing waits on the exporter.

Bounded: at most ``max_tracked_workflows`` running workflows are followed (past it the
oldest is forgotten and its end returns None, as for a workflow never started), and at
most ``MAX_STEPS`` step timings each.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_STEPS = 1000


@dataclass
class WorkflowExecutionStats:
    """The original's fields, in its units (milliseconds, percent 0-100)."""

    workflow_id: str
    user_message: str
    complexity: str
    total_steps: int
    completed_steps: int
    failed_steps: int
    agents_involved: list[str]
    start_time: datetime
    end_time: datetime | None
    total_duration_ms: float
    avg_step_duration_ms: float
    step_timings: dict[str, float]
    approval_wait_time_ms: float
    error_count: int
    success_rate: float
    """Completed steps over completed and failed ones, in percent; 0 when no step ran."""
    resource_usage: dict[str, Any]
    status: str


@dataclass
class _Running:
    workflow_id: str
    started: float
    user_message: str
    complexity: str
    total_steps: int
    agents_involved: list[str]
    step_starts: dict[str, float] = field(default_factory=dict)
    step_timings: dict[str, float] = field(default_factory=dict)
    completed_steps: int = 0
    failed_steps: int = 0
    approval_wait_ms: float = 0.0
    resource_usage: dict[str, Any] = field(default_factory=dict)

    def stats(self, status: str, ended: float) -> WorkflowExecutionStats:
        ran = self.completed_steps + self.failed_steps
        timings = list(self.step_timings.values())
        return WorkflowExecutionStats(
            workflow_id=self.workflow_id,
            user_message=self.user_message,
            complexity=self.complexity,
            total_steps=self.total_steps,
            completed_steps=self.completed_steps,
            failed_steps=self.failed_steps,
            agents_involved=self.agents_involved,
            start_time=datetime.fromtimestamp(self.started, tz=UTC),
            end_time=datetime.fromtimestamp(ended, tz=UTC),
            total_duration_ms=round((ended - self.started) * 1000.0, 3),
            avg_step_duration_ms=round(sum(timings) / len(timings), 3) if timings else 0.0,
            step_timings=dict(self.step_timings),
            approval_wait_time_ms=self.approval_wait_ms,
            error_count=self.failed_steps,
            success_rate=round(100.0 * self.completed_steps / ran, 2) if ran else 0.0,
            resource_usage=dict(self.resource_usage),
            status=status,
        )


class WorkflowStatsBook:
    """Running workflows as the calls describe them; thread-safe (calls come from any
    thread of the application)."""

    def __init__(self, max_tracked_workflows: int) -> None:
        self._capacity = max_tracked_workflows
        self._running: OrderedDict[str, _Running] = OrderedDict()
        self._lock = threading.Lock()
        self.forgotten = 0
        """Running workflows dropped past max_tracked_workflows."""

    def started(self, workflow_id: str, data: dict[str, Any], now: float) -> None:
        agents = data.get("agents_involved") or []
        running = _Running(
            workflow_id=workflow_id,
            started=now,
            user_message=str(data.get("user_message") or ""),
            complexity=str(data.get("complexity") or "unknown"),
            total_steps=int(data.get("total_steps") or 0),
            agents_involved=[str(agent) for agent in agents],
        )
        with self._lock:
            self._running[workflow_id] = running
            if len(self._running) > self._capacity:
                self._running.popitem(last=False)
                self.forgotten += 1

    def step_started(self, workflow_id: str, step_id: str, now: float) -> None:
        with self._lock:
            running = self._running.get(workflow_id)
            if running is not None and len(running.step_starts) < MAX_STEPS:
                running.step_starts[step_id] = now

    def step_ended(self, workflow_id: str, step_id: str, success: bool, now: float) -> None:
        with self._lock:
            running = self._running.get(workflow_id)
            if running is None:
                return
            if success:
                running.completed_steps += 1
            else:
                running.failed_steps += 1
            began = running.step_starts.pop(step_id, None)
            if began is not None and len(running.step_timings) < MAX_STEPS:
                running.step_timings[step_id] = round((now - began) * 1000.0, 3)

    def approval_waited(self, workflow_id: str, wait_ms: float) -> None:
        with self._lock:
            running = self._running.get(workflow_id)
            if running is not None:
                running.approval_wait_ms += wait_ms

    def resource_usage(self, workflow_id: str, numbers: dict[str, float]) -> None:
        with self._lock:
            running = self._running.get(workflow_id)
            if running is not None:
                running.resource_usage.update(numbers)

    def finished(self, workflow_id: str, status: str, now: float) -> WorkflowExecutionStats | None:
        with self._lock:
            running = self._running.pop(workflow_id, None)
        return None if running is None else running.stats(status, now)
