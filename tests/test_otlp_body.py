"""OTLP request bodies: protobuf, and JSON in the OTLP mapping (hex ids, lowerCamelCase or
proto names, enums as names or numbers, unknown fields ignored); the replies in the
request's encoding; undecodable bodies refused with the place named."""

from __future__ import annotations

import json

import pytest
from google.protobuf import json_format
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from exporter.traces.otlp_body import (
    JSON,
    PROTOBUF,
    UndecodableBody,
    decode_request,
    status_body,
    success_body,
)
from exporter.traces.spans import request_spans
from tests.support.spans import request, span

TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"


def otlp_json(kind: object = 2, status: object = 2, **span_fields: object) -> bytes:
    """A body as the OTLP JSON mapping writes one (the specification's example shape)."""
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [
                            {"key": "service.name", "value": {"stringValue": "autobot-backend"}}
                        ]
                    },
                    "scopeSpans": [
                        {
                            "scope": {"name": "opentelemetry.instrumentation.fastapi"},
                            "spans": [
                                {
                                    "traceId": TRACE_ID,
                                    "spanId": SPAN_ID,
                                    "parentSpanId": "",
                                    "name": "GET /api/health",
                                    "kind": kind,
                                    "startTimeUnixNano": "1544712660000000000",
                                    "endTimeUnixNano": "1544712661500000000",
                                    "attributes": [
                                        {"key": "http.method", "value": {"stringValue": "GET"}},
                                        {"key": "http.status_code", "value": {"intValue": "500"}},
                                    ],
                                    "status": {"code": status},
                                    "links": [{"traceId": TRACE_ID, "spanId": SPAN_ID}],
                                    "someFutureField": {"ignored": True},
                                    **span_fields,
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    ).encode()


@pytest.mark.parametrize(("kind", "status"), [(2, 2), ("SPAN_KIND_SERVER", "STATUS_CODE_ERROR")])
def test_otlp_json_with_hex_ids_and_enums_as_numbers_or_names(kind, status):
    (view,) = request_spans(decode_request(otlp_json(kind, status), JSON)).spans
    assert (view.trace_id, view.span_id) == (TRACE_ID, SPAN_ID)
    assert (view.name, view.kind, view.status_code) == (
        "GET /api/health",
        "SPAN_KIND_SERVER",
        "STATUS_CODE_ERROR",
    )
    assert view.duration_ms == 1500
    assert view.attributes["http.status_code"].int_value == 500
    assert view.resource["service.name"].string_value == "autobot-backend"


def test_proto_field_names_are_read_too():
    body = json.loads(otlp_json())
    scope = body["resourceSpans"][0]["scopeSpans"][0]
    body = {"resource_spans": [{"scope_spans": [{"spans": [{**scope["spans"][0]}]}]}]}
    only = body["resource_spans"][0]["scope_spans"][0]["spans"][0]
    only["trace_id"] = only.pop("traceId")
    (view,) = request_spans(decode_request(json.dumps(body).encode(), JSON)).spans
    assert view.trace_id == TRACE_ID


def test_protobuf_body():
    decoded = decode_request(request(span("x", "CLIENT", 3)), PROTOBUF)
    (view,) = request_spans(decoded).spans
    assert (view.name, view.kind, view.duration_ms) == ("x", "SPAN_KIND_CLIENT", 3)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"\xff\xff\xff", PROTOBUF, "not an OTLP protobuf ExportTraceServiceRequest"),
        (b"{", JSON, "body is not valid JSON"),
        (b"[]", JSON, "not an OTLP JSON object"),
        (b'{"resourceSpans": 5}', JSON, "not an OTLP JSON ExportTraceServiceRequest"),
        (
            otlp_json(traceId="not-hex"),
            JSON,
            "resourceSpans[0].scopeSpans[0].spans[0].traceId: 'not-hex' is not hex",
        ),
        (otlp_json(startTimeUnixNano="soon"), JSON, "startTimeUnixNano"),
    ],
)
def test_undecodable_bodies_are_refused_with_the_place_named(body, content_type, message):
    with pytest.raises(UndecodableBody) as refused:
        decode_request(body, content_type)
    assert message in str(refused.value)


def test_replies_are_in_the_requests_encoding():
    partial = ExportTraceServiceResponse.FromString(success_body(2, "two bad", PROTOBUF))
    assert (partial.partial_success.rejected_spans, partial.partial_success.error_message) == (
        2,
        "two bad",
    )
    assert json.loads(success_body(2, "two bad", JSON)) == {
        "partialSuccess": {"rejectedSpans": "2", "errorMessage": "two bad"}
    }
    assert json.loads(success_body(0, "", JSON)) == {}
    assert Status.FromString(status_body("bad", PROTOBUF)).message == "bad"
    status = json_format.Parse(status_body("bad", JSON), Status())
    assert (status.code, status.message) == (3, "bad")
