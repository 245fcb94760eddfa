"""The spans of a decoded request, each with what the span-metric families read from it;
spans that cannot be measured (ids of the wrong size, an end before the start) are set
aside with the reason, as OTLP's partial success reports them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

KIND_NAMES = {number: name for name, number in Span.SpanKind.items()}
STATUS_NAMES = {number: name for name, number in Status.StatusCode.items()}
TRACE_ID_BYTES, SPAN_ID_BYTES = 16, 8


def text(value: AnyValue | None) -> str:
    """An attribute value as a label: scalars as text; absent, arrays, maps, bytes as ""."""
    if value is None:
        return ""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "bool_value":
        return "true" if value.bool_value else "false"
    if which == "int_value":
        return str(value.int_value)
    if which == "double_value":
        return repr(value.double_value)
    return ""


def attributes(pairs: Iterator[KeyValue] | list[KeyValue]) -> dict[str, AnyValue]:
    return {pair.key: pair.value for pair in pairs}


@dataclass(slots=True)
class SpanView:
    """One span as the families see it."""

    name: str
    kind: str
    status_code: str
    duration_ms: float
    end_seconds: float
    trace_id: str
    span_id: str
    attributes: dict[str, AnyValue]
    resource: Mapping[str, AnyValue]


@dataclass(slots=True)
class RequestSpans:
    spans: list[SpanView] = field(default_factory=list)
    rejected: int = 0
    first_problem: str = ""


def _problem(span: Span) -> str | None:
    if len(span.trace_id) != TRACE_ID_BYTES or not any(span.trace_id):
        return f"trace_id must be {TRACE_ID_BYTES} bytes, not all zero"
    if len(span.span_id) != SPAN_ID_BYTES or not any(span.span_id):
        return f"span_id must be {SPAN_ID_BYTES} bytes, not all zero"
    if span.end_time_unix_nano < span.start_time_unix_nano:
        return "end_time_unix_nano is before start_time_unix_nano"
    return None


def request_spans(request: ExportTraceServiceRequest) -> RequestSpans:
    found = RequestSpans()
    for r, resource_spans in enumerate(request.resource_spans):
        resource = attributes(resource_spans.resource.attributes)
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            for n, span in enumerate(scope_spans.spans):
                problem = _problem(span)
                if problem is not None:
                    if not found.rejected:
                        found.first_problem = (
                            f"resource_spans[{r}].scope_spans[{s}].spans[{n}]: {problem}"
                        )
                    found.rejected += 1
                    continue
                found.spans.append(
                    SpanView(
                        name=span.name,
                        kind=KIND_NAMES.get(span.kind, "SPAN_KIND_UNSPECIFIED"),
                        status_code=STATUS_NAMES.get(span.status.code, "STATUS_CODE_UNSET"),
                        duration_ms=(span.end_time_unix_nano - span.start_time_unix_nano) / 1e6,
                        end_seconds=span.end_time_unix_nano / 1e9,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        attributes=attributes(span.attributes),
                        resource=resource,
                    )
                )
    return found
