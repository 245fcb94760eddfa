"""System monitoring through the app served in-process: a real child process in a group, health
with lowered thresholds, the system JSON routes, pausing, per-workflow resources."""

from __future__ import annotations

import json
import uuid

import psutil
import pytest

from tests.support.in_process import InProcessExporter
from tests.support.processes import memory_holder, wait_until
from tests.support.promtool import check_metrics_problems


@pytest.fixture(scope="module")
def marker():
    return f"autobot-system-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def child(marker):
    with memory_holder(marker, 64) as process:
        yield process


@pytest.fixture(scope="module")
def exporter(marker, child):
    config = (
        "collection_interval: 200ms\n"
        f"process_groups:\n  - name: worker\n    cmdline: {marker}\n"
        "thresholds:\n  disk: {critical: 0.01}\n"
    )
    running = InProcessExporter(config)
    yield running
    running.stop()


def test_child_process_is_seen_in_its_group_with_its_rss(exporter, child):
    def seen():
        get = exporter.sample_getter()
        rss = get("autobot_process_resident_memory_bytes", group="worker")
        return get("autobot_processes", group="worker") == 1 and rss and rss > 64 * 2**20 and rss

    rss = wait_until(seen, 10, "the child in group worker")
    assert rss == pytest.approx(psutil.Process(child.pid).memory_info().rss, rel=0.1)
    get = exporter.sample_getter()
    assert get("autobot_process_threads", group="worker") >= 1
    assert get("autobot_processes", group="autobot") is None


def test_lowered_disk_threshold_makes_health_critical(exporter):
    answer = exporter.get("/api/metrics/system/health").json()
    assert set(answer) == {"success", "health_status"}  # the original's envelope
    health = answer["health_status"]
    assert health["status"] == "critical"
    assert any(
        alert.startswith("disk_percent") and alert.endswith("(threshold: 1%)")
        for alert in health["critical_alerts"]
    )
    assert {"cpu_percent", "memory_percent", "disk_percent", "timestamp"} <= set(
        health["current_metrics"]
    )
    get = exporter.sample_getter()
    assert get("autobot_health_status", state="critical") == 1
    assert get("autobot_health_threshold_ratio", resource="disk", level="critical") == 0.01


def test_current_summary_and_export(exporter):
    current = exporter.get("/api/metrics/system/current").json()["system_metrics"]
    for key in (
        "cpu_percent",
        "memory_mb",
        "memory_percent",
        "disk_percent",
        "timestamp",
        "network_io",
        "autobot_processes",
    ):
        assert key in current
    assert current["autobot_processes"]["worker"]["process_count"] == 1
    wait_until(
        lambda: (
            exporter.get("/api/metrics/system/summary?minutes=1").json()["resource_summary"][
                "data_points"
            ]
            >= 3
        ),
        10,
        "three samples",
    )
    summary = exporter.get("/api/metrics/system/summary?minutes=60").json()["resource_summary"]
    cpu = summary["system"]["cpu"]
    assert cpu["min_percent"] <= cpu["avg_percent"] <= cpu["max_percent"]
    assert summary["autobot"]["memory"]["max_mb"] > 64
    for minutes in (0, 61, "x"):
        response = exporter.get(f"/api/metrics/system/summary?minutes={minutes}")
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "minutes"]
    export = exporter.get("/api/metrics/export/system").json()
    assert len(json.loads(export["data"])["resource_history"]) >= 3


def test_dashboard_has_every_original_key(exporter):
    dashboard = exporter.get("/api/metrics/dashboard").json()["dashboard"]
    assert {
        "timestamp",
        "workflow_performance",
        "system_health",
        "resource_usage",
        "current_status",
        "active_workflows",
    } <= set(dashboard)
    assert set(dashboard["current_status"]) == {
        "cpu_percent",
        "memory_percent",
        "disk_percent",
        "monitoring_active",
    }


def test_workflow_resource_usage_comes_from_the_sampler(exporter):
    exporter.post_events({"type": "workflow_started", "workflow_id": "res-1"})
    exporter.post_events(
        {"type": "resource_sample", "workflow_id": "res-1", "data": {"gpu_percent": 12}}
    )
    first = exporter.sample_getter()("autobot_exporter_last_sample_timestamp_seconds")
    wait_until(
        lambda: (
            exporter.sample_getter()("autobot_exporter_last_sample_timestamp_seconds") > first + 0.3
        ),
        10,
        "two more passes",
    )
    exporter.post_events(
        {"type": "workflow_finished", "workflow_id": "res-1", "status": "completed"}
    )
    usage = exporter.get("/api/metrics/workflow/res-1").json()["metrics"]["resource_usage"]
    assert usage["sampled_points"] >= 1
    assert 0 <= usage["system_cpu_percent_avg"] <= usage["system_cpu_percent_max"] <= 100
    assert usage["autobot_memory_mb_max"] > 64
    assert usage["gpu_percent"] == 12


def test_promtool_accepts_the_system_families(exporter):
    assert check_metrics_problems(exporter.metrics_text()) == (0, "")


def test_stopping_monitoring_is_visible_and_starting_resumes(exporter):
    assert exporter.get("/-/ready").status_code == 200
    stopped = exporter.session.post(exporter.url + "/api/metrics/system/monitoring/stop")
    assert stopped.json() == {"success": True, "message": "System monitoring stopped"}
    get = exporter.sample_getter()
    assert get("autobot_exporter_monitoring_active") == 0
    assert get("autobot_system_cpu_usage_ratio") is None
    health = exporter.get("/api/metrics/system/health").json()["health_status"]
    assert health["monitoring_active"] is False
    assert exporter.get("/-/ready").status_code == 200
    frozen = get("autobot_exporter_last_sample_timestamp_seconds")

    started = exporter.session.post(exporter.url + "/api/metrics/system/monitoring/start")
    assert started.json()["collection_interval"] == 0.2
    wait_until(
        lambda: exporter.sample_getter()("autobot_exporter_last_sample_timestamp_seconds") > frozen,
        10,
        "sampling to resume",
    )
    assert exporter.sample_getter()("autobot_system_cpu_usage_ratio") is not None


def test_monitoring_control_needs_the_token_when_one_is_set(start_app, tmp_path):
    token = tmp_path / "token"
    token.write_text("t0k\n")
    guarded = start_app(f"ingest_token_file: {token}\n")
    url = guarded.url + "/api/metrics/system/monitoring/stop"
    assert guarded.session.post(url).status_code == 401
    assert guarded.session.post(url, headers={"Authorization": "Bearer t0k"}).status_code == 200


def test_prometheus_sees_the_group(exporter, start_prometheus):
    prometheus = start_prometheus([exporter.address])
    prometheus.wait_for_scalar('autobot_processes{group="worker"}', 1)
    prometheus.wait_for_scalar('autobot_health_status{state="critical"}', 1)


def test_the_overview_answers_autobots_frontend_fields(exporter):
    """AutoBot's frontend reads these names from /api/monitoring/dashboard/overview."""
    current = exporter.get("/api/metrics/system/current").json()["system_metrics"]
    overview = exporter.get("/api/monitoring/dashboard/overview").json()
    assert set(overview) == {
        "cpu_percent",
        "memory_percent",
        "disk_percent",
        "network_bytes_sent",
        "network_bytes_recv",
        "process_count",
        "timestamp",
    }
    assert 0 < overview["memory_percent"] <= 100
    assert overview["process_count"] == current["process_count"] == 1  # the child, in "worker"
    sent = sum(counters["bytes_sent"] for counters in current["network_io"].values())
    assert isinstance(overview["network_bytes_sent"], int)
    assert overview["network_bytes_sent"] >= sent  # since boot; the same pass or a later one


def test_history_answers_from_the_ring_buffer_in_steps(exporter):
    wait_until(
        lambda: (
            len(
                exporter.get("/api/metrics/system/history?duration=15m&step=1s").json()[
                    "cpu_history"
                ]
            )
            >= 3
        ),
        10,
        "three seconds of passes",
    )
    answer = exporter.get("/api/metrics/system/history?duration=15m&step=1s").json()
    assert set(answer) >= {"success", "cpu_history", "memory_history", "time_range"}
    assert answer["source"] == "ring_buffer"
    times = [point["timestamp"] for point in answer["cpu_history"]]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert all(0 <= point["value"] <= 100 for point in answer["memory_history"])
    coarse = exporter.get("/api/metrics/system/history?duration=15m&step=15m").json()
    assert len(coarse["cpu_history"]) <= 2  # one pass per step
    assert "note" not in answer
    longer = exporter.get("/api/metrics/system/history?duration=1d").json()
    assert longer["source"] == "ring_buffer" and "history_prometheus_url" in longer["note"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("duration=2h", "duration"),
        ("duration=1h&step=soon", "step"),
        ("duration=7d&step=1s", "step"),
    ],
)
def test_history_parameters_are_checked(exporter, query, parameter):
    response = exporter.get(f"/api/metrics/system/history?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", parameter]
