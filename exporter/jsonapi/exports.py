"""The ``data`` of the two export routes, in the original's shapes (every original key with
its type), richer content under new keys. The original's metric-point count is the
tracker's (``workflows/points.py``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web

from exporter.jsonapi.workflow_json import finished_view, running_view
from exporter.units import iso_time, to_ms
from exporter.workflows.records import ActiveWorkflow, FinishedWorkflow

TRENDS_KEPT = 100
"""The original's performance_trends: the latest 100 finished workflows."""


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
        # as the original: one per finished workflow for each agent named at its start
        "agent_usage_count": dict(Counter(a for w in history for a in w.agents_involved)),
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
    now: float, active: list[ActiveWorkflow], history: list[FinishedWorkflow], total_metrics: int
) -> dict[str, Any]:
    """The original's export (``failed_workflows``: every status but ``completed``;
    ``total_metrics``: its raw metric points), and every workflow held under ``workflows``."""
    running = [record for record in active if record.started]
    return {
        "aggregated_stats": _aggregated(history),
        "active_workflows": len(running),
        "total_metrics": total_metrics,
        "export_timestamp": iso_time(now),
        "workflows": {
            "active": {record.workflow_id: running_view(record, now) for record in running},
            "history": [finished_view(w) for w in history],
        },
    }
