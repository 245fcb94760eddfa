"""``POST /api/v1/events``: authenticate, bound, decode and apply a batch of events.

Batch semantics: valid events are applied even when others in the same body are invalid;
the 422 reply lists the first invalid ones (index, path, message), how many there were and
how many were accepted, so a client drops the batch rather than resending it (a resend is
harmless too: event ids make it idempotent). A body that is not JSON at all is refused
whole with 400.

Bounds: a request holds an ingest slot (``max_concurrent_ingest``) from its first body
byte to its reply, so at most that many bodies are in memory. One body at a time is
decoded and applied (``APPLY_LOCK``), in slices of ``APPLY_SLICE_EVENTS`` with the event
loop free between them: a scrape, a health check or a small batch waits for one slice,
never for the whole of the largest body.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import hdrs, web

from exporter.log_once import LogOnce
from exporter.web.auth import unauthorized
from exporter.web.body import BodyRefused, request_body
from exporter.web.errors import json_error
from exporter.web.keys import (
    APPLY_LOCK,
    CONFIG,
    INGEST_LIMIT,
    INGEST_REFUSALS_LOG,
    SELF_METRICS,
    TRACKER,
)
from exporter.workflows.events import MalformedBody, decode_events
from exporter.workflows.metrics import RejectReason

log = logging.getLogger(__name__)

JSON_TYPES = frozenset({"application/json"})
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})
ACCEPTED_TYPES = JSON_TYPES | NDJSON_TYPES
APPLY_SLICE_EVENTS = 1000
"""Events applied between two turns of the event loop (about 3 ms of CPU)."""


def new_refusals_log() -> LogOnce:
    """The app's memory of which refusal reasons were logged already."""
    return LogOnce(log)


def _refuse(request: web.Request, status: int, reason: RejectReason, message: str) -> web.Response:
    return _refused(request, json_error(status, message), reason, message)


def _refused(
    request: web.Request, response: web.Response, reason: RejectReason, message: str
) -> web.Response:
    """Count the refused request; log the first of each reason, not every one."""
    request.app[SELF_METRICS].events_rejected(reason).inc()
    request.app[INGEST_REFUSALS_LOG].first(
        reason,
        "refused an ingest request (%d %s): %s; further ones are only counted in "
        "autobot_exporter_events_rejected_total",
        response.status,
        reason,
        message,
    )
    return response


async def post_events(request: web.Request) -> web.Response:
    content_type = request.content_type if "Content-Type" in request.headers else "application/json"
    refusal = _gatekeep(request, content_type)
    if refusal is not None:
        return _closing(refusal)
    limit = request.app[INGEST_LIMIT]
    if not limit.try_acquire():
        response = json_error(503, limit.refusal("ingest requests"))
        response.headers[hdrs.RETRY_AFTER] = "1"
        return _closing(response)
    try:
        body = await _read_body(request)
        if isinstance(body, web.Response):
            return _closing(body)
        async with request.app[APPLY_LOCK]:
            return await _apply(request, body, ndjson=content_type in NDJSON_TYPES)
    finally:
        limit.release()


def _closing(response: web.Response) -> web.Response:
    """A refusal sent before the body was read: the rest of the body is still on the
    connection, so close it rather than parse that as the next request (with aiohttp 3.9,
    the request after a gzip bomb hung)."""
    response.force_close()
    return response


def _gatekeep(request: web.Request, content_type: str) -> web.Response | None:
    """The refusal of a request not worth reading: no valid token, or not JSON."""
    refusal = unauthorized(request)
    if refusal is not None:
        return _refused(request, refusal, "unauthorized", "no valid bearer token")
    if content_type not in ACCEPTED_TYPES:
        return _refuse(
            request,
            415,
            "unsupported_media_type",
            f"Content-Type {content_type!r} is not accepted; send application/json "
            "(one event or an array) or application/x-ndjson",
        )
    return None


async def _read_body(request: web.Request) -> bytes | web.Response:
    """The body, or the reply refusing it (web/body.py)."""
    config = request.app[CONFIG]
    try:
        return await request_body(request, config.max_body_bytes, config.ingest_read_timeout)
    except BodyRefused as refused:
        return _refuse(request, refused.status, refused.reason, refused.message)


async def _apply(request: web.Request, body: bytes, ndjson: bool) -> web.Response:
    try:
        batch = decode_events(body, ndjson=ndjson)
    except MalformedBody as error:
        return _refuse(request, 400, "malformed", f"body is not valid JSON: {error}")
    tracker = request.app[TRACKER]
    accepted = duplicates = 0
    for start in range(0, len(batch.events), APPLY_SLICE_EVENTS):
        if start:
            await asyncio.sleep(0)  # the loop's turn: scrapes and other requests
        applied, repeated = tracker.apply(batch.events[start : start + APPLY_SLICE_EVENTS])
        accepted += applied
        duplicates += repeated
    if not batch.error_count:
        return web.Response(
            body=b'{"accepted": %d, "duplicates": %d}' % (accepted, duplicates),
            status=202,
            content_type="application/json",
        )
    request.app[SELF_METRICS].events_rejected("invalid").inc(batch.error_count)
    return json_error(
        422,
        f"{batch.error_count} event(s) invalid and not applied; the other events were applied",
        errors=[{"index": e.index, "path": e.path, "message": e.message} for e in batch.errors],
        error_count=batch.error_count,
        accepted=accepted,
        duplicates=duplicates,
    )
