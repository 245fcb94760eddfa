"""The original AutoBot router's routes on the app served in-process: envelopes, limits, errors."""

from __future__ import annotations

import json

import pytest

from tests.support.expectations import ORIGINAL_SUMMARY_KEYS
from tests.support.processes import ExporterHttp


@pytest.fixture(scope="module")
def exporter(shared_app: ExporterHttp) -> ExporterHttp:
    shared_app.post_events(
        [
            {
                "type": "workflow_started",
                "workflow_id": "api-run",
                "complexity": "research",
                "total_steps": 4,
                "agents_involved": ["research", "librarian"],
                "user_message": "find papers",
            },
            {
                "type": "step_finished",
                "workflow_id": "api-run",
                "step_id": "s1",
                "agent": "research",
                "success": True,
                "duration_seconds": 2.0,
            },
            {
                "type": "workflow_started",
                "workflow_id": "api-done",
                "complexity": "simple",
                "ts": 1_800_000_000,
            },
            {
                "type": "step_started",
                "workflow_id": "api-done",
                "step_id": "a",
                "agent": "classifier",
                "ts": 1_800_000_001,
            },
            {
                "type": "step_finished",
                "workflow_id": "api-done",
                "step_id": "a",
                "success": True,
                "ts": 1_800_000_001.5,
            },
            {
                "type": "step_finished",
                "workflow_id": "api-done",
                "step_id": "b",
                "agent": "librarian",
                "success": False,
                "error_type": "Timeout",
                "duration_seconds": 1.0,
                "ts": 1_800_000_003,
            },
            {"type": "approval_requested", "workflow_id": "api-done", "ts": 1_800_000_003},
            {
                "type": "approval_resolved",
                "workflow_id": "api-done",
                "outcome": "approved",
                "ts": 1_800_000_013,
            },
            {"type": "resource_sample", "workflow_id": "api-done", "data": {"cpu_percent": 12.5}},
            {
                "type": "workflow_finished",
                "workflow_id": "api-done",
                "status": "completed",
                "ts": 1_800_000_020,
            },
        ]
    )
    return shared_app


def test_running_workflow_has_the_original_keys(exporter):
    answer = exporter.get("/api/metrics/workflow/api-run").json()
    metrics = answer["metrics"]
    assert (answer["success"], answer["workflow_id"]) == (True, "api-run")
    assert metrics["status"] == "running"
    assert (metrics["completed_steps"], metrics["total_steps"]) == (1, 4)
    assert metrics["progress_percent"] == 25.0
    assert metrics["current_step_timings"] == {"s1": 2000.0}
    assert metrics["current_duration_ms"] >= 0


def test_finished_workflow_has_every_execution_stats_field(exporter):
    metrics = exporter.get("/api/metrics/workflow/api-done").json()["metrics"]
    assert metrics == metrics | {
        "workflow_id": "api-done",
        "complexity": "simple",
        "completed_steps": 1,
        "failed_steps": 1,
        "start_time": "2027-01-15T08:00:00+00:00",
        "end_time": "2027-01-15T08:00:20+00:00",
        "total_duration_ms": 20000.0,
        "avg_step_duration_ms": 750.0,
        "step_timings": {"a": 500.0, "b": 1000.0},
        "approval_wait_time_ms": 10000.0,
        "error_count": 1,
        "success_rate": 50.0,
        "resource_usage": {"cpu_percent": 12.5},
        "status": "completed",
    }
    original_fields = {
        "workflow_id",
        "user_message",
        "complexity",
        "total_steps",
        "completed_steps",
        "failed_steps",
        "agents_involved",
        "start_time",
        "end_time",
        "total_duration_ms",
        "avg_step_duration_ms",
        "step_timings",
        "approval_wait_time_ms",
        "error_count",
        "success_rate",
        "resource_usage",
        "status",
    }
    assert original_fields <= metrics.keys()
    assert metrics["labels"] == {
        "complexity": metrics["complexity"],
        "status": metrics["status"],
        "step_count": str(metrics["completed_steps"] + metrics["failed_steps"]),
    }


def test_unknown_workflow_is_404_with_the_original_detail(exporter):
    response = exporter.get("/api/metrics/workflow/never-heard-of-it")
    assert response.status_code == 404
    assert response.json()["detail"] == "Workflow metrics not found"


@pytest.mark.parametrize(
    ("path", "parameter", "detail"),
    [
        (
            "/api/metrics/performance/summary?time_window_hours=0",
            "time_window_hours",
            {
                "type": "greater_than_equal",
                "input": "0",
                "ctx": {"ge": 1},
                "msg": "Input should be greater than or equal to 1",
            },
        ),
        (
            "/api/metrics/performance/summary?time_window_hours=169",
            "time_window_hours",
            {
                "type": "less_than_equal",
                "input": "169",
                "ctx": {"le": 168},
                "msg": "Input should be less than or equal to 168",
            },
        ),
        (
            "/api/metrics/performance/summary?time_window_hours=abc",
            "time_window_hours",
            {
                "type": "int_parsing",
                "input": "abc",
                "msg": "Input should be a valid integer, unable to parse string as an integer",
            },
        ),
        (
            "/api/metrics/system/summary?minutes=61",
            "minutes",
            {
                "type": "less_than_equal",
                "input": "61",
                "ctx": {"le": 60},
                "msg": "Input should be less than or equal to 60",
            },
        ),
    ],
)
def test_query_values_out_of_range_are_422_in_fastapis_shape(exporter, path, parameter, detail):
    response = exporter.get(path)
    assert response.status_code == 422
    body = response.json()
    assert body["message"].startswith(parameter)
    assert body["detail"] == [{**detail, "loc": ["query", parameter]}]


def test_summary_window_edges_and_extra_statistics(exporter):
    for hours in (1, 168):
        assert (
            exporter.get(f"/api/metrics/performance/summary?time_window_hours={hours}").status_code
            == 200
        )
    summary = exporter.get("/api/metrics/performance/summary?time_window_hours=168").json()
    summary = summary["performance_summary"]
    assert set(summary) >= ORIGINAL_SUMMARY_KEYS
    assert summary["agent_performance"]["librarian"]["failures"] >= 1
    assert summary["common_errors"] == [{"error_type": "Timeout", "count": 1}]
    assert summary["approval_wait"]["count"] == 1
    assert summary["approval_wait"]["by_outcome"]["approved"]["avg_ms"] == 10000.0


def test_empty_window_answers_the_original_message(start_app):
    fresh = start_app()
    summary = fresh.get("/api/metrics/performance/summary").json()["performance_summary"]
    assert summary["message"] == "No completed workflows in time window"
    assert summary["total_workflows"] == 0


def test_export_is_a_json_string_with_the_originals_keys_and_types(exporter):
    answer = exporter.get("/api/metrics/export/workflow?format=JSON").json()
    data = json.loads(answer["data"])
    assert answer["format"] == "JSON"
    assert {"aggregated_stats", "active_workflows", "total_metrics", "export_timestamp"} <= set(
        data
    )
    stats = data["aggregated_stats"]
    assert set(stats) == {
        "total_workflows",
        "successful_workflows",
        "failed_workflows",
        "avg_duration_ms",
        "complexity_distribution",
        "agent_usage_count",
        "error_types",
        "performance_trends",
    }
    assert stats["total_workflows"] == stats["successful_workflows"] + stats["failed_workflows"]
    assert stats["error_types"]["Timeout"] >= 1
    assert set(stats["performance_trends"][-1]) == {
        "timestamp",
        "duration_ms",
        "success_rate",
        "complexity",
    }
    assert isinstance(data["active_workflows"], int) and data["active_workflows"] >= 1
    assert isinstance(data["total_metrics"], int) and data["total_metrics"] > 0
    assert "api-done" in {w["workflow_id"] for w in data["workflows"]["history"]}
    assert "api-run" in data["workflows"]["active"]


def test_an_unsupported_export_format_is_the_originals_200(exporter):
    workflow = exporter.get("/api/metrics/export/workflow?format=csv")
    system = exporter.get("/api/metrics/export/system?format=xml")
    assert (workflow.status_code, system.status_code) == (200, 200)
    assert workflow.json() == {
        "success": True,
        "format": "csv",
        "data": "Unsupported export format: csv",
    }
    assert system.json()["data"] == "Unsupported format: xml"


def test_dashboard_has_the_workflow_part(exporter):
    dashboard = exporter.get("/api/metrics/dashboard").json()
    assert dashboard["success"] is True
    assert {"timestamp", "workflow_performance", "active_workflows"} <= dashboard[
        "dashboard"
    ].keys()


def test_landing_page_links_every_endpoint(exporter):
    page = exporter.get("/")
    assert page.headers["Content-Type"].startswith("text/html")
    for path in ("/metrics", "/-/healthy", "/-/ready", "/api/metrics/dashboard"):
        assert f'href="{path}"' in page.text
    assert exporter.get("/-/healthy").status_code == 200
    assert exporter.get("/-/ready").status_code == 200


def test_unknown_route_and_wrong_method_get_json_errors(exporter):
    missing = exporter.get("/api/nothing")
    assert (missing.status_code, missing.json()["message"]) == (404, "Not Found")
    wrong = exporter.session.delete(exporter.url + "/api/v1/events", timeout=5)
    assert wrong.status_code == 405
    assert wrong.json()["message"] == "Method Not Allowed"
