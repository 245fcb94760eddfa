"""The liveness and readiness endpoints, as node_exporter has them (the landing page is
the status page, exporter/statuspage)."""

from __future__ import annotations

from aiohttp import web

from exporter.web.keys import SAMPLER, TRACKER

routes = web.RouteTableDef()


@routes.get("/-/healthy")
async def healthy(request: web.Request) -> web.Response:
    return web.Response(text="Healthy.\n")


@routes.get("/-/ready")
async def ready(request: web.Request) -> web.Response:
    """Ready once the sampler has made a pass; 503 again if it stops making them."""
    sampler = request.app[SAMPLER]
    if sampler.is_stale(request.app[TRACKER].now()):
        return web.Response(status=503, text="Not ready: no recent system sample.\n")
    return web.Response(text="Ready.\n")
