"""Compare what a workload must produce with the samples an exporter exposes."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.workload import Expected

SampleGetter = Callable[..., float | None]
"""get(name, **labels) -> value or None, like CollectorRegistry.get_sample_value."""


def expected_samples(expected: Expected) -> list[tuple[str, dict[str, str], float]]:
    """Every counter and histogram _count (and the gauges) the workload determines exactly."""
    samples: list[tuple[str, dict[str, str], float]] = []
    for complexity, count in expected.started.items():
        samples.append(("autobot_workflows_started_total", {"complexity": complexity}, count))
    for (complexity, status), count in expected.finished.items():
        labels = {"complexity": complexity, "status": status}
        samples.append(("autobot_workflows_finished_total", labels, count))
        samples.append(("autobot_workflow_duration_seconds_count", labels, count))
    for complexity in expected.started:
        samples.append(
            ("autobot_workflows_active", {"complexity": complexity}, expected.active[complexity])
        )
    for (agent, status), count in expected.step_durations.items():
        samples.append(
            ("autobot_step_duration_seconds_count", {"agent": agent, "status": status}, count)
        )
    for (agent, error_type), count in expected.step_errors.items():
        samples.append(
            ("autobot_step_errors_total", {"agent": agent, "error_type": error_type}, count)
        )
    for outcome, count in expected.approvals.items():
        samples.append(("autobot_approval_wait_seconds_count", {"outcome": outcome}, count))
    samples.append(("autobot_approvals_pending", {}, expected.approvals_pending))
    for event_type, count in expected.events.items():
        samples.append(("autobot_exporter_events_total", {"type": event_type}, count))
    samples.append(("autobot_exporter_events_duplicate_total", {}, expected.duplicates))
    return samples


def mismatches(expected: Expected, get: SampleGetter) -> list[str]:
    """Human-readable differences; empty when every sample is exact."""
    return [
        f"{name}{labels}: expected {value}, got {got}"
        for name, labels, value in expected_samples(expected)
        if (got := get(name, **labels)) != value
    ]


ORIGINAL_SUMMARY_KEYS = frozenset(
    {
        "time_window_hours",
        "total_workflows",
        "avg_duration_ms",
        "min_duration_ms",
        "max_duration_ms",
        "avg_success_rate",
        "complexity_distribution",
        "metrics_collected",
        "active_workflows",
    }
)
"""The keys of the original's performance summary."""
