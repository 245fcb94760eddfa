"""The summary's arithmetic: percentiles, windows, success rate percent."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from exporter.jsonapi.summary import NO_DATA_MESSAGE, percentile, performance_summary
from exporter.workflows.budget import DetailBudget
from exporter.workflows.metrics import SelfMetrics
from exporter.workflows.records import FinishedWorkflow, WorkflowProgress


def finished(workflow_id: str, end_ts: float, duration: float, steps=()) -> FinishedWorkflow:
    progress = WorkflowProgress(
        max_steps=100, budget=DetailBudget(1000, SelfMetrics(CollectorRegistry()))
    )
    for step in steps:
        progress.add_step(*step)
    return FinishedWorkflow(
        workflow_id=workflow_id,
        user_message="",
        complexity="simple",
        total_steps=len(steps),
        agents_involved=(),
        start_ts=end_ts - duration,
        end_ts=end_ts,
        duration_seconds=duration,
        status="completed",
        progress=progress,
    )


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([1.0], 0.95, 1.0), ([1.0, 2.0], 0.5, 1.5), (list(map(float, range(1, 101))), 0.95, 95.05)],
)
def test_percentile_interpolates_like_numpy(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_window_keeps_only_recent_finishes():
    now = 100_000.0
    history = [finished("old", now - 2 * 3600, 10), finished("new", now - 60, 4)]
    summary = performance_summary(history, active_workflows=3, window_hours=1, now=now)
    assert summary["total_workflows"] == 1
    assert summary["active_workflows"] == 3
    assert (summary["min_duration_ms"], summary["max_duration_ms"]) == (4000.0, 4000.0)


def test_success_rate_is_percent_of_steps_that_ran():
    steps = [("a", "x", 1.0, True, None), ("b", "y", 3.0, False, "E")]
    summary = performance_summary([finished("w", 50, 5, steps)], 0, 24, 100)
    assert summary["avg_success_rate"] == 50.0
    assert summary["fastest_agent"] == "x"
    assert summary["slowest_agent"] == "y"
    assert summary["agent_performance"]["y"]["error_ratio"] == 1.0


def test_empty_window_message():
    summary = performance_summary([], 0, 24, 100)
    assert summary["message"] == NO_DATA_MESSAGE
