"""The system routes of the original AutoBot metrics router, under ``/api/metrics``."""

from __future__ import annotations

import json

from aiohttp import web

from exporter.jsonapi.context import health, latest_snapshot, window_resources
from exporter.jsonapi.exports import export_format_of
from exporter.jsonapi.system_json import snapshot_view
from exporter.jsonapi.system_record import original_record
from exporter.units import iso_time
from exporter.web.auth import unauthorized
from exporter.web.errors import query_int
from exporter.web.keys import CONFIG, SAMPLER, TRACKER

routes = web.RouteTableDef()

SUMMARY_MINUTES_DEFAULT, SUMMARY_MINUTES_MAX = 10, 60


@routes.get("/api/metrics/system/current")
async def get_current(request: web.Request) -> web.Response:
    view = snapshot_view(latest_snapshot(request), request.app[SAMPLER].active)
    return web.json_response({"success": True, "system_metrics": view})


@routes.get("/api/metrics/system/summary")
async def get_summary(request: web.Request) -> web.Response:
    minutes = query_int(request, "minutes", SUMMARY_MINUTES_DEFAULT, 1, SUMMARY_MINUTES_MAX)
    return web.json_response(
        {"success": True, "resource_summary": window_resources(request, minutes)}
    )


@routes.get("/api/metrics/system/health")
async def get_health(request: web.Request) -> web.Response:
    status = health(request, latest_snapshot(request))
    return web.json_response({"success": True, "health_status": status})


@routes.get("/api/metrics/export/system")
async def export_system(request: web.Request) -> web.Response:
    """The original's keys and records; the ring buffer itself under ``resource_history``."""
    export_format, is_json = export_format_of(request)
    if not is_json:
        data = f"Unsupported format: {export_format}"  # the original's words and 200
        return web.json_response({"success": True, "format": export_format, "data": data})
    sampler = request.app[SAMPLER]
    latest = sampler.latest
    history = list(sampler.history())
    export = {
        "monitoring_active": sampler.active,
        "collection_interval": request.app[CONFIG].collection_interval,
        "history_length": len(history),
        "latest_metrics": original_record(latest) if latest else None,
        "summary": window_resources(request, SUMMARY_MINUTES_DEFAULT),
        "thresholds_check": health(request, latest) if latest else {},
        "export_timestamp": iso_time(request.app[TRACKER].now()),
        "resource_history": [original_record(s) for s in history],
    }
    return web.json_response({"success": True, "format": export_format, "data": json.dumps(export)})


@routes.post("/api/metrics/system/monitoring/start")
async def start_monitoring(request: web.Request) -> web.Response:
    refusal = unauthorized(request)
    if refusal is not None:
        return refusal
    request.app[SAMPLER].active = True
    return web.json_response(
        {
            "success": True,
            "message": "System monitoring started",
            "collection_interval": request.app[CONFIG].collection_interval,
        }
    )


@routes.post("/api/metrics/system/monitoring/stop")
async def stop_monitoring(request: web.Request) -> web.Response:
    refusal = unauthorized(request)
    if refusal is not None:
        return refusal
    request.app[SAMPLER].active = False
    return web.json_response({"success": True, "message": "System monitoring stopped"})
