"""``GET /api/metrics/dashboard``: the original one-call dashboard payload."""

from __future__ import annotations

from aiohttp import web

from exporter.keys import TRACKER
from exporter.workflow_api import DASHBOARD_WINDOW_HOURS, window_summary
from exporter.workflow_json import iso_time

routes = web.RouteTableDef()


@routes.get("/api/metrics/dashboard")
async def get_dashboard(request: web.Request) -> web.Response:
    tracker = request.app[TRACKER]
    dashboard = {
        "timestamp": iso_time(tracker.now()),
        "workflow_performance": window_summary(tracker, DASHBOARD_WINDOW_HOURS),
        "active_workflows": tracker.active_count,
    }
    return web.json_response({"success": True, "dashboard": dashboard})
