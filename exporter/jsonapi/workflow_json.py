"""JSON shapes of one workflow, as the original AutoBot metrics router returned them.

The original speaks milliseconds and percent (0-100); these views convert from the
seconds and ratios the exporter keeps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from exporter.units import iso_time, to_ms
from exporter.workflows.records import ActiveWorkflow, FinishedWorkflow, StepRecord


def _step_timings(steps: Iterable[StepRecord]) -> dict[str, float | None]:
    return {step.step_id: to_ms(step.duration_seconds) for step in steps}


def _step_details(steps: Iterable[StepRecord]) -> list[dict[str, Any]]:
    return [
        {
            "step_id": step.step_id,
            "agent": step.agent,
            "duration_ms": to_ms(step.duration_seconds),
            "success": step.success,
            "error_type": step.error_type,
        }
        for step in steps
    ]


def running_view(record: ActiveWorkflow, now: float) -> dict[str, Any]:
    """A workflow still running: the original keys plus what the record knows so far."""
    started_at = record.start_ts if record.start_ts is not None else record.first_seen
    progress = record.progress
    percent = 100.0 * progress.completed_steps / record.total_steps if record.total_steps else 0.0
    return {
        "workflow_id": record.workflow_id,
        "status": "running",
        "current_duration_ms": to_ms(max(0.0, now - started_at)),
        "completed_steps": progress.completed_steps,
        "failed_steps": progress.failed_steps,
        "total_steps": record.total_steps,
        "progress_percent": round(min(percent, 100.0), 2),
        "current_step_timings": _step_timings(progress.steps),
        "complexity": record.complexity,
        "user_message": record.user_message,
        "agents_involved": list(record.agents_involved),
        "start_time": iso_time(record.start_ts),
        "approval_wait_time_ms": to_ms(progress.approval_wait_seconds),
        "resource_usage": progress.usage,
    }


def finished_view(finished: FinishedWorkflow) -> dict[str, Any]:
    """The original WorkflowExecutionStats fields and ``labels``, plus per-step and
    per-approval details. ``status`` is the workflow's real final status, where the
    original answered "completed" for every finished workflow (its failure showed only in
    ``labels.status``): a frontend reading ``status`` then sees a failure as one."""
    progress = finished.progress
    steps = progress.steps  # records made from the kept tuples: once per view
    durations = [s.duration_seconds for s in steps if s.duration_seconds is not None]
    return {
        "workflow_id": finished.workflow_id,
        "user_message": finished.user_message,
        "complexity": finished.complexity,
        "total_steps": finished.total_steps,
        "completed_steps": progress.completed_steps,
        "failed_steps": progress.failed_steps,
        "agents_involved": list(finished.agents_involved),
        "start_time": iso_time(finished.start_ts),
        "end_time": iso_time(finished.end_ts),
        "total_duration_ms": to_ms(finished.duration_seconds),
        "avg_step_duration_ms": to_ms(sum(durations) / len(durations)) if durations else 0.0,
        "step_timings": _step_timings(steps),
        "approval_wait_time_ms": to_ms(progress.approval_wait_seconds),
        "error_count": progress.failed_steps,
        "success_rate": round(100.0 * progress.success_ratio, 2),
        "resource_usage": progress.usage,
        "status": finished.status,
        "labels": {
            "complexity": finished.complexity,
            "status": finished.status,
            "step_count": str(progress.completed_steps + progress.failed_steps),
        },
        "steps": _step_details(steps),
        "approvals": [
            {"outcome": a.outcome, "wait_ms": to_ms(a.wait_seconds)} for a in progress.approvals
        ],
    }
