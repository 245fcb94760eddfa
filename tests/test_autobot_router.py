"""The client as a drop-in for AutoBot's WorkflowMetricsCollector and SystemResourceMonitor:
AutoBot's FastAPI router, written here the way the original calls the collector and the
monitor, runs unchanged on top of the client's read methods, and its answers have the
original's keys and types, the same as the exporter's own copies of the routes."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
from autobot_exporter_client import MetricsClient, SystemMonitorClient
from fastapi import APIRouter, FastAPI, HTTPException, Query
from fastapi.testclient import TestClient

from tests.support.expectations import ORIGINAL_SUMMARY_KEYS
from tests.support.processes import Exporter, free_port, memory_holder, wait_until

pytestmark = pytest.mark.e2e


def autobot_router(workflow_metrics: Any, system_monitor: Any) -> APIRouter:
    """AutoBot's api/metrics.py, as it calls its two objects (not copied: written from
    the original's documented routes and envelopes)."""
    router = APIRouter(prefix="/api/metrics")

    @router.get("/workflow/{workflow_id}")
    async def get_workflow_metrics(workflow_id: str) -> dict:
        stats = workflow_metrics.get_workflow_stats(workflow_id)
        if not stats:
            raise HTTPException(status_code=404, detail="Workflow metrics not found")
        return {"success": True, "workflow_id": workflow_id, "metrics": stats}

    @router.get("/performance/summary")
    async def get_performance_summary(time_window_hours: int = Query(24, ge=1, le=168)) -> dict:
        summary = workflow_metrics.get_performance_summary(time_window_hours)
        return {"success": True, "performance_summary": summary}

    @router.get("/system/current")
    async def get_current_system_metrics() -> dict:
        return {"success": True, "system_metrics": system_monitor.get_current_metrics()}

    @router.get("/system/summary")
    async def get_resource_summary(minutes: int = Query(10, ge=1, le=60)) -> dict:
        return {"success": True, "resource_summary": system_monitor.get_resource_summary(minutes)}

    @router.get("/system/health")
    async def get_system_health() -> dict:
        return {"success": True, "health_status": system_monitor.check_resource_thresholds()}

    @router.get("/export/workflow")
    async def export_workflow_metrics(format: str = "json") -> dict:
        return {"success": True, "format": format, "data": workflow_metrics.export_metrics(format)}

    @router.get("/export/system")
    async def export_system_metrics(format: str = "json") -> dict:
        data = system_monitor.export_resource_data(format)
        return {"success": True, "format": format, "data": data}

    @router.post("/system/monitoring/start")
    async def start_monitoring() -> dict:
        await system_monitor.start_monitoring()
        return {
            "success": True,
            "message": "System monitoring started",
            "collection_interval": system_monitor.collection_interval,
        }

    @router.post("/system/monitoring/stop")
    async def stop_monitoring() -> dict:
        await system_monitor.stop_monitoring()
        return {"success": True, "message": "System monitoring stopped"}

    return router


def shape(value: Any, depth: int = 2) -> Any:
    """Keys and value types, ``depth`` levels down; numbers are one type (JSON has one)."""
    if isinstance(value, dict):
        return {k: shape(v, depth - 1) if depth else "dict" for k, v in value.items()}
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Exporter, TestClient]]:
    exporter = Exporter(tmp_path_factory.mktemp("router"), "collection_interval: 200ms\n")
    workflow_metrics = MetricsClient(exporter.url)
    system_monitor = SystemMonitorClient(exporter.url)
    app = FastAPI()
    app.include_router(autobot_router(workflow_metrics, system_monitor))
    # the seed's integration: one workflow finished, one failed, one still running
    for workflow_id, final_status in (("r-done", "completed"), ("r-failed", "failed")):
        workflow_metrics.start_workflow_tracking(
            workflow_id,
            {
                "user_message": "hi",
                "complexity": "research",
                "total_steps": 2,
                "agents_involved": ["research"],
            },
        )
        workflow_metrics.start_step_timing(workflow_id, "s1", "research")
        workflow_metrics.end_step_timing(workflow_id, "s1", success=final_status == "completed")
        workflow_metrics.record_approval_wait_time(workflow_id, 1200)
        workflow_metrics.record_resource_usage(workflow_id, system_monitor.get_current_metrics())
        workflow_metrics.end_workflow_tracking(workflow_id, final_status)
    workflow_metrics.start_workflow_tracking(
        "r-running", {"complexity": "simple", "total_steps": 4}
    )
    workflow_metrics.start_step_timing(workflow_id="r-running", step_id="s1", agent_type="research")
    assert workflow_metrics.flush(10)
    wait_until(
        lambda: (
            exporter.get("/api/metrics/system/summary").json()["resource_summary"]["data_points"]
            >= 2
        ),
        10,
        "two sampler passes",
    )
    with TestClient(app) as autobot:
        yield exporter, autobot
    workflow_metrics.close()
    exporter.stop()


ROUTES = [
    "/api/metrics/workflow/r-done",
    "/api/metrics/workflow/r-failed",
    "/api/metrics/workflow/r-running",
    "/api/metrics/performance/summary",
    "/api/metrics/performance/summary?time_window_hours=168",
    "/api/metrics/system/current",
    "/api/metrics/system/summary?minutes=5",
    "/api/metrics/system/health",
    "/api/metrics/export/workflow",
    "/api/metrics/export/workflow?format=JSON",
    "/api/metrics/export/workflow?format=csv",
    "/api/metrics/export/system",
    "/api/metrics/export/system?format=xml",
]


@pytest.mark.parametrize("path", ROUTES)
def test_autobots_router_on_the_client_answers_as_the_exporter_does(stack, path):
    exporter, autobot = stack
    through_client = autobot.get(path)
    direct = exporter.get(path)
    assert through_client.status_code == direct.status_code == 200
    assert shape(through_client.json(), 3) == shape(direct.json(), 3)


def test_the_original_keys_and_types(stack):
    _, autobot = stack
    done = autobot.get("/api/metrics/workflow/r-done").json()["metrics"]
    assert (done["status"], done["labels"]["status"], done["labels"]["step_count"]) == (
        "completed",
        "completed",
        "1",
    )
    failed = autobot.get("/api/metrics/workflow/r-failed").json()["metrics"]
    assert (failed["failed_steps"], failed["success_rate"], failed["labels"]["status"]) == (
        1,
        0.0,
        "failed",
    )
    running = autobot.get("/api/metrics/workflow/r-running").json()["metrics"]
    assert {
        "status",
        "current_duration_ms",
        "completed_steps",
        "total_steps",
        "progress_percent",
        "current_step_timings",
    } <= set(running)
    assert running["status"] == "running"
    summary = autobot.get("/api/metrics/performance/summary").json()["performance_summary"]
    assert set(summary) >= ORIGINAL_SUMMARY_KEYS
    assert summary["total_workflows"] == 2 and summary["active_workflows"] == 1
    current = autobot.get("/api/metrics/system/current").json()["system_metrics"]
    assert {"cpu_percent", "memory_mb", "memory_percent", "disk_percent", "timestamp"} <= set(
        current
    )
    resources = autobot.get("/api/metrics/system/summary").json()["resource_summary"]
    assert {"time_window_minutes", "data_points", "system", "autobot"} <= set(resources)
    assert {"avg_percent", "max_percent", "min_percent"} <= set(resources["system"]["cpu"])
    assert {"avg_mb", "max_mb"} <= set(resources["autobot"]["memory"])
    health = autobot.get("/api/metrics/system/health").json()["health_status"]
    assert {"status", "critical_alerts", "warnings", "current_metrics", "check_timestamp"} <= set(
        health
    )
    export = json.loads(autobot.get("/api/metrics/export/workflow").json()["data"])
    assert isinstance(export["active_workflows"], int)
    assert export["aggregated_stats"]["failed_workflows"] == 1
    system = json.loads(autobot.get("/api/metrics/export/system").json()["data"])
    assert {
        "monitoring_active",
        "collection_interval",
        "history_length",
        "latest_metrics",
        "summary",
        "thresholds_check",
        "export_timestamp",
    } <= set(system)
    assert autobot.get("/api/metrics/export/workflow?format=csv").json()["data"] == (
        "Unsupported export format: csv"
    )


def test_unknown_workflow_and_bad_parameters(stack):
    exporter, autobot = stack
    assert autobot.get("/api/metrics/workflow/nobody").status_code == 404
    assert exporter.get("/api/metrics/workflow/nobody").status_code == 404
    for path in (
        "/api/metrics/performance/summary?time_window_hours=0",
        "/api/metrics/performance/summary?time_window_hours=169",
        "/api/metrics/performance/summary?time_window_hours=abc",
        "/api/metrics/system/summary?minutes=61",
    ):
        fastapi_detail = autobot.get(path).json()["detail"][0]
        exporter_detail = exporter.get(path).json()["detail"][0]
        assert set(exporter_detail) == set(fastapi_detail) - {"url"}, path
        for key in ("type", "loc", "msg", "input", "ctx"):
            assert exporter_detail.get(key) == fastapi_detail.get(key), (path, key)


def test_monitoring_start_and_stop_through_the_router(stack):
    exporter, autobot = stack
    assert autobot.post("/api/metrics/system/monitoring/stop").json()["success"] is True
    assert (
        exporter.get("/api/metrics/system/health").json()["health_status"]["monitoring_active"]
        is False
    )
    started = autobot.post("/api/metrics/system/monitoring/start").json()
    assert started["collection_interval"] == 0.2


def test_read_methods_fail_as_the_originals_did(tmp_path: Path):
    unreachable = SystemMonitorClient(f"http://127.0.0.1:{free_port()}", read_timeout=0.5)
    client = MetricsClient(f"http://127.0.0.1:{free_port()}", read_timeout=0.5)
    try:
        assert client.get_workflow_stats("x") is None
        assert "error" in client.get_performance_summary(24)
        assert client.export_metrics("json").startswith("Export failed")
        assert "error" in unreachable.get_current_metrics()
        assert unreachable.check_resource_thresholds()["status"] == "unknown"
        assert unreachable.export_resource_data("json").startswith("Export failed")
    finally:
        client.close(timeout=0)


def test_an_empty_window_reads_the_same_through_the_client(start_app):
    fresh = start_app()
    client = MetricsClient(fresh.url)
    try:
        through_client = client.get_performance_summary(1)
        direct = fresh.get("/api/metrics/performance/summary?time_window_hours=1").json()
        assert through_client == direct["performance_summary"]
        assert through_client["message"] == "No completed workflows in time window"
        assert client.get_workflow_stats("nothing-yet") is None
    finally:
        client.close(timeout=0)


def test_the_workflow_export_counts_as_the_original(start_exporter):
    """``agent_usage_count``: one per finished workflow for each agent named at its start
    (not per step); ``total_metrics`` and the summary's ``metrics_collected``: the
    original's raw points (1 a start, 1 an ended step, 1 an approval wait, 1 a numeric
    top-level resource field, 2 an end). Called as AutoBot calls the collector, read
    through AutoBot's router."""
    exporter = start_exporter()
    workflow_metrics = MetricsClient(exporter.url)
    system_monitor = SystemMonitorClient(exporter.url)
    workflow_metrics.start_workflow_tracking(
        "count-a",
        {"complexity": "research", "total_steps": 2, "agents_involved": ["research", "librarian"]},
    )  # 1
    for step_id, success in (("s1", True), ("s2", False)):  # 2: the same agent twice
        workflow_metrics.start_step_timing("count-a", step_id, "research")
        error = None if success else ValueError("boom")
        workflow_metrics.end_step_timing("count-a", step_id, success=success, error=error)
    workflow_metrics.record_approval_wait_time("count-a", 1500)  # 1
    workflow_metrics.record_resource_usage(  # 2: cpu_percent, memory_mb (not nested, not text)
        "count-a",
        {"cpu_percent": 12.5, "memory_mb": 300, "network_io": {"bytes_sent": 7}, "host": "x"},
    )
    workflow_metrics.end_workflow_tracking("count-a", "completed")  # 2
    workflow_metrics.start_workflow_tracking(
        "count-b", {"complexity": "simple", "agents_involved": ["research"]}
    )  # 1
    workflow_metrics.start_step_timing(
        workflow_id="count-b", step_id="s1", agent_type="orchestrator"
    )
    workflow_metrics.end_step_timing(workflow_id="count-b", step_id="s1", success=True)  # 1
    workflow_metrics.end_workflow_tracking("count-b", final_status="failed")  # 2
    assert workflow_metrics.flush(10)
    app = FastAPI()
    app.include_router(autobot_router(workflow_metrics, system_monitor))
    with TestClient(app) as autobot:
        export = json.loads(autobot.get("/api/metrics/export/workflow").json()["data"])
        summary = autobot.get("/api/metrics/performance/summary").json()["performance_summary"]
    workflow_metrics.close()
    assert export["aggregated_stats"]["agent_usage_count"] == {"research": 2, "librarian": 1}
    assert export["total_metrics"] == 12
    assert summary["metrics_collected"] == 12


def test_the_system_export_gives_the_original_record(tmp_path: Path):
    """``latest_metrics`` of ``/export/system`` read through AutoBot's router on the client:
    the original's record key by key, one entry per process, the list bounded by
    ``max_listed_processes`` while the totals count every process."""
    marker = f"autobot-record-{uuid.uuid4().hex[:8]}"
    config = (
        "collection_interval: 200ms\nmax_listed_processes: 1\n"
        f"process_groups:\n  - name: autobot\n    cmdline: {marker}\n"
    )
    with memory_holder(marker, 16) as small, memory_holder(marker, 48) as large:
        large_name = psutil.Process(large.pid).name()
        exporter = Exporter(tmp_path, config)
        workflow_metrics = MetricsClient(exporter.url)
        app = FastAPI()
        app.include_router(autobot_router(workflow_metrics, SystemMonitorClient(exporter.url)))
        try:
            with TestClient(app) as autobot:

                def record() -> dict[str, Any] | None:
                    data = autobot.get("/api/metrics/export/system?format=json").json()["data"]
                    latest = json.loads(data)["latest_metrics"]
                    return latest if latest and latest["cpu"]["percent"] is not None else None

                latest = wait_until(record, 10, "a record with a CPU reading")
        finally:
            workflow_metrics.close(timeout=0)
            exporter.stop()
    assert set(latest) >= {
        "timestamp",
        "cpu",
        "memory",
        "swap",
        "disk",
        "network",
        "autobot_processes",
        "total_autobot_memory_mb",
        "total_autobot_cpu_percent",
    }
    numbers = (int, float)
    assert datetime.fromisoformat(latest["timestamp"]).tzinfo is not None
    assert set(latest["cpu"]) == {"percent", "count", "frequency_mhz"}
    assert 0 <= latest["cpu"]["percent"] <= 100 and latest["cpu"]["count"] == os.cpu_count()
    assert latest["cpu"]["frequency_mhz"] is None or latest["cpu"]["frequency_mhz"] > 0
    memory = latest["memory"]
    assert set(memory) == {"total_mb", "available_mb", "used_mb", "percent"}
    assert memory["used_mb"] + memory["available_mb"] == pytest.approx(memory["total_mb"], abs=0.02)
    assert memory["percent"] == pytest.approx(100 * memory["used_mb"] / memory["total_mb"], 0.01)
    assert set(latest["swap"]) == {"total_mb", "used_mb", "percent"}
    assert all(isinstance(value, numbers) for value in latest["swap"].values())
    disk = latest["disk"]
    assert set(disk) == {"total_gb", "used_gb", "free_gb", "percent", "io"}
    assert disk["used_gb"] + disk["free_gb"] <= disk["total_gb"] + 0.02
    assert 0 < disk["percent"] < 100
    assert set(disk["io"]) == {"read_mb", "write_mb"}
    assert all(isinstance(value, numbers) for value in disk["io"].values())
    assert set(latest["network"]) == {
        "bytes_sent_mb",
        "bytes_recv_mb",
        "packets_sent",
        "packets_recv",
    }
    assert all(
        isinstance(value, int) for key, value in latest["network"].items() if "packets" in key
    )
    (listed,) = latest["autobot_processes"]
    assert set(listed) == {"pid", "name", "cpu_percent", "memory_percent", "memory_mb"}
    assert (listed["pid"], listed["name"]) == (large.pid, large_name)
    assert 48 < listed["memory_mb"] < 100 and 0 < listed["memory_percent"] < 100
    assert isinstance(listed["cpu_percent"], numbers)
    assert latest["autobot_processes_unlisted"] == 1
    assert latest["total_autobot_memory_mb"] > listed["memory_mb"] + 16
    assert small.pid not in {p["pid"] for p in latest["autobot_processes"]}
    assert isinstance(latest["total_autobot_cpu_percent"], numbers)
