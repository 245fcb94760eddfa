"""OTLP trace requests built from short descriptions, for the unit tests of the span path
(the end-to-end tests send through the real OpenTelemetry SDK instead)."""

from __future__ import annotations

import itertools
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from exporter.demo_spans import key_values

START_NANOS = 1_800_000_000 * 10**9
_ids = itertools.count(1)


def span(
    name: str,
    kind: str = "INTERNAL",
    duration_ms: float = 1.0,
    status: str = "UNSET",
    trace_id: bytes | None = None,
    **attributes: Any,
) -> Span:
    """A span; attribute keys with dots are given with ``__`` (``http__method``)."""
    number = next(_ids)
    return Span(
        name=name,
        kind=Span.SpanKind.Value(f"SPAN_KIND_{kind}"),
        trace_id=trace_id or number.to_bytes(16, "big"),
        span_id=number.to_bytes(8, "big"),
        start_time_unix_nano=START_NANOS,
        end_time_unix_nano=START_NANOS + round(duration_ms * 1e6),
        status=Status(code=Status.StatusCode.Value(f"STATUS_CODE_{status}")),
        attributes=key_values({k.replace("__", "."): v for k, v in attributes.items()}),
    )


def request(*spans: Span, service: str = "autobot-backend", **resource: Any) -> bytes:
    """A serialised ExportTraceServiceRequest of one resource and one scope (resource
    attribute keys with ``__`` for dots, as in ``span``)."""
    message = ExportTraceServiceRequest()
    resource_spans = message.resource_spans.add()
    attributes = {"service.name": service, **{k.replace("__", "."): v for k, v in resource.items()}}
    resource_spans.resource.attributes.extend(key_values(attributes))
    resource_spans.scope_spans.add().spans.extend(spans)
    return message.SerializeToString()
