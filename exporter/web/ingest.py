"""``POST /api/v1/events``: authenticate, bound, decode and apply a batch of events.

Batch semantics: valid events are applied even when others in the same body are invalid;
the 422 reply lists each invalid one (index, path, message) and how many were accepted,
so a client drops the batch rather than resending it (a resend is harmless too: event
ids make it idempotent). A body that is not JSON at all is refused whole with 400.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import hdrs, web

from exporter.log_once import LogOnce
from exporter.web.auth import unauthorized
from exporter.web.body import BodyRefused, buffered_body, read_body
from exporter.web.errors import json_error
from exporter.web.keys import CONFIG, INGEST_LIMIT, INGEST_REFUSALS_LOG, SELF_METRICS, TRACKER
from exporter.workflows.events import MalformedBody, decode_events
from exporter.workflows.metrics import RejectReason

log = logging.getLogger(__name__)

JSON_TYPES = frozenset({"application/json"})
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})
ACCEPTED_TYPES = JSON_TYPES | NDJSON_TYPES
MAX_REPORTED_ERRORS = 100
"""A 1 MiB body can hold ~100k bad events; the reply lists the first ones and the count."""


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
    refusal = _gatekeep(request, content_type)  # a Response is falsy (a Mapping): no `or`
    body = refusal if refusal is not None else await _read_body(request)
    if isinstance(body, web.Response):
        # The rest of the body is still on the connection: close it rather than parse that
        # as the next request (with aiohttp 3.9, the request after a gzip bomb hung).
        body.force_close()
        return body
    return _apply(request, body, ndjson=content_type in NDJSON_TYPES)


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
    """The body, or the reply refusing it: 503 past max_concurrent_ingest, 413 past
    max_body_bytes, 408 when it does not arrive within ingest_read_timeout (a stalled
    client would otherwise hold its slot for ever). Only this read awaits: from its end to
    the reply nothing else runs on the loop, so at most max_concurrent_ingest bodies are
    held at once."""
    limit = request.app[INGEST_LIMIT]
    if not limit.try_acquire():
        response = json_error(503, limit.refusal("ingest requests"))
        response.headers[hdrs.RETRY_AFTER] = "1"
        return response
    config = request.app[CONFIG]
    try:
        body = buffered_body(request, config.max_body_bytes)
        if body is not None:
            return body
        async with asyncio.timeout(config.ingest_read_timeout):
            return await read_body(request, config.max_body_bytes)
    except TimeoutError:
        return _refuse(
            request,
            408,
            "read_timeout",
            f"the body did not arrive within ingest_read_timeout ({config.ingest_read_timeout:g}s)",
        )
    except BodyRefused as refused:
        return _refuse(request, refused.status, refused.reason, refused.message)
    finally:
        limit.release()


def _apply(request: web.Request, body: bytes, ndjson: bool) -> web.Response:
    try:
        batch = decode_events(body, ndjson=ndjson)
    except MalformedBody as error:
        return _refuse(request, 400, "malformed", f"body is not valid JSON: {error}")
    accepted, duplicates = request.app[TRACKER].apply(batch.events)
    if not batch.errors:
        return web.Response(
            body=b'{"accepted": %d, "duplicates": %d}' % (accepted, duplicates),
            status=202,
            content_type="application/json",
        )
    request.app[SELF_METRICS].events_rejected("invalid").inc(len(batch.errors))
    return json_error(
        422,
        f"{len(batch.errors)} event(s) invalid and not applied; the other events were applied",
        errors=[
            {"index": e.index, "path": e.path, "message": e.message}
            for e in batch.errors[:MAX_REPORTED_ERRORS]
        ],
        error_count=len(batch.errors),
        accepted=accepted,
        duplicates=duplicates,
    )
