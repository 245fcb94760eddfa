"""``GET /api/monitoring/dashboard/overview``: the system figures AutoBot's current
frontend reads (AutoBot moved them from the metrics router to a monitoring router)."""

from __future__ import annotations

from aiohttp import web

from exporter.jsonapi.context import latest_snapshot
from exporter.jsonapi.system_json import overview_view

routes = web.RouteTableDef()


@routes.get("/api/monitoring/dashboard/overview")
async def get_overview(request: web.Request) -> web.Response:
    return web.json_response(overview_view(latest_snapshot(request)))
