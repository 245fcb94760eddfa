"""AutoBot's own dashboards and alerts on the sidecar's data: their queries, by AutoBot's
names and labels (written here from the metric table of the compatibility issue, not
copied from AutoBot's files), each find series on a real Prometheus that scrapes the
exporter after a demo workload, with the rules rendered from the exporter's config (the
compatibility group included, as by default)."""

from __future__ import annotations

import pytest

from tests.support.processes import free_port, wait_until

PANEL_QUERIES = {
    # workflow dashboard
    "total workflows": "sum(autobot_workflow_executions_total)",
    "completed workflows": 'sum(autobot_workflow_executions_total{status="completed"})',
    "failed workflows": 'sum(autobot_workflow_executions_total{status="failed"})',
    "execution rate by type": (
        "sum by (workflow_type) (rate(autobot_workflow_executions_total[5m]))"
    ),
    "duration p50": (
        "histogram_quantile(0.50, sum by (le) (rate(autobot_workflow_duration_seconds_bucket[5m])))"
    ),
    "duration p95": (
        "histogram_quantile(0.95, sum by (le) (rate(autobot_workflow_duration_seconds_bucket[5m])))"
    ),
    "duration p99": (
        "histogram_quantile(0.99, sum by (le) (rate(autobot_workflow_duration_seconds_bucket[5m])))"
    ),
    "active workflows": "sum by (workflow_type) (autobot_active_workflows)",
    "steps completed": "sum by (step_type) (rate(autobot_workflow_steps_completed_total[5m]))",
    "steps failed": "sum by (step_type) (rate(autobot_workflow_steps_failed_total[5m]))",
    "steps executed": "sum by (step_type, status) (autobot_workflow_steps_executed_total)",
    "agent usage": "topk(10, sum by (agent_type) (autobot_agent_usage_total))",
    "approvals by decision": "sum by (decision) (autobot_workflow_approvals_total)",
    "approval wait p95": (
        "histogram_quantile(0.95, sum by (le) (rate(autobot_approval_wait_seconds_bucket[5m])))"
    ),
    # system dashboard
    "CPU usage": "autobot_cpu_usage_percent",
    "memory usage": "autobot_memory_usage_percent",
    "memory used (GiB)": "autobot_memory_used_bytes / 1024 / 1024 / 1024",
    "disk usage by mount point": "autobot_disk_usage_percent",
    "network in": 'rate(autobot_network_bytes_total{direction="in"}[1m])',
    "network out": 'rate(autobot_network_bytes_total{direction="out"}[1m])',
    "processes": "autobot_process_count",
    "load 1m": "autobot_load_average_1m",
    "load 5m": "autobot_load_average_5m",
    "load 15m": "autobot_load_average_15m",
    # overview dashboard
    "overview root disk": 'autobot_disk_usage_percent{mount_point="/"}',
    "overview CPU": "avg(autobot_cpu_usage_percent)",
    "overview memory": "avg(autobot_memory_usage_percent)",
    "overview active workflows": "sum(autobot_active_workflows)",
    # GPU/NPU dashboard: the four series AutoBot's own code never sets
    "performance score": "autobot_performance_score",
    "health score": "autobot_health_score",
    "bottlenecks by category": "max by (category) (autobot_bottleneck_detected)",
    "active alerts by severity": "sum by (severity) (autobot_active_alerts_count)",
}

# AutoBot's alert expressions, their comparison left out: what must find series is the
# value the threshold is compared with (the comparison holds only under load).
ALERT_EXPRESSIONS = {
    "workflow failure ratio": (
        'rate(autobot_workflow_executions_total{status="failed"}[10m]) '
        "/ rate(autobot_workflow_executions_total[10m])"
    ),
    "workflow duration p95": (
        "histogram_quantile(0.95, rate(autobot_workflow_duration_seconds_bucket[10m]))"
    ),
    "CPU high (> 80 for 5m)": "autobot_cpu_usage_percent",
    "CPU critical (> 95 for 2m)": "autobot_cpu_usage_percent",
    "memory high (> 85 for 10m)": "autobot_memory_usage_percent",
    "memory critical (> 95 for 3m)": "autobot_memory_usage_percent",
    "disk high (> 85 for 1h)": "autobot_disk_usage_percent",
    "disk critical (> 95 for 15m)": "autobot_disk_usage_percent",
    "network high (> 1e8 for 5m)": "rate(autobot_network_bytes_total[5m])",
}


@pytest.mark.parametrize(
    ("name", "query"),
    [*PANEL_QUERIES.items(), *(("alert: " + k, v) for k, v in ALERT_EXPRESSIONS.items())],
    ids=[*PANEL_QUERIES, *(f"alert: {k}" for k in ALERT_EXPRESSIONS)],
)
def test_autobots_query_finds_series(demo_stack, name, query):
    _, prometheus = demo_stack
    wait_until(lambda: prometheus.query(query), 30, f"AutoBot's {name!r} query ({query})")


def test_recorded_series_keep_the_sidecars_job_and_autobots_labels(demo_stack):
    _, prometheus = demo_stack
    executions = prometheus.query("autobot_workflow_executions_total")
    assert {series["metric"]["job"] for series in executions} == {"autobot-exporter"}
    assert {"simple", "research"} <= {s["metric"]["workflow_type"] for s in executions}
    assert all("complexity" not in series["metric"] for series in executions)
    directions = {s["metric"]["direction"] for s in prometheus.query("autobot_network_bytes_total")}
    assert directions == {"in", "out"}
    percent = prometheus.query("autobot_memory_usage_percent")[0]["value"][1]
    ratio = prometheus.query("autobot_system_memory_usage_ratio")[0]["value"][1]
    assert float(percent) == pytest.approx(float(ratio) * 100, abs=2)  # an evaluation apart


def test_history_longer_than_the_ring_buffer_comes_from_prometheus(
    start_prometheus, start_exporter
):
    port = free_port()
    prometheus = start_prometheus([f"127.0.0.1:{port}"])
    exporter = start_exporter(
        "collection_interval: 200ms\nresource_history: 1m\n"
        f"history_prometheus_url: {prometheus.url}\n",
        port=port,
    )

    def history() -> dict:
        return exporter.get("/api/metrics/system/history?duration=15m&step=1s").json()

    answer = wait_until(lambda: (a := history())["memory_history"] and a, 30, "a range query")
    assert answer["source"] == "prometheus"
    stored = prometheus.query("autobot_system_memory_usage_ratio")[0]["value"][1]
    assert answer["memory_history"][-1]["value"] == pytest.approx(float(stored) * 100, abs=2)
