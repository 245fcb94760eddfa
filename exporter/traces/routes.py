"""``POST /v1/traces``: OTLP/HTTP, protobuf or JSON, plain or gzip, on the exporter's own
address (AutoBot's ``AUTOBOT_OTEL_ENDPOINT`` points at the sidecar).

Bounded as ``POST /api/v1/events`` is: the ingest token guards it, it shares the
``max_concurrent_ingest`` slots, its decoded body is at most ``max_body_bytes`` and must
arrive within ``ingest_read_timeout``. Replies are in the request's encoding: 200 with an
ExportTraceServiceResponse (a partial success names the spans set aside), 400 with a
google.rpc.Status for an undecodable body (no series change), 415 for another Content-Type,
413 past the limit, 401 without the token, 503 with Retry-After when every slot is taken.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import hdrs, web

from exporter.log_once import LogOnce
from exporter.traces.otlp_body import (
    CONTENT_TYPES,
    JSON,
    PROTOBUF,
    UndecodableBody,
    decode_request,
    status_body,
    success_body,
)
from exporter.traces.span_store import SpanStore
from exporter.traces.spans import request_spans
from exporter.web.auth import unauthorized
from exporter.web.body import BodyRefused, request_body
from exporter.web.keys import CONFIG, INGEST_LIMIT

log = logging.getLogger(__name__)

SPAN_STORE = web.AppKey("span_store", SpanStore)
REFUSALS_LOG = web.AppKey("otlp_refusals_log", LogOnce)
RECORD_SLICE_SPANS = 1000
"""Spans recorded between two turns of the event loop."""


def _reply(status: int, body: bytes, content_type: str) -> web.Response:
    return web.Response(status=status, body=body, content_type=content_type)


def _refuse(request: web.Request, status: int, reason: str, message: str) -> web.Response:
    """Count and (the first of each reason) log a request refused whole; the reply is a
    google.rpc.Status in the request's encoding, or JSON when that is not OTLP's."""
    request.app[SPAN_STORE].requests_rejected.labels(reason).inc()
    request.app[REFUSALS_LOG].first(
        reason,
        "refused an OTLP trace request (%d %s): %s; further ones are only counted in "
        "autobot_exporter_otlp_requests_rejected_total",
        status,
        reason,
        message,
    )
    content_type = request.content_type if request.content_type in CONTENT_TYPES else JSON
    response = _reply(status, status_body(message, content_type), content_type)
    if status == 401:
        response.headers[hdrs.WWW_AUTHENTICATE] = 'Bearer realm="autobot-exporter"'
    return response


def _gatekeep(request: web.Request) -> web.Response | None:
    if unauthorized(request) is not None:
        return _refuse(request, 401, "unauthorized", "missing or wrong bearer token")
    if request.content_type not in CONTENT_TYPES:
        return _refuse(
            request,
            415,
            "unsupported_media_type",
            f"Content-Type {request.content_type!r} is not accepted; send {PROTOBUF} or {JSON}",
        )
    return None


async def post_traces(request: web.Request) -> web.Response:
    refusal = _gatekeep(request)
    if refusal is not None:
        refusal.force_close()  # the unread body must not be parsed as the next request
        return refusal
    slots = request.app[INGEST_LIMIT]
    if not slots.try_acquire():
        response = _refuse(request, 503, "too_many_requests", slots.refusal("ingest requests"))
        response.headers[hdrs.RETRY_AFTER] = "1"
        response.force_close()
        return response
    try:
        return await _receive(request)
    finally:
        slots.release()


async def _receive(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    content_type = request.content_type
    try:
        body = await request_body(request, config.max_body_bytes, config.ingest_read_timeout)
        decoded = decode_request(body, content_type)
    except BodyRefused as refused:
        return _refuse(request, refused.status, refused.reason, refused.message)
    except UndecodableBody as error:
        return _refuse(request, 400, "malformed", str(error))
    found = request_spans(decoded)
    store = request.app[SPAN_STORE]
    store.spans_received.inc(len(found.spans) + found.rejected)
    for start in range(0, len(found.spans), RECORD_SLICE_SPANS):
        if start:
            await asyncio.sleep(0)  # the loop's turn: scrapes and other requests
        store.record(found.spans[start : start + RECORD_SLICE_SPANS])
    if found.rejected:
        store.spans_rejected.labels("invalid").inc(found.rejected)
    message = f"{found.rejected} span(s) set aside; the first: {found.first_problem}"
    return _reply(200, success_body(found.rejected, message, content_type), content_type)
