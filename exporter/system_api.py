"""The system routes of the original AutoBot metrics router, under ``/api/metrics``."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from exporter.auth import unauthorized
from exporter.errors import query_int
from exporter.health import evaluate
from exporter.keys import CONFIG, SAMPLER, TRACKER
from exporter.snapshot import Snapshot
from exporter.system_json import health_view, resource_summary, snapshot_view
from exporter.workflow_api import require_json_format
from exporter.workflow_json import iso_time

routes = web.RouteTableDef()

SUMMARY_MINUTES_DEFAULT, SUMMARY_MINUTES_MAX = 10, 60
NO_SAMPLE_YET = "no system sample yet; the first pass runs at start"


def latest_snapshot(request: web.Request) -> Snapshot:
    """The latest pass; 503 (JSON) in the instant before the first one."""
    snapshot = request.app[SAMPLER].latest
    if snapshot is None:
        raise web.HTTPServiceUnavailable(
            text=json.dumps({"success": False, "message": NO_SAMPLE_YET}),
            content_type="application/json",
        )
    return snapshot


def window_resources(request: web.Request, minutes: int) -> dict[str, Any]:
    sampler = request.app[SAMPLER]
    since = request.app[TRACKER].now() - minutes * 60
    return resource_summary(sampler.history(since=since), minutes)


def health(request: web.Request, snapshot: Snapshot) -> dict[str, Any]:
    sampler = request.app[SAMPLER]
    report = evaluate(snapshot, request.app[CONFIG].thresholds)
    return health_view(report, snapshot, sampler.active, request.app[TRACKER].now())


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
    return web.json_response({"success": True, **health(request, latest_snapshot(request))})


@routes.get("/api/metrics/export/system")
async def export_system(request: web.Request) -> web.Response:
    export_format = require_json_format(request)
    sampler = request.app[SAMPLER]
    data = {
        "export_timestamp": iso_time(request.app[TRACKER].now()),
        "collection_interval": request.app[CONFIG].collection_interval,
        "resource_history": [snapshot_view(s, sampler.active) for s in sampler.history()],
    }
    return web.json_response({"success": True, "format": export_format, "data": json.dumps(data)})


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
