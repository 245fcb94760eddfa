"""``autobot-exporter demo`` moves every family a dashboard shows."""

from __future__ import annotations

from tests.support.processes import run_demo, run_exporter


def test_demo_workload_feeds_every_workflow_family(start_exporter):
    exporter = start_exporter()
    result = run_demo(exporter.url, duration=3, rate=30, speed=25, seed=7)
    assert result.returncode == 0, result.stderr
    assert "workflows started" in result.stderr and "dropped 0" in result.stderr
    text = exporter.metrics_text()
    get = exporter.sample_getter()
    complexities = {"simple", "research", "install", "complex"}
    assert all(get("autobot_workflows_started_total", complexity=c) for c in complexities)
    agents = ("classifier", "research", "librarian", "system_commands", "orchestrator")
    assert all(
        get("autobot_step_duration_seconds_count", agent=a, status="success") for a in agents
    )
    assert 'autobot_step_errors_total{agent="' in text
    assert get("autobot_approval_wait_seconds_count", outcome="approved") > 0
    assert 'status="completed"' in text
    summary = exporter.get("/api/metrics/performance/summary").json()["performance_summary"]
    assert summary["total_workflows"] > 30
    assert summary["agent_performance"]


def test_demo_refuses_nonsense_rates():
    result = run_exporter("demo", "--rate", "0")
    assert result.returncode == 2
    assert "--rate" in result.stderr
