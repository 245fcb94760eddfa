"""An OTLP/HTTP trace request body, protobuf or JSON, as an ExportTraceServiceRequest, and
the replies in the request's own encoding.

Protobuf is parsed by the upb-backed ``opentelemetry-proto`` messages. JSON follows the
OTLP JSON mapping, which differs from protobuf's own in one place: trace and span ids are
hex, not base64. They are turned into base64 before ``ParseDict``; field names may be
lowerCamelCase or as in the .proto, enums names or numbers, unknown fields are ignored
(as the specification asks of a receiver).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
CONTENT_TYPES = (PROTOBUF, JSON)
INVALID_ARGUMENT = 3
"""google.rpc.Code of an undecodable request."""
ID_FIELDS = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")


class UndecodableBody(ValueError):
    """The body is not an ExportTraceServiceRequest in its declared encoding."""


def decode_request(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    if content_type == PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError as error:
            raise UndecodableBody(
                f"body is not an OTLP protobuf ExportTraceServiceRequest: {error}"
            ) from None
        return request
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UndecodableBody(f"body is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise UndecodableBody('body is not an OTLP JSON object (expected {"resourceSpans": [...]})')
    _hex_ids_to_base64(document)
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise UndecodableBody(
            f"body is not an OTLP JSON ExportTraceServiceRequest: {error}"
        ) from None
    return request


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    for r, resource_spans in _items(document, "resourceSpans", "resource_spans"):
        for s, scope_spans in _items(resource_spans, "scopeSpans", "scope_spans"):
            for n, span in _items(scope_spans, "spans", "spans"):
                where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{n}]"
                _convert_ids(span, where)
                for k, link in _items(span, "links", "links"):
                    _convert_ids(link, f"{where}.links[{k}]")


def _items(parent: object, camel: str, snake: str) -> list[tuple[int, Any]]:
    """The dict items of a list field; a wrong type is left for ParseDict to name."""
    if not isinstance(parent, dict):
        return []
    items = parent.get(camel, parent.get(snake))
    if not isinstance(items, list):
        return []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, dict)]


def _convert_ids(message: dict[str, Any], where: str) -> None:
    for key in ID_FIELDS:
        value = message.get(key)
        if isinstance(value, str):
            try:
                message[key] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                raise UndecodableBody(f"{where}.{key}: {value[:40]!r} is not hex") from None


def success_body(rejected: int, message: str, content_type: str) -> bytes:
    """The ExportTraceServiceResponse: empty, or a partial success naming what was dropped."""
    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return _encoded(response, content_type)


def status_body(message: str, content_type: str) -> bytes:
    """The google.rpc.Status of a refused request (the OTLP/HTTP failure body)."""
    return _encoded(Status(code=INVALID_ARGUMENT, message=message), content_type)


def _encoded(message: Any, content_type: str) -> bytes:
    if content_type == JSON:
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()
