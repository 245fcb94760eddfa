"""``POST /v1/traces`` on the real exporter process, fed by the real OpenTelemetry SDK and
OTLP/HTTP exporters: protobuf and JSON, gzip and not, give exact connector-named counts
and buckets, with trace ids as exemplars on an OpenMetrics scrape; bad bodies get 400, 413,
415 or 401 and change no series."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from google.protobuf import json_format
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.trace import SpanKind

from tests.support.otel import emit, otlp_tracer
from tests.support.processes import Exporter, sample_lookup
from tests.support.promtool import check_metrics_problems
from tests.support.spans import request, span

pytestmark = pytest.mark.e2e

TOKEN = "trace-token"
PROTOBUF = {"Content-Type": "application/x-protobuf"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exporter]:
    directory = tmp_path_factory.mktemp("traces")
    (directory / "token").write_text(TOKEN)
    running = Exporter(
        directory, f"ingest_token_file: {directory / 'token'}\nmax_body_bytes: 65536\n"
    )
    yield running
    running.stop()


def span_families(exporter: Exporter) -> list[str]:
    """Every sample of the span-metric families (not the self-metrics)."""
    return sorted(
        line
        for line in exporter.metrics_text().splitlines()
        if not line.startswith(("#", "autobot_", "process_", "python_"))
    )


def labels(name: str, kind: str = "INTERNAL", status: str = "UNSET") -> dict[str, str]:
    return {
        "service_name": "autobot-backend",
        "span_name": name,
        "span_kind": f"SPAN_KIND_{kind}",
        "status_code": f"STATUS_CODE_{status}",
    }


@pytest.mark.parametrize(
    ("encoding", "compressed"),
    [("protobuf", False), ("protobuf", True), ("json", False), ("json", True)],
)
def test_spans_through_the_otlp_exporter_give_exact_counts_and_buckets(
    exporter, encoding, compressed
):
    name = f"{encoding}-{'gzip' if compressed else 'plain'}"
    with otlp_tracer(exporter.url, encoding, compressed, headers=AUTH) as tracer:
        for duration in (1.0, 2.0, 3.0, 45.0, 20_000.0):
            emit(tracer, name, SpanKind.CLIENT, duration)
        emit(tracer, name, SpanKind.CLIENT, 7.0, error=True)
    get = exporter.sample_getter()
    assert get("traces_span_metrics_calls_total", **labels(name, "CLIENT")) == 5
    assert get("traces_span_metrics_calls_total", **labels(name, "CLIENT", "ERROR")) == 1
    bucket = "traces_span_metrics_duration_milliseconds_bucket"
    observed = {
        le: get(bucket, **labels(name, "CLIENT"), le=le) for le in ("2.0", "4.0", "50.0", "+Inf")
    }
    assert observed == {"2.0": 2, "4.0": 3, "50.0": 4, "+Inf": 5}
    assert get("traces_span_metrics_duration_milliseconds_sum", **labels(name, "CLIENT")) == (
        pytest.approx(20_051.0)
    )


def test_histograms_carry_the_trace_id_as_exemplar(exporter):
    with otlp_tracer(exporter.url, headers=AUTH) as tracer:
        trace_id = emit(
            tracer, "llm.inference", SpanKind.CLIENT, 812.0, llm__provider="ollama", llm__model="x"
        )
    text = exporter.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    ).text
    bucket = re.search(
        r'^llm_inference_duration_milliseconds_bucket\{le="1000.0",llm_model="x",'
        r'llm_provider="ollama"\} 1.0 # \{span_id="[0-9a-f]{16}",trace_id="([0-9a-f]{32})"\} 812.0',
        text,
        re.MULTILINE,
    )
    assert bucket is not None, text[-3000:]
    assert bucket.group(1) == trace_id


def post(exporter: Exporter, body: bytes, **headers: str) -> requests.Response:
    return exporter.session.post(
        f"{exporter.url}/v1/traces", data=body, headers={**AUTH, **headers}, timeout=10
    )


def test_a_span_that_cannot_be_measured_is_a_partial_success(exporter):
    bad = span("partial", trace_id=bytes(16))
    response = post(exporter, request(span("partial"), bad), **PROTOBUF)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert "spans[1]: trace_id must be 16 bytes" in answer.partial_success.error_message
    assert exporter.sample_getter()("traces_span_metrics_calls_total", **labels("partial")) == 1


@pytest.mark.parametrize(
    ("body", "headers", "status", "reason"),
    [
        (b"\x0a\xff\xff\xff", PROTOBUF, 400, "malformed"),
        (
            b'{"resourceSpans": [{"scopeSpans": 3}]}',
            {"Content-Type": "application/json"},
            400,
            "malformed",
        ),
        (request(span("never")), {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        (
            request(span("never")),
            {**PROTOBUF, "Authorization": "Bearer wrong"},
            401,
            "unauthorized",
        ),
        (request(*(span("never") for _ in range(2000))), PROTOBUF, 413, "too_large"),
        (
            gzip.compress(request(span("never")) + b"\0" * 200_000),
            {**PROTOBUF, "Content-Encoding": "gzip"},
            413,
            "too_large",
        ),
        (
            gzip.compress(request(span("never")))[:-8],
            {**PROTOBUF, "Content-Encoding": "gzip"},
            400,
            "malformed",
        ),
    ],
)
def test_bad_requests_are_refused_and_change_no_series(exporter, body, headers, status, reason):
    before = span_families(exporter)
    rejected = "autobot_exporter_otlp_requests_rejected_total"
    count_before = exporter.sample_getter()(rejected, reason=reason)
    response = post(exporter, body, **headers)
    assert response.status_code == status
    if response.headers["Content-Type"] == "application/json":
        message = json_format.Parse(response.content, Status()).message
    else:
        message = Status.FromString(response.content).message
    assert message
    assert span_families(exporter) == before
    assert exporter.sample_getter()(rejected, reason=reason) == count_before + 1


def test_the_self_metrics_exist_from_start(tmp_path: Path):
    fresh = Exporter(tmp_path)
    try:
        get = sample_lookup(fresh.metrics_text())
        assert get("autobot_exporter_otlp_spans_received_total") == 0
        assert get("autobot_exporter_otlp_spans_rejected_total", reason="invalid") == 0
        assert get("autobot_exporter_otlp_requests_rejected_total", reason="malformed") == 0
        assert get("autobot_exporter_otlp_series", family="spans_created_total") == 0
    finally:
        fresh.stop()


def test_promtool_finds_nothing_but_the_contracted_milliseconds(exporter):
    """The span histograms keep the names the spanmetrics connector and AutoBot's tracing
    dashboard use, in milliseconds; promtool's lint names exactly those, nothing else."""
    with otlp_tracer(exporter.url, headers=AUTH) as tracer:
        emit(tracer, "GET /lint", SpanKind.SERVER, 3.0, http__method="GET", http__route="/lint")
        emit(tracer, "llm.inference", SpanKind.CLIENT, 9.0, llm__provider="p", llm__model="m")
    code, said = check_metrics_problems(exporter.metrics_text())
    flagged = sorted(said.split("\n")) if said.strip() else []
    assert code != 0
    assert [line for line in flagged if line] == [
        f'{family} use base unit "seconds" instead of "milliseconds"'
        for family in (
            "http_server_duration_milliseconds",
            "llm_inference_duration_milliseconds",
            "traces_span_metrics_duration_milliseconds",
        )
    ]
