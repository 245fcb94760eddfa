"""``GET /metrics``: the registry rendered in a worker thread.

prometheus_client's exposition costs ~15-20 µs a line; at the label caps (about 10,000 lines)
that is ~200 ms, which on the event loop would stall ingest for every scrape. In a thread the
loop keeps serving between the interpreter's switches. The metric objects are thread-safe
(client_python locks each value), and the system families come from an immutable snapshot.
"""

from __future__ import annotations

import asyncio

from aiohttp import hdrs, web
from prometheus_client.registry import Collector

from exporter.web.exposition import choose
from exporter.web.keys import REGISTRY, SCRAPE_LIMIT


async def metrics(request: web.Request) -> web.Response:
    """Text format, or OpenMetrics (with exemplars) when the Accept header asks; ``name[]``
    restricts the output to the named families, as client_python's own handlers do."""
    names = request.query.getall("name[]", [])
    registry: Collector = request.app[REGISTRY]
    if names:
        registry = request.app[REGISTRY].restricted_registry(names)
    encoder, content_type = choose(",".join(request.headers.getall(hdrs.ACCEPT, [])))
    limit = request.app[SCRAPE_LIMIT]
    if not limit.try_acquire():
        return web.Response(status=503, text=limit.refusal("/metrics renders") + "\n")
    try:
        body = await asyncio.to_thread(encoder, registry)
    finally:
        limit.release()
    response = web.Response(body=body, headers={hdrs.CONTENT_TYPE: content_type})
    response.enable_compression()
    return response
