"""``GET /api/metrics/dashboard``: the original one-call dashboard payload."""

from __future__ import annotations

from aiohttp import web

from exporter.jsonapi.context import health, latest_snapshot, window_resources, window_summary
from exporter.units import iso_time
from exporter.web.keys import SAMPLER, TRACKER

routes = web.RouteTableDef()

DASHBOARD_RESOURCE_MINUTES = 30
DASHBOARD_WINDOW_HOURS = 24


@routes.get("/api/metrics/dashboard")
async def get_dashboard(request: web.Request) -> web.Response:
    tracker = request.app[TRACKER]
    snapshot = latest_snapshot(request)
    system_health = health(request, snapshot)
    current = system_health["current_metrics"]
    dashboard = {
        "timestamp": iso_time(tracker.now()),
        "workflow_performance": await window_summary(tracker, DASHBOARD_WINDOW_HOURS),
        "system_health": system_health,
        "resource_usage": window_resources(request, DASHBOARD_RESOURCE_MINUTES),
        "current_status": {
            "cpu_percent": current["cpu_percent"],
            "memory_percent": current["memory_percent"],
            "disk_percent": current["disk_percent"],
            "monitoring_active": request.app[SAMPLER].active,
        },
        "active_workflows": tracker.active_count,
    }
    return web.json_response({"success": True, "dashboard": dashboard})
