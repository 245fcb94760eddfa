"""The workflow routes of the original AutoBot metrics router, under ``/api/metrics``.

The summary and the export read the whole history (an export of 10,000 workflows took a
second): they run in a worker thread, on lists of records taken on the event loop. The loop
may still update a record's fields meanwhile, one at a time; the answer is a moment's
picture, as the original's was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import msgspec
from aiohttp import web

from exporter.jsonapi.context import window_summary
from exporter.jsonapi.exports import export_format_of, workflow_export
from exporter.jsonapi.workflow_json import finished_view, running_view
from exporter.web.errors import json_error, query_int
from exporter.web.keys import TRACKER
from exporter.workflows.records import ActiveWorkflow, FinishedWorkflow

routes = web.RouteTableDef()

WINDOW_HOURS_DEFAULT, WINDOW_HOURS_MAX = 24, 168


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
    summary = await window_summary(request.app[TRACKER], hours)
    return web.json_response({"success": True, "performance_summary": summary})


def export_body(
    export_format: str,
    now: float,
    active: list[ActiveWorkflow],
    history: Iterable[FinishedWorkflow],
    total_metrics: int,
) -> bytes:
    """The export reply, with ``data`` a JSON string as the original's (msgspec encodes
    both levels in a quarter of json.dumps' time)."""
    export = workflow_export(now, active, list(history), total_metrics)
    data = msgspec.json.encode(export).decode()
    return msgspec.json.encode({"success": True, "format": export_format, "data": data})


@routes.get("/api/metrics/export/workflow")
async def export_workflow(request: web.Request) -> web.Response:
    export_format, is_json = export_format_of(request)
    if not is_json:
        data = f"Unsupported export format: {export_format}"  # the original's 200
        return web.json_response({"success": True, "format": export_format, "data": data})
    tracker = request.app[TRACKER]
    body = await asyncio.to_thread(
        export_body,
        export_format,
        tracker.now(),
        list(tracker.active()),
        tracker.history(),
        len(tracker.metric_points),
    )
    return web.Response(body=body, content_type="application/json")
