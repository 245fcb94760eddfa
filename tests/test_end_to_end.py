"""A 10,000-event mixed workload through the real process: /metrics exact, the JSON API
agreeing with it, promtool clean, and a real Prometheus reading the same counts."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from tests.support.expectations import mismatches
from tests.support.processes import parse_samples, wait_until
from tests.support.promtool import check_metrics_problems
from tests.support.workload import batches, build_workload


@pytest.fixture(scope="module")
def workload():
    load = build_workload(1200, seed=11)
    assert len(load.events) >= 10_000
    return load


@pytest.fixture
def loaded_exporter(start_exporter, workload):
    exporter = start_exporter()
    rng = random.Random(5)
    accepted = duplicates = 0
    for number, batch in enumerate(batches(workload.events, rng)):
        if number % 3 == 0:
            body = "".join(json.dumps(event) + "\n" for event in batch)
            response = exporter.post_events(body, content_type="application/x-ndjson")
        else:
            response = exporter.post_events(batch if len(batch) > 1 else batch[0])
        assert response.status_code == 202, response.text
        accepted += response.json()["accepted"]
        duplicates += response.json()["duplicates"]
    assert accepted == sum(workload.expected.events.values())
    assert duplicates == workload.expected.duplicates
    return exporter


def test_every_counter_and_histogram_count_is_exact(loaded_exporter, workload):
    text = loaded_exporter.metrics_text()
    samples = parse_samples(text)
    assert mismatches(workload.expected, loaded_exporter.sample_getter()) == []
    for refused in ("events_out_of_order_total", "events_rejected_total"):
        values = {k: v for k, v in samples.items() if k[0] == f"autobot_exporter_{refused}"}
        assert values, f"{refused} is created at 0 for every known label value"
        assert set(values.values()) == {0.0}, (
            "a reordered workload must pair every event, and none is invalid"
        )


def test_json_api_agrees_with_metrics(loaded_exporter, workload):
    expected = workload.expected
    get = loaded_exporter.sample_getter()
    for workflow_id, facts in expected.finished_workflows.items():
        answer = loaded_exporter.get(f"/api/metrics/workflow/{workflow_id}").json()
        metrics = answer["metrics"]
        assert answer["success"] is True
        assert {key: metrics[key] for key in facts} == pytest.approx(facts), workflow_id
    for workflow_id in expected.unfinished_workflows:
        metrics = loaded_exporter.get(f"/api/metrics/workflow/{workflow_id}").json()["metrics"]
        assert metrics["status"] == "running"

    summary = loaded_exporter.get("/api/metrics/performance/summary").json()
    summary = summary["performance_summary"]
    finished_by_complexity = Counter(f["complexity"] for f in expected.finished_workflows.values())
    assert summary["total_workflows"] == len(expected.finished_workflows)
    assert summary["complexity_distribution"] == dict(finished_by_complexity)
    assert summary["active_workflows"] == len(expected.unfinished_workflows)
    for complexity, count in finished_by_complexity.items():
        finished_metric = sum(
            get("autobot_workflows_finished_total", complexity=complexity, status=status) or 0
            for status in ("completed", "failed", "cancelled", "timeout")
        )
        assert finished_metric == count
        assert summary["duration_by_complexity"][complexity]["count"] == count
    finished_failures = sum(f["failed_steps"] for f in expected.finished_workflows.values())
    agent_failures = sum(a["failures"] for a in summary["agent_performance"].values())
    assert agent_failures == finished_failures
    assert sum(e["count"] for e in summary["common_errors"]) == finished_failures
    assert summary["approval_wait"]["count"] == sum(expected.approvals.values())

    export = loaded_exporter.get("/api/metrics/export/workflow?format=json").json()
    data = json.loads(export["data"])
    assert (export["success"], export["format"]) == (True, "json")
    assert data["aggregated_stats"]["total_workflows"] == len(expected.finished_workflows)
    assert len(data["workflows"]["history"]) == len(expected.finished_workflows)
    assert data["active_workflows"] == len(data["workflows"]["active"])
    assert data["active_workflows"] == len(expected.unfinished_workflows)

    dashboard = loaded_exporter.get("/api/metrics/dashboard").json()["dashboard"]
    assert dashboard["active_workflows"] == len(expected.unfinished_workflows)
    assert dashboard["workflow_performance"]["total_workflows"] == len(expected.finished_workflows)


def test_openmetrics_carries_workflow_exemplars_and_text_format_does_not(loaded_exporter):
    openmetrics = loaded_exporter.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert openmetrics.headers["Content-Type"].startswith("application/openmetrics-text")
    exemplar_lines = [
        line
        for line in openmetrics.text.splitlines()
        if line.startswith("autobot_workflow_duration_seconds_bucket") and " # {" in line
    ]
    assert exemplar_lines and all('workflow_id="wf-11-' in line for line in exemplar_lines)
    assert openmetrics.text.rstrip().endswith("# EOF")
    classic = loaded_exporter.get("/metrics")
    assert classic.headers["Content-Type"].startswith("text/plain")
    assert " # {" not in classic.text


def test_promtool_check_metrics_is_clean(loaded_exporter):
    assert check_metrics_problems(loaded_exporter.metrics_text()) == (0, "")


def test_prometheus_scrapes_the_exact_counts(loaded_exporter, workload, start_prometheus):
    expected = workload.expected
    prometheus = start_prometheus([loaded_exporter.address])
    prometheus.wait_for_scalar("up", 1)
    prometheus.wait_for_scalar(
        "sum(autobot_workflows_started_total)", sum(expected.started.values())
    )
    prometheus.wait_for_scalar(
        "sum(autobot_step_duration_seconds_count)", sum(expected.step_durations.values())
    )
    prometheus.wait_for_scalar("sum(autobot_step_errors_total)", sum(expected.step_errors.values()))
    prometheus.wait_for_scalar("sum(autobot_workflows_active)", sum(expected.active.values()))
    prometheus.wait_for_scalar(
        'sum(autobot_workflows_finished_total{status="completed"})',
        sum(n for (_, status), n in expected.finished.items() if status == "completed"),
    )


def test_unfinished_workflow_expires_as_abandoned(start_exporter):
    exporter = start_exporter("workflow_ttl: 1s\n")
    exporter.post_events({"type": "workflow_started", "workflow_id": "slow", "complexity": "c"})
    assert exporter.sample_getter()("autobot_workflows_active", complexity="c") == 1

    def expired() -> bool:
        get = exporter.sample_getter()
        return get("autobot_exporter_workflows_expired_total", reason="ttl") == 1

    wait_until(expired, 10, "the workflow to expire")
    get = exporter.sample_getter()
    assert get("autobot_workflows_active", complexity="c") == 0
    assert get("autobot_workflows_finished_total", complexity="c", status="abandoned") == 1
    status = exporter.get("/api/metrics/workflow/slow").json()["metrics"]["status"]
    assert status == "abandoned"


def test_name_filter_restricts_the_scrape(loaded_exporter):
    text = loaded_exporter.get(
        "/metrics", params={"name[]": ["autobot_workflows_started_total"]}
    ).text
    families = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert families == {"autobot_workflows_started_total"}
