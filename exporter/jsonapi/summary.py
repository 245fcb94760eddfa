"""The performance summary over finished workflows in a time window (original keys and more)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from exporter.units import percentile, to_ms
from exporter.workflows.records import FinishedWorkflow

NO_DATA_MESSAGE = "No completed workflows in time window"
TOP_ERRORS = 10


def _distribution_ms(seconds: list[float]) -> dict[str, Any]:
    return {
        "count": len(seconds),
        "avg_ms": to_ms(sum(seconds) / len(seconds)),
        "min_ms": to_ms(min(seconds)),
        "p50_ms": to_ms(percentile(seconds, 0.5)),
        "p95_ms": to_ms(percentile(seconds, 0.95)),
        "max_ms": to_ms(max(seconds)),
    }


def _by_complexity(workflows: list[FinishedWorkflow]) -> dict[str, Any]:
    durations: dict[str, list[float]] = defaultdict(list)
    for workflow in workflows:
        if workflow.duration_seconds is not None:
            durations[workflow.complexity].append(workflow.duration_seconds)
    return {complexity: _distribution_ms(values) for complexity, values in durations.items()}


def _agent_performance(workflows: list[FinishedWorkflow]) -> dict[str, Any]:
    durations: dict[str, list[float]] = defaultdict(list)
    steps: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for workflow in workflows:
        for step in workflow.progress.steps:
            steps[step.agent] += 1
            failures[step.agent] += not step.success
            if step.duration_seconds is not None:
                durations[step.agent].append(step.duration_seconds)
    performance = {}
    for agent, count in steps.items():
        timing = _distribution_ms(durations[agent]) if durations[agent] else {}
        performance[agent] = {
            "steps": count,
            "failures": failures[agent],
            "error_ratio": round(failures[agent] / count, 4),
            **timing,
        }
    return performance


def _approval_waits(workflows: list[FinishedWorkflow]) -> dict[str, Any]:
    by_outcome: dict[str, list[float]] = defaultdict(list)
    for workflow in workflows:
        for approval in workflow.progress.approvals:
            by_outcome[approval.outcome].append(approval.wait_seconds)
    waits = [wait for values in by_outcome.values() for wait in values]
    if not waits:
        return {"count": 0}
    return {
        **_distribution_ms(waits),
        "by_outcome": {outcome: _distribution_ms(v) for outcome, v in by_outcome.items()},
    }


def performance_summary(
    history: Iterable[FinishedWorkflow],
    active_workflows: int,
    window_hours: int,
    now: float,
    metrics_collected: int = 0,
) -> dict[str, Any]:
    """Summary of workflows that finished within ``window_hours`` before ``now``;
    ``metrics_collected``: the original's raw metric points in that window."""
    history = list(history)
    since = now - window_hours * 3600
    workflows = [w for w in history if w.end_ts >= since]
    base = {
        "time_window_hours": window_hours,
        "total_workflows": len(workflows),
        "metrics_collected": metrics_collected,
        "active_workflows": active_workflows,
    }
    if not workflows:
        return {"message": NO_DATA_MESSAGE, **base}
    durations = [w.duration_seconds for w in workflows if w.duration_seconds is not None]
    agents = _agent_performance(workflows)
    timed_agents = [agent for agent, perf in agents.items() if "avg_ms" in perf]
    errors = Counter(
        step.error_type or "unknown"
        for w in workflows
        for step in w.progress.steps
        if not step.success
    )
    return {
        **base,
        "avg_duration_ms": to_ms(sum(durations) / len(durations)) if durations else None,
        "min_duration_ms": to_ms(min(durations)) if durations else None,
        "max_duration_ms": to_ms(max(durations)) if durations else None,
        "p95_duration_ms": to_ms(percentile(durations, 0.95)) if durations else None,
        "avg_success_rate": round(
            100.0 * sum(w.progress.success_ratio for w in workflows) / len(workflows), 2
        ),
        "complexity_distribution": dict(Counter(w.complexity for w in workflows)),
        "status_distribution": dict(Counter(w.status for w in workflows)),
        "duration_by_complexity": _by_complexity(workflows),
        "agent_performance": agents,
        "fastest_agent": min(timed_agents, key=lambda a: agents[a]["avg_ms"], default=None),
        "slowest_agent": max(timed_agents, key=lambda a: agents[a]["avg_ms"], default=None),
        "common_errors": [
            {"error_type": error_type, "count": count}
            for error_type, count in errors.most_common(TOP_ERRORS)
        ],
        "approval_wait": _approval_waits(workflows),
    }
