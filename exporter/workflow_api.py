"""The workflow routes of the original AutoBot metrics router, under ``/api/metrics``."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from exporter.errors import QueryError, json_error, query_int
from exporter.keys import TRACKER
from exporter.summary import performance_summary
from exporter.tracker import WorkflowTracker
from exporter.workflow_json import finished_view, iso_time, running_view

routes = web.RouteTableDef()

WINDOW_HOURS_DEFAULT, WINDOW_HOURS_MAX = 24, 168
DASHBOARD_WINDOW_HOURS = 24


def window_summary(tracker: WorkflowTracker, hours: int) -> dict[str, Any]:
    return performance_summary(tracker.history(), tracker.active_count, hours, tracker.now())


@routes.get("/api/metrics/workflow/{workflow_id}")
async def get_workflow(request: web.Request) -> web.Response:
    tracker = request.app[TRACKER]
    workflow_id = request.match_info["workflow_id"]
    finished = tracker.get_finished(workflow_id)
    if finished is not None:
        metrics = finished_view(finished)
    elif (active := tracker.get_active(workflow_id)) is not None:
        metrics = running_view(active, tracker.now())
    else:
        return json_error(404, "Workflow metrics not found", detail="Workflow metrics not found")
    return web.json_response({"success": True, "workflow_id": workflow_id, "metrics": metrics})


@routes.get("/api/metrics/performance/summary")
async def get_performance_summary(request: web.Request) -> web.Response:
    hours = query_int(request, "time_window_hours", WINDOW_HOURS_DEFAULT, 1, WINDOW_HOURS_MAX)
    summary = window_summary(request.app[TRACKER], hours)
    return web.json_response({"success": True, "performance_summary": summary})


def workflow_export(tracker: WorkflowTracker) -> dict[str, Any]:
    now = tracker.now()
    return {
        "export_timestamp": iso_time(now),
        "active_workflows": {r.workflow_id: running_view(r, now) for r in tracker.active()},
        "workflow_history": [finished_view(w) for w in tracker.history()],
    }


def require_json_format(request: web.Request) -> str:
    """The export routes speak JSON only, as the original did; anything else is a 422."""
    requested = request.query.get("format", "json")
    if requested != "json":
        raise QueryError("format", "Only 'json' is supported", requested)
    return requested


@routes.get("/api/metrics/export/workflow")
async def export_workflow(request: web.Request) -> web.Response:
    export_format = require_json_format(request)
    data = json.dumps(workflow_export(request.app[TRACKER]))
    return web.json_response({"success": True, "format": export_format, "data": data})
