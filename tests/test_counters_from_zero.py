"""Series whose label values are known in advance exist at 0 before their first event, so
that first increment shows in rate() and increase(): Prometheus cannot tell how a series
that first appears at 1 got there. Proven with a real Prometheus for the ingest alert."""

from __future__ import annotations

from typing import get_args

from exporter.artifacts.rules import alert_rules
from exporter.config import Config
from exporter.workflows.events import EVENT_TYPES
from exporter.workflows.metrics import ExpiryReason, RejectReason
from tests.support.processes import wait_until

MALFORMED = 'autobot_exporter_events_rejected_total{reason="malformed"}'


def test_known_label_values_are_exported_at_zero_from_start(start_app):
    get = start_app().sample_getter()
    for reason in get_args(RejectReason):
        assert get("autobot_exporter_events_rejected_total", reason=reason) == 0, reason
    for reason in get_args(ExpiryReason):
        assert get("autobot_exporter_workflows_expired_total", reason=reason) == 0, reason
    for event_type in EVENT_TYPES:
        assert get("autobot_exporter_events_total", type=event_type) == 0, event_type
        assert get("autobot_exporter_events_out_of_order_total", type=event_type) == 0


def test_a_new_agent_has_both_step_statuses_at_zero_from_its_first_start(start_app):
    exporter = start_app()
    started = {"type": "step_started", "workflow_id": "w", "step_id": "s", "agent": "fresh"}
    assert exporter.post_events(started).status_code == 202
    get = exporter.sample_getter()
    for status in ("success", "failure"):
        assert get("autobot_step_duration_seconds_count", agent="fresh", status=status) == 0


def test_the_first_refused_request_reaches_the_ingest_alert(start_app, start_prometheus):
    exporter = start_app()
    prometheus = start_prometheus([exporter.address])
    prometheus.wait_for_scalar(MALFORMED, 0)
    refused = exporter.session.post(
        exporter.url + "/api/v1/events",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert refused.status_code == 400
    prometheus.wait_for_scalar(MALFORMED, 1)
    alert = next(a for a in alert_rules(Config()) if a.name == "AutoBotIngestRejectingEvents")
    firing = wait_until(
        lambda: prometheus.query(alert.expr),
        30,
        "the alert's expression to see one refused request",
    )
    assert firing[0]["metric"]["reason"] == "malformed"
