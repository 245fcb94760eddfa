"""The ``data`` of the two export routes, in the original's shapes (every original key with
its type), richer content under new keys; and the original's metric-point count.

The original counted raw metric points: a workflow's start, each step end, each approval
wait, each resource value, its end and its success rate are one point each.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web

from exporter.jsonapi.workflow_json import finished_view, running_view
from exporter.units import iso_time, to_ms
from exporter.workflows.records import ActiveWorkflow, FinishedWorkflow, WorkflowProgress

TRENDS_KEPT = 100
"""The original's performance_trends: the latest 100 finished workflows."""


def metric_points(progress: WorkflowProgress, finished: bool) -> int:
    ran = progress.completed_steps + progress.failed_steps
    points = 1 + ran + len(progress.approvals) + len(progress.usage)
    return points + (2 if finished else 0)


def export_format_of(request: web.Request) -> tuple[str, bool]:
    """The format asked for, as given, and whether it is JSON (case-insensitive, as the
    original's ``format.lower() == "json"``)."""
    requested = request.query.get("format", "json")
    return requested, requested.lower() == "json"


def _aggregated(history: list[FinishedWorkflow]) -> dict[str, Any]:
    durations = [w.duration_seconds for w in history if w.duration_seconds is not None]
    steps = [step for w in history for step in w.progress.steps]
    return {
        "total_workflows": len(history),
        "successful_workflows": sum(1 for w in history if w.status == "completed"),
        "failed_workflows": sum(1 for w in history if w.status != "completed"),
        "avg_duration_ms": to_ms(sum(durations) / len(durations)) if durations else 0.0,
        "complexity_distribution": dict(Counter(w.complexity for w in history)),
        "agent_usage_count": dict(Counter(step.agent for step in steps)),
        "error_types": dict(
            Counter(step.error_type or "unknown" for step in steps if not step.success)
        ),
        "performance_trends": [
            {
                "timestamp": iso_time(w.end_ts),
                "duration_ms": to_ms(w.duration_seconds),
                "success_rate": round(100.0 * w.progress.success_ratio, 2),
                "complexity": w.complexity,
            }
            for w in history[-TRENDS_KEPT:]
        ],
    }


def workflow_export(
    now: float, active: list[ActiveWorkflow], history: list[FinishedWorkflow]
) -> dict[str, Any]:
    """The original's export (``failed_workflows``: every status but ``completed``), and
    every workflow held under ``workflows``."""
    running = [record for record in active if record.started]
    return {
        "aggregated_stats": _aggregated(history),
        "active_workflows": len(running),
        "total_metrics": sum(metric_points(w.progress, finished=True) for w in history)
        + sum(metric_points(r.progress, finished=False) for r in running),
        "export_timestamp": iso_time(now),
        "workflows": {
            "active": {record.workflow_id: running_view(record, now) for record in running},
            "history": [finished_view(w) for w in history],
        },
    }
