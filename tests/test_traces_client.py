"""Workflows meet traces: called inside a span of AutoBot's OpenTelemetry tracer, the
client's original calls send the span's trace id, and the step and workflow histograms
carry it as an exemplar beside workflow_id on an OpenMetrics scrape; outside a span, or in
a span the sampler dropped, no trace id is sent."""

from __future__ import annotations

import re

import pytest
from autobot_exporter_client import MetricsClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler

from exporter.workflows.metrics import exemplar

OPENMETRICS = {"Accept": "application/openmetrics-text; version=1.0.0"}


def exemplars(text: str, family: str) -> list[str]:
    return re.findall(rf"^{family}_bucket\{{.*\}} [0-9.]+ # \{{([^}}]*)\}}", text, re.MULTILINE)


def run_workflow(url: str, workflow_id: str, sampler: Sampler | None) -> str | None:
    """A workflow of one step, called as AutoBot calls the collector; inside a span of a
    tracer with this sampler (None: no span at all). The span's trace id, if any."""
    client = MetricsClient(url)
    trace_id = None
    try:
        client.start_workflow_tracking(workflow_id, {"complexity": "research"})
        client.start_step_timing(workflow_id, "s1", "research")
        if sampler is None:
            client.end_step_timing(workflow_id=workflow_id, step_id="s1", success=True)
            client.end_workflow_tracking(workflow_id, "completed")
        else:
            tracer = TracerProvider(sampler=sampler).get_tracer("autobot")
            with tracer.start_as_current_span("workflow") as span:
                trace_id = format(span.get_span_context().trace_id, "032x")
                client.end_step_timing(workflow_id=workflow_id, step_id="s1", success=True)
                client.end_workflow_tracking(workflow_id, final_status="completed")
        assert client.flush(10)
    finally:
        client.close(timeout=0)
    return trace_id


@pytest.mark.parametrize(
    ("sampler", "expected"), [(ALWAYS_ON, "trace"), (ALWAYS_OFF, None), (None, None)]
)
def test_step_and_workflow_exemplars_carry_the_current_trace(start_app, sampler, expected):
    exporter = start_app()
    trace_id = run_workflow(exporter.url, "wf-traced", sampler)
    text = exporter.get("/metrics", headers=OPENMETRICS).text
    for family in ("autobot_step_duration_seconds", "autobot_workflow_duration_seconds"):
        (labels,) = exemplars(text, family)
        if expected is None:
            assert labels == 'workflow_id="wf-traced"'
        else:
            assert labels == f'trace_id="{trace_id}",workflow_id="wf-traced"'


def test_a_workflow_id_too_long_to_fit_beside_the_trace_id_gives_way():
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert exemplar("w" * 77, trace_id) == {"trace_id": trace_id, "workflow_id": "w" * 77}
    assert exemplar("w" * 78, trace_id) == {"trace_id": trace_id}
    assert exemplar("w" * 100, None) == {"workflow_id": "w" * 100}
