"""What the status page shows, as one JSON-ready dict: health against the configured
levels, resource trends over the ring buffer, workflows, agents, approvals and the
exporter itself. Built from plain lists taken on the event loop, in a worker thread,
at most once per sampler pass (``collection_interval``, at least a second) however many
pages poll (``StatusCache``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from exporter.config import Config
from exporter.jsonapi.summary import performance_summary
from exporter.system.health import evaluate, readings
from exporter.system.snapshot import Snapshot
from exporter.units import iso_time, to_ms, to_percent
from exporter.workflows.records import ActiveWorkflow, FinishedWorkflow

TREND_POINTS = 180
"""Points per trend line: the ring buffer (720 passes by default) thinned to this."""
THROUGHPUT_MINUTES = 60
LISTED_WORKFLOWS = 10
WINDOW_HOURS = 1
MB = 1024 * 1024


@dataclass(frozen=True)
class StatusInputs:
    """Everything the status is made of, taken on the event loop in one go."""

    config: Config
    now: float
    monitoring_active: bool
    snapshots: list[Snapshot]
    active: list[ActiveWorkflow]
    history: Iterable[FinishedWorkflow]
    """Decoded as iterated (``HistorySnapshot``): once, by ``build_status``."""
    approvals_pending: int
    events_accepted: dict[str, float]
    events_rejected: dict[str, float]


def _health(inputs: StatusInputs, snapshot: Snapshot | None) -> dict[str, Any]:
    if snapshot is None:
        return {"status": "unknown", "critical_alerts": [], "warnings": [], "resources": []}
    thresholds = inputs.config.thresholds
    report = evaluate(snapshot, thresholds)
    return {
        "status": report.status,
        "critical_alerts": report.critical_alerts,
        "warnings": report.warnings,
        "resources": [
            {
                "name": reading.name,
                "percent": to_percent(reading.ratio),
                "warning_percent": to_percent(reading.threshold.warning),
                "critical_percent": to_percent(reading.threshold.critical),
            }
            for reading in readings(snapshot, thresholds)
        ],
    }


def _trends(inputs: StatusInputs) -> dict[str, Any]:
    snapshots = inputs.snapshots[-TREND_POINTS * 4 :]
    step = max(1, len(snapshots) // TREND_POINTS)
    thinned = snapshots[::step][-TREND_POINTS:]
    thresholds = inputs.config.thresholds
    mounts = sorted({disk.mountpoint for s in thinned for disk in s.disks})
    groups = sorted({name for s in thinned for name in s.groups})
    return {
        "times": [s.timestamp for s in thinned],
        "cpu_percent": [
            to_percent(s.cpu.ratio) if s.cpu and s.cpu.ratio is not None else None for s in thinned
        ],
        "memory_percent": [to_percent(s.memory.ratio) if s.memory else None for s in thinned],
        "disk_percent": {
            mount: [to_percent(d.ratio) if (d := s.disk_for(mount)) else None for s in thinned]
            for mount in mounts
        },
        "groups_cpu_percent": {
            name: [
                to_percent(g.cpu_ratio)
                if (g := s.groups.get(name)) and g.cpu_ratio is not None
                else None
                for s in thinned
            ]
            for name in groups
        },
        "groups_memory_mb": {
            name: [
                round(g.resident_bytes / MB, 1) if (g := s.groups.get(name)) else None
                for s in thinned
            ]
            for name in groups
        },
        "levels": {
            resource: {
                "warning_percent": to_percent(getattr(thresholds, resource).warning),
                "critical_percent": to_percent(getattr(thresholds, resource).critical),
            }
            for resource in ("cpu", "memory", "disk")
        },
    }


def _throughput(history: list[FinishedWorkflow], now: float) -> dict[str, Any]:
    """Workflows finished per minute over the last hour, and the completed share."""
    first_minute = int(now // 60) - THROUGHPUT_MINUTES + 1
    finished = [0] * THROUGHPUT_MINUTES
    completed = [0] * THROUGHPUT_MINUTES
    for workflow in history:
        minute = int(workflow.end_ts // 60) - first_minute
        if 0 <= minute < THROUGHPUT_MINUTES:
            finished[minute] += 1
            completed[minute] += workflow.status == "completed"
    return {
        "minutes": [(first_minute + n) * 60 for n in range(THROUGHPUT_MINUTES)],
        "finished": finished,
        "success_percent": [
            round(100.0 * done / total, 1) if total else None
            for done, total in zip(completed, finished, strict=True)
        ],
    }


def _running(record: ActiveWorkflow, now: float) -> dict[str, Any]:
    started = record.start_ts if record.start_ts is not None else record.first_seen
    progress = record.progress
    total = record.total_steps
    return {
        "workflow_id": record.workflow_id,
        "complexity": record.complexity,
        "status": "running",
        "duration_ms": to_ms(max(0.0, now - started)),
        "progress_percent": round(min(100.0, 100.0 * progress.completed_steps / total), 1)
        if total
        else None,
    }


def _finished(workflow: FinishedWorkflow) -> dict[str, Any]:
    return {
        "workflow_id": workflow.workflow_id,
        "complexity": workflow.complexity,
        "status": workflow.status,
        "duration_ms": to_ms(workflow.duration_seconds),
        "finished": iso_time(workflow.end_ts),
    }


def _workflows(
    inputs: StatusInputs, history: list[FinishedWorkflow], summary: dict[str, Any]
) -> dict[str, Any]:
    running = [record for record in inputs.active if record.started]
    return {
        "active_by_complexity": dict(Counter(record.complexity for record in running)),
        "active_total": len(running),
        "throughput": _throughput(history, inputs.now),
        "duration_by_complexity": summary.get("duration_by_complexity", {}),
        "latest_finished": [_finished(w) for w in reversed(history[-LISTED_WORKFLOWS:])],
        "running": [_running(r, inputs.now) for r in running[-LISTED_WORKFLOWS:]][::-1],
    }


def _agents(summary: dict[str, Any]) -> list[dict[str, Any]]:
    agents = [
        {
            "agent": agent,
            "steps": perf["steps"],
            "error_percent": round(100.0 * perf["error_ratio"], 1),
            "p50_ms": perf.get("p50_ms"),
            "p95_ms": perf.get("p95_ms"),
        }
        for agent, perf in summary.get("agent_performance", {}).items()
    ]
    return sorted(agents, key=lambda a: a["p95_ms"] or 0.0, reverse=True)


def _exporter(inputs: StatusInputs, snapshot: Snapshot | None) -> dict[str, Any]:
    return {
        "monitoring_active": inputs.monitoring_active,
        "events_accepted": round(sum(inputs.events_accepted.values())),
        "events_rejected": {k: round(v) for k, v in inputs.events_rejected.items() if v},
        "collectors": {
            name: result.success
            for name, result in (snapshot.collectors if snapshot else {}).items()
        },
        "last_sample_age_seconds": round(inputs.now - snapshot.timestamp, 1) if snapshot else None,
    }


def build_status(inputs: StatusInputs) -> dict[str, Any]:
    snapshot = inputs.snapshots[-1] if inputs.snapshots else None
    history = list(inputs.history)
    summary = performance_summary(history, 0, WINDOW_HOURS, inputs.now)
    return {
        "generated": iso_time(inputs.now),
        "collection_interval": inputs.config.collection_interval,
        "health": _health(inputs, snapshot),
        "trends": _trends(inputs),
        "workflows": _workflows(inputs, history, summary),
        "agents": _agents(summary),
        "approvals": {
            "pending": inputs.approvals_pending,
            "wait": summary.get("approval_wait", {"count": 0}),
        },
        "exporter": _exporter(inputs, snapshot),
    }


class StatusCache:
    """The status, computed at most once per ``interval`` seconds; concurrent askers in
    the meantime share one computation."""

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._lock = asyncio.Lock()
        self._computed_at = -float("inf")
        self._status: dict[str, Any] = {}
        self.computations = 0

    async def get(self, take_inputs: Callable[[], StatusInputs]) -> dict[str, Any]:
        async with self._lock:
            if self._clock() - self._computed_at >= self._interval:
                self._status = await asyncio.to_thread(build_status, take_inputs())
                self._computed_at = self._clock()
                self.computations += 1
            return self._status
