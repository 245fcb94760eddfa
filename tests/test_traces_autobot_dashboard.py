"""AutoBot's "Distributed Tracing" dashboard on the sidecar: spans shaped as AutoBot's
tracing module emits them (the table of the traces issue), sent through the real
OpenTelemetry SDK and OTLP/HTTP exporter, scraped by a real Prometheus; every query of the
dashboard (written here from the issue's list of its metrics, labels and 5m/1h windows,
not copied from AutoBot's file) finds series, and exemplars reach Prometheus with their
trace id."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from opentelemetry.trace import SpanKind

from tests.support.otel import emit, otlp_tracer
from tests.support.processes import Exporter, Prometheus, wait_until

pytestmark = pytest.mark.e2e

DASHBOARD_QUERIES = {
    "HTTP requests per second by route": (
        "sum by (service_name, http_method, http_route) (rate(http_server_request_count_total[5m]))"
    ),
    "HTTP 5xx per second": (
        'sum by (service_name) (rate(http_server_request_count_total{http_status_code=~"5.."}[5m]))'
    ),
    "HTTP p95 latency by route": (
        "histogram_quantile(0.95, sum by (le, service_name, http_route) "
        "(rate(http_server_duration_milliseconds_bucket[5m])))"
    ),
    "HTTP p50 latency": (
        "histogram_quantile(0.50, sum by (le) (rate(http_server_duration_milliseconds_bucket[5m])))"
    ),
    "LLM inferences per second": (
        "sum by (llm_provider, llm_model) (rate(llm_inference_total[5m]))"
    ),
    "LLM p95 latency by provider": (
        "histogram_quantile(0.95, sum by (le, llm_provider) "
        "(rate(llm_inference_duration_milliseconds_bucket[5m])))"
    ),
    "LLM inferences in the last hour": "sum by (llm_model) (increase(llm_inference_total[1h]))",
    "Redis commands per second": "sum by (redis_command) (rate(redis_command_total[5m]))",
    "Redis p99 latency": (
        "histogram_quantile(0.99, sum by (le, redis_command) "
        "(rate(redis_command_duration_milliseconds_bucket[5m])))"
    ),
    "inter-service p95 latency": (
        "histogram_quantile(0.95, sum by (le, peer_service) "
        "(rate(http_client_duration_milliseconds_bucket[5m])))"
    ),
    "calls to the AI stack": (
        'sum(rate(http_client_duration_milliseconds_count{peer_service="autobot-ai-stack"}[5m]))'
    ),
    "SSH operations in the last hour": (
        "sum by (ssh_target_vm, pki_operation) (increase(ssh_operations_total[1h]))"
    ),
    "spans per second by service": "sum by (service_name) (rate(spans_created_total[5m]))",
    "spans in the last hour": "sum(increase(spans_created_total[1h]))",
}


def autobot_traffic(url: str) -> str:
    """One of each span AutoBot emits (names, kinds and attributes of the issue's table);
    the trace id of the LLM inference."""
    with otlp_tracer(url) as tracer:
        emit(tracer, "llm.chat_completion", llm__type="chat", llm__provider="ollama")
        emit(tracer, "llm.provider.ollama", llm__provider="ollama", llm__model="llama3.2")
        trace_id = emit(
            tracer,
            "llm.inference",
            SpanKind.CLIENT,
            2300.0,
            ok=True,
            llm__provider="ollama",
            llm__model="llama3.2",
            llm__prompt_tokens=120,
        )
        emit(
            tracer,
            "ssh.distribute_certificates",
            SpanKind.CLIENT,
            900.0,
            ssh__target_vm="redis",
            ssh__target_ip="172.16.168.23",
            ssh__user="autobot",
            pki__operation="distribute",
            ssh__files_copied=3,
        )
        for status in (200, 200, 503):
            emit(
                tracer,
                "POST /api/chat",
                SpanKind.SERVER,
                180.0,
                error=status >= 500,
                http__method="POST",
                http__route="/api/chat",
                http__status_code=status,
                http__target="/api/chat",
                http__scheme="http",
                net__host__port=8001,
            )
        emit(tracer, "POST /api/chat http send", asgi__event__type="http.response.start")
        emit(
            tracer,
            "SET",
            SpanKind.CLIENT,
            0.4,
            db__system="redis",
            db__statement="SET ? ?",
            net__peer__name="172.16.168.23",
            net__peer__port=6379,
            db__redis__args_length=3,
        )
        emit(
            tracer,
            "GET",
            SpanKind.CLIENT,
            35.0,
            http__method="GET",
            http__url="http://172.16.168.24:8080/api/models",
            http__status_code=200,
        )
    return trace_id


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prometheus, str]]:
    directory = tmp_path_factory.mktemp("tracing-dashboard")
    exporter = Exporter(directory)
    prometheus = None
    try:
        prometheus = Prometheus(directory, [exporter.address])
        prometheus.wait_for_scalar("up", 1)
        trace_id = autobot_traffic(exporter.url)
        with otlp_tracer(exporter.url) as tracer:  # what no parser may choke on
            emit(tracer, 'GET /\x00\n\x85"{}', SpanKind.SERVER, 1.0, http__method="GET")
        yield prometheus, trace_id
    finally:
        if prometheus is not None:
            prometheus.stop()
        exporter.stop()


@pytest.mark.parametrize(("panel", "query"), DASHBOARD_QUERIES.items(), ids=list(DASHBOARD_QUERIES))
def test_every_panel_of_autobots_tracing_dashboard_has_data(stack, panel, query):
    prometheus, _ = stack
    wait_until(lambda: prometheus.query(query), 30, f"the {panel!r} panel ({query})")


def test_the_values_are_autobots(stack):
    prometheus, _ = stack
    wait_until(lambda: prometheus.query("spans_created_total"), 30, "spans_created_total")
    [spans] = prometheus.query("spans_created_total")
    assert spans["metric"]["service_name"] == "autobot-backend"
    assert float(spans["value"][1]) == 11
    hostile = prometheus.query('traces_span_metrics_calls_total{span_name=~"GET /.*"}')
    assert [s["metric"]["span_name"] for s in hostile] == ['GET /\ufffd\ufffd\ufffd"{}']
    assert float(prometheus.query('up{job="autobot-exporter"}')[0]["value"][1]) == 1
    errors = prometheus.query('http_server_request_count_total{http_status_code="503"}')
    assert float(errors[0]["value"][1]) == 1
    peers = {
        s["metric"]["peer_service"]
        for s in prometheus.query("http_client_duration_milliseconds_count")
    }
    assert peers == {"autobot-ai-stack"}
    ssh = prometheus.query("ssh_operations_total")
    assert [s["metric"]["ssh_target_vm"] for s in ssh] == ["redis"]


def test_exemplars_reach_prometheus_with_the_trace_id(stack):
    prometheus, trace_id = stack

    def exemplar_trace_ids() -> set[str]:
        now = time.time()
        found = prometheus.api(
            "/api/v1/query_exemplars",
            query="llm_inference_duration_milliseconds_bucket",
            start=now - 3600,
            end=now + 60,
        )
        return {e["labels"]["trace_id"] for series in found for e in series["exemplars"]}

    assert trace_id in wait_until(exemplar_trace_ids, 30, "the LLM inference's exemplar")
