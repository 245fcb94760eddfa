"""The rules on a real Prometheus after a demo workload (the ``demo_stack`` fixture): every
recording rule has data, and the workflow exemplars lead back to the exporter's JSON API."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from tests.support.processes import wait_until

SHIPPED_RULES = Path(__file__).resolve().parents[1] / "deploy/prometheus/autobot-rules.yml"
RECORDS = [
    rule["record"]
    for group in yaml.safe_load(SHIPPED_RULES.read_text())["groups"]
    for rule in group["rules"]
    if "record" in rule
]


@pytest.mark.parametrize("record", RECORDS)
def test_recording_rule_returns_data(demo_stack, record):
    _, prometheus = demo_stack
    wait_until(lambda: prometheus.query(record), 60, f"{record} to have data")


def test_exemplars_carry_workflow_ids_the_json_api_knows(demo_stack):
    exporter, prometheus = demo_stack

    def exemplars() -> list[str]:
        now = time.time()
        data = prometheus.api(
            "/api/v1/query_exemplars",
            query="autobot_workflow_duration_seconds_bucket",
            start=now - 600,
            end=now + 60,
        )
        return [e["labels"]["workflow_id"] for series in data for e in series["exemplars"]]

    workflow_ids = wait_until(exemplars, 30, "exemplars in Prometheus")
    assert any(workflow_id.startswith("demo-") for workflow_id in workflow_ids)
    for workflow_id in workflow_ids[:5]:
        answer = exporter.get(f"/api/metrics/workflow/{workflow_id}").json()
        assert answer["success"] is True
        assert answer["metrics"]["workflow_id"] == workflow_id
