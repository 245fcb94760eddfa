"""The real OpenTelemetry SDK and OTLP/HTTP exporters (protobuf and JSON), as AutoBot's
tracing module sets them up, pointed at an exporter under test. Spans get explicit start
and end times, so their durations (and so their buckets) are exact."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from opentelemetry.exporter.otlp.common.http import Compression
from opentelemetry.exporter.otlp.json.http.trace_exporter import (
    OTLPSpanExporter as JsonSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as ProtobufSpanExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

Encoding = Literal["protobuf", "json"]
AUTOBOT_RESOURCE = {
    "service.name": "autobot-backend",
    "service.version": "2.0.0",
    "deployment.environment": "test",
}


@contextmanager
def otlp_tracer(
    url: str,
    encoding: Encoding = "protobuf",
    gzip: bool = False,
    headers: dict[str, str] | None = None,
    resource: dict[str, str] | None = None,
) -> Iterator[Tracer]:
    """A tracer whose every span is exported when it ends (SimpleSpanProcessor), so that
    a span is in the exporter when ``span`` returns; shut down on exit."""
    exporter_class = ProtobufSpanExporter if encoding == "protobuf" else JsonSpanExporter
    exporter = exporter_class(
        endpoint=f"{url}/v1/traces",
        headers=headers,
        compression=Compression.GZIP if gzip else Compression.NONE,
        timeout=10,
    )
    provider = TracerProvider(resource=Resource.create(resource or AUTOBOT_RESOURCE))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield provider.get_tracer("autobot-tests")
    finally:
        provider.shutdown()


def emit(
    tracer: Tracer,
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    duration_ms: float = 1.0,
    *,
    error: bool = False,
    ok: bool = False,
    **attributes: Any,
) -> str:
    """One span of exactly ``duration_ms``, ending now; attribute keys with ``__`` for
    dots. Returns its trace id in hex."""
    end = time.time_ns()
    span = tracer.start_span(
        name,
        kind=kind,
        start_time=end - round(duration_ms * 1e6),
        attributes={key.replace("__", "."): value for key, value in attributes.items()},
    )
    if error:
        span.set_status(Status(StatusCode.ERROR, "failed"))
    elif ok:
        span.set_status(Status(StatusCode.OK))
    trace_id = format(span.get_span_context().trace_id, "032x")
    span.end(end_time=end)
    return trace_id
