"""Span metrics from OTLP requests: the spanmetrics connector's families, AutoBot's span
shapes (the table of the traces issue) onto its tracing dashboard's names, the buckets,
sampling, exemplars, and the bounds (series cap with overflow, label length, expiry)."""

from __future__ import annotations

import tracemalloc

import pytest
from prometheus_client import CollectorRegistry

from exporter.config import ConfigError, parse_config
from exporter.traces.otlp_body import PROTOBUF, decode_request
from exporter.traces.span_store import SpanStore
from exporter.traces.spans import request_spans
from tests.support.spans import request, span


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def store(config_text: str = "", clock: Clock | None = None) -> tuple[SpanStore, CollectorRegistry]:
    registry = CollectorRegistry()
    spans = SpanStore(parse_config(config_text).otlp, registry, clock or Clock())
    return spans, registry


def send(spans: SpanStore, body: bytes) -> int:
    """Records the request's spans; how many were set aside."""
    found = request_spans(decode_request(body, PROTOBUF))
    spans.record(found.spans)
    return found.rejected


SPANMETRICS_CALLS = "traces_span_metrics_calls_total"


def calls(registry: CollectorRegistry, name: str, kind: str, status: str = "UNSET") -> float:
    labels = {
        "service_name": "autobot-backend",
        "span_name": name,
        "span_kind": f"SPAN_KIND_{kind}",
        "status_code": f"STATUS_CODE_{status}",
    }
    return registry.get_sample_value(SPANMETRICS_CALLS, labels) or 0.0


def test_autobots_span_shapes_fill_its_dashboards_families():
    spans, registry = store()
    send(
        spans,
        request(
            span("llm.chat_completion", llm__provider="ollama", llm__model="llama3"),
            span("llm.provider.ollama", llm__provider="ollama", llm__model="llama3"),
            span(
                "llm.inference", "CLIENT", 1500, "OK", llm__provider="ollama", llm__model="llama3"
            ),
            span("llm.inference", "CLIENT", 30, "ERROR", llm__provider="openai", llm__model="gpt"),
            span(
                "ssh.distribute_certificates",
                "CLIENT",
                ssh__target_vm="redis",
                pki__operation="distribute",
                ssh__files_copied=3,
            ),
            span(
                "POST /api/chat",
                "SERVER",
                120,
                http__method="POST",
                http__route="/api/chat",
                http__status_code=200,
            ),
            span("GET", "SERVER", 2, http__method="GET", http__status_code=404),
            span("POST /api/chat http send", "INTERNAL", asgi__event__type="http.response.body"),
            span("SET", "CLIENT", db__system="redis", db__statement="SET ? ?"),
            span("SET GET", "CLIENT", db__system="redis", db__statement="SET ? ?;GET ?"),
            span("GET", "CLIENT", http__method="GET", http__url="http://172.16.168.24:8080/v1"),
            span("POST", "CLIENT", http__method="POST", http__url="https://api.example.com/x"),
            span("GET", "CLIENT", http__method="GET", peer__service="autobot-npu-worker"),
        ),
    )
    get = registry.get_sample_value
    assert calls(registry, "llm.chat_completion", "INTERNAL") == 1
    assert calls(registry, "llm.inference", "CLIENT", "ERROR") == 1
    assert get("spans_created_total", {"service_name": "autobot-backend"}) == 13
    assert get("llm_inference_total", {"llm_provider": "ollama", "llm_model": "llama3"}) == 1
    assert get("llm_inference_total", {"llm_provider": "openai", "llm_model": "gpt"}) == 1
    assert (
        get(
            "llm_inference_duration_milliseconds_bucket",
            {"llm_provider": "ollama", "llm_model": "llama3", "le": "1400.0"},
        )
        == 0
    )
    assert (
        get(
            "llm_inference_duration_milliseconds_bucket",
            {"llm_provider": "ollama", "llm_model": "llama3", "le": "2000.0"},
        )
        == 1
    )
    assert (
        get("ssh_operations_total", {"ssh_target_vm": "redis", "pki_operation": "distribute"}) == 1
    )
    server = {"service_name": "autobot-backend", "http_method": "POST", "http_route": "/api/chat"}
    assert get("http_server_request_count_total", {**server, "http_status_code": "200"}) == 1
    assert (
        get("http_server_duration_milliseconds_sum", {**server, "http_status_code": "200"}) == 120
    )
    unrouted = {"service_name": "autobot-backend", "http_method": "GET", "http_route": ""}
    assert get("http_server_request_count_total", {**unrouted, "http_status_code": "404"}) == 1
    assert get("redis_command_total", {"redis_command": "SET"}) == 2
    client = "http_client_duration_milliseconds_count"
    assert get(client, {"peer_service": "autobot-ai-stack"}) == 1
    assert get(client, {"peer_service": "api.example.com"}) == 1
    assert get(client, {"peer_service": "autobot-npu-worker"}) == 1
    held = {
        family: get("autobot_exporter_otlp_series", {"family": family})
        for family in ("http_server_request_count_total", "http_client_duration_milliseconds")
    }
    assert held == {
        "http_server_request_count_total": 2,
        "http_client_duration_milliseconds": 3,
    }


def test_buckets_are_the_connectors_and_le_is_inclusive():
    spans, registry = store()
    send(
        spans,
        request(
            span("a", duration_ms=2.0), span("a", duration_ms=2.5), span("a", duration_ms=20000)
        ),
    )
    labels = {
        "service_name": "autobot-backend",
        "span_name": "a",
        "span_kind": "SPAN_KIND_INTERNAL",
        "status_code": "STATUS_CODE_UNSET",
    }
    bucket = "traces_span_metrics_duration_milliseconds_bucket"
    counts = {
        le: registry.get_sample_value(bucket, {**labels, "le": le})
        for le in ("2.0", "4.0", "15000.0", "+Inf")
    }
    assert counts == {"2.0": 1, "4.0": 2, "15000.0": 2, "+Inf": 3}


def test_sampled_spans_count_as_the_traffic_they_stand_for():
    spans, registry = store("otlp: {sampling_ratio: 0.1}")
    send(spans, request(span("llm.inference", "CLIENT", llm__provider="p", llm__model="m")))
    assert registry.get_sample_value(
        "llm_inference_total", {"llm_provider": "p", "llm_model": "m"}
    ) == pytest.approx(10)


def test_histogram_buckets_carry_the_newest_trace_as_exemplar():
    spans, registry = store()
    trace_id = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
    send(
        spans,
        request(
            span(
                "llm.inference", "CLIENT", 150, trace_id=trace_id, llm__provider="p", llm__model="m"
            )
        ),
    )
    family = next(f for f in registry.collect() if f.name == "llm_inference_duration_milliseconds")
    exemplars = [s.exemplar for s in family.samples if s.exemplar is not None]
    assert len(exemplars) == 1
    assert exemplars[0].labels["trace_id"] == trace_id.hex()
    assert len(exemplars[0].labels["span_id"]) == 16
    assert exemplars[0].value == 150


def test_dimensions_add_span_or_resource_attributes_to_the_connectors_families():
    spans, registry = store("otlp: {dimensions: [deployment.environment, http.method]}")
    send(spans, request(span("x", http__method="GET"), deployment__environment="prod"))
    labels = {
        "service_name": "autobot-backend",
        "span_name": "x",
        "span_kind": "SPAN_KIND_INTERNAL",
        "status_code": "STATUS_CODE_UNSET",
        "deployment_environment": "prod",
        "http_method": "GET",
    }
    assert registry.get_sample_value(SPANMETRICS_CALLS, labels) == 1


def test_past_the_cap_new_label_sets_count_in_the_overflow_series():
    spans, registry = store("otlp: {max_series_per_family: 5}")
    send(
        spans,
        request(*(span(f"name-{n}") for n in range(100)), *(span("name-0") for _ in range(3))),
    )
    get = registry.get_sample_value
    assert get("autobot_exporter_otlp_series", {"family": SPANMETRICS_CALLS}) == 5
    assert calls(registry, "name-0", "INTERNAL") == 4  # held before the cap: still its own
    assert get(SPANMETRICS_CALLS, {"otel_metric_overflow": "true"}) == 95
    assert (
        get("traces_span_metrics_duration_milliseconds_count", {"otel_metric_overflow": "true"})
        == 95
    )
    assert get("spans_created_total", {"service_name": "autobot-backend"}) == 103


def test_memory_stays_flat_past_the_cap_whatever_the_names():
    spans, _ = store("otlp: {max_series_per_family: 200}")

    def flood(first: int, count: int) -> None:
        for start in range(first, first + count, 500):
            names = (f"{n:08d}" + "x" * 100 for n in range(start, start + 500))
            send(spans, request(*(span(name) for name in names)))

    flood(0, 1000)
    tracemalloc.start()
    flood(1000, 5000)
    after_five, _ = tracemalloc.get_traced_memory()
    flood(6000, 20_000)
    after_twenty_five, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # unbounded, the 20,000 new names would hold 7 families x 20,000 series (over 50 MiB)
    assert after_twenty_five - after_five < 1 << 20


def test_label_values_are_cut_to_the_configured_length():
    spans, registry = store("otlp: {max_label_value_length: 32}")
    send(spans, request(span("n" * 10_000)))
    assert calls(registry, "n" * 32, "INTERNAL") == 1


def test_control_characters_in_label_values_are_replaced():
    spans, registry = store()
    send(spans, request(span("GET\x00/\nevil\x85")))
    assert calls(registry, "GET\ufffd/\ufffdevil\ufffd", "INTERNAL") == 1


def test_idle_series_expire():
    clock = Clock()
    spans, registry = store("otlp: {series_expiry: 10m, max_series_per_family: 1}", clock)
    send(spans, request(span("old"), span("overflowed")))
    clock.now += 300
    send(spans, request(span("old")))
    clock.now += 400  # "old" idle 400 s, the overflow series 700 s
    spans.expire()
    assert calls(registry, "old", "INTERNAL") == 2
    assert registry.get_sample_value(SPANMETRICS_CALLS, {"otel_metric_overflow": "true"}) is None
    clock.now += 601
    spans.expire()
    assert calls(registry, "old", "INTERNAL") == 0
    assert (
        registry.get_sample_value("autobot_exporter_otlp_series", {"family": SPANMETRICS_CALLS})
        == 0
    )


def test_spans_that_cannot_be_measured_are_set_aside():
    bad_ids = span("bad", trace_id=bytes(16))
    backwards = span("backwards")
    backwards.end_time_unix_nano = backwards.start_time_unix_nano - 1
    found = request_spans(decode_request(request(span("good"), bad_ids, backwards), PROTOBUF))
    assert found.rejected == 2
    assert (
        found.first_problem
        == "resource_spans[0].scope_spans[0].spans[1]: trace_id must be 16 bytes, not all zero"
    )
    assert [s.name for s in found.spans] == ["good"]


@pytest.mark.parametrize(
    ("config_text", "message"),
    [
        (
            "otlp: {families: [{calls: spans_total, duration: x}, {calls: spans_total}]}",
            "'spans_total' is already a family",
        ),
        ("otlp: {families: [{calls: spans}]}", "families[0].calls: a counter name ends in _total"),
        ("otlp: {families: [{labels: {a: b}}]}", "families[0]: needs calls, duration or both"),
        (
            "otlp: {families: [{calls: a_total, labels: {x: span.colour}}]}",
            "families[0].labels.x: unknown source 'span.colour'",
        ),
        (
            "otlp: {families: [{calls: a_total, labels: {le: span.name}}]}",
            "'le' is not a usable label name",
        ),
        (
            "otlp: {families: [{calls: a_total, match: {kind: SERVER}}]}",
            "otlp.families[0].match.kind",
        ),
        ("otlp: {sampling_ratio: 0}", "otlp.sampling_ratio"),
    ],
)
def test_a_bad_table_is_refused_naming_the_row(config_text, message):
    with pytest.raises(
        ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")
    ):
        parse_config(config_text)
